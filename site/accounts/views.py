from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods

from .forms import LoginForm, SignupForm
from .roles import Role
from .throttle import signup_allowed


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        if not signup_allowed(request):
            form.is_valid()  # the page shows what was typed, with the reason on top
            form.add_error(None, "该网络地址注册次数过多，请 1 小时后再试。如需批量开通账号，请联系所在区域的管理员。")
            return render(request, "accounts/signup.html", {"form": form}, status=429)
        if form.is_valid():
            user = form.save_with_role(Role.APPLICANT)
            if user is not None:
                login(request, user, backend="accounts.backends.UsernameOrMobileBackend")
                messages.success(request, "注册成功，欢迎使用。下一步：登记您的社会组织。")
                return redirect("dashboard")
    return render(request, "accounts/signup.html", {"form": form})


class SiteNameMixin:
    """Django's auth views name the site after the request's host ("127.0.0.1:8000") when
    django.contrib.sites is not installed; this product has one name."""

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "site_name": settings.PLATFORM_NAME}


class LoginView(SiteNameMixin, auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class PasswordChangeView(SiteNameMixin, auth_views.PasswordChangeView):
    template_name = "accounts/form_page.html"
    success_url = reverse_lazy("dashboard")
    extra_context = {"title": "修改密码", "submit_label": "保存新密码"}

    def form_valid(self, form):
        messages.success(self.request, "密码已修改。")
        return super().form_valid(form)


class PasswordResetView(SiteNameMixin, auth_views.PasswordResetView):
    template_name = "accounts/form_page.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")
    extra_email_context = {"site_name": settings.PLATFORM_NAME}
    extra_context = {
        "title": "找回密码",
        "submit_label": "发送重置邮件",
        "intro": "请输入注册时填写的电子邮箱，我们会发送一封重置密码的邮件。",
    }


class PasswordResetConfirmView(SiteNameMixin, auth_views.PasswordResetConfirmView):
    template_name = "accounts/form_page.html"
    success_url = reverse_lazy("accounts:password_reset_complete")
    extra_context = {"title": "设置新密码", "submit_label": "保存新密码"}
