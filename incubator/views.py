"""The organisation's side of incubation (/me/incubation/): apply to a base with the
profile already on file, follow each stay, withdraw. Thin views over services and selectors."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.charts import LINE, NUMBER, Chart, Column, Table
from core.dates import chinese_date
from core.ui import apply_errors, error_text
from core.workflow import WorkflowError
from orgs.models import Membership, Organisation
from orgs.selectors import member_role
from orgs.services import EDITOR_ROLES

from . import services
from .forms import ApplicationForm, WithdrawForm
from .models import ASSESSMENT_DIMENSIONS, BaseService, IncubationBase, IncubationStatus, Residence
from .selectors import assessment_series, incubation_for_member_page, incubations_for_member, open_bases

# ---- the capacity chart: ECharts (core.charts), its numbers in the table beside it ------------------

CHART_COLOURS = ["#2f6fbf", "#1a7f37", "#9a6700", "#8250df", "#0b7285"]
TOTAL_COLOUR = "#b3261e"


def assessment_chart(rows: list[dict], *, threshold=None) -> Chart | None:
    """A line chart of the assessments over time: the weighted total bold, each of the five
    dimensions thin, the graduation threshold dashed. Scores are 0–100, so the axis is fixed."""
    if not rows:
        return None
    columns = [Column("total", "加权总分", NUMBER, colour=TOTAL_COLOUR)] + [
        Column(key, label, NUMBER, colour=CHART_COLOURS[n])
        for n, (key, label) in enumerate(ASSESSMENT_DIMENSIONS.items())
    ]
    table = Table("assessments", "能力评估得分变化", "评估", columns)
    for r in rows:
        table.add(
            f"{r['label']}\n{r['date']:%Y-%m-%d}",
            total=r["total"],
            **{key: r["scores"][n] for n, key in enumerate(ASSESSMENT_DIMENSIONS)},
        )
    mark = None if threshold is None else (f"出壳要求 {threshold:g} 分", threshold)
    return Chart(table, LINE, highlight="total", mark=mark, value_max=100)


def assessments_context(incubation) -> dict:
    rows = assessment_series(incubation.assessments.all())
    gain = round(rows[-1]["total"] - rows[0]["total"], 2) if len(rows) > 1 else None
    return {
        "assessment_rows": rows,
        # the table has a row per dimension and a column per assessment: narrow enough for a card
        "assessment_table": [
            {"label": label, "scores": [r["scores"][n] for r in rows]}
            for n, label in enumerate(ASSESSMENT_DIMENSIONS.values())
        ],
        "assessment_chart": assessment_chart(rows, threshold=float(incubation.base.graduation_min_score)),
        "assessment_gain": gain,
    }


# ---- helpers ------------------------------------------------------------------------------------

S = IncubationStatus
LIFECYCLE = [
    (S.APPLIED, "入驻申请"),
    (S.SCREENED, "初审"),
    (S.ADMITTED, "入壳"),
    (S.IN_INCUBATION, "孵化服务"),
    (S.MID_REVIEW, "中期评估"),
    (S.GRADUATED, "出壳"),
]
_POSITION = {status: n for n, (status, _) in enumerate(LIFECYCLE)} | {S.EXTENDED: 4}


def lifecycle_steps(incubation) -> list[dict]:
    """The road from 入驻申请 to 出壳 with the stay's place on it; a rejection or a
    withdrawal ends the road where it happened."""
    status = incubation.status
    if status == S.REJECTED:
        return [{"label": "入驻申请", "state": "done"}, {"label": "初审未通过", "state": "current"}]
    if status == S.WITHDRAWN:
        return [{"label": "入壳", "state": "done"}, {"label": "已退驻", "state": "current"}]
    here = _POSITION[status]
    steps = []
    for n, (_, label) in enumerate(LIFECYCLE):
        if status == S.EXTENDED and n == here:
            label = "续驻"
        steps.append({"label": label, "state": "done" if n < here else "current" if n == here else "todo"})
    if status == S.GRADUATED:
        steps[-1]["state"] = "done"
    return steps


def service_hours(logs) -> Decimal:
    return sum((log.hours for log in logs), Decimal(0))


def _editable_organisations(user):
    """Organisations the user may apply for (负责人 or 项目联系人), in any registration state."""
    return (
        Organisation.objects.filter(memberships__user=user, memberships__role__in=EDITOR_ROLES)
        .select_related("region")
        .order_by("name")
    )


def _member_role(user, incubation) -> str:
    role = member_role(user, incubation.organisation_id)
    if role is None:
        raise PermissionDenied("您不是该组织的成员，不能查看这条入驻记录。")
    return role


# ---- screens ------------------------------------------------------------------------------------


def _chosen_organisation(request, organisations):
    """The organisation the applicant is acting for: ?org=, else the one last opened,
    else their only one; None when that is not one of `organisations`."""
    wanted = request.GET.get("org") or request.session.get("active_org")
    by_pk = {str(o.pk): o for o in organisations}
    if wanted and str(wanted) in by_pk:
        return by_pk[str(wanted)]
    return organisations[0] if len(organisations) == 1 else None


def bases_nearest_first(bases, region) -> list:
    """The bases whose region contains `region` (the organisation's community, street,
    district, city), deepest first and marked `is_local`; then the others as they came."""
    bases = list(bases)
    if region is None:
        return bases
    for b in bases:
        b.is_local = region.path.startswith(b.region.path)
    return sorted(bases, key=lambda b: (0, -len(b.region.path)) if b.is_local else (1, 0))


@login_required
def index(request):
    """我的孵化: the stays of my organisations, and the bases open for applications, those
    where the organisation is based first."""
    org = _chosen_organisation(request, list(_editable_organisations(request.user)))
    bases = bases_nearest_first(open_bases(), org.region if org else None)
    context = {
        "incubations": incubations_for_member(request.user),
        "bases": bases,
        "org": org,
        "org_id": org.pk if org else request.GET.get("org", ""),
    }
    return render(request, "incubator/me/index.html", context)


@login_required
def apply(request, base_pk):
    base = get_object_or_404(IncubationBase.objects.select_related("region", "parent"), pk=base_pk)
    organisations = _editable_organisations(request.user)
    # preselect only a kind of place the base still has free
    initial = {}
    if base.desks_free > 0:
        initial["residence"] = Residence.DESK
    elif base.virtual_free > 0:
        initial["residence"] = Residence.VIRTUAL
    preselect = request.GET.get("org") or request.session.get("active_org")
    choices = list(organisations.values_list("pk", flat=True))
    if preselect and str(preselect) in map(str, choices):
        initial["organisation"] = preselect
    elif len(choices) == 1:
        initial["organisation"] = choices[0]
    form = ApplicationForm(request.POST or None, base=base, organisations=organisations, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                incubation = services.incubation_apply(base=base, by=request.user, **form.service_kwargs())
            except (ValidationError, PermissionDenied) as exc:
                if isinstance(exc, ValidationError):
                    apply_errors(form, exc)
                else:
                    form.add_error(None, error_text(exc))
            else:
                messages.success(
                    request,
                    f"入驻申请已提交。{base.name}将在 {chinese_date(incubation.screening_due)} 前完成初审，结果会通知您。",
                )
                return redirect("incubator:detail", incubation.pk)
        status = 400
    context = {"base": base, "form": form, "has_organisations": bool(choices)}
    return render(request, "incubator/me/apply.html", context, status=status)


@login_required
def detail(request, pk, withdraw_form=None, status=200):
    """One stay as its organisation sees it: status and reason, dates, agreement, history,
    services received, capacity assessments over time."""
    incubation = incubation_for_member_page(pk)
    role = _member_role(request.user, incubation)
    logs = list(incubation.service_logs.all())
    context = {
        "incubation": incubation,
        "base": incubation.base,
        "org": incubation.organisation,
        "role": role,
        "service_logs": logs,
        "service_hours": service_hours(logs),
        "steps": lifecycle_steps(incubation),
        "screening_overdue": incubation.screening_overdue(timezone.localdate()),
        "may_withdraw": role == Membership.Role.LEADER and incubation.is_resident,
        "withdraw_form": withdraw_form or WithdrawForm(),
        "requested_service_labels": incubation_requested_labels(incubation),
        **assessments_context(incubation),
    }
    return render(request, "incubator/me/detail.html", context, status=status)


def incubation_requested_labels(incubation) -> list[str]:
    return [BaseService(s).label for s in incubation.requested_services if s in BaseService.values]


@require_POST
@login_required
def withdraw(request, pk):
    incubation = incubation_for_member_page(pk)
    _member_role(request.user, incubation)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            services.incubation_withdraw(incubation=incubation, by=request.user, reason=form.cleaned_data["reason"])
        except (WorkflowError, ValidationError, PermissionDenied) as exc:
            form.add_error(None, error_text(exc))
            messages.error(request, error_text(exc))
        else:
            messages.success(request, "已办理退驻。基地运营人员已收到通知。")
            return redirect("incubator:detail", pk)
    return detail(request, pk, withdraw_form=form, status=400)
