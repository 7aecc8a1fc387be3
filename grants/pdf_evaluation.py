"""项目评估报告: one evaluation as a printable A4 PDF through the project's PDF service
(core.pdf): the project and organisation, each criterion of the call's evaluation rubric
with its points, the bonus and deduction, the total and the result (pass or fail, and for
a final evaluation the grade), the comment and the evidence, the spending against the
grant budget and the KPIs from the progress reports, and what followed (the
rectification deadline, the termination and clawback)."""

from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone

from core.files import content_disposition
from core.pdf import render_pdf

from .models import EvaluationKind, Tranche
from .rules import fmt_money
from .selectors.reports import counted_reports, kpi_table, spending_table
from .services.evaluations import released_total, rubric_of


def evaluation_document(evaluation) -> dict:
    proposal = evaluation.proposal
    call = proposal.call
    rubric = rubric_of(call)
    points = evaluation.points or {}
    criteria = [
        {
            "name": c["name"],
            "weight": f"{Decimal(str(c['weight'])).normalize():f}",
            "points": points.get(c["key"], "—"),
            "guidance": c.get("guidance", ""),
        }
        for c in rubric
    ]
    reports = counted_reports(proposal)
    tranches = list(Tranche.objects.filter(proposal=proposal).order_by("position"))
    for t in tranches:
        t.amount_text = fmt_money(t.amount)
    if evaluation.kind == EvaluationKind.FINAL:
        result = evaluation.grade or "—"
    elif evaluation.passed is None:
        result = "评估中"
    else:
        result = "合格（通过）" if evaluation.passed else "不合格"
    return {
        "evaluation": evaluation,
        "proposal": proposal,
        "call": call,
        "org": proposal.organisation,
        "criteria": criteria,
        "criteria_total": f"{sum((Decimal(str(c['weight'])) for c in rubric), Decimal(0)).normalize():f}",
        "result": result,
        "pass_score": call.pass_score,
        "reports": reports,
        "spending": spending_table(proposal, reports=reports),
        "kpis": kpi_table(proposal, reports=reports),
        "released": fmt_money(released_total(proposal)),
        "tranches": tranches,
        "awarded": fmt_money(proposal.awarded_amount) if proposal.awarded_amount is not None else "—",
    }


def evaluation_pdf(evaluation) -> bytes:
    doc = evaluation_document(evaluation)
    issued = timezone.localdate(evaluation.submitted_at) if evaluation.submitted_at else timezone.localdate()
    number = evaluation.proposal.number or "—"
    return render_pdf(
        "grants/pdf/evaluation.html",
        {
            **doc,
            "title": f"公益创投项目{evaluation.get_kind_display()}报告",
            "issuer": doc["call"].organiser,
            "doc_number": f"项目编号：{number} · 第{evaluation.attempt}次"
            + ("" if evaluation.submitted_at else "（评估中，仅供核对）"),
            "issued_on": issued,
        },
    )


def evaluation_filename(evaluation) -> str:
    proposal = evaluation.proposal
    return f"{evaluation.get_kind_display()}报告-{proposal.number or proposal.pk}-{proposal.title}.pdf"


def evaluation_pdf_response(evaluation, *, as_attachment: bool = False) -> HttpResponse:
    """The caller has checked who may see it."""
    response = HttpResponse(evaluation_pdf(evaluation), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition(evaluation_filename(evaluation), as_attachment=as_attachment)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
