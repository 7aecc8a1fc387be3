from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from treebeard.mp_tree import MP_Node

from .validators import validate_division_code, validate_mobile


class Region(MP_Node):
    """A node of the administrative tree 市 → 区/县 → 街道/镇 → 社区/村.

    Staff users hang from a node and act on its subtree; the materialised path makes
    "everything under this node" a single indexed prefix filter (see selectors.scope)."""

    class Level(models.IntegerChoices):
        CITY = 1, "市"
        DISTRICT = 2, "区/县"
        STREET = 3, "街道/镇"
        COMMUNITY = 4, "社区/村"

    name = models.CharField("名称", max_length=100)
    code = models.CharField("行政区划代码", max_length=12, unique=True, validators=[validate_division_code])
    level = models.PositiveSmallIntegerField("层级", choices=Level.choices)

    node_order_by = ["code"]

    class Meta:
        verbose_name = "行政区域"
        verbose_name_plural = "行政区域"

    def __str__(self):
        return self.name

    @property
    def full_name(self) -> str:
        """'鄂州市 鄂城区 凤凰街道' — ancestors' names, as Chinese addresses are written."""
        return "".join(a.name for a in self.get_ancestors()) + self.name

    def contains(self, other: "Region | None") -> bool:
        return other is not None and other.path.startswith(self.path)


class AccountManager(UserManager):
    def get_by_natural_key(self, username):
        return self.get(**{self.model.USERNAME_FIELD: username})


class User(AbstractUser):
    """A person: applicant (member of organisations) or staff attached to a region node."""

    name = models.CharField("姓名", max_length=50, blank=True)
    mobile = models.CharField(
        "手机号",
        max_length=11,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_mobile],
        error_messages={"unique": "该手机号已被注册。"},
    )
    region = models.ForeignKey(
        Region,
        verbose_name="所属区域",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
        help_text="工作人员只能查看和处理本区域及下级区域的数据。",
    )
    unit = models.CharField("工作单位", max_length=100, blank=True)

    objects = AccountManager()

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        constraints = [
            # the database, not only the sign-up form, keeps one account per e-mail address
            # (any letter case); accounts without an e-mail are many
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="accounts_user_email_ci_unique",
                violation_error_message="该电子邮箱已被注册，可直接登录或通过该邮箱找回密码。",
            ),
        ]

    def __str__(self):
        return self.name or self.username

    def get_full_name(self):
        return self.name or self.username

    def get_short_name(self):
        return self.name or self.username

    def clean(self):
        super().clean()
        if self.mobile == "":
            self.mobile = None

    def has_role(self, *roles) -> bool:
        from .roles import user_roles

        return bool(user_roles(self) & {str(r) for r in roles})


class VerificationCode(models.Model):
    """One one-time code sent to a mobile number or e-mail address; typing it back proves
    the person holds that number/address. Only a keyed hash of the code is stored. The
    logic (expiry, attempts, resends) is in accounts.verification."""

    scope = models.CharField("用途", max_length=100, help_text="该验证码能证明的事项，例如某一份成员邀请。")
    destination = models.CharField("发送至", max_length=254)
    code_hash = models.CharField("验证码摘要", max_length=64)
    created_at = models.DateTimeField("发送时间", default=timezone.now)
    expires_at = models.DateTimeField("过期时间")
    attempts = models.PositiveSmallIntegerField("已尝试次数", default=0)
    used_at = models.DateTimeField("使用时间", null=True, blank=True)

    class Meta:
        verbose_name = "验证码"
        verbose_name_plural = "验证码"
        indexes = [
            models.Index(fields=["scope", "destination", "created_at"], name="verification_scope_idx"),
            models.Index(fields=["destination", "created_at"], name="verification_dest_idx"),
        ]

    def __str__(self):
        return f"{self.scope} → {self.destination}"
