from django.contrib.auth.backends import ModelBackend

from .models import User
from .validators import MOBILE_RE, normalise_mobile


class UsernameOrMobileBackend(ModelBackend):
    """Log in with either the username or the 11-digit mobile number."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if not username or password is None:
            return None
        username = username.strip()
        mobile = normalise_mobile(username)
        user = User.objects.filter(username=username).first()
        if user is None and MOBILE_RE.match(mobile):
            user = User.objects.filter(mobile=mobile).first()
        if user is None:
            User().set_password(password)  # same work as a real check: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
