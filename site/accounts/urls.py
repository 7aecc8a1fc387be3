from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import TemplateView

from . import views

app_name = "accounts"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        TemplateView.as_view(
            template_name="accounts/message.html",
            extra_context={
                "title": "邮件已发送",
                "body": "如果该邮箱已注册，您将收到一封重置密码的邮件，请按邮件中的链接操作。",
            },
        ),
        name="password_reset_done",
    ),
    path("password/reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path(
        "password/reset/complete/",
        TemplateView.as_view(
            template_name="accounts/message.html",
            extra_context={"title": "密码已重置", "body": "新密码已生效，请重新登录。", "login_link": True},
        ),
        name="password_reset_complete",
    ),
]
