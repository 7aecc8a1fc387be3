"""申报书 as a printable A4 PDF (core.pdf.render_pdf, Chinese glyphs), and the same reading
of a proposal for its read-only page.

Both read the version frozen at the latest submission (`ProposalVersion.data`, written by
grants.services.proposals.snapshot) when there is one, so what is printed is exactly what
was submitted, with the organisation's facts as they were that day; a draft never
submitted is read from its live rows (and printed marked 草稿).

`proposal_pdf_response(proposal)` is the download for any screen that has already checked
who may see it (the applicant's /me/proposals/<pk>/pdf/, the staff proposal page)."""

import datetime
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone

from core.files import content_disposition
from core.pdf import render_pdf

from . import rules
from .diff import ORGANISATION_FACTS
from .models import BudgetCategory, FundingSource, LineNature, Proposal
from .services.proposals import snapshot

CN_NUMERALS = "一二三四五六七八九十"


def latest_version(proposal: Proposal):
    """The last submitted version (prefetched `versions` are used when present)."""
    versions = list(proposal.versions.all())
    return max(versions, key=lambda v: v.number) if versions else None


def _month(value) -> str:
    if not value:
        return "—"
    day = datetime.date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day.year}年{day.month}月"


def _number(value) -> str:
    if value in (None, ""):
        return "—"
    return f"{rules.money(value).normalize():f}"


def _label(choices, value) -> str:
    try:
        return choices(value).label
    except ValueError:
        return value or "—"


def organisation_rows(facts: dict) -> list[tuple[str, str]]:
    """(label, value) of the organisation's frozen or current facts, in the diff's order."""
    rows = []
    for key, label in ORGANISATION_FACTS:
        value = facts.get(key) or ""
        if key == "uscc" and not value:
            value = "无（备案或筹备中的组织）"
        elif key == "grade" and not value:
            value = "无有效评估等级"
        rows.append((label, value or "未填写"))
    return rows


def proposal_document(proposal: Proposal, version=None) -> dict:
    """Everything a reader of the proposal sees, from its latest version (or live rows)."""
    version = version or latest_version(proposal)
    data = version.data if version else snapshot(proposal)
    f = data["fields"]
    lines = []
    for i, row in enumerate(data.get("budget_lines", []), start=1):
        lines.append(
            {
                "n": i,
                "category": _label(BudgetCategory, row.get("category")),
                "item": row.get("item") or "",
                "unit": row.get("unit") or "",
                "quantity": _number(row.get("quantity")),
                "unit_price": rules.money(row.get("unit_price")),
                "amount": rules.line_amount(row.get("quantity"), row.get("unit_price")),
                "source": _label(FundingSource, row.get("source")),
                "nature": _label(LineNature, row.get("nature")),
                "flagged": row.get("nature") in (LineNature.FIXED_ASSET, LineNature.CASH),
                "note": row.get("note") or "",
            }
        )
    totals = rules.budget_totals(data.get("budget_lines", []))
    by_category = [
        {
            "label": label,
            "amount": totals.by_category.get(code, Decimal("0.00")),
            "share": rules.share(totals.by_category.get(code, 0), totals.total),
        }
        for code, label in BudgetCategory.choices
        if code in totals.by_category
    ]
    return {
        "proposal": proposal,
        "call": proposal.call,
        "version": version,
        "draft": version is None,
        "org_rows": organisation_rows(data["organisation"]),
        "org_name": data["organisation"].get("name", ""),
        "f": f,
        "period": f"{_month(f.get('start_month'))}至{_month(f.get('end_month'))}",
        "places": "、".join(f.get("places") or []) or "—",
        "cited_needs": f.get("cited_needs") or [],
        "budget": lines,
        "totals": totals,
        "grant_share": rules.fmt_percent(totals.grant_share),
        "personnel_share": rules.fmt_percent(totals.personnel_share),
        "self_share": rules.fmt_percent(totals.self_share),
        "by_category": by_category,
        "activities": [
            {**a, "month": _month(a.get("month"))} for a in sorted(data.get("activities", []), key=_activity_order)
        ],
        "team": data.get("team", []),
        "kpis": [{**k, "target": _number(k.get("target"))} for k in data.get("kpis", [])],
        "attachments": data.get("attachments", []),
    }


def _activity_order(a):
    return a.get("month") or ""


def pdf_context(proposal: Proposal) -> dict:
    doc = proposal_document(proposal)
    version = doc["version"]
    issued = timezone.localdate(version.submitted_at) if version else timezone.localdate()
    number = proposal.number or "—"
    return {
        **doc,
        "title": "公益创投项目申报书",
        "doc_number": f"申报编号：{number}"
        + ("（草稿，尚未提交）" if doc["draft"] else f" · 第{version.number}次提交"),
        "issued_on": issued,
        "headings": list(CN_NUMERALS),
    }


def proposal_pdf(proposal: Proposal) -> bytes:
    return render_pdf("grants/pdf/proposal.html", pdf_context(proposal))


def pdf_filename(proposal: Proposal) -> str:
    name = proposal.title or "申报书"
    return f"申报书-{proposal.number or '草稿'}-{name}.pdf"


def proposal_pdf_response(proposal: Proposal, *, as_attachment: bool = False) -> HttpResponse:
    """The PDF as a response, shown in the browser (or downloaded with as_attachment).
    The caller has checked who may see it."""
    response = HttpResponse(proposal_pdf(proposal), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition(pdf_filename(proposal), as_attachment=as_attachment)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
