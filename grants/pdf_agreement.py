"""项目协议书 as a printable A4 PDF (core.pdf.render_pdf: WeasyPrint, the CJK font, the
templates extending core/pdf/base.html), from the agreement alone, so the same document
comes out every time:

- the number, the two parties: 甲方 the funding body (the call's 主办单位), 乙方 the
  organisation with its USCC (or 备案编号), legal representative, address and the bank
  account on its profile;
- the project, its period, the amount in figures and in capitals (core.numerals);
- the clauses frozen into the agreement from the call's template (a line starting
  “第…条” is a clause's heading);
- the tranche table (the project's tranches once planned, else the call's plan applied to
  the award), the KPIs, and both sides' signature blocks with their dates (the online
  confirmations when made).

`agreement_pdf_response(agreement)` is the download for a screen that has already checked
who may see it (the staff proposal page, the applicant's page)."""

import re
from decimal import Decimal

from django.http import HttpResponse

from core.dates import chinese_date
from core.files import content_disposition
from core.numerals import capital_amount
from core.pdf import render_pdf

from .models import TRANCHE_GATES, Agreement, Tranche
from .rules import fmt_money
from .services.agreements import tranche_rows

HEADING = re.compile(r"^第[一二三四五六七八九十百零〇\d]+条")


def agreement_for_pdf(pk: int) -> Agreement:
    """An agreement with what its PDF reads, in one query."""
    return Agreement.objects.select_related(
        "proposal__call__region", "proposal__organisation", "proposal__category", "org_signed_by", "funder_signed_by"
    ).get(pk=pk)


def clause_blocks(text: str) -> list[dict]:
    """The clauses as headings and paragraphs: {"heading": bool, "text": str} per line."""
    blocks = []
    for line in (text or "").replace("\r\n", "\n").split("\n"):
        line = line.strip()
        if line:
            blocks.append({"heading": bool(HEADING.match(line)), "text": line})
    return blocks


def _tranches(agreement: Agreement) -> tuple[list[dict], bool]:
    """The tranche table's rows, and whether they are the planned tranches (else the plan)."""
    planned = list(Tranche.objects.filter(proposal_id=agreement.proposal_id).order_by("position"))
    if planned:
        return [
            {
                "position": t.position,
                "name": t.name,
                "gate": TRANCHE_GATES.get(t.gate, t.gate),
                "percent": t.percent.normalize(),
                "amount": t.amount,
                "due_on": chinese_date(t.due_on) if t.due_on else "",
            }
            for t in planned
        ], True
    return tranche_rows(agreement.proposal.call.tranche_plan, agreement.amount), False


def _signed(user, at) -> dict:
    return {"name": (user.name or str(user)) if user else "", "date": chinese_date(at.date()) if at else ""}


def agreement_context(agreement: Agreement) -> dict:
    proposal = agreement.proposal
    call, org = proposal.call, proposal.organisation
    if org.uscc:
        id_label, id_value = "统一社会信用代码", org.uscc
    elif org.filing_number:
        id_label, id_value = "备案编号", org.filing_number
    else:
        id_label, id_value = "登记状态", "筹备中（尚未登记或备案）"
    tranches, planned = _tranches(agreement)
    signed_on = chinese_date(agreement.signed_on) if agreement.signed_on else ""
    org_side = _signed(agreement.org_signed_by, agreement.org_signed_at)
    funder_side = _signed(agreement.funder_signed_by, agreement.funder_signed_at)
    return {
        "title": "项目协议书",
        "doc_number": f"协议编号：{agreement.number}",
        "issued_on": agreement.signed_on or (agreement.created_at.date() if agreement.created_at else None),
        "agreement": agreement,
        "proposal": proposal,
        "call": call,
        "org": org,
        "funder": call.organiser,
        "id_label": id_label,
        "id_value": id_value,
        "period": f"{chinese_date(agreement.starts_on)}至{chinese_date(agreement.ends_on)}",
        "amount": fmt_money(agreement.amount),
        "amount_capital": capital_amount(agreement.amount),
        "clauses": clause_blocks(agreement.clauses),
        "tranches": tranches,
        "tranches_planned": planned,
        "tranche_total": sum((t["amount"] for t in tranches), Decimal("0.00")),
        "kpis": [
            {"indicator": k.indicator, "target": f"{k.target.normalize():f}{k.unit}", "method": k.method}
            for k in proposal.kpis.order_by("position", "pk")
        ],
        "org_side": {**org_side, "date": org_side["date"] or signed_on},
        "funder_side": {**funder_side, "date": funder_side["date"] or signed_on},
        "online": bool(agreement.org_signed_at and agreement.funder_signed_at and not agreement.signed_scan),
    }


def agreement_pdf(agreement: Agreement) -> bytes:
    return render_pdf("grants/pdf/agreement.html", agreement_context(agreement))


def agreement_filename(agreement: Agreement) -> str:
    return f"项目协议书-{agreement.number}-{agreement.proposal.title}.pdf"


def agreement_pdf_response(agreement: Agreement, *, as_attachment: bool = False) -> HttpResponse:
    """The PDF as a response (inline, or a download with as_attachment); the caller has
    checked who may see it."""
    response = HttpResponse(agreement_pdf(agreement), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition(agreement_filename(agreement), as_attachment=as_attachment)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
