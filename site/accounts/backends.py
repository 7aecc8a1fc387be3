from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from .models import User
from .throttle import ip_login_blocked, resolve_user


class UsernameOrMobileBackend(ModelBackend):
    """Log in with either the username or the mobile number (spaces, dashes, +86 allowed).

    django-axes (the backend before this one) refuses a locked account; this one refuses an
    address that failed too often across accounts, before any password is checked."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if not username or password is None:
            return None
        if request is not None and ip_login_blocked(request):
            # AxesMiddleware turns the flag into the lockout page; axes records nothing more
            request.lockout_reason = "ip"
            request.axes_locked_out = True
            raise PermissionDenied("该网络地址登录失败次数过多。")
        user = resolve_user(username)
        if user is None:
            User().set_password(password)  # same work as a real check: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id):
        # the region comes with the user: every scoped page reads it (one query fewer each)
        try:
            user = User._default_manager.select_related("region").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
