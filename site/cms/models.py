from django import forms
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Case, Count, Q, Value, When
from django.utils import timezone
from django.utils.html import escape
from modelcluster.fields import ParentalKey
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.panels import FieldPanel, HelpPanel, InlinePanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page
from wagtail.search import index

from core.forms import Select

from .blocks import FeaturedBlock


class HomePage(Page):
    """The public front page: what the platform is, the way in for applicants."""

    hero_title = models.CharField("主标题", max_length=100, default="公益创投 · 孵化 · 资助，一网通办")
    hero_text = models.TextField(
        "导语",
        blank=True,
        default="社会组织在线登记、入驻孵化基地、申报公益创投项目、报送进度、领取资金；"
        "评审、公示与结果全程公开。一次填报，处处复用。",
    )
    body = RichTextField("正文", blank=True)
    featured = StreamField(
        FeaturedBlock(),
        verbose_name="首页栏目",
        blank=True,
        help_text="首页显示哪些栏目、按什么顺序：正在征集、公示公告、年度数据、最新资助项目、新闻动态、图文和快捷入口。",
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("hero_title"),
        FieldPanel("hero_text"),
        FieldPanel("featured"),
        FieldPanel("body"),
    ]
    subpage_types = [
        "cms.SectionPage",
        "cms.BaseIndexPage",
        "cms.CallIndexPage",
        "cms.NoticeIndexPage",
        "cms.ProjectIndexPage",
        "cms.StatisticsPage",
        "cms.NewsIndexPage",
    ]
    max_count = 1

    class Meta:
        verbose_name = "首页"

    def get_context(self, request, *args, **kwargs):
        from .home import featured_blocks, platform_figures

        context = super().get_context(request, *args, **kwargs)
        context["featured_blocks"] = featured_blocks(request, self)
        context["figures"] = platform_figures()
        return context


class SectionPage(Page):
    """A top-level section of the public site (项目申报, 孵化基地 …). Its listing is filled
    by the app that owns the section; until then it shows a real empty state."""

    intro = RichTextField("简介", blank=True)
    empty_text = models.CharField("暂无内容时的提示", max_length=200, default="暂无内容，敬请关注。")

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("empty_text")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = []

    class Meta:
        verbose_name = "栏目页"


class BaseIndexPage(RoutablePageMixin, Page):
    """孵化基地 (/bases/): the public directory of the incubation bases and a page per base.

    The section's title and intro are edited here, in Wagtail; the bases themselves are
    domain records (incubator.IncubationBase, with their photo and introduction edited in
    the admin's 孵化基地 screens), because their capacity, residents and figures are kept
    by the incubation services and change every day, which a page tree would only copy.
    So this one page routes: "" is the directory, "<pk>/" a base's public page."""

    intro = RichTextField("简介", blank=True)
    empty_text = models.CharField("暂无基地时的提示", max_length=200, default="孵化基地信息正在整理中。")

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("empty_text")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = []
    max_count = 1

    class Meta:
        verbose_name = "孵化基地栏目"

    @path("")
    def directory(self, request):
        from incubator.public import directory_context

        return self.render(request, context_overrides=directory_context(request, self))

    @path("<int:pk>/")
    def base(self, request, pk):
        from incubator.public import base_context

        context = base_context(pk, bases_url=self.get_url(request))
        return self.render(request, context_overrides=context, template="cms/base_detail_page.html")


# ---- 项目申报: the call index and one page per call ------------------------------------------------


class CallFilterForm(forms.Form):
    """The index's filters, as GET parameters that combine and stay in the URL."""

    status = forms.ChoiceField(widget=Select, label="状态", required=False)
    level = forms.ChoiceField(widget=Select, label="层级", required=False)
    region = forms.ChoiceField(widget=Select, label="区域", required=False)
    year = forms.ChoiceField(widget=Select, label="年度", required=False)

    def __init__(self, data, *, regions, years):
        from grants.models import CallLevel, CallStatus

        super().__init__(data)
        self.regions = {str(r.pk): r for r in regions}
        self.fields["status"].choices = [("", "全部状态")] + [
            (value, label) for value, label in CallStatus.choices if value != CallStatus.DRAFT
        ]
        self.fields["level"].choices = [("", "全部层级"), *((str(v), label) for v, label in CallLevel.choices)]
        self.fields["region"].choices = [("", "全部区域")] + [
            (str(r.pk), "\u3000" * (r.depth - 1) + r.name) for r in regions
        ]
        self.fields["year"].choices = [("", "全部年度"), *((str(y), f"{y}年") for y in years)]

    def ignored(self) -> list[str]:
        """The filters that were refused (a value not offered), said aloud."""
        return [self.fields[name].label for name in self.errors]


PUBLIC_STATUS_LABELS = {"draft": "即将发布"}
CALLS_PER_PAGE = 12


class CallIndexPage(Page):
    """项目申报 (/calls/): every published call, open ones first, filtered by status, level,
    region and year. Each call's page (CallPage) is created with the call in the admin;
    editors write its announcement and publish it here."""

    intro = RichTextField("简介", blank=True)
    empty_text = models.CharField(
        "暂无征集时的提示", max_length=200, default="当前没有正在征集的项目。新的征集公告发布后会在这里显示。"
    )

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("empty_text")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["cms.CallPage"]
    max_count = 1

    class Meta:
        verbose_name = "项目申报栏目"

    def published_calls(self):
        return CallPage.objects.child_of(self).live().public()

    def get_context(self, request, *args, **kwargs):
        from accounts.models import Region
        from grants.models import CallStatus, ProposalStatus
        from grants.rules import fmt_money

        context = super().get_context(request, *args, **kwargs)
        pages = self.published_calls()
        years = pages.order_by("-call__year").values_list("call__year", flat=True).distinct()
        paths = set(pages.values_list("call__region__path", flat=True))
        prefixes = {p[: i * Region.steplen] for p in paths for i in range(1, len(p) // Region.steplen + 1)}
        regions = list(Region.objects.filter(path__in=prefixes).order_by("path"))
        form = CallFilterForm(request.GET, regions=regions, years=list(years))
        form.is_valid()
        chosen = form.cleaned_data
        if chosen.get("status"):
            pages = pages.filter(call__status=chosen["status"])
        if chosen.get("level"):
            pages = pages.filter(call__level=int(chosen["level"]))
        if chosen.get("region"):
            pages = pages.filter(call__region__path__startswith=form.regions[chosen["region"]].path)
        if chosen.get("year"):
            pages = pages.filter(call__year=int(chosen["year"]))
        order = Case(
            *(When(call__status=s, then=Value(i)) for i, s in enumerate(CALL_ORDER)),
            default=Value(len(CALL_ORDER)),
            output_field=models.IntegerField(),
        )
        not_counted = [ProposalStatus.DRAFT, ProposalStatus.WITHDRAWN]
        pages = (
            pages.select_related("call", "call__region")
            .annotate(
                stage_order=order,
                applications=Count("call__proposals", filter=~Q(call__proposals__status__in=not_counted)),
            )
            .order_by("stage_order", "-call__year", "-call__apply_from", "pk")
        )
        page_obj = Paginator(pages, CALLS_PER_PAGE).get_page(request.GET.get("page"))
        for p in page_obj:
            p.status_label = PUBLIC_STATUS_LABELS.get(p.call.status) or p.call.get_status_display()
            p.grant_max_text = fmt_money(p.call.grant_max)
        kept = request.GET.copy()
        kept.pop("page", None)
        context.update(
            {
                "form": form,
                "ignored": form.ignored(),
                "filtered": any(chosen.get(k) for k in ("status", "level", "region", "year")),
                "calls": page_obj,
                "page_query": kept.urlencode(),
                "index_url": self.get_url(request),
                "open_status": CallStatus.OPEN,
            }
        )
        return context


# open calls first, then those about to open, then by how far along they are
CALL_ORDER = ["open", "needs", "draft", "closed", "reviewing", "publicising", "decided", "implementing", "finished"]


class CallPageDocument(Orderable):
    """An attachment of a call's announcement: the 申报指南, the application templates."""

    page = ParentalKey("cms.CallPage", on_delete=models.CASCADE, related_name="documents")
    document = models.ForeignKey(
        "wagtaildocs.Document", verbose_name="文件", on_delete=models.CASCADE, related_name="+"
    )
    title = models.CharField("显示名称", max_length=100, blank=True, help_text="不填则使用文件的标题，如“申报指南”。")

    panels = [FieldPanel("document"), FieldPanel("title")]

    class Meta(Orderable.Meta):
        verbose_name = "附件"
        verbose_name_plural = "附件"

    @property
    def label(self) -> str:
        return self.title or self.document.title


class CallPage(Page):
    """One call's public page (公告): the announcement and attachments editors write here,
    and what the call itself knows (its rules, timeline, the needs it answers, how many
    applied), read from grants.Call so nothing is typed twice. The page's title follows
    the call's: it is changed on the call, in 公益创投 › 项目征集."""

    call = models.OneToOneField(
        "grants.Call", verbose_name="项目征集", on_delete=models.PROTECT, related_name="page", editable=False
    )
    announcement = RichTextField(
        "征集公告",
        blank=True,
        help_text="征集背景、申报要求、联系方式等。规则表、时间安排和申报入口由系统根据征集自动显示。",
    )

    content_panels = [
        HelpPanel(template="cms/call_page_help.html", heading="项目征集"),
        FieldPanel("announcement"),
        InlinePanel("documents", label="附件（申报指南、申报书模板等）", heading="附件"),
    ]
    parent_page_types = ["cms.CallIndexPage"]
    subpage_types = []
    is_creatable = False  # created with its call (grants: 项目征集 › 添加)

    class Meta:
        verbose_name = "项目征集公告"

    def _follow_call(self):
        if self.call_id:
            self.title = self.call.title

    def full_clean(self, *args, **kwargs):
        self._follow_call()
        return super().full_clean(*args, **kwargs)

    def save(self, *args, **kwargs):
        self._follow_call()
        return super().save(*args, **kwargs)

    def get_context(self, request, *args, **kwargs):
        from grants.models import Call

        context = super().get_context(request, *args, **kwargs)
        call = Call.objects.select_related("region", "base").get(pk=self.call_id)
        context.update(call_page_context(request, call))
        context["documents"] = list(self.documents.select_related("document"))
        context["index_url"] = self.get_parent().get_url(request)
        return context


def call_rules(call) -> list[tuple[str, str]]:
    """The call's rules as the rows of the page's table, in words."""
    from grants.rules import fmt_money, fmt_percent
    from orgs.models import OrgType

    types = [OrgType(t).label for t in call.eligible_types or [] if t in OrgType.values]
    if call.allow_preparing_in_incubation:
        types.append("正在孵化基地孵化的筹备组织")
    forbidden = [
        label
        for flag, label in ((call.forbid_fixed_assets, "购置固定资产"), (call.forbid_cash_handouts, "发放现金或等价物"))
        if flag
    ]
    self_share = fmt_percent(100 - call.max_grant_share)
    review = f"{call.panel_size}位评审专家评分，{call.get_aggregation_display()}"
    if call.blind_review:
        review += "；匿名评审"
    if call.has_pitch:
        review += f"；设路演答辩，占最终得分的{fmt_percent(call.pitch_weight)}"
    return [
        ("主办单位", call.organiser + (f"（承办：{call.base.name}）" if call.base_id else "")),
        ("征集区域", f"{call.region.full_name}（{call.get_level_display()}）"),
        ("资助总额", f"{fmt_money(call.pool_total)} 元"),
        ("单个项目资助金额", f"{fmt_money(call.grant_min)} 元至 {fmt_money(call.grant_max)} 元"),
        ("资助比例", f"申请资助金额不超过项目总预算的{fmt_percent(call.max_grant_share)}（自筹不少于{self_share}）"),
        ("人员费用", f"不超过项目总预算的{fmt_percent(call.max_personnel_share)}"),
        ("不得列支", "、".join(forbidden) if forbidden else "无特别限制"),
        ("服务领域", "、".join(c.name for c in call.categories.all()) or "不限"),
        ("可申报的组织", "、".join(types)),
        ("评估等级", f"{call.min_grade}及以上" if call.min_grade else "不限"),
        ("申报数量", f"每个组织最多申报{call.max_applications_per_org}个项目"),
        ("评审方式", review),
        ("立项分数线", f"最终得分不低于{call.min_fundable_score.normalize():f}分"),
    ]


def call_page_context(request, call) -> dict:
    from django.urls import NoReverseMatch, reverse

    from core.dates import chinese_date
    from grants.models import Need
    from grants.models.calls import TRANCHE_GATES
    from grants.services.calls import applications_count

    apply_url = ""
    if call.accepts_applications:
        try:
            apply_url = reverse("grants:start", args=[call.pk])
        except NoReverseMatch:  # the application pages are another module's
            apply_url = reverse("dashboard")
    today = timezone.localdate()
    if call.accepts_applications:
        apply_note = f"申报截止：{chinese_date(call.apply_until)} 24:00"
    elif today < call.apply_from:
        apply_note = f"申报将于{chinese_date(call.apply_from)}开始"
    else:
        apply_note = "本次征集已截止申报"
    return {
        "call": call,
        "status_label": PUBLIC_STATUS_LABELS.get(call.status) or call.get_status_display(),
        "rules": call_rules(call),
        "rubric": call.rubric or [],
        "tranches": [{**t, "gate_label": TRANCHE_GATES.get(t.get("gate"), "")} for t in call.tranche_plan or []],
        "timeline": call.timeline(today),
        "stage_today": call.stage_today(today),
        "needs": list(
            Need.objects.filter(call=call, status="accepted").select_related("region").order_by("-people_count", "pk")
        ),
        "applications": applications_count(call),
        "apply_url": apply_url,
        "apply_note": apply_note,
    }


# ---- the page follows its call (grants may not import cms: cms listens, apps.py) ------------------


def call_page_slug(call) -> str:
    return f"{call.year}-{call.pk}"


def create_call_page(call) -> "CallPage | None":
    """The call's page, a draft (not live) under the call index; None without an index."""
    index = CallIndexPage.objects.first()
    if index is None:
        return None
    page = CallPage(
        title=call.title,
        slug=call_page_slug(call),
        call=call,
        live=False,
        has_unpublished_changes=True,
        announcement=f"<p>{escape(call.summary)}</p>" if call.summary else "",
    )
    index.add_child(instance=page)
    page.save_revision(user=call.created_by, log_action=False)
    return page


def call_saved(sender, instance, created, raw=False, update_fields=None, **kwargs):
    """post_save of grants.Call: a new call gets its page; a renamed one renames it."""
    if raw or (update_fields is not None and "title" not in update_fields):
        return
    page = CallPage.objects.filter(call=instance).only("pk", "title").first()
    if page is None:
        create_call_page(instance)
    elif page.title != instance.title:
        # the page row only: a draft or revision opened later takes the title from the call
        Page.objects.filter(pk=page.pk).update(title=instance.title, draft_title=instance.title)


def link_call_pages() -> int:
    """Create the page of every call that has none (a site set up after its calls)."""
    from grants.models import Call

    made = 0
    for call in Call.objects.filter(page__isnull=True).order_by("pk"):
        made += create_call_page(call) is not None
    return made


# ---- 公示公告: the notice index and one page per 公示 (grants.Publicity) ---------------------------
# The reading and the objection form live in cms/notices.py; these are the page types.


class NoticeIndexPage(Page):
    """公示公告 (/notices/): every published 公示, those whose objection window is open first,
    then the newest. A 公示's page (NoticePage) is made and published by the system when
    grants publishes the list; editors may add a plain 公告 here too (a NoticePage with no
    公示) and nothing else."""

    intro = RichTextField("简介", blank=True)
    empty_text = models.CharField("暂无公告时的提示", max_length=200, default="暂无公示公告。")

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("empty_text")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["cms.NoticePage"]
    max_count = 1

    class Meta:
        verbose_name = "公示公告栏目"

    def get_context(self, request, *args, **kwargs):
        from .notices import index_context

        context = super().get_context(request, *args, **kwargs)
        context.update(index_context(request, self))
        return context


class NoticePageForm(WagtailAdminPageForm):
    """A 公示's title follows the 公示 (the list as published): shown, not editable."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if getattr(self.instance, "publicity_id", None) and "title" in self.fields:
            self.fields["title"].disabled = True
            self.fields["title"].help_text = "公示的标题随公示名单，不能在这里修改。"


class NoticePage(Page):
    """One notice. With a 公示 (`publicity`): its window, the frozen list (project,
    organisation, category, place, amount, score: nothing private), how many objections
    were received and handled, and the objection form while the window is open; editors
    write only the explanation above the list. Without one: a plain 公告 an editor wrote."""

    publicity = models.OneToOneField(
        "grants.Publicity",
        verbose_name="公示",
        on_delete=models.PROTECT,
        related_name="page",
        null=True,
        blank=True,
        editable=False,
    )
    intro = RichTextField(
        "说明",
        blank=True,
        help_text="公示的背景、依据和联系方式等。公示期、名单和异议受理由系统根据公示自动显示。",
    )

    content_panels = [
        HelpPanel(template="cms/notice_page_help.html", heading="公示"),
        *Page.content_panels,
        FieldPanel("intro"),
    ]
    base_form_class = NoticePageForm
    parent_page_types = ["cms.NoticeIndexPage"]
    subpage_types = []

    class Meta:
        verbose_name = "公示公告"

    def _follow_publicity(self):
        if self.publicity_id:
            self.title = self.publicity.title

    def full_clean(self, *args, **kwargs):
        self._follow_publicity()
        return super().full_clean(*args, **kwargs)

    def save(self, *args, **kwargs):
        self._follow_publicity()
        return super().save(*args, **kwargs)

    def serve(self, request, *args, **kwargs):
        from .notices import serve_notice

        return serve_notice(self, request, *args, **kwargs)

    def get_context(self, request, *args, **kwargs):
        from .notices import notice_context

        context = super().get_context(request, *args, **kwargs)
        context.update(notice_context(request, self, form=kwargs.get("form")))
        return context


# ---- the page follows its 公示 (grants may not import cms: cms listens, apps.py) ------------------


def notice_page_slug(publicity) -> str:
    return f"{publicity.call.year}-{publicity.call_id}-{publicity.kind}"


def create_notice_page(publicity) -> "NoticePage | None":
    """The 公示's page, published under the notice index; None without an index."""
    index = NoticeIndexPage.objects.first()
    if index is None:
        return None
    page = NoticePage(
        title=publicity.title,
        slug=notice_page_slug(publicity),
        publicity=publicity,
        intro="".join(f"<p>{escape(p)}</p>" for p in publicity.intro.splitlines() if p.strip()),
    )
    index.add_child(instance=page)
    # the service that published the 公示 checked the user; the page follows it
    page.save_revision(user=publicity.published_by, log_action=False).publish(
        user=publicity.published_by, skip_permission_checks=True
    )
    return page


def publicity_saved(sender, instance, created, raw=False, update_fields=None, **kwargs):
    """post_save of grants.Publicity: a new 公示 gets its page, live at once; a renamed one
    renames it."""
    if raw or (update_fields is not None and "title" not in update_fields):
        return
    page = NoticePage.objects.filter(publicity=instance).only("pk", "title").first()
    if page is None:
        create_notice_page(instance)
    elif page.title != instance.title:
        Page.objects.filter(pk=page.pk).update(title=instance.title, draft_title=instance.title)


def link_notice_pages() -> int:
    """Create the page of every 公示 that has none (a site set up after its 公示)."""
    from grants.models import Publicity

    made = 0
    for publicity in Publicity.objects.filter(page__isnull=True).select_related("call").order_by("pk"):
        made += create_notice_page(publicity) is not None
    return made


# ---- 资助项目, 数据统计, 新闻动态 -----------------------------------------------------------------
# The page types; what each shows is read in its own module (cms/projects.py, cms/stats.py,
# cms/news.py), as the notices are in cms/notices.py.


class ProjectIndexPage(RoutablePageMixin, Page):
    """资助项目 (/projects/): every funded project (grants), filtered, searched, sorted and
    paged; "<pk>/" is a project's public page. The projects are domain records, not pages:
    this one page routes, as the bases' directory does."""

    intro = RichTextField("简介", blank=True)
    empty_text = models.CharField(
        "暂无项目时的提示", max_length=200, default="暂无资助项目。评审结果公布后将在这里公开。"
    )

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("empty_text")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = []
    max_count = 1

    class Meta:
        verbose_name = "资助项目栏目"

    @path("")
    def listing(self, request):
        from .projects import listing_context

        return self.render(request, context_overrides=listing_context(request, self))

    @path("<int:pk>/")
    def project(self, request, pk):
        from .projects import project_context

        context = project_context(request, self, pk)
        return self.render(request, context_overrides=context, template="cms/project_page.html")

    @path("<int:pk>/photos/<int:photo>/")
    def photo(self, request, pk, photo):
        from .projects import serve_photo

        return serve_photo(request, self, pk, photo)


class StatisticsPage(RoutablePageMixin, Page):
    """数据统计 (/stats/): the public figures of the grants and the incubation, each chart
    with its table and a download of the numbers (cms/stats.py)."""

    intro = RichTextField("简介", blank=True)
    empty_text = models.CharField("暂无数据时的提示", max_length=200, default="暂无统计数据。")

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("empty_text")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = []
    max_count = 1

    class Meta:
        verbose_name = "数据统计栏目"

    @path("")
    def figures(self, request):
        from .stats import statistics_context

        return self.render(request, context_overrides=statistics_context(request, self))

    @path("<slug:table>/<slug:fmt>/")  # Wagtail serves no path with a dot: /stats/years/csv/
    def download(self, request, table, fmt):
        from .stats import download

        return download(request, self, table, fmt)


class NewsIndexPage(Page):
    """新闻动态 (/news/): the news, newest first."""

    intro = RichTextField("简介", blank=True)
    empty_text = models.CharField("暂无新闻时的提示", max_length=200, default="暂无新闻。")

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("empty_text")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["cms.NewsPage"]
    max_count = 1

    class Meta:
        verbose_name = "新闻动态栏目"

    def get_context(self, request, *args, **kwargs):
        from .news import index_context

        context = super().get_context(request, *args, **kwargs)
        context.update(index_context(request, self))
        return context


class NewsPage(Page):
    """One news item: its date, a summary for lists and feeds, the text and a picture."""

    date = models.DateField("发布日期", default=timezone.localdate)
    summary = models.TextField(
        "摘要", max_length=300, blank=True, help_text="列表和订阅（RSS）中显示；留空取正文开头。"
    )
    body = RichTextField("正文")
    image = models.ForeignKey(
        "wagtailimages.Image", verbose_name="题图", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("date"),
        FieldPanel("summary"),
        FieldPanel("image"),
        FieldPanel("body"),
    ]
    search_fields = [*Page.search_fields, index.SearchField("summary"), index.SearchField("body")]
    parent_page_types = ["cms.NewsIndexPage"]
    subpage_types = []

    class Meta:
        verbose_name = "新闻"
