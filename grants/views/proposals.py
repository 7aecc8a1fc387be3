"""/me/proposals/: the applicant's side of a call (网上申报).

- `index`: my organisations' proposals with their next step, and the calls open to them;
- `start`: a call, the organisation picker and its eligibility verdict with every reason,
  before anything is typed; POST creates the draft;
- `proposal`: one screen of sections while a draft (or returned for correction), each saved
  by itself (`save`: a form POST, or the page's script with the revision it holds); read
  only once submitted. Both show the status, the latest reason and the history;
- `submit`: the confirmation screen, then the submission (or resubmission);
- attachments, withdrawal and the PDF.

Only members of the proposal's organisation see it (404 for anyone else); only its 负责人
and 项目联系人 change it. Thin views over grants.services.proposals."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, Prefetch, Subquery, prefetch_related_objects
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core.dates import chinese_date
from core.errors import UserError
from core.files import serve_private
from core.ui import apply_errors, error_text
from orgs.models import Membership
from orgs.selectors import member_role

from .. import rules
from ..eligibility import may_apply
from ..forms.proposals import (
    SECTIONS,
    AttachmentForm,
    BasicForm,
    NeedsForm,
    SectionEditor,
    WithdrawForm,
    team_member_choices,
)
from ..models import Call, CallStatus, Proposal, ProposalAttachment, ProposalStatus, ProposalVersion
from ..pdf import latest_version, organisation_rows, proposal_document, proposal_pdf_response
from ..services import proposals as services

P = ProposalStatus
EDITORS = services.EDITOR_ROLES
LOGIN_MESSAGE = "登录已过期。您填写的内容已暂存在本浏览器中，重新登录并回到本页后会自动恢复并保存。"
MY_PROPOSALS_SHOWN = 10


# ---- reads ----------------------------------------------------------------------------------------


def member_proposals(user):
    """The proposals of every organisation the user belongs to, latest first."""
    return (
        Proposal.objects.filter(organisation__memberships__user=user)
        .select_related("call", "organisation")
        .order_by("-updated_at", "-pk")
    )


def open_calls_for(user, memberships=None) -> list[Call]:
    """Calls accepting applications today whose region holds one of the user's
    organisations (every open call for a user with none yet)."""
    today = timezone.localdate()
    calls = list(
        Call.objects.filter(status=CallStatus.OPEN, apply_from__lte=today, apply_until__gte=today)
        .select_related("region")
        .order_by("apply_until", "pk")
    )
    if memberships is None:
        memberships = Membership.objects.filter(user=user).select_related("organisation__region")
    paths = [m.organisation.region.path for m in memberships]
    if not paths:
        return calls
    return [c for c in calls if any(p.startswith(c.region.path) for p in paths)]


def next_step(proposal: Proposal, today=None) -> str:
    """What the organisation does next, in one sentence."""
    today = today or timezone.localdate()
    call = proposal.call
    if proposal.status == P.DRAFT:
        if call.accepts_applications:
            return f"继续填写并提交，申报截止{chinese_date(call.apply_until)}。"
        return "本次征集已不在申报期，这份草稿不能再提交。"
    if proposal.status == P.RETURNED:
        deadline = proposal.correction_deadline
        return f"请按审查意见修改，{'在' + chinese_date(deadline) + '前' if deadline else ''}重新提交。"
    return {
        P.SUBMITTED: "已提交，等待资格审查。",
        P.ELIGIBLE: "资格审查通过，等待专家评审。",
        P.INELIGIBLE: f"资格审查未通过：{proposal.status_reason or '—'}",
        P.WITHDRAWN: "已撤回。",
        P.UNDER_REVIEW: "专家评审中，评审结束后公布结果。",
        P.REVIEWED: "专家评审已结束，等待确定立项名单。",
        P.PITCHED: "路演答辩已结束，等待确定立项名单。",
        P.SHORTLISTED: "已列入拟立项名单，等待公示。",
        P.PUBLICISED: (
            f"已列入拟立项名单，立项公示至{chinese_date(call.publicity_until)}，公示期满后批复。"
            if call.publicity_until
            else "已列入拟立项名单，正在公示。"
        ),
        P.APPROVED: f"已批复立项，资助{rules.fmt_money(proposal.awarded_amount)}元。请等待签订项目协议的通知。"
        if proposal.awarded_amount is not None
        else "已批复立项。",
        P.NOT_FUNDED: f"未获立项：{proposal.status_reason or '—'}",
        P.AGREEMENT_SIGNED: "项目协议已签订，等待首期资金拨付。",
        P.IN_PROGRESS: "项目实施中：请按时报送进度报告，准备中期评估。",
        P.SUSPENDED: "中期评估未通过，资金暂停拨付：请按整改意见在期限内完成整改，等待再次评估。",
        P.MID_TERM_PASSED: "中期评估已通过：继续实施并报送进度报告，项目结束后接受末期评估。",
        P.FINAL_EVALUATED: (
            f"末期评估已完成（{proposal.final_grade}），等待结项。"
            if proposal.final_grade
            else "末期评估已完成，等待结项。"
        ),
        P.CLOSED: f"项目已结项{('，末期评估等级：' + proposal.final_grade) if proposal.final_grade else ''}。",
        P.TERMINATED: f"项目已终止：{proposal.status_reason or '—'}",
    }.get(proposal.status, proposal.get_status_display())


# what proposal_problems reads (the proposal's places and rows, the call's categories, the
# organisation's lists, inspections and grades for may_apply), and the rest of the page
PROBLEM_LOOKUPS = (
    "places",
    "budget_lines",
    "activities",
    "team",
    "kpis",
    "call__categories",
    "organisation__list_entries",
    "organisation__inspections",
    "organisation__grades",
)
PAGE_LOOKUPS = (
    *PROBLEM_LOOKUPS,
    "cited_needs",
    "attachments",
    Prefetch("versions", queryset=ProposalVersion.objects.order_by("number")),
)


def _proposal_qs(lookups=PAGE_LOOKUPS):
    """A proposal with everything its page reads, in a fixed number of queries."""
    return Proposal.objects.select_related("call__region", "organisation__region", "category").prefetch_related(
        *lookups
    )


def _member_proposal(request, pk, qs=None) -> tuple[Proposal, str]:
    proposal = get_object_or_404(
        qs if qs is not None else Proposal.objects.select_related("call", "organisation"), pk=pk
    )
    role = member_role(request.user, proposal.organisation_id)
    if role is None:
        raise Http404("没有找到这份申报书。")
    return proposal, role


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _login_url(next_url: str) -> str:
    return f"{reverse('accounts:login')}?{urlencode({'next': next_url})}"


# ---- my proposals -------------------------------------------------------------------------------------


@login_required
def index(request):
    memberships = list(Membership.objects.filter(user=request.user).select_related("organisation__region"))
    proposals = list(member_proposals(request.user))
    today = timezone.localdate()
    for p in proposals:
        p.next_step = next_step(p, today)
    context = {
        "proposals": proposals,
        "calls": open_calls_for(request.user, memberships),
        "has_editor_role": any(m.role in EDITORS for m in memberships),
    }
    return render(request, "grants/portal/index.html", context)


# ---- start: the call, the organisation, the verdict before typing -----------------------------------------


@login_required
def start(request, call_pk):
    call = get_object_or_404(Call.objects.select_related("region").prefetch_related("categories"), pk=call_pk)
    if call.status == CallStatus.DRAFT:
        raise Http404("该征集尚未发布。")
    memberships = list(
        Membership.objects.filter(user=request.user)
        .select_related("organisation__region", "organisation__sponsor")
        .prefetch_related("organisation__list_entries", "organisation__inspections", "organisation__grades")
        .order_by("organisation__name")
    )
    editable = [m.organisation for m in memberships if m.role in EDITORS]
    existing = {}
    for p in Proposal.objects.filter(call=call, organisation__in=[m.organisation for m in memberships]).order_by("pk"):
        existing.setdefault(p.organisation_id, []).append(p)
    options = [{"org": org, "verdict": may_apply(call, org), "proposals": existing.get(org.pk, [])} for org in editable]
    wanted = request.POST.get("organisation") or request.GET.get("org") or request.session.get("active_org")
    chosen = next((o for o in options if str(o["org"].pk) == str(wanted)), None)
    if chosen is None and len(options) == 1:
        chosen = options[0]
    error, status = "", 200
    if request.method == "POST":
        if chosen is None:
            error, status = "请选择以哪个组织申报。", 400
        else:
            try:
                proposal = services.proposal_start(call=call, organisation=chosen["org"], by=request.user)
            except (ValidationError, PermissionDenied) as exc:
                error, status = error_text(exc), 400
            else:
                request.session["active_org"] = chosen["org"].pk
                messages.success(request, "已创建申报书草稿。组织资料已自动带入；您填写的内容会随时自动保存。")
                return redirect(proposal)
    context = {
        "call": call,
        "options": options,
        "chosen": chosen,
        "others": [m for m in memberships if m.role not in EDITORS],
        "existing": [p for ps in existing.values() for p in ps],
        "any_eligible": any(o["verdict"].eligible for o in options),
        "error": error,
        "rules": _call_rules(call),
    }
    return render(request, "grants/portal/start.html", context, status=status)


def _call_rules(call: Call) -> list[tuple[str, str]]:
    percent = rules.fmt_percent
    rows = [
        ("征集区域", call.region.name),
        ("主办单位", call.organiser),
        ("申报时间", f"{chinese_date(call.apply_from)}至{chinese_date(call.apply_until)}"),
        ("单个项目资助", f"{rules.fmt_money(call.grant_min)}元至{rules.fmt_money(call.grant_max)}元"),
        ("资助占总预算上限", percent(call.max_grant_share)),
        ("人员费用占总预算上限", percent(call.max_personnel_share)),
        ("项目实施期", f"{chinese_date(call.implement_from)}至{chinese_date(call.implement_until)}"),
        ("服务领域", "、".join(c.name for c in call.categories.all()) or "—"),
        ("每个组织最多申报", f"{call.max_applications_per_org}个项目"),
    ]
    if call.min_grade:
        rows.append(("评估等级要求", f"{call.min_grade}及以上"))
    limits = [
        x for x, on in (("固定资产购置", call.forbid_fixed_assets), ("现金发放", call.forbid_cash_handouts)) if on
    ]
    if limits:
        rows.append(("不得列支", "、".join(limits)))
    return rows


# ---- one proposal ---------------------------------------------------------------------------------------------


@login_required
def proposal(request, pk):
    proposal, role = _member_proposal(request, pk, _proposal_qs())
    return _page(request, proposal, role, check=request.GET.get("check") == "1")


def _page(request, proposal, role, *, bound=None, status=200, check=False, notice=""):
    if proposal.editable and role in EDITORS:
        return render(
            request, "grants/portal/edit.html", _edit_context(request, proposal, bound, check, notice), status=status
        )
    return render(request, "grants/portal/detail.html", _detail_context(request, proposal, role), status=status)


def _common(proposal) -> dict:
    org = proposal.organisation
    return {
        "proposal": proposal,
        "call": proposal.call,
        "org": org,
        "past_projects": list(
            Proposal.objects.filter(organisation=org)
            .exclude(pk=proposal.pk)
            .select_related("call")
            .order_by("-pk")[:10]
        ),
        "next_step": next_step(proposal),
    }


def _edit_context(request, proposal, bound, check, notice) -> dict:
    members = team_member_choices(proposal)
    problems = services.proposal_problems(proposal)
    shown = problems if (check or proposal.revision > 0) else {}
    sections = []
    for slug, section in SECTIONS.items():
        editor = (
            bound
            if bound is not None and bound.section.slug == slug
            else SectionEditor(section, proposal, members=members)
        )
        sections.append(_section_view(editor, shown))
    budget = next(s for s in sections if s["slug"] == "budget")
    call = proposal.call
    url = proposal.get_absolute_url()
    return {
        **_common(proposal),
        "sections": sections,
        "budget": budget,
        "totals": budget["totals"],
        "problems": shown,
        "problem_count": sum(len(v) for v in problems.values()),
        "org_problems": shown.get("organisation", []),
        "check": check,
        "notice": notice,
        "org_rows": organisation_rows(services.organisation_facts(proposal.organisation)),
        "attachments": list(proposal.attachments.all()),
        "attachment_form": AttachmentForm(),
        "may_submit": proposal.status == P.RETURNED or call.accepts_applications,
        "config": {
            "pk": proposal.pk,
            "revision": proposal.revision,
            "limits": rules.limits_json(call),
            "loginUrl": _login_url(url),
            "loginMessage": LOGIN_MESSAGE,
            "staleMessage": services.STALE_MESSAGE,
            "showProblems": bool(shown),
            "sectionLabels": {slug: s.label for slug, s in SECTIONS.items()},
            "sectionKeys": {slug: list(s.problems) for slug, s in SECTIONS.items()},
        },
    }


def _section_view(editor: SectionEditor, problems: dict) -> dict:
    section = editor.section
    fields = []
    if editor.form is not None:
        for bf in editor.form:
            fields.append({"bf": bf, "key": bf.name, "problems": problems.get(bf.name, [])})
    view = {
        "slug": section.slug,
        "label": section.label,
        "editor": editor,
        "form": editor.form,
        "formset": editor.formset,
        "fields": fields,
        "table_key": "budget" if section.table == "budget_lines" else section.table,
        "table_problems": problems.get("budget" if section.table == "budget_lines" else section.table, []),
        "problem_count": sum(len(problems.get(k, [])) for k in section.problems),
        "section_errors": editor.error_map().get("__all__", []) if editor.bound else [],
    }
    if editor.formset is not None:
        view["rows"] = [{"form": form, "amount": None, "deleted": False} for form in editor.formset.forms]
    view["revision"] = editor.form_revision()
    if section.slug == "budget":
        view["rows"], view["totals"] = _budget_rows(editor.formset)
        view["money_problems"] = [
            (key, label, problems.get(key, []))
            for key, label in (
                ("grant_amount", "申请资助金额"),
                ("grant_share", "资助占比"),
                ("personnel_share", "人员费用占比"),
            )
        ]
    return view


def _budget_rows(formset):
    """Each row form with its amount, and the totals of the rows as shown (typed or saved)."""
    rows, values = [], []
    for form in formset.forms:
        value = {name: form[name].value() for name in ("category", "source", "quantity", "unit_price")}
        amount = rules.line_amount(value["quantity"], value["unit_price"])
        deleted = formset.is_bound and bool(form["DELETE"].value())
        rows.append({"form": form, "amount": amount, "deleted": deleted})
        if not deleted:
            values.append(value)
    return rows, rules.budget_totals(values)


def _detail_context(request, proposal, role, panel_bound=None) -> dict:
    from ..panels import PORTAL_PANELS, panels_context
    from ..selectors.review import applicant_result

    may_edit = role in EDITORS
    return {
        "result": applicant_result(proposal),
        "panels": panels_context(PORTAL_PANELS, proposal, request.user, panel_bound),
        **_common(proposal),
        "doc": proposal_document(proposal),
        "version": latest_version(proposal),
        "versions": list(proposal.versions.all()),
        "attachments": list(proposal.attachments.all()),
        "role": role,
        "may_edit": may_edit,
        "may_withdraw": may_edit and proposal.status in (P.DRAFT, P.SUBMITTED, P.RETURNED),
        "withdraw_form": WithdrawForm(),
        "editor_denied": services.EDITOR_DENIED if proposal.editable and not may_edit else "",
    }


# ---- saving a section ---------------------------------------------------------------------------------------


def _refuse(request, message: str, status: int, code: str):
    if _wants_json(request):
        return JsonResponse({"error": code, "message": message}, status=status)
    if status == 403:
        raise PermissionDenied(message)
    messages.error(request, message)
    return None


@never_cache
@require_POST
def save(request, pk, section):
    """Save one section: JSON for the page's script (Accept: application/json), else the
    edit page again (errors, a refusal) or a redirect to it. An expired session gets 401
    with the log-in address that brings the user back to the page."""
    section_ = SECTIONS.get(section)
    if section_ is None:
        raise Http404("没有这一部分。")
    page_url = reverse("grants:proposal", args=[pk])
    if not request.user.is_authenticated:
        if _wants_json(request):
            return JsonResponse(
                {"error": "login", "message": LOGIN_MESSAGE, "login_url": _login_url(page_url)}, status=401
            )
        return redirect_to_login(page_url)
    # the proposal alone, with the user's role in its organisation: a section's forms read
    # only what they need, and what proposal_problems reads is fetched once, after the save
    my_role = Membership.objects.filter(organisation=OuterRef("organisation"), user=request.user).values("role")
    reads = ("places", "cited_needs") if section_.form in (BasicForm, NeedsForm) else ()
    reads += ("team",) if section_.table == "team" else ()  # the members offered include former ones
    proposal = get_object_or_404(_proposal_qs(reads).annotate(my_role=Subquery(my_role[:1])), pk=pk)
    role = proposal.my_role
    if role is None:
        raise Http404("没有找到这份申报书。")
    if role not in EDITORS:
        return _refuse(request, services.EDITOR_DENIED, 403, "forbidden")
    if not proposal.editable:
        message = f"申报书当前状态为“{proposal.get_status_display()}”，不能修改。"
        return _refuse(request, message, 409, "locked") or redirect(page_url)
    editor = SectionEditor(section_, proposal, request.POST)
    try:
        revision = int(request.POST.get("revision", ""))
    except ValueError:
        return _refuse(request, "页面缺少版本信息，请刷新页面后再保存。", 400, "revision") or redirect(page_url)
    if not editor.is_valid():
        if _wants_json(request):
            message = f"“{section_.label}”有内容没有保存：请按提示修改标红的栏目。"
            return JsonResponse({"error": "invalid", "message": message, "errors": editor.error_map()}, status=400)
        notice = f"“{section_.label}”没有保存：请按提示修改标红的栏目，您填写的内容都还在。"
        prefetch_related_objects([proposal], *PAGE_LOOKUPS)
        return _page(request, proposal, role, bound=editor, status=400, notice=notice)
    try:
        services.proposal_save(proposal=proposal, by=request.user, revision=revision, **editor.service_kwargs())
    except services.StaleProposal as exc:
        if _wants_json(request):
            return JsonResponse({"error": "stale", "message": exc.message}, status=409)
        prefetch_related_objects([proposal], *PAGE_LOOKUPS)
        return _page(request, proposal, role, bound=editor, status=409, notice=exc.message)
    except (UserError, ValidationError) as exc:
        return _refuse(request, error_text(exc), 409, "refused") or redirect(page_url)
    # proposal_save leaves the saved proposal in memory (fields, revision, totals) and drops
    # the rows it replaced: only those, and what was never loaded, are fetched here
    saved_at = timezone.localtime(proposal.last_saved_at).strftime("%H:%M")
    if _wants_json(request):
        prefetch_related_objects([proposal], *PROBLEM_LOOKUPS)
        problems = services.proposal_problems(proposal)
        return JsonResponse(
            {
                "ok": True,
                "section": section_.slug,
                "revision": proposal.revision,
                "saved_at": saved_at,
                "message": f"已保存 {saved_at}",
                "problems": problems,
                "problem_count": sum(len(v) for v in problems.values()),
            }
        )
    messages.success(request, f"已保存“{section_.label}”（{saved_at}）。")
    return redirect(f"{page_url}#section-{section_.slug}")


# ---- submit, withdraw ----------------------------------------------------------------------------------


@login_required
def submit(request, pk):
    """GET: what is about to be submitted, and the declaration; POST: submit it. Problems
    send the applicant back to the page with every message at its field."""
    proposal, role = _member_proposal(request, pk, _proposal_qs())
    if role not in EDITORS:
        raise PermissionDenied(services.EDITOR_DENIED)
    if not proposal.editable:
        messages.info(request, f"申报书当前状态为“{proposal.get_status_display()}”。")
        return redirect(proposal)
    resubmit = proposal.status == P.RETURNED
    check_url = f"{proposal.get_absolute_url()}?check=1#problems"
    if request.method == "POST":
        try:
            services.proposal_submit(proposal=proposal, by=request.user)
        except ValidationError as exc:
            messages.error(request, f"还有{len(exc.messages)}处需要修改后才能提交，请按页面上标出的提示修改。")
            return redirect(check_url)
        except UserError as exc:
            messages.error(request, exc.message)
            return redirect(proposal)
        proposal.refresh_from_db()
        what = "重新提交" if resubmit else "提交"
        messages.success(
            request, f"申报书已{what}，申报编号 {proposal.number}。资格审查结果会通知您，也可以在本页查看。"
        )
        return redirect(proposal)
    problems = services.proposal_problems(proposal)
    if problems:
        messages.error(request, f"还有{sum(len(v) for v in problems.values())}处需要修改后才能提交。")
        return redirect(check_url)
    closed = ""
    if not resubmit and not proposal.call.accepts_applications:
        closed = f"“{proposal.call}”当前不接受申报（申报截止{chinese_date(proposal.call.apply_until)}），不能提交。"
    doc = proposal_document(proposal)
    context = {**_common(proposal), "doc": doc, "resubmit": resubmit, "closed": closed}
    return render(request, "grants/portal/submit.html", context)


@require_POST
@login_required
def withdraw(request, pk):
    proposal, role = _member_proposal(request, pk)
    form = WithdrawForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.proposal_withdraw(proposal=proposal, by=request.user, reason=reason)
    except PermissionDenied as exc:
        raise PermissionDenied(error_text(exc))
    except UserError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已撤回“{proposal}”。")
    return redirect(proposal)


# ---- attachments ------------------------------------------------------------------------------------------


@require_POST
@login_required
def attachment_upload(request, pk):
    proposal, role = _member_proposal(request, pk, _proposal_qs())
    if role not in EDITORS:
        raise PermissionDenied(services.EDITOR_DENIED)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.attachment_add(
                proposal=proposal, by=request.user, upload=form.cleaned_data["file"], kind=form.cleaned_data["kind"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except UserError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"已上传“{form.cleaned_data['file'].name}”。")
            return redirect(f"{proposal.get_absolute_url()}#section-attachments")
    if not proposal.editable:
        messages.error(request, "；".join(e for errs in form.errors.values() for e in errs))
        return redirect(proposal)
    context = _edit_context(
        request, proposal, None, False, "附件没有上传：" + "；".join(e for errs in form.errors.values() for e in errs)
    )
    context["attachment_form"] = form
    return render(request, "grants/portal/edit.html", context, status=400)


def _attachment(request, pk, att_pk):
    proposal, role = _member_proposal(request, pk)
    attachment = get_object_or_404(ProposalAttachment.objects.select_related("proposal"), pk=att_pk, proposal=proposal)
    return proposal, role, attachment


@never_cache
@login_required
def attachment_download(request, pk, att_pk):
    _, _, attachment = _attachment(request, pk, att_pk)
    return serve_private(attachment.file, download_name=attachment.original_name, as_attachment=True)


@require_POST
@login_required
def attachment_delete(request, pk, att_pk):
    proposal, role, attachment = _attachment(request, pk, att_pk)
    try:
        services.attachment_remove(attachment=attachment, by=request.user)
    except PermissionDenied as exc:
        raise PermissionDenied(error_text(exc))
    except UserError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已删除附件“{attachment.original_name}”。")
    return redirect(f"{proposal.get_absolute_url()}#section-attachments")


# ---- the PDF ---------------------------------------------------------------------------------------------


@never_cache
@login_required
def pdf(request, pk):
    proposal, _ = _member_proposal(request, pk, _proposal_qs())
    return proposal_pdf_response(proposal)
