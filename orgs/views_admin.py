"""Staff screens of the registry inside the Wagtail admin (/admin/orgs/): the registry
list, the review queue and the review page with its actions.

Thin views: every read goes through orgs.selectors (scoped to the user's region subtree),
every change through orgs.services, which check permission themselves. An organisation
outside the user's scope is a 404 on every screen and action."""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST
from wagtail.admin.auth import permission_required
from wagtail.admin.paginator import WagtailPaginator
from wagtail.admin.widgets.button import HeaderButton

from accounts.selectors import region_in_scope, regions_for
from core.admin_ui import admin_breadcrumbs
from core.ui import error_text, form_errors_text
from core.workflow import WorkflowError

from . import services, views
from .filters import RegistryFilterForm, filter_registry
from .models import GRADES, AnnualInspection, LegalChangeRequest, ListEntry, OrganisationStatus
from .selectors import (
    eligibility,
    organisation_for_review,
    organisations_for_staff,
    pending_change,
    review_queue,
    similar_name_flags,
    similar_organisations,
)

VIEW_PERMISSION = "orgs.view_organisation"
FACTS_PERMISSION = "orgs.add_annualinspection"
PAGE_SIZE = 50
INSPECTION_LABELS = dict(AnnualInspection.Result.choices)
Status = OrganisationStatus


# ---- forms of the review page ---------------------------------------------------------
# Reasons are not `required` here: the services decide when one is needed and say so in
# the words the applicant will also see.


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="审核意见 / 理由",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="退回、暂停、撤销时必填。申请单位会在通知和办理记录中看到这段说明。",
    )


class ChangeDecisionForm(forms.Form):
    note = forms.CharField(
        label="审核意见",
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="不同意时必填。",
    )


class InspectionForm(forms.Form):
    year = forms.IntegerField(label="年度", min_value=1990)
    result = forms.ChoiceField(label="年检结果", choices=AnnualInspection.Result.choices)
    note = forms.CharField(label="备注", max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].initial = timezone.localdate().year - 1  # 年检 covers the past year

    def clean_year(self):
        year = self.cleaned_data["year"]
        if year > timezone.localdate().year:
            raise ValidationError("年检年度不能晚于今年。")
        return year


class GradeForm(forms.Form):
    grade = forms.ChoiceField(label="评估等级", choices=[(g, g) for g in GRADES])
    awarded_on = forms.DateField(label="评定日期", widget=forms.DateInput(attrs={"type": "date"}))


class ListEntryForm(forms.Form):
    kind = forms.ChoiceField(label="类别", choices=ListEntry.Kind.choices)
    listed_on = forms.DateField(label="列入日期", widget=forms.DateInput(attrs={"type": "date"}))
    removed_on = forms.DateField(
        label="移出日期", required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="尚未移出的不填。"
    )
    reason = forms.CharField(label="原因", max_length=300, required=False)


# ---- the actions ------------------------------------------------------------------------


def _may_verify(user, org) -> bool:
    return services.can_verify(user, org)


def _may_record_facts(user, org) -> bool:
    return user.has_perm(FACTS_PERMISSION)


def _pending_change(org) -> LegalChangeRequest:
    req = pending_change(org)
    if req is None:
        raise WorkflowError("该组织没有待审核的登记事项变更申请。")
    return req


@dataclass(frozen=True)
class ReviewAction:
    """One POST on the review page: the form it reads (whose fields are the service's
    keyword arguments), the service it calls, who may see it (`permitted`) and in which
    registration statuses it is offered."""

    name: str
    label: str
    form: str  # key of FORMS
    service: Callable  # service(org=…, by=…, **form.cleaned_data)
    success: str
    permitted: Callable = _may_verify
    statuses: tuple = ()  # empty: any status
    needs_pending_change: bool = False
    danger: bool = False

    def offered(self, user, org) -> bool:
        if not self.permitted(user, org):
            return False
        if self.statuses and org.status not in self.statuses:
            return False
        return not self.needs_pending_change or org.has_pending_change

    def run(self, org, by, data: dict):
        return self.service(org=org, by=by, **data)


def _change_decision(approve: bool) -> Callable:
    def decide(*, org, by, note):
        return services.change_request_decide(req=_pending_change(org), by=by, approve=approve, note=note)

    return decide


FORMS = {
    "reason": ReasonForm,
    "change": ChangeDecisionForm,
    "inspection": InspectionForm,
    "grade": GradeForm,
    "list_entry": ListEntryForm,
}
SUBMITTED, VERIFIED, SUSPENDED = (Status.SUBMITTED,), (Status.VERIFIED,), (Status.SUSPENDED,)

# fmt: off
ACTIONS = [
    ReviewAction("verify", "审核通过", "reason", services.organisation_verify,
                 "“{org}”已审核通过，已通知申请单位。", statuses=SUBMITTED),
    ReviewAction("return", "退回补正", "reason", services.organisation_return,
                 "“{org}”已退回补正，申请单位会看到退回理由。", statuses=SUBMITTED, danger=True),
    ReviewAction("suspend", "暂停", "reason", services.organisation_suspend,
                 "“{org}”已暂停，已通知申请单位。", statuses=VERIFIED, danger=True),
    ReviewAction("reinstate", "恢复", "reason", services.organisation_reinstate,
                 "“{org}”已恢复，已通知申请单位。", statuses=SUSPENDED),
    ReviewAction("revoke", "撤销", "reason", services.organisation_revoke,
                 "“{org}”的认证已撤销，已通知申请单位。", statuses=VERIFIED + SUSPENDED, danger=True),
    ReviewAction("change-approve", "同意变更", "change", _change_decision(True),
                 "已同意“{org}”的登记事项变更，新的登记事项已生效。", needs_pending_change=True),
    ReviewAction("change-reject", "不同意变更", "change", _change_decision(False),
                 "已不同意“{org}”的登记事项变更，已通知申请单位。", needs_pending_change=True, danger=True),
    ReviewAction("inspection", "登记年检", "inspection", services.inspection_record,
                 "已登记“{org}”的年检结果。", permitted=_may_record_facts),
    ReviewAction("grade", "登记评估等级", "grade", services.grade_record,
                 "已登记“{org}”的评估等级。", permitted=_may_record_facts),
    ReviewAction("list-entry", "登记名录记录", "list_entry", services.list_entry_add,
                 "已登记“{org}”的名录记录。", permitted=_may_record_facts),
]
# fmt: on
ACTIONS_BY_NAME = {a.name: a for a in ACTIONS}


# ---- helpers ---------------------------------------------------------------------------


def _paginate(request, qs):
    return WagtailPaginator(qs, PAGE_SIZE).get_page(request.GET.get("p"))


def _querystring_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("p", None)
    return query.urlencode()


def _days_since(moment, today: datetime.date) -> int | None:
    return (today - timezone.localtime(moment).date()).days if moment else None


# ---- screens ---------------------------------------------------------------------------


@permission_required(VIEW_PERMISSION)
def registry(request):
    """登记名录: every organisation in the user's subtree, filtered, 50 a page."""
    user = request.user
    form = RegistryFilterForm(request.GET or None, regions=regions_for(user))
    qs = organisations_for_staff(user)
    if form.is_bound and form.is_valid():
        qs = filter_registry(qs, form.cleaned_data)
    page = _paginate(request, qs.order_by("-updated_at", "-pk"))
    for org in page.object_list:
        org.inspection_label = INSPECTION_LABELS.get(org.latest_inspection_result, "")
    query = _querystring_without_page(request)
    buttons = []
    if user.has_perm("orgs.export_organisation"):
        # the export (orgs/views_exchange.py) reads the same filters as this list
        export_url = reverse("orgs_exchange:export") + (f"?{query}" if query else "")
        buttons.append(HeaderButton("导出 Excel", export_url, icon_name="download"))
    return TemplateResponse(
        request,
        "orgs/admin/registry.html",
        {
            "header_title": "登记名录",
            "breadcrumbs_items": admin_breadcrumbs(("社会组织", None), ("登记名录", None)),
            "header_buttons": buttons,
            "header_icon": "group",
            "form": form,
            "page": page,
            "elided_page_range": page.paginator.get_elided_page_range(page.number),
            "filtered": bool(query),
        },
    )


@permission_required(VIEW_PERMISSION)
def queue(request):
    """待审核: submitted organisations, the longest-waiting first, with a similar-name flag."""
    page = _paginate(request, review_queue(request.user))
    flags = similar_name_flags(page.object_list)
    today = timezone.localdate()
    for org in page.object_list:
        org.days_waiting = _days_since(org.submitted_at, today)
        org.similar_name = flags.get(org.pk)
    return TemplateResponse(
        request,
        "orgs/admin/queue.html",
        {
            "header_title": "待审核",
            "breadcrumbs_items": admin_breadcrumbs(("社会组织", reverse("orgs_admin:registry")), ("待审核", None)),
            "header_icon": "tasks",
            "page": page,
            "elided_page_range": page.paginator.get_elided_page_range(page.number),
        },
    )


def _render_review(request, org, *, bound: dict | None = None, status: int = 200):
    user = request.user
    bound = bound or {}
    documents = list(org.documents.all())
    offered = [a for a in ACTIONS if a.offered(user, org)]
    today = timezone.localdate()
    for grade in org.grades.all():
        grade.is_valid = grade.valid_on(today)
    similar = similar_organisations(org)
    for other in similar:
        other.in_scope = region_in_scope(user, other.region)
    forms_ = {key: bound.get(key) or form_class(prefix=key) for key, form_class in FORMS.items()}
    context = {
        "header_title": f"审核：{org.name}",
        "breadcrumbs_items": admin_breadcrumbs(
            ("社会组织", reverse("orgs_admin:registry")),
            ("待审核", reverse("orgs_admin:queue")),
            (org.name, None),
        ),
        "header_icon": "doc-full",
        "org": org,
        "region_full_name": org.region.full_name,
        "current_documents": [d for d in documents if d.is_current],
        "older_documents": [d for d in documents if not d.is_current],
        "eligibility": eligibility(org),
        "similar": similar,
        "pending_change": pending_change(org),
        "days_waiting": _days_since(org.submitted_at, today) if org.status == Status.SUBMITTED else None,
        "status_actions": [a for a in offered if a.form == "reason"],
        "change_actions": [a for a in offered if a.form == "change"],
        "fact_forms": [(a, forms_[a.form]) for a in offered if a.form not in ("reason", "change")],
        "read_only": not offered,
        "forms": forms_,
    }
    return TemplateResponse(request, "orgs/admin/review.html", context, status=status)


@permission_required(VIEW_PERMISSION)
def review(request, pk):
    """The review page: the whole file of one organisation and what may be done with it."""
    return _render_review(request, organisation_for_review(request.user, pk))


@require_POST
@permission_required(VIEW_PERMISSION)
def review_action(request, pk, action):
    spec = ACTIONS_BY_NAME.get(action)
    if spec is None:
        raise Http404("没有这个操作。")
    org = organisation_for_review(request.user, pk)
    if not spec.permitted(request.user, org):
        # Wagtail turns PermissionDenied into a redirect; a refused POST should say 403.
        return TemplateResponse(
            request,
            "orgs/admin/forbidden.html",
            {
                "header_title": "无权操作",
                "breadcrumbs_items": admin_breadcrumbs(
                    ("社会组织", reverse("orgs_admin:registry")), ("无权操作", None)
                ),
                "org": org,
                "action": spec,
            },
            status=403,
        )
    form = FORMS[spec.form](request.POST, prefix=spec.form)
    if form.is_valid():
        try:
            spec.run(org, request.user, form.cleaned_data)
        except (WorkflowError, ValidationError, PermissionDenied) as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, spec.success.format(org=org.name))
            return redirect("orgs_admin:review", org.pk)
    else:
        messages.error(request, form_errors_text(form))
    # show the page again as it now is, with what the user typed
    return _render_review(request, organisation_for_review(request.user, pk), bound={spec.form: form}, status=400)


@xframe_options_sameorigin
@permission_required(VIEW_PERMISSION)
def document_preview(request, pk, doc_pk):
    """A document for the review page's <iframe>/<img>: outside the scope it does not exist;
    inside, the applicant-side download view decides (members, or staff allowed to see
    documents) and serves it. Only the framing rule differs: same origin may embed it."""
    if not organisations_for_staff(request.user).filter(pk=pk).exists():
        raise Http404("没有找到该组织。")
    return views.document_download(request, pk=pk, doc_pk=doc_pk)


urlpatterns = [
    path("", registry, name="registry"),
    path("review/", queue, name="queue"),
    path("review/<int:pk>/", review, name="review"),
    path("review/<int:pk>/documents/<int:doc_pk>/", document_preview, name="document_preview"),
    path("review/<int:pk>/<slug:action>/", review_action, name="review_action"),
]
