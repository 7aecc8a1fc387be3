from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.db import IntegrityError, transaction
from wagtail.admin.forms.auth import LoginForm as WagtailLoginForm

from .models import User
from .validators import normalise_mobile, validate_mobile


class SignupForm(forms.ModelForm):
    """Applicant sign-up. Every error message is Chinese; the form keeps what was typed
    (passwords excepted, as browsers expect)."""

    password1 = forms.CharField(
        label="密码",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="至少8位，不能全是数字，不能过于常见或与用户名相似。",
    )
    password2 = forms.CharField(
        label="确认密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    # wider than the 11 stored digits, so "+86 139-1234-5678" reaches clean_mobile
    mobile = forms.CharField(
        label="手机号", max_length=20, widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"})
    )

    class Meta:
        model = User
        fields = ["username", "name", "mobile", "email"]
        labels = {"username": "用户名", "email": "电子邮箱"}
        help_texts = {"username": "4–30位字母、数字或 _ . - ，登录时可用用户名或手机号。"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].required = True
        self.fields["mobile"].required = True
        self.fields["email"].required = True
        # a rival sign-up may commit between clean_<field> and the model's unique check
        for field in ("username", "mobile"):
            self.fields[field].error_messages["unique"] = self.TAKEN[field]

    TAKEN = {
        "username": "该用户名已被注册，请换一个。",
        "mobile": "该手机号已被注册，可直接用手机号登录或找回密码。",
        "email": "该电子邮箱已被注册，可直接登录或通过该邮箱找回密码。",
    }

    @staticmethod
    def _taken(field, value) -> bool:
        lookup = {"username": "username__iexact", "mobile": "mobile", "email": "email__iexact"}[field]
        return bool(value) and User.objects.filter(**{lookup: value}).exists()

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        if len(username) < 4:
            raise forms.ValidationError("用户名至少4个字符。")
        if self._taken("username", username):
            raise forms.ValidationError(self.TAKEN["username"])
        return username

    def clean_mobile(self):
        mobile = normalise_mobile(self.cleaned_data.get("mobile", ""))
        validate_mobile(mobile)
        if self._taken("mobile", mobile):
            raise forms.ValidationError(self.TAKEN["mobile"])
        return mobile

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if self._taken("email", email):
            raise forms.ValidationError(self.TAKEN["email"])
        return email

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "两次输入的密码不一致。")
        elif p1:
            probe = User(
                username=cleaned.get("username", ""), email=cleaned.get("email", ""), name=cleaned.get("name", "")
            )
            try:
                password_validation.validate_password(p1, probe)
            except forms.ValidationError as e:
                self.add_error("password1", e)
        return cleaned

    def save(self, commit=True):
        user = super().save(commit=False)
        user.set_password(self.cleaned_data["password1"])
        if commit:
            user.save()
        return user

    def save_with_role(self, role):
        """Create the account with its role, or, when a simultaneous sign-up took the
        username, mobile or e-mail between validation and insert (the database refuses
        it), return None with the same message the field shows when it is already taken."""
        from .roles import grant_role

        try:
            with transaction.atomic():
                user = self.save()
                grant_role(user, role)
        except IntegrityError:
            taken = [f for f in self.TAKEN if self._taken(f, self.cleaned_data.get(f))]
            for field in taken:
                self.add_error(field, self.TAKEN[field])
            if not taken:
                self.add_error(None, "注册未能完成，请稍后重新提交。")
            return None
        return user


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label="用户名或手机号",
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    error_messages = {
        "invalid_login": "用户名（或手机号）或密码不正确，请重新输入。连续多次失败将暂时锁定账号。",
        "inactive": "该账号已停用，请联系管理员。",
    }


class AdminLoginForm(WagtailLoginForm):
    """The Wagtail admin's log-in, worded like the site's: staff may use the mobile too."""

    error_messages = {**WagtailLoginForm.error_messages, **LoginForm.error_messages}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "用户名或手机号"
        self.fields["username"].widget.attrs["placeholder"] = "请输入用户名或手机号"
        self.fields["password"].label = "密码"
        self.fields["password"].widget.attrs["placeholder"] = "请输入密码"
        self.fields["remember"].label = "记住我"

    def get_invalid_login_error(self):
        return forms.ValidationError(self.error_messages["invalid_login"], code="invalid_login")
