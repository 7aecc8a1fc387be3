"""Wagtail's user screens, extended with this project's fields: 姓名, 手机号, 工作单位 and
所属区域 (the region node that scopes what a staff user sees)."""

from wagtail.users.forms import UserCreationForm, UserEditForm
from wagtail.users.views.users import UserViewSet

from .models import Region
from .validators import normalise_mobile, validate_mobile

EXTRA_FIELDS = ["name", "mobile", "unit", "region"]


USERNAME_HELP = "必填。可用字母、数字和 @ . + - _ ；登录时也可用手机号。"


class _StaffFieldsMixin:
    def _setup_extra(self):
        self.fields["username"].help_text = USERNAME_HELP
        self.fields["region"].queryset = Region.objects.order_by("path")
        self.fields["region"].label_from_instance = lambda r: ("\u3000" * (r.depth - 1)) + f"{r.name}（{r.code}）"

    def clean_mobile(self):
        mobile = normalise_mobile(self.cleaned_data.get("mobile") or "")
        if not mobile:
            return None
        validate_mobile(mobile)
        return mobile


class StaffUserCreationForm(_StaffFieldsMixin, UserCreationForm):
    class Meta(UserCreationForm.Meta):
        fields = UserCreationForm.Meta.fields | set(EXTRA_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_extra()


class StaffUserEditForm(_StaffFieldsMixin, UserEditForm):
    class Meta(UserEditForm.Meta):
        fields = UserEditForm.Meta.fields | set(EXTRA_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_extra()


class StaffUserViewSet(UserViewSet):
    def get_form_class(self, for_update=False):
        return StaffUserEditForm if for_update else StaffUserCreationForm
