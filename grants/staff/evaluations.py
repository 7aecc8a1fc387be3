"""项目评估 for staff: the 项目评估 section of a project's staff page (PAGE_PANELS), the
evaluator's scoring page (/admin/grants/evaluations/<pk>/) and the evaluation report PDF.

The section lists the project's evaluations (kind, attempt, total, result or grade, the
rectification deadline) and the money they decide (released, reported spending,
clawback owed and repaid, funds returned). 开始中期评估 / 开始末期评估, 结项 and 登记追回款
are the project's own actions (grants.services.evaluations registers them), offered at
the top of the page to whoever may run them.

The scoring page is the reviewer's (grants/staff/reviews.py) on the call's evaluation
rubric: the project on the left (the progress reports' spending against the budget and
KPIs, links to each report), the rubric with its guidance on the right (grants.forms
.evaluations.EvaluationForm, a ScoreForm), 保存草稿 and 完成评估; an error puts the
message beside the field with everything typed kept. Only evaluators of the call's
region score (others see the page read only); a project outside the user's scope is a
404."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django_fsm import ConcurrentTransition
from wagtail.admin.auth import permission_required

from core.admin_ui import admin_breadcrumbs
from core.errors import UserError
from core.ui import error_text

from ..forms.evaluations import EvaluationForm
from ..models import Evaluation, EvaluationKind, ProposalStatus
from ..panels import PAGE_PANELS, PagePanel, register_panel
from ..pdf_evaluation import evaluation_document, evaluation_pdf_response
from ..rules import fmt_money
from ..selectors.proposals import proposal_for_staff
from ..selectors.reports import reported_spending, with_reports
from ..services import evaluations as services
from .proposals import VIEW_PERMISSION

P = ProposalStatus
SHOWN_STATES = (P.IN_PROGRESS, P.SUSPENDED, P.MID_TERM_PASSED, P.FINAL_EVALUATED, P.CLOSED, P.TERMINATED)
CONCURRENT_MESSAGE = "这次评估刚被其他人处理，请刷新页面后查看。"


def evaluations_context(proposal, user, bound):
    """None (no query) before the project is under way."""
    if proposal.status not in SHOWN_STATES:
        return None
    evaluations = list(Evaluation.objects.filter(proposal=proposal).select_related("evaluator").order_by("pk"))
    released = services.released_total(proposal)
    return {
        "evaluations": evaluations,
        "may_evaluate": services.may_evaluate(user, proposal),
        "released": fmt_money(released),
        "reported": fmt_money(reported_spending(with_reports(proposal))),
        "owed": fmt_money((proposal.clawback_amount or 0) - proposal.clawback_repaid)
        if proposal.clawback_amount
        else "",
    }


register_panel(
    PagePanel(
        key="evaluations", template="grants/admin/_evaluations_panel.html", context=evaluations_context, order=50
    ),
    PAGE_PANELS,
)


# ---- the scoring page ----------------------------------------------------------------------------------


def evaluation_for_staff(user, pk) -> Evaluation:
    """An evaluation of a project in the user's scope (404 otherwise)."""
    evaluation = get_object_or_404(Evaluation.objects.select_related("evaluator"), pk=pk)
    evaluation.proposal = proposal_for_staff(user, evaluation.proposal_id)
    return evaluation


def _render(request, evaluation, *, form=None, status=200):
    proposal = evaluation.proposal
    call = proposal.call
    rubric = services.rubric_of(call)
    may = services.may_evaluate(request.user, proposal) and evaluation.status == Evaluation.Status.DRAFT
    doc = evaluation_document(evaluation)
    kind = evaluation.get_kind_display()
    context = {
        "header_title": f"{kind}：{proposal.title}",
        "header_icon": "form",
        "breadcrumbs_items": admin_breadcrumbs(
            ("公益创投", None),
            ("申报项目", reverse("grants_admin:proposals")),
            (proposal.number or proposal.title, proposal.get_admin_url()),
            (f"{kind}（第{evaluation.attempt}次）", None),
        ),
        **doc,
        "rubric": rubric,
        "kind_label": kind,
        "may_score": may,
        "final": evaluation.kind == EvaluationKind.FINAL,
        "grade_bands": call.grade_bands or [],
    }
    if may:
        context["form"] = form or EvaluationForm(rubric, evaluation=evaluation)
    return TemplateResponse(request, "grants/admin/evaluation.html", context, status=status)


def _forbidden(request, evaluation):
    """A refused POST says 403 (Wagtail would turn PermissionDenied into a redirect)."""
    proposal = evaluation.proposal
    return TemplateResponse(
        request,
        "core/admin/forbidden.html",
        {
            "header_title": "无权操作",
            "breadcrumbs_items": admin_breadcrumbs(("申报项目", reverse("grants_admin:proposals")), ("无权操作", None)),
            "message": services.EVALUATE_DENIED,
            "back_url": reverse("grants_admin:evaluation", args=[evaluation.pk]),
            "back_label": f"{evaluation.get_kind_display()}：{proposal.title}",
        },
        status=403,
    )


def _back(evaluation):
    return redirect(reverse("grants_admin:evaluation", args=[evaluation.pk]))


@permission_required(VIEW_PERMISSION)
def evaluation(request, pk):
    evaluation = evaluation_for_staff(request.user, pk)
    if request.method != "POST":
        return _render(request, evaluation)
    action = request.POST.get("action", "")
    if action not in ("save", "submit"):
        messages.error(request, "无法识别的操作，请重新提交。")
        return _back(evaluation)
    if not services.may_evaluate(request.user, evaluation.proposal):
        return _forbidden(request, evaluation)
    form = EvaluationForm(services.rubric_of(evaluation.proposal.call), request.POST, evaluation=evaluation)
    if not form.is_valid():
        messages.error(request, "请检查评分：" + "；".join(e for errs in form.errors.values() for e in errs))
        return _render(request, evaluation, form=form, status=400)
    try:
        if action == "save":
            services.evaluation_save(evaluation=evaluation, by=request.user, **form.score_kwargs())
        else:
            services.evaluation_submit(evaluation=evaluation, by=request.user, **form.service_kwargs())
    except ValidationError as exc:
        form.apply_service_errors(exc)
        messages.error(request, "评分未保存：" + error_text(exc))
        return _render(request, evaluation, form=form, status=400)
    except (UserError, PermissionDenied) as exc:
        messages.error(request, error_text(exc))
        return _render(request, evaluation, form=form, status=400)
    except ConcurrentTransition:
        messages.error(request, CONCURRENT_MESSAGE)
        return _back(evaluation)
    if action == "save":
        messages.success(request, "评分草稿已保存，完成评估前可以继续修改。")
        return _back(evaluation)
    messages.success(request, _outcome(evaluation))
    return redirect(evaluation.proposal.get_admin_url() + "#evaluations")


def _outcome(evaluation) -> str:
    proposal = evaluation.proposal
    if evaluation.kind == EvaluationKind.FINAL:
        return f"末期评估已完成：{evaluation.total}分，等级“{evaluation.grade}”。"
    if evaluation.passed:
        return f"中期评估已完成：{evaluation.total}分，通过。"
    if evaluation.attempt == 1:
        return f"中期评估已完成：{evaluation.total}分，不合格。项目暂停拨付，整改期限至{evaluation.rectify_until:%Y-%m-%d}。"
    proposal = type(proposal).objects.get(pk=proposal.pk)
    return f"中期评估复评{evaluation.total}分，仍不合格，项目已终止；应追回{fmt_money(proposal.clawback_amount)}元。"


@permission_required(VIEW_PERMISSION)
def evaluation_pdf(request, pk):
    evaluation = evaluation_for_staff(request.user, pk)
    return evaluation_pdf_response(evaluation)


urlpatterns = [
    path("evaluations/<int:pk>/", evaluation, name="evaluation"),
    path("evaluations/<int:pk>/pdf/", evaluation_pdf, name="evaluation_pdf"),
]
