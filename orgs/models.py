import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django_fsm import FSMField, transition

from accounts.models import Region
from accounts.validators import validate_mobile
from core.files import private_storage
from core.forms import TEXT_MAX_LENGTH
from core.workflow import WorkflowModel

from .validators import normalise_bank_account, normalise_uscc, validate_bank_account, validate_uscc


class ServiceArea(models.Model):
    """服务领域: Haining's "6+1" categories and others; a call may restrict to some."""

    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=40, unique=True)
    sort_order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = "服务领域"
        verbose_name_plural = "服务领域"
        ordering = ["sort_order", "pk"]

    def __str__(self):
        return self.name


class OrgType(models.TextChoices):
    SOCIAL_GROUP = "social_group", "社会团体"
    SERVICE_ORG = "service_org", "民办非企业单位（社会服务机构）"
    FOUNDATION = "foundation", "基金会"
    COMMUNITY_FILED = "community_filed", "社区社会组织（备案）"
    PREPARING = "preparing", "筹备中"


REGISTERED_TYPES = {OrgType.SOCIAL_GROUP, OrgType.SERVICE_ORG, OrgType.FOUNDATION}
LEGAL_FIELDS = ("name", "org_type", "uscc")


class OrganisationStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "待审核"
    RETURNED = "returned", "退回补正"
    VERIFIED = "verified", "已认证"
    SUSPENDED = "suspended", "已暂停"
    REVOKED = "revoked", "已撤销"


VERIFY_PERMISSION = "orgs.verify_organisation"
# what the five staff actions on an organisation share: one reason form, read by the applicant
_STAFF_ACTION = {
    "group": "reason",
    "heading": "资格管理",
    "reason": "optional",
    "reason_label": "审核意见 / 理由",
    "reason_help": "退回、暂停、撤销时必填。申请单位会在通知和办理记录中看到这段说明。",
    "reason_prompt": "请填写理由，申请单位将看到这段说明。",
}


def _may_verify(user, org) -> bool:
    from accounts.selectors import has_scoped_perm

    return has_scoped_perm(user, VERIFY_PERMISSION, org.region)


def _is_editor(user, org) -> bool:
    from .selectors import member_role

    return member_role(user, org) in (Membership.Role.LEADER, Membership.Role.CONTACT)


class Organisation(WorkflowModel):
    """A social organisation (or a 备案/筹备 group) as registered on the platform.

    Typed once here, reused by every application, incubation and payment."""

    Status = OrganisationStatus

    name = models.CharField("名称", max_length=120, db_index=True)
    org_type = models.CharField("类型", max_length=20, choices=OrgType.choices)
    uscc = models.CharField(
        "统一社会信用代码",
        max_length=18,
        unique=True,
        null=True,
        blank=True,
        error_messages={"unique": "该统一社会信用代码已被其他组织登记。如确属本组织，请联系所在区域民政部门。"},
    )
    filing_number = models.CharField("备案编号", max_length=40, blank=True)
    sponsor = models.ForeignKey(
        "self",
        verbose_name="挂靠/指导单位（已登记组织）",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sponsored_groups",
    )
    sponsor_name = models.CharField("挂靠/指导单位（街道、社区等）", max_length=120, blank=True)
    registration_authority = models.CharField("登记管理机关", max_length=120, blank=True)
    supervisory_unit = models.CharField("业务主管单位", max_length=120, blank=True)
    legal_representative = models.CharField("法定代表人/负责人", max_length=50)
    founded_on = models.DateField("成立日期", null=True, blank=True)
    registered_capital = models.DecimalField(
        "注册资金（元）",
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    address = models.CharField("住所", max_length=200)
    region = models.ForeignKey(Region, verbose_name="所属区域", on_delete=models.PROTECT, related_name="organisations")
    service_areas = models.ManyToManyField(
        ServiceArea, verbose_name="服务领域", blank=True, related_name="organisations"
    )
    contact_name = models.CharField("联系人", max_length=50)
    contact_phone = models.CharField("联系电话", max_length=11, validators=[validate_mobile])
    email = models.EmailField("电子邮箱", blank=True)
    bank_name = models.CharField("开户银行", max_length=100, blank=True)
    bank_account_name = models.CharField("账户名称", max_length=120, blank=True)
    bank_account = models.CharField("银行账号", max_length=30, blank=True)
    introduction = models.TextField("简介", blank=True)
    logo = models.ImageField("标志（logo）", upload_to="org-logos/", blank=True)

    status = FSMField(
        "登记状态",
        max_length=20,
        choices=OrganisationStatus.choices,
        default=OrganisationStatus.DRAFT,
        protected=True,
        db_index=True,
    )
    status_reason = models.CharField("最近一次处理理由", max_length=500, blank=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    verified_at = models.DateTimeField("认证时间", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="创建人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    # Denormalised for the registry list and filters (kept by services.facts_refresh).
    latest_grade = models.CharField("评估等级", max_length=2, blank=True)
    latest_inspection_year = models.PositiveSmallIntegerField("最近年检年度", null=True, blank=True)
    latest_inspection_result = models.CharField("最近年检结果", max_length=10, blank=True)

    class Meta:
        verbose_name = "社会组织"
        verbose_name_plural = "社会组织"
        ordering = ["-updated_at", "-pk"]
        permissions = [
            ("verify_organisation", "可以审核社会组织登记"),
            ("import_organisation", "可以批量导入社会组织"),
            ("export_organisation", "可以导出社会组织名录"),
        ]
        indexes = [models.Index(fields=["status", "org_type"])]

    def __str__(self):
        return self.name

    # ---- validation -------------------------------------------------------------
    def clean(self):
        errors = {}
        self.uscc = normalise_uscc(self.uscc) or None  # blank is NULL: unique only among real codes
        if self.uscc:
            try:
                validate_uscc(self.uscc)
            except ValidationError as e:
                errors["uscc"] = e.messages
        if self.bank_account:
            self.bank_account = normalise_bank_account(self.bank_account)
            try:
                validate_bank_account(self.bank_account)
            except ValidationError as e:
                errors["bank_account"] = e.messages
        if self.org_type in REGISTERED_TYPES and not self.uscc:
            errors.setdefault("uscc", []).append("已登记的社会组织必须填写统一社会信用代码。")
        if self.org_type == OrgType.COMMUNITY_FILED:
            if not self.filing_number:
                errors["filing_number"] = ["备案的社区社会组织必须填写备案编号。"]
            if not (self.sponsor_id or self.sponsor_name):
                errors["sponsor_name"] = ["备案的社区社会组织必须填写挂靠/指导单位。"]
        if self.org_type == OrgType.PREPARING and self.uscc:
            errors.setdefault("org_type", []).append("已取得统一社会信用代码的组织不能选择“筹备中”。")
        if self.founded_on and self.founded_on > datetime.date.today():
            errors["founded_on"] = ["成立日期不能晚于今天。"]
        if len(self.introduction or "") > TEXT_MAX_LENGTH:  # a TextField has no limit of its own
            errors["introduction"] = [f"简介不能超过 {TEXT_MAX_LENGTH} 个字，请精简后再保存。"]
        if errors:
            raise ValidationError(errors)

    @property
    def is_registered(self) -> bool:
        return self.org_type in REGISTERED_TYPES

    @property
    def identifier(self) -> str:
        return self.uscc or self.filing_number or "—"

    @property
    def editable_by_applicant(self) -> bool:
        return self.status in (OrganisationStatus.DRAFT, OrganisationStatus.RETURNED, OrganisationStatus.VERIFIED)

    def get_absolute_url(self) -> str:
        """The organisation's own page in the applicant portal (where members are sent)."""
        return reverse("orgs:detail", args=[self.pk])

    def get_admin_url(self) -> str:
        return reverse("orgs_admin:review", args=[self.pk])

    # ---- lifecycle (thin: services check the rest and log) ----------------------------
    # Reasons of the staff actions are read by the applicant; one form serves all five.
    @transition(
        field=status,
        source=[OrganisationStatus.DRAFT, OrganisationStatus.RETURNED],
        target=OrganisationStatus.SUBMITTED,
        permission=lambda org, user: _is_editor(user, org),
        custom={"label": "提交审核"},
    )
    def submit(self):
        pass

    @transition(
        field=status,
        source=OrganisationStatus.SUBMITTED,
        target=OrganisationStatus.VERIFIED,
        permission=lambda org, user: _may_verify(user, org),
        custom={
            **_STAFF_ACTION,
            "label": "审核通过",
            "heading": "登记审核",
            "success": "“{obj}”已审核通过，已通知申请单位。",
        },
    )
    def verify(self):
        pass

    @transition(
        field=status,
        source=OrganisationStatus.SUBMITTED,
        target=OrganisationStatus.RETURNED,
        permission=lambda org, user: _may_verify(user, org),
        custom={
            **_STAFF_ACTION,
            "label": "退回补正",
            "slug": "return",
            "reason": "required",
            "danger": True,
            "heading": "登记审核",
            "success": "“{obj}”已退回补正，申请单位会看到退回理由。",
        },
    )
    def return_for_correction(self):
        pass

    @transition(
        field=status,
        source=OrganisationStatus.VERIFIED,
        target=OrganisationStatus.SUSPENDED,
        permission=lambda org, user: _may_verify(user, org),
        custom={
            **_STAFF_ACTION,
            "label": "暂停",
            "reason": "required",
            "danger": True,
            "success": "“{obj}”已暂停，已通知申请单位。",
        },
    )
    def suspend(self):
        pass

    @transition(
        field=status,
        source=OrganisationStatus.SUSPENDED,
        target=OrganisationStatus.VERIFIED,
        permission=lambda org, user: _may_verify(user, org),
        custom={**_STAFF_ACTION, "label": "恢复", "success": "“{obj}”已恢复，已通知申请单位。"},
    )
    def reinstate(self):
        pass

    @transition(
        field=status,
        source=[OrganisationStatus.VERIFIED, OrganisationStatus.SUSPENDED],
        target=OrganisationStatus.REVOKED,
        permission=lambda org, user: _may_verify(user, org),
        custom={
            **_STAFF_ACTION,
            "label": "撤销",
            "reason": "required",
            "danger": True,
            "success": "“{obj}”的认证已撤销，已通知申请单位。",
        },
    )
    def revoke(self):
        pass


class Membership(models.Model):
    class Role(models.TextChoices):
        LEADER = "leader", "负责人"
        CONTACT = "contact", "项目联系人"
        FINANCE = "finance", "财务"

    organisation = models.ForeignKey(
        Organisation, verbose_name="组织", on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField("角色", max_length=10, choices=Role.choices)
    joined_at = models.DateTimeField("加入时间", auto_now_add=True)

    class Meta:
        verbose_name = "组织成员"
        verbose_name_plural = "组织成员"
        constraints = [models.UniqueConstraint(fields=["organisation", "user"], name="unique_membership")]

    def __str__(self):
        return f"{self.organisation} · {self.user} · {self.get_role_display()}"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "待验证"
    ACCEPTED = "accepted", "已加入"
    WITHDRAWN = "withdrawn", "已撤回"


def invitation_valid_days() -> int:
    """How long an invitation can be accepted (settings.INVITATION_VALID_DAYS, 14 by default)."""
    return int(getattr(settings, "INVITATION_VALID_DAYS", 14))


class InvitationQuerySet(models.QuerySet):
    def live(self):
        """Waiting and not yet expired: the invitations that can still be accepted."""
        from django.utils import timezone

        since = timezone.now() - datetime.timedelta(days=invitation_valid_days())
        return self.filter(status=InvitationStatus.PENDING, created_at__gte=since)


class Invitation(WorkflowModel):
    """An invitation by mobile or e-mail. It is accepted only by a user whose account
    carries that number/address AND who types back the one-time code sent to it
    (accounts.verification): owning the account proves nothing, the code proves the
    number. Staff attach a 负责人 to an organisation without members the same way.
    It expires `invitation_valid_days()` after it was sent: an old code in someone's
    inbox no longer lets anyone join; the leader invites again."""

    Status = InvitationStatus

    organisation = models.ForeignKey(
        Organisation, verbose_name="组织", on_delete=models.CASCADE, related_name="invitations"
    )
    mobile = models.CharField("手机号", max_length=11, blank=True, validators=[validate_mobile])
    email = models.EmailField("电子邮箱", blank=True)
    role = models.CharField("角色", max_length=10, choices=Membership.Role.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="邀请人", on_delete=models.CASCADE, related_name="+"
    )
    by_staff = models.BooleanField("工作人员指定", default=False, help_text="由民政工作人员为组织指定的负责人。")
    status = FSMField(
        "状态", max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PENDING, protected=True
    )
    created_at = models.DateTimeField("邀请时间", auto_now_add=True)
    accepted_at = models.DateTimeField("接受时间", null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = "成员邀请"
        verbose_name_plural = "成员邀请"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.organisation} 邀请 {self.mobile or self.email}"

    @property
    def destination(self) -> str:
        """Where the proof is sent: the invited mobile, else the e-mail."""
        return self.mobile or self.email.lower()

    @property
    def verification_scope(self) -> str:
        return f"orgs.invitation:{self.pk}"

    @property
    def expires_at(self):
        return self.created_at + datetime.timedelta(days=invitation_valid_days())

    @property
    def is_expired(self) -> bool:
        from django.utils import timezone

        return self.status == InvitationStatus.PENDING and self.expires_at < timezone.now()

    def get_status_display_now(self) -> str:
        """The status as people read it today: a waiting invitation past its date is 已过期."""
        return "已过期" if self.is_expired else self.get_status_display()

    def is_addressed_to(self, user) -> bool:
        """The user's account carries the invited number/address (necessary, not sufficient)."""
        if not getattr(user, "is_authenticated", False):
            return False
        if self.mobile:
            return user.mobile == self.mobile
        return bool(user.email) and user.email.lower() == self.email.lower()

    @transition(
        field=status,
        source=InvitationStatus.PENDING,
        target=InvitationStatus.ACCEPTED,
        permission=lambda inv, user: inv.is_addressed_to(user),
        custom={"label": "验证并加入"},
    )
    def accept(self):
        pass

    @transition(
        field=status,
        source=InvitationStatus.PENDING,
        target=InvitationStatus.WITHDRAWN,
        permission=lambda inv, user: False,  # only services withdraw (a newer staff attachment)
        custom={"label": "撤回邀请"},
    )
    def withdraw(self):
        pass


class DocumentKind(models.TextChoices):
    REGISTRATION_CERTIFICATE = "registration_certificate", "登记证书"
    CHARTER = "charter", "章程"
    LEGAL_REP_ID = "legal_rep_id", "法定代表人身份证明"
    ANNUAL_REPORT = "annual_report", "年检报告"
    BANK_PROOF = "bank_proof", "银行开户证明"
    FILING_CERTIFICATE = "filing_certificate", "备案证明"
    OTHER = "other", "其他材料"


def document_path(instance, filename):
    return f"orgs/{instance.organisation_id}/{instance.kind}/v{instance.version}-{instance.uploaded_at:%Y%m%d%H%M%S}.{instance.file_kind}"


class OrganisationDocument(models.Model):
    """One version of one kind of document. A new upload keeps the old one as history."""

    organisation = models.ForeignKey(
        Organisation, verbose_name="组织", on_delete=models.CASCADE, related_name="documents"
    )
    kind = models.CharField("材料类型", max_length=30, choices=DocumentKind.choices)
    version = models.PositiveSmallIntegerField("版本", default=1)
    is_current = models.BooleanField("当前版本", default=True)
    file = models.FileField("文件", storage=private_storage, upload_to=document_path, max_length=300)
    file_kind = models.CharField("文件格式", max_length=5)
    original_name = models.CharField("原文件名", max_length=200)
    size = models.PositiveIntegerField("大小（字节）")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间")

    class Meta:
        verbose_name = "组织材料"
        verbose_name_plural = "组织材料"
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "kind", "version"], name="unique_document_version"),
            models.UniqueConstraint(
                fields=["organisation", "kind"], condition=Q(is_current=True), name="one_current_document_per_kind"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} v{self.version}"

    @property
    def download_name(self) -> str:
        return f"{self.organisation.name}-{self.get_kind_display()}-v{self.version}.{self.file_kind}"


class AnnualInspection(models.Model):
    class Result(models.TextChoices):
        PASSED = "passed", "合格"
        BASIC = "basic", "基本合格"
        FAILED = "failed", "不合格"

    organisation = models.ForeignKey(
        Organisation, verbose_name="组织", on_delete=models.CASCADE, related_name="inspections"
    )
    year = models.PositiveSmallIntegerField("年度")
    result = models.CharField("年检结果", max_length=10, choices=Result.choices)
    note = models.CharField("备注", max_length=200, blank=True)

    class Meta:
        verbose_name = "年检记录"
        verbose_name_plural = "年检记录"
        ordering = ["-year"]
        constraints = [models.UniqueConstraint(fields=["organisation", "year"], name="unique_inspection_year")]

    def __str__(self):
        return f"{self.year}年度 {self.get_result_display()}"


GRADES = ["5A", "4A", "3A", "2A", "1A"]
GRADE_VALID_YEARS = 5


class EvaluationGrade(models.Model):
    """评估等级 (5A–1A), valid for 5 years from the date it was given."""

    organisation = models.ForeignKey(Organisation, verbose_name="组织", on_delete=models.CASCADE, related_name="grades")
    grade = models.CharField("评估等级", max_length=2, choices=[(g, g) for g in GRADES])
    awarded_on = models.DateField("评定日期")

    class Meta:
        verbose_name = "评估等级"
        verbose_name_plural = "评估等级"
        ordering = ["-awarded_on"]

    def __str__(self):
        return f"{self.grade}（{self.awarded_on:%Y-%m-%d}）"

    @property
    def expires_on(self) -> datetime.date:
        try:
            return self.awarded_on.replace(year=self.awarded_on.year + GRADE_VALID_YEARS)
        except ValueError:  # 29 February
            return self.awarded_on.replace(year=self.awarded_on.year + GRADE_VALID_YEARS, day=28)

    def valid_on(self, day: datetime.date) -> bool:
        return self.awarded_on <= day < self.expires_on


class ListEntry(models.Model):
    """An entry on a public list that affects eligibility, or a ban imposed by this system."""

    class Kind(models.TextChoices):
        ABNORMAL = "abnormal", "活动异常名录"
        DISHONEST = "dishonest", "严重违法失信名单"
        BAN = "ban", "本平台禁止申报"

    organisation = models.ForeignKey(
        Organisation, verbose_name="组织", on_delete=models.CASCADE, related_name="list_entries"
    )
    kind = models.CharField("类别", max_length=10, choices=Kind.choices)
    listed_on = models.DateField("列入日期")
    removed_on = models.DateField("移出日期", null=True, blank=True)
    reason = models.CharField("原因", max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "名录记录"
        verbose_name_plural = "名录记录"
        ordering = ["-listed_on"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.listed_on:%Y-%m-%d}"

    def clean(self):
        if self.removed_on and self.removed_on < self.listed_on:
            raise ValidationError({"removed_on": "移出日期不能早于列入日期。"})


class LegalChangeRequest(WorkflowModel):
    """A verified organisation's legal facts (name, USCC, type) change only through this."""

    class State(models.TextChoices):
        PENDING = "pending", "待审核"
        APPROVED = "approved", "已同意"
        REJECTED = "rejected", "未同意"

    organisation = models.ForeignKey(
        Organisation, verbose_name="组织", on_delete=models.CASCADE, related_name="change_requests"
    )
    name = models.CharField("新名称", max_length=120)
    org_type = models.CharField("新类型", max_length=20, choices=OrgType.choices)
    uscc = models.CharField("新统一社会信用代码", max_length=18, blank=True)
    reason = models.CharField("变更原因", max_length=300)
    state = FSMField("状态", max_length=10, choices=State.choices, default=State.PENDING, protected=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人", on_delete=models.CASCADE, related_name="+"
    )
    requested_at = models.DateTimeField("申请时间", auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    decision_note = models.CharField("审核意见", max_length=300, blank=True)

    class Meta:
        verbose_name = "登记事项变更申请"
        verbose_name_plural = "登记事项变更申请"
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(fields=["organisation"], condition=Q(state="pending"), name="one_pending_change"),
        ]

    def __str__(self):
        return f"{self.organisation} → {self.name}"

    @transition(
        field=state,
        source=State.PENDING,
        target=State.APPROVED,
        permission=lambda req, user: _may_verify(user, req.organisation),
        custom={"label": "同意变更"},
    )
    def approve(self):
        pass

    @transition(
        field=state,
        source=State.PENDING,
        target=State.REJECTED,
        permission=lambda req, user: _may_verify(user, req.organisation),
        custom={"label": "不同意变更", "reason": "required", "reason_prompt": "不同意变更时请填写理由。"},
    )
    def reject(self):
        pass
