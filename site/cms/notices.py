"""公示公告 (/notices/): what the index and a notice page show, and the objection form.

A 公示's page reads only the frozen list the 公示 was published with, and of each row only
the public columns (序号/排名, 项目名称, 申报组织, 服务领域, 实施地点, 拟资助金额, 评审得分;
an 评估结果公示: 项目名称, 申报组织, 服务领域, 评估得分, 评估等级):
whatever else a row may carry, no contact, USCC or reviewer ever reaches the template.
Objections go through grants.services.publicity.file_objection; the page says how many
were received and handled, never by whom or what they said."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Case, Count, Q, Value, When
from django.db.models.functions import Coalesce
from django.shortcuts import redirect
from django.utils import timezone
from wagtail.models import Page

from core.dates import chinese_date

NOTICES_PER_PAGE = 12
FILED_KEY = "cms:objection_filed"


def filed_text(number: str) -> str:
    return f"您的异议已收到，异议编号 {number}。工作人员核实后将通过您留下的联系方式与您联系，请保存好异议编号。"


# ---- one row of the list, as the public reads it ------------------------------------------------


def _places(value) -> str:
    if not value:
        return "—"
    if isinstance(value, str):
        return value
    parts = []
    for item in value:
        if isinstance(item, dict):
            parts.append(" ".join(str(item[k]) for k in ("street", "community", "name") if item.get(k)))
        else:
            parts.append(str(item))
    return "、".join(p for p in parts if p) or "—"


def _score(value) -> str:
    if value in (None, ""):
        return "—"
    try:
        return f"{Decimal(str(value)).quantize(Decimal('0.01'), ROUND_HALF_UP):f}"
    except InvalidOperation:
        return "—"


def public_rows(publicity) -> tuple[list[dict], Decimal]:
    """The rows the page shows (public columns only) and the total amount."""
    from grants.rules import fmt_money, money

    rows, total = [], Decimal("0.00")
    for i, r in enumerate(publicity.rows or [], 1):
        amount = r.get("amount")
        if amount not in (None, ""):
            total += money(amount)
        rows.append(
            {
                "rank": r.get("rank") or i,
                "title": r.get("title") or "—",
                "organisation": r.get("organisation") or "—",
                "category": r.get("category") or "—",
                "places": _places(r.get("places")),
                "amount": fmt_money(amount) if amount not in (None, "") else "—",
                "score": _score(r.get("score")),
                # 评估结果公示 (grants.services.evaluations): the final evaluation's total and grade
                "total": _score(r.get("total")),
                "grade": r.get("grade") or "—",
            }
        )
    return rows, total


def state_of(publicity, today) -> tuple[str, str]:
    """(key, label) of where the 公示 stands today, for the status tag."""
    if publicity is None:
        return "plain", "公告"
    if publicity.closes_on is None or publicity.kind not in (publicity.Kind.SHORTLIST, publicity.Kind.EVALUATION):
        return "result", publicity.get_kind_display()
    if today < publicity.opens_on:
        return "upcoming", "即将公示"
    if today <= publicity.closes_on:  # a shortlist takes objections meanwhile; an evaluation 公示 none
        return "open", "公示中"
    return "closed", "公示已结束"


# ---- the index ----------------------------------------------------------------------------------


def index_context(request, index) -> dict:
    from grants.models import ObjectionStatus, PublicityKind
    from grants.services.publicity import window_text

    from .models import NoticePage

    today = timezone.localdate()
    open_now = Q(
        publicity__kind=PublicityKind.SHORTLIST, publicity__opens_on__lte=today, publicity__closes_on__gte=today
    )
    pages = (
        NoticePage.objects.child_of(index)
        .live()
        .public()
        .select_related("publicity__call__region")
        .annotate(
            is_open=Case(When(open_now, then=Value(1)), default=Value(0), output_field=models.IntegerField()),
            sort_at=Coalesce("publicity__published_at", "first_published_at"),
            received=Count("publicity__objections"),
            handled=Count("publicity__objections", filter=~Q(publicity__objections__status=ObjectionStatus.RECEIVED)),
        )
        .order_by("-is_open", "-sort_at", "-pk")
    )
    page_obj = Paginator(pages, NOTICES_PER_PAGE).get_page(request.GET.get("page"))
    for p in page_obj:
        publicity = p.publicity
        p.state, p.state_label = state_of(publicity, today)
        if publicity is not None:
            p.window_text = window_text(publicity)
            p.row_count = len(publicity.rows or [])
        else:
            p.window_text = f"发布日期：{chinese_date(timezone.localdate(p.sort_at))}" if p.sort_at else ""
    return {"notices": page_obj, "index_url": index.get_url(request)}


# ---- one notice ---------------------------------------------------------------------------------


def notice_context(request, page, *, form=None) -> dict:
    from grants.forms.publicity import ObjectionForm
    from grants.models import Publicity
    from grants.selectors.publicity import objection_counts
    from grants.services.publicity import closed_text, window_text

    from .models import CallPage

    today = timezone.localdate()
    context = {"index_url": page.get_parent().get_url(request)}
    if not page.publicity_id:
        context["state"], context["state_label"] = state_of(None, today)
        return context
    publicity = Publicity.objects.select_related("call__region").get(pk=page.publicity_id)
    call_page = CallPage.objects.live().public().filter(call_id=publicity.call_id).first()
    rows, total = public_rows(publicity)
    state, label = state_of(publicity, today)
    accepting = publicity.accepts_objections(today)
    if accepting and form is None:
        form = ObjectionForm(publicity=publicity)
    filed = request.session.get(FILED_KEY) if hasattr(request, "session") else None
    if filed and filed.get("publicity") == publicity.pk:
        del request.session[FILED_KEY]
        context["filed_text"] = filed_text(filed["number"])
    from grants.rules import fmt_money

    context.update(
        {
            "publicity": publicity,
            "call": publicity.call,
            "call_url": call_page.get_url(request) if call_page else "",
            "window_text": window_text(publicity),
            "state": state,
            "state_label": label,
            "shortlist": publicity.kind == publicity.Kind.SHORTLIST,
            "evaluation": publicity.kind == publicity.Kind.EVALUATION,
            "accepting": accepting,
            "closed_text": closed_text(publicity, today),
            "rows": rows,
            "total_amount": fmt_money(total),
            "counts": objection_counts(publicity),
            "form": form if accepting else None,
        }
    )
    return context


def serve_notice(page, request, *args, **kwargs):
    """GET: the page. POST (a 公示 page): file an objection; on success back to the page
    with the receipt number, on an error the page again with what was typed."""
    if request.method != "POST" or not page.publicity_id:
        return Page.serve(page, request, *args, **kwargs)
    from accounts.throttle import client_ip
    from core.ui import apply_errors
    from grants.forms.publicity import ObjectionForm
    from grants.models import Publicity
    from grants.services.publicity import TooManyObjections, client_hash, file_objection, receipt_number

    publicity = Publicity.objects.get(pk=page.publicity_id)
    form = ObjectionForm(request.POST, request.FILES, publicity=publicity)
    status = 400
    if form.is_valid():
        if form.is_robot:
            form.add_error(None, "提交未成功，请刷新页面后重新填写。")
        else:
            try:
                objection = file_objection(
                    publicity=publicity, **form.service_kwargs(), client=client_hash(client_ip(request))
                )
            except TooManyObjections as exc:
                form.add_error(None, exc.message)
                status = 429
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                # said in the objection section, where the browser comes back to (#objection)
                request.session[FILED_KEY] = {"publicity": publicity.pk, "number": receipt_number(objection)}
                return redirect(page.get_url(request) + "#objection")
    response = Page.serve(page, request, *args, form=form, **kwargs)
    response.status_code = status
    return response
