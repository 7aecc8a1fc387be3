"""The reviewer's screens (评审任务) in the Wagtail admin.

- /admin/grants/reviews/: the reviewer's own assignments (a StaffListViewSet scoped to
  `expert__user = request.user`), with the progress of their work, the round's deadline
  and the total of what they submitted; filters by call and status.
- /admin/grants/reviews/<pk>/: one assignment. Until the reviewer declares whether they
  have a conflict of interest only the proposal's number, title and category are shown;
  after 无利益冲突 the proposal on the left (grants.pdf's reading of the submitted version,
  the budget against the call's limits) and the rubric on the right (保存草稿, 提交评分);
  a conflict recuses them and a replacement is drawn (grants.services.review.declare).
  Anyone but the assignment's expert gets a 404, whatever their role.
- /admin/grants/reviews/attachments/<pk>/: an attachment of a proposal the reviewer is
  scoring or has scored; in a blind call served as "附件1.pdf" with the PDF's document
  information and XMP removed (grants.blind).

In a blind call (`call.blind_review`) nothing on these screens names the applicant:
grants.blind masks the document and the titles. Another reviewer's scores are never shown
while the round is open; once it is closed the panel's totals appear as 评委1…N."""

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Count, IntegerField, Prefetch, Q, Value, When
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django_fsm import ConcurrentTransition
from wagtail import hooks

from core.admin_lists import HTMLColumn, StaffIndexView, StaffListViewSet, TextColumn, row_url, status_tag
from core.admin_ui import admin_breadcrumbs
from core.dates import chinese_date
from core.errors import UserError
from core.files import content_disposition, human_size, serve_private
from core.ui import error_text
from orgs.filters import ScopedFilterSet, radio_choice

from ..blind import Masker, UnreadablePDF, attachment_name, region_prefixes, reviewer_document, strip_pdf_metadata
from ..filters import CallFilter
from ..forms.scoring import DeclareConflictForm, ScoreForm
from ..models import (
    Assignment,
    AssignmentStatus,
    Call,
    Proposal,
    ProposalAttachment,
    ProposalVersion,
    RoundStatus,
)
from ..models.review import REVIEW_PERMISSION
from ..pdf import proposal_document
from ..selectors.review import Progress, review_queue_q
from ..services import review as review_services
from . import GRANTS_MENU_HOOK
from .proposals import budget_check, by_month

A = AssignmentStatus
SECTION = "公益创投"
QUEUE_TITLE = "评审任务"
# the queue's names for the assignment's states
QUEUE_STATUSES = [
    (A.ASSIGNED, "待声明"),
    (A.SCORING, "评分中"),
    (A.SUBMITTED, "已提交"),
    (A.RECUSED, "已回避"),
]
STATUS_LABELS = dict(QUEUE_STATUSES)
CONCURRENT_MESSAGE = "该评审任务刚被更改（例如业务主管改派或退回），请刷新页面后重试。"


def _reviews_of(user):
    """The user's own assignments; nobody else's, whatever their role."""
    if not getattr(user, "is_authenticated", False) or not user.has_perm(REVIEW_PERMISSION):
        return Assignment.objects.none()
    return Assignment.objects.filter(review_queue_q(user))


def _is_blind(call) -> bool:
    return bool(call.blind_review)


# ---- the queue -----------------------------------------------------------------------------------


class ReviewCallFilter(CallFilter):
    """The calls the reviewer has assignments in (not a region's calls: a reviewer has none)."""

    def choices_for(self, user):
        return (
            Call.objects.filter(rounds__assignments__in=_reviews_of(user))
            .distinct()
            .order_by("-year", "level", "title", "pk")
        )


class ReviewQueueFilterSet(ScopedFilterSet):
    call = ReviewCallFilter(label="征集", field_name="round__call")
    status = radio_choice("状态", QUEUE_STATUSES)

    class Meta:
        model = Assignment
        fields = []


# the columns a row reads; the related FSM fields too (ConcurrentTransitionMixin reads them on load)
QUEUE_FIELDS = (
    "status",
    "points",
    "comments",
    "comment",
    "total",
    "submitted_at",
    "round__stage",
    "round__status",
    "round__deadline",
    "round__call__title",
    "round__call__year",
    "round__call__status",
    "round__call__blind_review",
    "proposal__number",
    "proposal__title",
    "proposal__status",
    "proposal__organisation__name",
    "proposal__organisation__status",
)
# open work first (待声明, 评分中), by deadline
TODO = Case(When(status__in=(A.ASSIGNED, A.SCORING), then=Value(0)), default=Value(1), output_field=IntegerField())


def _has_draft(a) -> bool:
    return a.status == A.SCORING and bool(a.points or a.comment or a.comments)


def _project(a):
    title = a.shown_title or "（未填写项目名称）"
    link = format_html('<a href="{}">{}</a>', row_url("grants_admin:review", a.pk), title)
    if a.round.call.blind_review:
        note = a.proposal.number or "—"
    else:
        note = format_html("{} · {}", a.proposal.number or "—", a.proposal.organisation.name)
    return format_html('{}<div class="w-help-text">{}</div>', link, note)


def _call(a):
    return format_html(
        '{}<div class="w-help-text">{}年{}</div>',
        a.round.call.title,
        a.round.call.year,
        " · 匿名评审" if a.round.call.blind_review else "",
    )


def _status(a):
    tag = status_tag(STATUS_LABELS.get(a.status, a.get_status_display()), primary=a.status == A.ASSIGNED)
    if _has_draft(a):
        return format_html('{}<div class="w-help-text">有草稿</div>', tag)
    return tag


def _overdue(a) -> bool:
    return a.status in (A.ASSIGNED, A.SCORING) and a.round.deadline < timezone.localdate()


def _deadline(a):
    text = chinese_date(a.round.deadline)
    if _overdue(a):
        return format_html('<span class="staff-overdue">{}（已过截止日期）</span>', text)
    return text


def _total(a):
    return f"{a.total:.2f}" if a.status == A.SUBMITTED and a.total is not None else "—"


class ReviewQueueView(StaffIndexView):
    section = SECTION
    page_title = QUEUE_TITLE
    count_unit = "个评审任务"
    intro = "打开项目时请先声明是否与申报组织存在利益冲突；评分可先保存草稿，提交后不能再修改。"
    empty_message = "您目前没有评审任务。被抽取为评审专家后，项目会列在这里。"
    filtered_empty_message = "没有符合筛选条件的评审任务。"
    orderings = {"todo": (TODO, "round__deadline", "proposal__number")}

    def user_has_permission(self, permission):
        # the reviewer role holds no model permission on Assignment: the queue is theirs
        return permission == "view" and self.request.user.has_perm(REVIEW_PERMISSION)

    def get_base_queryset(self):
        return Assignment.objects.select_related("round__call", "proposal__organisation").only(*QUEUE_FIELDS)

    def decorate_rows(self, rows):
        blind = [a for a in rows if a.round.call.blind_review]
        prefixes = region_prefixes() if blind else ()
        for a in rows:
            title = a.proposal.title
            if a.round.call.blind_review:
                title = Masker.for_names([a.proposal.organisation.name], prefixes)(title)
            a.shown_title = title
        return rows

    def progress(self) -> Progress:
        """The reviewer's work in the calls chosen (all of it without a call filter)."""
        qs = self.scoped_viewset.scope_queryset(Assignment.objects.all(), self.request.user)
        filters = self.filters
        if filters is not None and filters.is_valid() and filters.form.cleaned_data.get("call"):
            qs = filters.filters["call"].filter(qs, filters.form.cleaned_data["call"])
        counts = qs.aggregate(
            assignments=Count("pk"),
            submitted=Count("pk", filter=Q(status=A.SUBMITTED)),
            recused=Count("pk", filter=Q(status=A.RECUSED)),
            waiting=Count("pk", filter=Q(status=A.ASSIGNED)),
            scoring=Count("pk", filter=Q(status=A.SCORING)),
            overdue=Count("pk", filter=Q(status__in=(A.ASSIGNED, A.SCORING), round__deadline__lt=timezone.localdate())),
        )
        overdue = counts.pop("overdue")
        progress = Progress(**counts)
        progress.overdue = overdue
        return progress

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["progress"] = self.progress()
        return context


class ReviewQueueViewSet(StaffListViewSet):
    model = Assignment
    url_namespace = "grants_admin"
    index_name = "reviews"
    index_path = "reviews/"
    permission = REVIEW_PERMISSION
    index_view_class = ReviewQueueView
    index_results_template_name = "grants/admin/review_queue_results.html"
    filterset_class = ReviewQueueFilterSet
    ordering = "todo"
    icon = "form"
    menu_label = QUEUE_TITLE
    menu_name = "grants-reviews"
    menu_icon = "form"
    menu_order = 150
    list_display = [
        HTMLColumn("project", label="申报编号 / 项目", render=_project, sort_key="proposal__number", classname="title"),
        HTMLColumn("call", label="征集", render=_call, sort_key="round__call__title"),
        TextColumn("stage", label="环节", accessor=lambda a: a.round.get_stage_display(), sort_key="round__stage"),
        HTMLColumn("status", label="状态", render=_status, sort_key="todo", classname="w-whitespace-nowrap"),
        HTMLColumn(
            "deadline", label="截止日期", render=_deadline, sort_key="round__deadline", classname="w-whitespace-nowrap"
        ),
        TextColumn("total", label="总分", accessor=_total, sort_key="total", classname="w-whitespace-nowrap"),
    ]
    menu_hook = GRANTS_MENU_HOOK  # the 公益创投 submenu, shown to holders of grants.review_proposal

    # in scope: the user's own assignments, never a region's
    def scope_queryset(self, queryset, user):
        if not getattr(user, "is_authenticated", False) or not user.has_perm(REVIEW_PERMISSION):
            return queryset.none()
        return queryset.filter(review_queue_q(user))

    def instance_in_scope(self, instance, user) -> bool:
        return bool(getattr(user, "is_authenticated", False)) and instance.expert.user_id == user.pk


queue_viewset = ReviewQueueViewSet("grants_reviews")


@hooks.register("register_admin_viewset")
def register_review_queue():
    return queue_viewset  # its on_register adds the item in the 公益创投 menu


# ---- one assignment ------------------------------------------------------------------------------


def assignment_for_reviewer(user, pk) -> Assignment:
    """The user's own assignment `pk`; Http404 for anyone else's (and for other roles)."""
    return get_object_or_404(
        _reviews_of(user).select_related("round__call", "proposal__category", "expert__user"), pk=pk
    )


def _proposal(assignment) -> Proposal:
    return (
        Proposal.objects.select_related("call", "category", "organisation__region")
        .prefetch_related(
            Prefetch("versions", queryset=ProposalVersion.objects.order_by("number")),
            Prefetch("attachments", queryset=ProposalAttachment.objects.order_by("uploaded_at", "pk")),
        )
        .get(pk=assignment.proposal_id)
    )


def _may_read(assignment) -> bool:
    """The proposal's content is shown once the reviewer has declared no conflict."""
    return assignment.status in (A.SCORING, A.SUBMITTED)


def _attachments(proposal, *, blind: bool) -> list:
    rows = list(proposal.attachments.all())
    for n, a in enumerate(rows, start=1):
        a.shown_name = attachment_name(n, a.original_name) if blind else a.original_name
        a.size_text = human_size(a.size)
    return rows


def _panel_totals(assignment) -> list[dict]:
    """After the round is closed: the submitted totals of the proposal's panel as
    评委1…N (in expert-id order), without names."""
    rnd = assignment.round
    if rnd.status != RoundStatus.CLOSED:
        return []
    submitted = (
        Assignment.objects.filter(round=rnd, proposal_id=assignment.proposal_id, status=A.SUBMITTED)
        .order_by("expert_id")
        .values_list("expert_id", "total")
    )
    return [
        {"label": f"评委{i}", "total": total, "mine": expert_id == assignment.expert_id}
        for i, (expert_id, total) in enumerate(submitted, start=1)
    ]


def _scores_table(assignment, rubric) -> list[dict]:
    points, comments = assignment.points or {}, assignment.comments or {}
    return [
        {
            "c": c,
            "weight": f"{Decimal(str(c['weight'])).normalize():f}",
            "points": points.get(c["key"], "—"),
            "comment": comments.get(c["key"], ""),
        }
        for c in rubric
    ]


def _render(request, assignment, *, score_form=None, declare_form=None, status=200):
    rnd, call = assignment.round, assignment.round.call
    proposal = _proposal(assignment)
    blind = _is_blind(call)
    prefixes = region_prefixes() if blind else ()
    org = proposal.organisation
    title_mask = Masker.for_names([org.name], prefixes) if blind else (lambda text: text)
    shown_title = title_mask(proposal.title) or "（未填写项目名称）"
    rubric = rnd.rubric()
    context = {
        "header_title": f"评审：{proposal.number or shown_title}",
        "header_icon": "form",
        "breadcrumbs_items": admin_breadcrumbs(
            (SECTION, None), (QUEUE_TITLE, reverse("grants_admin:reviews")), (proposal.number or shown_title, None)
        ),
        "assignment": assignment,
        "round": rnd,
        "call": call,
        "blind": blind,
        "proposal": proposal,
        "shown_title": shown_title,
        "category": proposal.category.name if proposal.category_id else "—",
        "status_label": STATUS_LABELS.get(assignment.status, assignment.get_status_display()),
        "round_open": rnd.is_open,
        "overdue": rnd.deadline < timezone.localdate(),
        "may_read": _may_read(assignment),
        "rubric": rubric,
    }
    if assignment.status == A.ASSIGNED and rnd.is_open:
        context["declare_form"] = declare_form or DeclareConflictForm()
    if _may_read(assignment):
        doc = proposal_document(proposal)
        version = doc["version"]
        data = version.data if version else {}
        shown = reviewer_document(doc, org, blind=blind, prefixes=prefixes)
        context.update(
            {
                "doc": shown,
                "facts": {},
                "version": version,
                "months": by_month(shown["activities"]),
                "check": budget_check(call, data.get("budget_lines", []), doc["totals"]),
                "attachments": _attachments(proposal, blind=blind),
                "attachment_url_name": "grants_admin:review_attachment",
            }
        )
    if assignment.status == A.SCORING and rnd.is_open:
        form = score_form or ScoreForm(rubric, assignment=assignment)
        context["form"] = form
    elif assignment.status in (A.SUBMITTED, A.SCORING):
        context["scores"] = _scores_table(assignment, rubric)
    context["panel"] = _panel_totals(assignment) if assignment.status == A.SUBMITTED else []
    return TemplateResponse(request, "grants/admin/review.html", context, status=status)


def _back(assignment):
    return redirect(reverse("grants_admin:review", args=[assignment.pk]))


def _declare(request, assignment):
    if request.POST.get("conflict") != "yes":
        review_services.declare(assignment=assignment, by=request.user, conflict=False)
        messages.success(request, "已声明无利益冲突，可以开始评分。")
        return _back(assignment)
    form = DeclareConflictForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请检查利益冲突声明：" + "；".join(e for errs in form.errors.values() for e in errs))
        return _render(request, assignment, declare_form=form, status=400)
    try:
        replacement = review_services.declare(
            assignment=assignment,
            by=request.user,
            conflict=True,
            kind=form.cleaned_data["kind"],
            note=form.cleaned_data["note"],
        )
    except ValidationError as exc:
        for key, errs in exc.message_dict.items():
            form.add_error(key if key in form.fields else None, errs)
        messages.error(request, error_text(exc))
        return _render(request, assignment, declare_form=form, status=400)
    number = assignment.proposal.number or "该项目"
    if replacement is not None:
        messages.success(request, f"您已声明与“{number}”存在利益冲突并回避，系统已自动抽取替补专家。")
    else:
        messages.warning(request, f"您已声明与“{number}”存在利益冲突并回避。目前没有可替补的专家，业务主管会另行安排。")
    return redirect(reverse("grants_admin:reviews"))


def _score(request, assignment, action: str):
    rubric = assignment.round.rubric()
    form = ScoreForm(rubric, request.POST)
    if not form.is_valid():
        messages.error(request, "请检查评分：" + "；".join(e for errs in form.errors.values() for e in errs))
        return _render(request, assignment, score_form=form, status=400)
    service = review_services.save_draft if action == "save" else review_services.submit_scores
    try:
        service(assignment=assignment, by=request.user, **form.service_kwargs())
    except ValidationError as exc:
        form.apply_service_errors(exc)
        messages.error(request, "评分未保存：" + error_text(exc))
        return _render(request, assignment, score_form=form, status=400)
    if action == "save":
        messages.success(
            request, f"草稿已保存（{timezone.localtime(assignment.saved_at):%H:%M}），提交前可以继续修改。"
        )
    else:
        messages.success(request, f"已提交评分，总分 {assignment.total:.2f} 分。评分已锁定，不能再修改。")
    return _back(assignment)


ACTIONS = ("declare", "save", "submit")


def review(request, pk):
    """The scoring screen of one assignment: the declaration, the proposal and the rubric."""
    assignment = assignment_for_reviewer(request.user, pk)
    if request.method != "POST":
        return _render(request, assignment)
    action = request.POST.get("action", "")
    if action not in ACTIONS:
        messages.error(request, "无法识别的操作，请重新提交。")
        return _back(assignment)
    try:
        if action == "declare":
            return _declare(request, assignment)
        return _score(request, assignment, action)
    except (UserError, PermissionDenied) as exc:
        messages.error(request, error_text(exc))
    except ConcurrentTransition:
        messages.error(request, CONCURRENT_MESSAGE)
    return _back(assignment)


def review_attachment(request, pk):
    """An attachment of a proposal the user is scoring or has scored (declared no
    conflict); in a blind call under "附件n" and, for a PDF, without its metadata."""
    attachment = get_object_or_404(ProposalAttachment.objects.select_related("proposal__call"), pk=pk)
    reviewing = _reviews_of(request.user).filter(
        proposal_id=attachment.proposal_id, status__in=(A.SCORING, A.SUBMITTED)
    )
    if not reviewing.exists():
        raise Http404("没有这个附件，或它不属于您评审的项目。")
    if not _is_blind(attachment.proposal.call):
        return serve_private(attachment.file, download_name=attachment.original_name, as_attachment=True)
    position = (
        ProposalAttachment.objects.filter(proposal_id=attachment.proposal_id)
        .filter(Q(uploaded_at__lt=attachment.uploaded_at) | Q(uploaded_at=attachment.uploaded_at, pk__lt=attachment.pk))
        .count()
    )
    name = attachment_name(position + 1, attachment.original_name)
    if not name.endswith(".pdf"):
        return serve_private(attachment.file, download_name=name, as_attachment=True)
    if not attachment.file or not attachment.file.storage.exists(attachment.file.name):
        raise Http404("文件不存在")
    with attachment.file.open("rb") as f:
        data = f.read()
    try:
        clean = strip_pdf_metadata(data)
    except UnreadablePDF:
        return HttpResponse(
            "该附件无法去除文件信息，匿名评审期间不能下载。请联系业务主管。",
            status=409,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(clean, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition(name, as_attachment=True)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    *queue_viewset.urlpatterns,  # reviews/ and reviews/results/ (names reviews, reviews_results)
    path("reviews/<int:pk>/", review, name="review"),
    path("reviews/attachments/<int:pk>/", review_attachment, name="review_attachment"),
]
