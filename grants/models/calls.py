"""公益创投项目征集 (a call for projects): its rules, its timeline and its own lifecycle.

A call is run at a level (市 / 街道 / 社区) for a region, optionally by an incubation base.
Everything a proposal is checked against lives here, editable per call and validated
together in `Call.clean()`; the defaults are the common municipal ones (DOMAIN.md)."""

import datetime
import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django_fsm import FSMField, transition

from accounts.models import Region
from core.workflow import WorkflowModel
from orgs.models import GRADES, OrgType

MANAGE_PERMISSION = "grants.manage_call"


class CallLevel(models.IntegerChoices):
    CITY = 1, "市级"
    STREET = 3, "街道（镇）级"
    COMMUNITY = 4, "社区（村）级"


# the region levels a call of each level may be run for
LEVEL_REGIONS = {
    CallLevel.CITY: (Region.Level.CITY, Region.Level.DISTRICT),
    CallLevel.STREET: (Region.Level.STREET,),
    CallLevel.COMMUNITY: (Region.Level.COMMUNITY,),
}


class CallStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    NEEDS = "needs", "需求征集中"
    OPEN = "open", "申报中"
    CLOSED = "closed", "申报截止（资格审查）"
    REVIEWING = "reviewing", "评审中"
    PUBLICISING = "publicising", "立项公示中"
    DECIDED = "decided", "已批复立项"
    IMPLEMENTING = "implementing", "项目实施中"
    FINISHED = "finished", "已结束"


class Aggregation(models.TextChoices):
    MEAN = "mean", "算术平均"
    TRIMMED = "trimmed", "去掉一个最高分和一个最低分后平均"


# Haining's "6+1" (orgs.ServiceArea codes, seeded by orgs/migrations/0002)
DEFAULT_CATEGORY_CODES = ("elderly", "women", "children", "new_residents", "disabled", "poverty", "central_work")

DEFAULT_ELIGIBLE_TYPES = [OrgType.SOCIAL_GROUP, OrgType.SERVICE_ORG, OrgType.FOUNDATION, OrgType.COMMUNITY_FILED]

DEFAULT_RUBRIC = [
    {
        "key": "needs",
        "name": "需求调研",
        "weight": 20,
        "guidance": "需求是否真实、具体，有调研依据，回应了征集的社区需求。",
    },
    {"key": "design", "name": "项目设计", "weight": 25, "guidance": "目标清晰可测，活动安排与目标对应，进度合理。"},
    {
        "key": "budget",
        "name": "财务预算",
        "weight": 20,
        "guidance": "预算科目清楚、单价合理，自筹落实，符合资助比例要求。",
    },
    {
        "key": "feasibility",
        "name": "创新性与可行性",
        "weight": 20,
        "guidance": "方法有创新，团队有能力实施，风险有应对。",
    },
    {"key": "benefit", "name": "社会效益", "weight": 15, "guidance": "受益人数与成效，项目结束后能否持续。"},
]

# Grants 3 pays these; each gate is what must hold before the tranche is released
TRANCHE_GATES = {"signed": "协议签订后", "mid_term": "中期评估通过后", "final": "末期评估通过后"}
DEFAULT_TRANCHES = [
    {"name": "首期", "percent": 50, "gate": "signed"},
    {"name": "中期", "percent": 30, "gate": "mid_term"},
    {"name": "尾款", "percent": 20, "gate": "final"},
]


DEFAULT_PITCH_RUBRIC = [
    {"key": "presentation", "name": "展示表达", "weight": 30, "guidance": "陈述清楚，重点突出，在规定时间内完成。"},
    {"key": "answers", "name": "答辩回应", "weight": 40, "guidance": "对评委提问回应准确、坦诚，有依据。"},
    {"key": "team", "name": "团队能力", "weight": 30, "guidance": "团队熟悉项目，分工明确，有实施经验。"},
]


def default_pitch_rubric():
    return [dict(c) for c in DEFAULT_PITCH_RUBRIC]


DEFAULT_EVALUATION_RUBRIC = [
    {"key": "delivery", "name": "项目实施", "weight": 30, "guidance": "活动按计划开展，服务对象和数量达到要求。"},
    {"key": "inputs", "name": "人力物资投入", "weight": 20, "guidance": "团队稳定，志愿者和物资投入到位。"},
    {"key": "finance", "name": "财务管理", "weight": 20, "guidance": "资金专款专用，支出与预算相符，票据齐全。"},
    {"key": "outcomes", "name": "项目成效", "weight": 30, "guidance": "绩效指标完成情况，服务对象满意度。"},
]
DEFAULT_GRADE_BANDS = [
    {"grade": "优秀", "min": 90},
    {"grade": "良好", "min": 75},
    {"grade": "合格", "min": 60},
    {"grade": "不合格", "min": 0},
]
DEFAULT_AGREEMENT_TEMPLATE = """第一条 项目内容
乙方按照经批准的申报书实施“{项目名称}”项目，服务领域为{服务领域}，实施地点为{实施地点}，实施期限自{开始日期}至{结束日期}。

第二条 资助金额与拨付
甲方资助乙方人民币{资助金额}元（大写：{资助金额大写}），按以下计划分期拨付：
{拨付计划}
首期资金在本协议签订后15个工作日内拨付；后续各期在相应评估通过后拨付。

第三条 绩效目标
{绩效指标}

第四条 乙方义务
（一）专款专用，单独核算，不得用于购置固定资产、发放现金或与项目无关的支出；
（二）按时报送进度报告，如实反映活动开展、服务人数和资金使用情况；
（三）接受甲方组织的中期评估和末期评估，配合审计和监督检查；
（四）项目名称、内容、预算如需调整，须事先书面报甲方同意。

第五条 甲方义务
甲方按约定拨付资金，对项目实施进行指导、监督和评估，并依法公开项目信息。

第六条 违约责任
乙方未按协议实施项目、挪用资金或弄虚作假的，甲方有权暂停拨付、终止协议，追回已拨付资金中不合规的部分；情节严重的，三年内不得申报本平台公益创投项目。

第七条 其他
本协议一式两份，甲乙双方各执一份，自双方签字盖章之日起生效。"""


# the placeholders an agreement template may use, each with what it is replaced by when an
# agreement is drawn up (grants.services.agreements.agreement_placeholders fills them)
AGREEMENT_PLACEHOLDERS = {
    "协议编号": "本协议的编号，如 XY2026-12-003",
    "项目名称": "项目名称",
    "项目编号": "申报编号",
    "征集名称": "本次征集的名称",
    "服务领域": "项目的服务领域",
    "实施地点": "项目的实施地点（街道、社区）",
    "开始日期": "实施开始日期，如 2026年3月1日",
    "结束日期": "实施结束日期",
    "资助金额": "批复的资助金额，如 100,000.00",
    "资助金额大写": "资助金额的人民币大写，如 壹拾万元整",
    "拨付计划": "各期拨付的名称、条件、比例和金额，每期一行",
    "绩效指标": "申报书中的绩效指标和目标值，每项一行",
    "甲方": "资助方，即本征集的主办单位",
    "乙方": "申报组织的名称",
    "统一社会信用代码": "申报组织的统一社会信用代码（或备案编号）",
    "法定代表人": "申报组织的法定代表人/负责人",
    "乙方地址": "申报组织的住所",
    "开户银行": "申报组织的开户银行",
    "账户名称": "申报组织的银行账户名称",
    "银行账号": "申报组织的银行账号",
}
PLACEHOLDER_PATTERN = re.compile(r"\{([^{}]*)\}")


def placeholder_help() -> str:
    """The placeholder list as the call form shows it under the template."""
    return "；".join(f"{{{name}}}：{what}" for name, what in AGREEMENT_PLACEHOLDERS.items())


def template_problems(text: str) -> list[str]:
    """What is wrong with an agreement template: placeholders that are not in the list, or
    braces that open no placeholder (a typo would otherwise print as is in every agreement)."""
    if not (text or "").strip():
        return ["请填写项目协议条款模板。"]
    problems = []
    unknown = []
    for name in PLACEHOLDER_PATTERN.findall(text):
        if name not in AGREEMENT_PLACEHOLDERS and name not in unknown:
            unknown.append(name)
    if unknown:
        listed = "、".join(f"{{{n}}}" for n in unknown)
        problems.append(
            f"协议条款模板中有未知的占位符：{listed}。请使用本栏说明中列出的占位符（如 {{项目名称}}），注意不要有多余的空格。"
        )
    rest = PLACEHOLDER_PATTERN.sub("", text)
    if "{" in rest or "}" in rest:
        problems.append("协议条款模板中有不成对的花括号“{”或“}”：花括号只用于占位符，如 {项目名称}。")
    return problems


def default_evaluation_rubric():
    return [dict(c) for c in DEFAULT_EVALUATION_RUBRIC]


def default_grade_bands():
    return [dict(b) for b in DEFAULT_GRADE_BANDS]


def default_agreement_template():
    return DEFAULT_AGREEMENT_TEMPLATE


def default_rubric():
    return [dict(c) for c in DEFAULT_RUBRIC]


def default_tranches():
    return [dict(t) for t in DEFAULT_TRANCHES]


def default_eligible_types():
    return [str(t) for t in DEFAULT_ELIGIBLE_TYPES]


def _manages(call, user) -> bool:
    from accounts.selectors import has_scoped_perm

    return has_scoped_perm(user, MANAGE_PERMISSION, call.region)


def _percent(label, default):
    return models.DecimalField(
        label,
        max_digits=5,
        decimal_places=2,
        default=Decimal(default),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )


def _money(label, **kwargs):
    return models.DecimalField(
        label, max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0"))], **kwargs
    )


# the timeline, in order: (start field, end field, stage label); the call's status follows it
TIMELINE = [
    ("needs_from", "needs_until", "需求征集"),
    ("apply_from", "apply_until", "网上申报"),
    (None, "eligibility_until", "资格审查"),
    ("review_from", "review_until", "专家评审"),
    ("pitch_on", None, "路演答辩"),
    ("publicity_from", "publicity_until", "立项公示"),
    ("implement_from", "implement_until", "项目实施"),
]


# JSON lists of rules whose emptiness `Call.clean()` explains itself
RULE_LISTS = ("eligible_types", "rubric", "pitch_rubric", "tranche_plan", "evaluation_rubric", "grade_bands")


class Call(WorkflowModel):
    """One 公益创投 call: rules, timeline and status. Proposals answer it."""

    Status = CallStatus
    Level = CallLevel

    title = models.CharField("征集名称", max_length=120)
    year = models.PositiveSmallIntegerField(
        "年度", validators=[MinValueValidator(2000), MaxValueValidator(2100)], db_index=True
    )
    level = models.PositiveSmallIntegerField("层级", choices=CallLevel.choices)
    region = models.ForeignKey(Region, verbose_name="征集区域", on_delete=models.PROTECT, related_name="calls")
    base = models.ForeignKey(
        "incubator.IncubationBase",
        verbose_name="承办孵化基地",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    organiser = models.CharField("主办单位", max_length=120, help_text="如“鄂州市民政局”，印在公告、协议和证书上。")
    summary = models.TextField("简介", max_length=500, blank=True, help_text="列表和分享时显示的一两句话。")
    status = FSMField(
        "状态", max_length=20, choices=CallStatus.choices, default=CallStatus.DRAFT, protected=True, db_index=True
    )
    status_reason = models.CharField("最近一次处理说明", max_length=500, blank=True)

    # ---- money ----
    pool_total = _money("资助总额（元）")
    grant_min = _money("单个项目最低资助（元）", default=Decimal("10000"))
    grant_max = _money("单个项目最高资助（元）", default=Decimal("100000"))
    max_grant_share = _percent("资助金额占项目总预算的上限（%）", "60")
    max_personnel_share = _percent("人员费用占总预算的上限（%）", "30")
    forbid_fixed_assets = models.BooleanField("不得购置固定资产", default=True)
    forbid_cash_handouts = models.BooleanField("不得发放现金或等价物", default=True)

    # ---- who may apply ----
    categories = models.ManyToManyField(
        "orgs.ServiceArea", verbose_name="服务领域", related_name="calls", help_text="默认“6+1”类别，可按本次征集调整。"
    )
    eligible_types = models.JSONField("可申报的组织类型", default=default_eligible_types)
    allow_preparing_in_incubation = models.BooleanField(
        "允许在孵的筹备组织申报", default=False, help_text="社区征集常允许正在孵化基地孵化的筹备组织申报。"
    )
    min_grade = models.CharField("最低评估等级", max_length=2, blank=True, choices=[(g, f"{g}及以上") for g in GRADES])
    max_applications_per_org = models.PositiveSmallIntegerField(
        "每个组织最多申报项目数", default=1, validators=[MinValueValidator(1)]
    )

    # ---- timeline ----
    needs_from = models.DateField("需求征集开始", null=True, blank=True)
    needs_until = models.DateField("需求征集截止", null=True, blank=True)
    apply_from = models.DateField("申报开始")
    apply_until = models.DateField("申报截止", help_text="当天 24:00 前可以提交。")
    eligibility_until = models.DateField("资格审查截止")
    review_from = models.DateField("评审开始")
    review_until = models.DateField("评审截止")
    pitch_on = models.DateField("路演答辩日期", null=True, blank=True)
    publicity_from = models.DateField("公示开始")
    publicity_until = models.DateField("公示截止")
    implement_from = models.DateField("项目实施开始")
    implement_until = models.DateField("项目实施结束")

    # ---- review (used by the review stage) ----
    rubric = models.JSONField("评审标准", default=default_rubric)
    panel_size = models.PositiveSmallIntegerField(
        "每个项目的评审专家人数", default=5, validators=[MinValueValidator(1), MaxValueValidator(15)]
    )
    aggregation = models.CharField("计分方式", max_length=10, choices=Aggregation.choices, default=Aggregation.TRIMMED)
    blind_review = models.BooleanField("匿名评审", default=False, help_text="评审专家看不到申报组织的名称和成员。")
    has_pitch = models.BooleanField("设路演答辩环节", default=False)
    pitch_weight = _percent("路演得分占最终得分的比例（%）", "0")
    min_fundable_score = models.DecimalField(
        "最低立项分数",
        max_digits=5,
        decimal_places=2,
        default=Decimal("60"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    spread_limit = models.DecimalField(
        "评分分歧提示阈值（分）",
        max_digits=5,
        decimal_places=2,
        default=Decimal("20"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="同一项目专家总分的最高与最低之差超过此值时，排名页提示复核。",
    )
    exclude_local_experts = models.BooleanField(
        "本地专家回避",
        default=False,
        help_text="抽取专家时，排除与申报组织同在一个街道（社区）的专家。",
    )
    pitch_rubric = models.JSONField("路演评分标准", default=default_pitch_rubric)
    fund_cheaper_after_skip = models.BooleanField(
        "资金不足时继续资助排名靠后、金额较小的项目",
        default=False,
        help_text="不勾选：按排名依次资助，剩余资金不足以资助下一个项目时即停止。",
    )
    tranche_plan = models.JSONField("拨付计划", default=default_tranches)

    # ---- agreement, reports and evaluation (Grants 3) ----
    agreement_template = models.TextField(
        "项目协议条款模板",
        default=default_agreement_template,
        help_text="生成每个项目的协议书时使用；可用占位符见下方说明，如 {项目名称}、{资助金额}、{资助金额大写}。",
    )
    report_cadence = models.CharField(
        "进度报告频次", max_length=10, choices=[("stage", "按阶段"), ("month", "每月")], default="stage"
    )
    evaluation_rubric = models.JSONField("评估指标", default=default_evaluation_rubric)
    pass_score = models.DecimalField(
        "评估合格分数",
        max_digits=5,
        decimal_places=2,
        default=Decimal("60"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    grade_bands = models.JSONField("末期评估等级", default=default_grade_bands)

    # ---- three-level linkage (三级联动) ----
    next_round = models.ForeignKey(
        "self",
        verbose_name="可推荐至（上一级征集）",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lower_calls",
        help_text="本征集的优秀项目可推荐到这个街道或市级征集，申报组织无需重新填写。",
    )

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

    class Meta:
        verbose_name = "项目征集"
        verbose_name_plural = "项目征集"
        ordering = ["-year", "level", "-apply_from", "-pk"]
        permissions = [
            ("manage_call", "可以发布和管理项目征集"),
            ("check_eligibility", "可以进行申报项目资格审查"),
            ("moderate_need", "可以审核社区需求"),
        ]
        indexes = [models.Index(fields=["status", "level"])]

    def __str__(self):
        return self.title

    # ---- urls ----

    def get_absolute_url(self) -> str:
        """The call's public page (its CallPage) when published, else the call index."""
        page = getattr(self, "page", None)
        if page is not None and page.live:
            return page.url or "/calls/"
        return "/calls/"

    def get_admin_url(self) -> str:
        return reverse("grants_calls:edit", args=[self.pk])

    # ---- validation: every rule together ----

    def clean_fields(self, exclude=None):
        """Django's field checks, with a sentence naming the field for an empty one."""
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as e:
            errors = {}
            for name, field_errors in e.error_dict.items():
                label = self._meta.get_field(name).verbose_name
                verb = "选择" if name in ("level", "region") else "填写"
                kept = []
                for error in field_errors:
                    if error.code not in ("blank", "null"):
                        kept.append(error)
                    elif name not in RULE_LISTS:  # an empty list of rules: clean() says what is missing
                        kept.append(ValidationError(f"请{verb}{label}。", code=error.code))
                if kept:
                    errors[name] = kept
            if errors:
                raise ValidationError(errors) from None

    def clean(self):
        errors: dict[str, list[str]] = {}

        def err(field, message):
            errors.setdefault(field, []).append(message)

        if self.region_id and self.level in LEVEL_REGIONS and self.region.level not in LEVEL_REGIONS[self.level]:
            err(
                "region",
                f"{self.get_level_display()}征集的区域须为{'或'.join(Region.Level(x).label for x in LEVEL_REGIONS[self.level])}。",
            )
        if self.base_id and self.region_id and not self.region.contains(self.base.region):
            err("base", "承办孵化基地须位于征集区域内。")
        if self.pool_total is not None and self.pool_total <= 0:
            err("pool_total", "资助总额须大于0。")
        if self.grant_min is not None and self.grant_max is not None and self.grant_min > self.grant_max:
            err("grant_max", "单个项目最高资助不能低于最低资助。")
        if self.grant_max is not None and self.pool_total is not None and self.grant_max > self.pool_total:
            err("grant_max", "单个项目最高资助不能超过资助总额。")
        unknown = set(self.eligible_types or []) - set(OrgType.values)
        if unknown:
            err("eligible_types", f"未知的组织类型：{'、'.join(sorted(unknown))}。")
        if not self.eligible_types and not self.allow_preparing_in_incubation:
            err("eligible_types", "请至少选择一种可申报的组织类型。")
        self._clean_timeline(err)
        for message in rubric_problems(self.rubric):
            err("rubric", message)
        if self.has_pitch:
            for message in rubric_problems(self.pitch_rubric):
                err("pitch_rubric", message)
        for message in tranche_problems(self.tranche_plan):
            err("tranche_plan", message)
        for message in template_problems(self.agreement_template):
            err("agreement_template", message)
        for message in rubric_problems(self.evaluation_rubric, label="评估指标"):
            err("evaluation_rubric", message)
        for message in grade_band_problems(self.grade_bands, self.pass_score):
            err("grade_bands", message)
        if self.has_pitch:
            if not self.pitch_on:
                err("pitch_on", "设路演答辩环节时请填写路演日期。")
            if self.pitch_weight is not None and not (0 < self.pitch_weight < 100):
                err("pitch_weight", "路演得分比例须大于0且小于100。")
        elif self.pitch_weight:
            err("pitch_weight", "没有路演答辩环节时，路演得分比例应为0。")
        if self.next_round_id:
            upper = self.next_round
            if upper.pk == self.pk or upper.level >= (self.level or 99):
                err("next_round", "只能推荐到更高一级的征集（社区 → 街道 → 市级）。")
            elif self.region_id and not upper.region.contains(self.region):
                err("next_round", "上一级征集的区域须包含本征集的区域。")
        if errors:
            raise ValidationError(errors)

    def _clean_timeline(self, err):
        d = {name: getattr(self, name) for pair in TIMELINE for name in pair[:2] if name}
        if bool(d["needs_from"]) != bool(d["needs_until"]):
            err("needs_until", "需求征集的开始和截止日期须同时填写。")
        order = [
            ("needs_from", "needs_until", "需求征集截止不能早于开始"),
            ("needs_until", "apply_from", "申报开始不能早于需求征集截止"),
            ("apply_from", "apply_until", "申报截止不能早于申报开始"),
            ("apply_until", "eligibility_until", "资格审查截止不能早于申报截止"),
            ("eligibility_until", "review_from", "评审开始不能早于资格审查截止"),
            ("review_from", "review_until", "评审截止不能早于评审开始"),
            ("review_until", "pitch_on", "路演日期不能早于评审截止"),
            ("review_until", "publicity_from", "公示开始不能早于评审截止"),
            ("pitch_on", "publicity_from", "公示开始不能早于路演日期"),
            ("publicity_from", "publicity_until", "公示截止不能早于公示开始"),
            ("publicity_until", "implement_from", "项目实施开始不能早于公示截止"),
            ("implement_from", "implement_until", "项目实施结束不能早于开始"),
        ]
        for first, second, message in order:
            a, b = d.get(first), d.get(second)
            if a and b and b < a:
                err(second, f"{message}。")

    # ---- reading the rules ----

    @property
    def accepts_applications(self) -> bool:
        """Open, and today within the application window."""
        today = timezone.localdate()
        return self.status == CallStatus.OPEN and self.apply_from <= today <= self.apply_until

    def timeline(self, today: datetime.date | None = None) -> list[dict]:
        """The stages with their dates, the one today falls in marked `current` and those
        over marked `past`. A stage with one date (路演) lasts that day; 资格审查 starts the
        day after applications close."""
        today = today or timezone.localdate()
        rows = []
        previous_end = None
        for start, end, label in TIMELINE:
            a = getattr(self, start) if start else None
            b = getattr(self, end) if end else None
            if a is None and b is None:
                continue
            lo = a or (previous_end + datetime.timedelta(days=1) if previous_end and end else b)
            hi = b or a
            lo = min(lo, hi)
            rows.append(
                {
                    "label": label,
                    "start": a,
                    "end": b,
                    "since": lo,
                    "until": hi,
                    "current": lo <= today <= hi,
                    "past": hi < today,
                }
            )
            previous_end = hi
        return rows

    def stage_today(self, today: datetime.date | None = None) -> str:
        """The label of the timeline stage today falls in ("" before or between stages)."""
        return next((row["label"] for row in reversed(self.timeline(today)) if row["current"]), "")

    def rubric_total(self) -> Decimal:
        return sum((Decimal(str(c.get("weight", 0))) for c in self.rubric or []), Decimal(0))

    # ---- lifecycle: follows the timeline (grants.tasks.advance_calls) or a call manager ----

    @transition(
        field=status,
        source=CallStatus.DRAFT,
        target=CallStatus.NEEDS,
        permission=_manages,
        conditions=[lambda c: bool(c.needs_from)],
        custom={"label": "开始需求征集", "order": 10, "success": "“{obj}”已开始需求征集。"},
    )
    def start_needs(self):
        pass

    @transition(
        field=status,
        source=[CallStatus.DRAFT, CallStatus.NEEDS],
        target=CallStatus.OPEN,
        permission=_manages,
        custom={"label": "开放申报", "order": 20, "success": "“{obj}”已开放申报。"},
    )
    def open_applications(self):
        pass

    @transition(
        field=status,
        source=CallStatus.OPEN,
        target=CallStatus.CLOSED,
        permission=_manages,
        custom={
            "label": "截止申报",
            "order": 30,
            "confirm": "截止后申报单位不能再提交，未提交的草稿将无法提交。确定截止吗？",
            "success": "“{obj}”已截止申报，进入资格审查。",
        },
    )
    def close_applications(self):
        pass

    @transition(
        field=status,
        source=CallStatus.CLOSED,
        target=CallStatus.REVIEWING,
        permission=_manages,
        custom={"label": "进入评审", "order": 40, "success": "“{obj}”已进入专家评审。"},
    )
    def start_review(self):
        pass

    @transition(
        field=status,
        source=CallStatus.REVIEWING,
        target=CallStatus.PUBLICISING,
        permission=_manages,
        custom={"label": "开始立项公示", "order": 50, "success": "“{obj}”已开始立项公示。"},
    )
    def publicise(self):
        pass

    @transition(
        field=status,
        source=CallStatus.PUBLICISING,
        target=CallStatus.DECIDED,
        permission=_manages,
        custom={"label": "批复立项", "order": 60, "success": "“{obj}”已批复立项。"},
    )
    def decide(self):
        pass

    @transition(
        field=status,
        source=CallStatus.DECIDED,
        target=CallStatus.IMPLEMENTING,
        permission=_manages,
        custom={"label": "进入实施", "order": 70, "success": "“{obj}”的项目已进入实施。"},
    )
    def start_implementation(self):
        pass

    @transition(
        field=status,
        source=CallStatus.IMPLEMENTING,
        target=CallStatus.FINISHED,
        permission=_manages,
        custom={"label": "结束征集", "order": 80, "success": "“{obj}”已结束。"},
    )
    def finish(self):
        pass


def rubric_problems(rubric, *, label: str = "评审标准") -> list[str]:
    """What is wrong with a rubric: criteria with names and weights summing to 100."""
    if not isinstance(rubric, list) or not rubric:
        return [f"请至少设置一项{label}。"]
    problems = []
    total = Decimal(0)
    keys = set()
    for i, c in enumerate(rubric, start=1):
        if not isinstance(c, dict) or not str(c.get("name", "")).strip():
            problems.append(f"第{i}项{label}缺少名称。")
            continue
        try:
            weight = Decimal(str(c.get("weight")))
        except Exception:
            problems.append(f"{label}“{c['name']}”的分值不是数字。")
            continue
        if weight <= 0:
            problems.append(f"{label}“{c['name']}”的分值须大于0。")
        total += weight
        key = c.get("key") or c["name"]
        if key in keys:
            problems.append(f"{label}“{c['name']}”重复。")
        keys.add(key)
    if not problems and total != 100:
        problems.append(f"{label}的分值合计须为100（现在是{total.normalize():f}）。")
    return problems


def tranche_problems(plan) -> list[str]:
    if not isinstance(plan, list) or not plan:
        return ["请至少设置一期拨付。"]
    problems = []
    total = Decimal(0)
    for i, t in enumerate(plan, start=1):
        if not isinstance(t, dict):
            problems.append(f"第{i}期拨付格式不正确。")
            continue
        try:
            percent = Decimal(str(t.get("percent")))
        except Exception:
            problems.append(f"第{i}期拨付的比例不是数字。")
            continue
        if percent <= 0:
            problems.append(f"第{i}期拨付的比例须大于0。")
        if t.get("gate") not in TRANCHE_GATES:
            problems.append(f"第{i}期拨付的条件须为：{'、'.join(TRANCHE_GATES.values())}。")
        total += percent
    if not problems and total != 100:
        problems.append(f"各期拨付比例合计须为100%（现在是{total.normalize():f}%）。")
    return problems


def grade_band_problems(bands, pass_score=None) -> list[str]:
    """What is wrong with the final evaluation's grade bands: named grades, each from a
    score (0–100), highest first, the last from 0 so every total has a grade; and the
    pass score one of the bands' starts, so no grade straddles passing and failing."""
    if not isinstance(bands, list) or not bands:
        return ["请至少设置一个末期评估等级。"]
    problems = []
    mins = []
    grades = set()
    for i, b in enumerate(bands, start=1):
        if not isinstance(b, dict) or not str(b.get("grade", "")).strip():
            problems.append(f"第{i}个等级缺少名称。")
            continue
        grade = str(b["grade"]).strip()
        if len(grade) > 10:
            problems.append(f"等级“{grade}”的名称不能超过10个字。")
        if grade in grades:
            problems.append(f"等级“{grade}”重复。")
        grades.add(grade)
        try:
            low = Decimal(str(b.get("min")))
            if not low.is_finite():
                raise ValueError
        except Exception:
            problems.append(f"等级“{grade}”的起点分数不是数字。")
            continue
        if not (0 <= low <= 100):
            problems.append(f"等级“{grade}”的起点分数须在0到100之间。")
        mins.append((grade, low))
    if problems:
        return problems
    for (high_grade, high), (low_grade, low) in zip(mins, mins[1:], strict=False):
        if low >= high:
            problems.append(f"等级须按分数从高到低排列：“{low_grade}”的起点分数须低于“{high_grade}”。")
    if mins[-1][1] != 0:
        problems.append(f"最后一个等级“{mins[-1][0]}”的起点分数须为0，使每个得分都有等级。")
    if not problems and pass_score is not None and Decimal(pass_score) not in {m for _, m in mins}:
        starts = "、".join(f"{g}≥{m.normalize():f}" for g, m in mins)
        problems.append(
            f"评估合格分数（{Decimal(pass_score).normalize():f}）须是某个等级的起点分数（现在：{starts}），"
            "否则同一等级里会有通过和未通过的项目。"
        )
    return problems
