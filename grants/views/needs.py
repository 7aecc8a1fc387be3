"""The public pages of 需求征集 (/needs/): submit a need (no account needed), the list of
accepted needs by place and service area, one need with the projects that answer it.

Nothing here shows a phone number, an account or an address: the public reads the
community, what is needed, for how many, and who raised it by kind and surname only."""

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts.throttle import client_ip
from core.ui import apply_errors

from ..forms.needs import NeedForm, PublicNeedFilter
from ..models import Call, CallStatus, Need, NeedStatus, ProposalStatus
from ..public_hooks import awarded_text, project_url
from ..selectors.needs import answering_proposals, public_need, public_needs, with_answer_counts
from ..selectors.public import STATUS_OF
from ..services.needs import TooManyNeeds, need_submit

PAGE_SIZE = 20
SUBMITTED_KEY = "grants:need_submitted"


def _call_from(request) -> tuple[Call | None, str]:
    """The call named by ?call=, if it is collecting needs; else why it is not used."""
    raw = request.GET.get("call", "")
    if not raw.isdigit():
        return None, ""
    call = Call.objects.select_related("region").filter(pk=int(raw)).first()
    if call is None:
        return None, ""
    if call.status != CallStatus.NEEDS:
        return (
            None,
            f"“{call}”当前不在需求征集期（{call.get_status_display()}）。您仍可提交需求，工作人员会归入合适的征集。",
        )
    return call, ""


def need_new(request):
    """提交社区需求: a form a resident fills on a phone in a minute, anonymously."""
    call, call_note = _call_from(request)
    form = NeedForm(request.POST or None, call=call)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            need = need_submit(**form.service_kwargs(), call=call, by=request.user, ip=client_ip(request))
        except TooManyNeeds as exc:
            form.add_error(None, exc.message)
            status = 429
        except ValidationError as exc:
            apply_errors(form, exc)
            status = 400
        else:
            request.session[SUBMITTED_KEY] = need.title
            return redirect("grants_public:thanks")
    elif request.method == "POST":
        status = 400
    context = {"form": form, "call": call, "call_note": call_note}
    return render(request, "grants/needs/new.html", context, status=status)


def need_thanks(request):
    title = request.session.pop(SUBMITTED_KEY, "")
    return render(request, "grants/needs/thanks.html", {"title": title})


def needs(request):
    """/needs/: the accepted needs, filtered by street, community and service area."""
    form = PublicNeedFilter(request.GET or None)
    qs = with_answer_counts(form.filter(public_needs())).order_by("-moderated_at", "-pk")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    filtering = form.is_bound and (not form.is_valid() or any(form.cleaned_data.values()))
    context = {"form": form, "page": page, "query": query.urlencode(), "filtering": filtering}
    return render(request, "grants/needs/list.html", context)


def need(request, pk):
    """One accepted need: what, where, for whom, and the proposals that answer it. A
    duplicate merged into an accepted need leads there; anything else is not public."""
    status, into = Need.objects.filter(pk=pk).values_list("status", "merged_into").first() or (None, None)
    if status == NeedStatus.MERGED and into and Need.objects.filter(pk=into, status=NeedStatus.ACCEPTED).exists():
        return redirect(reverse("grants_public:need", args=[into]))
    obj = public_need(pk)
    proposals = answering_proposals(obj)
    for p in proposals:
        p.stage = public_stage(p)
        p.stage_key = STATUS_OF[p.status][0] if p.funded else ""
        p.public_url = project_url(p.pk) if p.funded else ""
        p.amount_text = awarded_text(p.amount) if p.funded else ""
    context = {
        "need": obj,
        "projects": [p for p in proposals if p.funded],
        "applications": [p for p in proposals if not p.funded],
        "answer_count": len(proposals),
    }
    return render(request, "grants/needs/detail.html", context)


P = ProposalStatus
# what the public reads of an application still on its way (or not funded)
STAGES = {
    P.SUBMITTED: "资格审查中",
    P.RETURNED: "资格审查中",
    P.ELIGIBLE: "资格审查通过",
    P.UNDER_REVIEW: "专家评审中",
    P.REVIEWED: "专家评审中",
    P.PITCHED: "专家评审中",
    P.SHORTLISTED: "拟立项",
    P.PUBLICISED: "拟立项（公示中）",
    P.NOT_FUNDED: "未获立项",
}


def public_stage(proposal) -> str:
    """A funded project's public status (实施中, 已结项 … as the 资助项目 pages say it); an
    application's stage in the public's words (a 退回修改 is still 资格审查中: the reason
    is the applicant's)."""
    if proposal.funded:
        return STATUS_OF[proposal.status][1]
    return STAGES.get(proposal.status, proposal.get_status_display())
