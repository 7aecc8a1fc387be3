"""拨付: the tranches of a signed project planned from its call's plan, released by finance
of the call's region while each gate holds (agreement signed, mid-term passed, final
passed; project not suspended), withheld with a reason, falling due each day; the staff
panel, the list, the finance dashboard and the applicant's section.

Projects are decided and signed through the real services (grants.services.award,
.agreements, .evaluations); only the query-count tests write rows in bulk."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from django_fsm_log.models import StateLog

from accounts.roles import Role
from core.models import Notification
from core.workdays import add_workdays
from core.workflow import WorkflowError
from grants import services as grants_services
from grants.models import Agreement, Call, CallStatus, Proposal, ProposalStatus, Tranche, TrancheStatus
from grants.services import agreements, evaluations
from grants.services.tranches import (
    fall_due_tranches,
    plan_tranches,
    run_daily,
    split_award,
    tranche_release,
    tranche_withhold,
)
from grants.tasks import run_daily as grants_run_daily
from orgs.models import Organisation
from tests.charts import categories, chart_option, series
from tests.factories import UserFactory, staff
from tests.grants.factories import approved_call, eligible_org, make_call
from tests.html_forms import read_form
from tests.queries import page_queries

P = ProposalStatus
T = TrancheStatus
pytestmark = pytest.mark.django_db
ACCOUNT = "6222 0211 0203 4567 890"
TODAY = timezone.localdate


# ---- projects through the real services ------------------------------------------------------------


def _leader(p):
    return p.organisation.memberships.select_related("user").get().user


def approved(award: str | None = None, **call_fields):
    """An approved project (grants.services.award) of 凤凰街道's call whose organisation has a
    bank account; `award` overrides the amount the call decided (an edge amount)."""
    call, [p], manager = approved_call(1, **call_fields)
    Organisation.objects.filter(pk=p.organisation_id).update(bank_name="中国工商银行鄂州分行", bank_account=ACCOUNT)
    if award is not None:
        Proposal.objects.filter(pk=p.pk).update(awarded_amount=Decimal(award))
    return Proposal.objects.select_related("call__region", "organisation").get(pk=p.pk), manager


def signed(award: str | None = None, **call_fields):
    """A project whose agreement both sides confirmed today (grants.services.agreements):
    in progress, its tranches planned. Returns (project, call manager, finance of its street)."""
    p, manager = approved(award, **call_fields)
    agreement = agreements.agreement_draw_up(proposal=p, by=manager)
    agreement = Agreement.objects.get(pk=agreement.pk)
    agreements.agreement_confirm_by_org(agreement=agreement, by=_leader(p))
    agreement = Agreement.objects.get(pk=agreement.pk)
    agreements.agreement_confirm_by_funder(agreement=agreement, by=manager)
    finance = staff(Role.FINANCE, p.call.region, name="凤凰街道财务")
    return _fresh(p), manager, finance


def _fresh(p):
    return Proposal.objects.select_related("call__region", "organisation").get(pk=p.pk)


def tranches(p) -> list[Tranche]:
    return list(Tranche.objects.filter(proposal=p).order_by("position"))


def release(t, by, **kw):
    return tranche_release(
        tranche=t,
        by=by,
        paid_on=kw.pop("paid_on", TODAY()),
        voucher_no=kw.pop("voucher_no", f"记-2026-{t.pk:04d}"),
        **kw,
    )


def evaluate(p, manager, kind: str, score: int):
    """A submitted evaluation (grants.services.evaluations) whose criteria total `score`."""
    ev = evaluations.evaluation_start(proposal=_fresh(p), kind=kind, by=manager)
    rubric = evaluations.rubric_of(p.call)
    points = {c["key"]: str((Decimal(c["weight"]) * score / 100).quantize(Decimal("0.1"))) for c in rubric}
    ev = type(ev).objects.select_related("proposal__call__region", "proposal__organisation").get(pk=ev.pk)
    return evaluations.evaluation_submit(evaluation=ev, by=manager, points=points, comment="按计划实施，资料齐全。")


def _state(t) -> dict:
    return Tranche.objects.filter(pk=t.pk).values().get()


# ---- planning ----------------------------------------------------------------------------------------


def test_the_amounts_sum_exactly_to_the_award_with_the_remainder_on_the_last():
    assert split_award(Decimal("100000.01"), [50, 30, 20]) == [
        Decimal("50000.01"),
        Decimal("30000.00"),
        Decimal("20000.00"),
    ]
    assert split_award(Decimal("99999.99"), [33.33, 33.33, 33.34]) == [
        Decimal("33330.00"),
        Decimal("33330.00"),
        Decimal("33339.99"),
    ]
    # half-up would pay 4 cents of 3: the shares are then rounded down, none negative
    tiny = split_award(Decimal("0.03"), [17.5, 17.5, 17.5, 17.5, 30])
    assert sum(tiny) == Decimal("0.03") and min(tiny) >= 0


def test_signing_plans_the_calls_tranches_once(regions):
    p, manager, _ = signed("100000.01")
    rows = tranches(p)
    assert [(t.position, t.name, t.gate, t.amount, t.status) for t in rows] == [
        (1, "首期", "signed", Decimal("50000.01"), T.PLANNED),
        (2, "中期", "mid_term", Decimal("30000.00"), T.PLANNED),
        (3, "尾款", "final", Decimal("20000.00"), T.PLANNED),
    ]
    assert sum(t.amount for t in rows) == p.awarded_amount == Decimal("100000.01")
    assert rows[0].due_on is not None and rows[1].due_on is None and rows[2].due_on is None
    logs = StateLog.objects.filter(content_type__model="tranche", object_id__in=[t.pk for t in rows])
    assert logs.count() == 3 and {log.transition for log in logs} == {"create"}

    again = plan_tranches(proposal=p, signed_on=TODAY(), by=manager)  # idempotent
    assert [t.pk for t in again] == [t.pk for t in rows]
    assert Tranche.objects.filter(proposal=p).count() == 3 and logs.count() == 3


def test_the_first_tranche_is_due_within_15_working_days_across_national_day(regions):
    p, manager = approved()
    rows = plan_tranches(proposal=p, signed_on=datetime.date(2026, 9, 28), by=manager)
    # 9/29, 9/30, then 国庆 (10/1–10/7) off, 10/10 (Saturday) a 调休 working day: the 15th is 10/23
    assert rows[0].due_on == datetime.date(2026, 10, 23)
    assert [t.due_on for t in rows[1:]] == [None, None]  # dated when their evaluation passes


def test_a_call_without_a_plan_line_or_a_project_without_an_award_plans_nothing(regions):
    p, manager = approved()
    Proposal.objects.filter(pk=p.pk).update(awarded_amount=None)
    with pytest.raises(WorkflowError, match="没有批复的资助金额"):
        plan_tranches(proposal=p, signed_on=TODAY(), by=manager)
    assert not Tranche.objects.filter(proposal=p).exists()


# ---- releasing: the gates ----------------------------------------------------------------------------


def test_finance_releases_the_first_tranche_into_the_organisations_account(regions):
    p, manager, finance = signed()
    first = tranches(p)[0]
    notices = Notification.objects.filter(recipient=_leader(p))
    before = notices.count()

    done = release(first, finance, voucher_no=" 记-2026-118 ")

    assert done.status == T.RELEASED
    row = _state(first)
    assert row["status"] == T.RELEASED and row["paid_on"] == TODAY()
    assert row["voucher_no"] == "记-2026-118" and row["bank_account"] == ACCOUNT.replace(" ", "")
    assert row["released_by_id"] == finance.pk and row["released_at"] is not None
    log = StateLog.objects.for_(first).get(transition="release")
    assert log.by == finance and "记-2026-118" in log.description
    assert _fresh(p).status == P.IN_PROGRESS
    assert notices.count() == before + 1
    assert "已于" in notices.latest("pk").body and "7890" in notices.latest("pk").body


def test_releasing_twice_is_refused_saying_when_and_changes_nothing(regions):
    p, _, finance = signed()
    first = tranches(p)[0]
    release(first, finance, voucher_no="记-118")
    before = _state(first)

    for stale in (first, Tranche.objects.get(pk=first.pk)):
        with pytest.raises(WorkflowError) as refused:
            release(stale, finance, voucher_no="记-119")
        day = TODAY()
        assert (
            refused.value.message
            == f"该期资金已于{day.year}年{day.month}月{day.day}日拨付，凭证号记-118，无需重复办理。"
        )
    assert _state(first) == before
    assert StateLog.objects.for_(first).filter(transition="release").count() == 1


def test_a_tranche_is_refused_before_signing(regions):
    p, manager = approved()
    first = plan_tranches(proposal=p, signed_on=TODAY(), by=manager)[0]
    finance = staff(Role.FINANCE, p.call.region)
    with pytest.raises(WorkflowError, match="“首期”暂不能拨付：项目协议尚未签订"):
        release(first, finance)
    assert _state(first)["status"] == T.PLANNED and _fresh(p).status == P.APPROVED


def test_each_later_tranche_waits_for_its_evaluation_and_none_is_paid_while_suspended(regions):
    p, manager, finance = signed()
    first, mid, final = tranches(p)
    release(first, finance)

    with pytest.raises(WorkflowError, match="“中期”暂不能拨付：尚未完成中期评估"):
        release(mid, finance)

    evaluate(p, manager, "mid_term", 50)  # fails: the project is suspended for rectification
    assert _fresh(p).status == P.SUSPENDED
    with pytest.raises(WorkflowError, match="项目暂停拨付"):
        release(mid, finance)
    assert _state(mid)["status"] == T.PLANNED

    evaluate(p, manager, "mid_term", 80)  # the re-evaluation passes
    assert _fresh(p).status == P.MID_TERM_PASSED
    # dated 15 working days after the pass (the evaluation service schedules it; the daily run would)
    assert Tranche.objects.get(pk=mid.pk).due_on == add_workdays(TODAY(), 15)
    assert run_daily()["tranches_scheduled"] == 0
    Tranche.objects.filter(pk=mid.pk).update(due_on=None)  # one the evaluation did not date: the daily run does
    assert run_daily()["tranches_scheduled"] == 1
    assert Tranche.objects.get(pk=mid.pk).due_on == add_workdays(TODAY(), 15)
    release(mid, finance)
    with pytest.raises(WorkflowError, match="“尾款”暂不能拨付：尚未完成末期评估"):
        release(final, finance)

    evaluate(p, manager, "final", 92)
    release(final, finance)
    paid = Tranche.objects.filter(proposal=p, status=T.RELEASED)
    assert paid.count() == 3 and sum(t.amount for t in paid) == p.awarded_amount


def test_a_final_evaluation_that_fails_pays_no_last_tranche(regions):
    p, manager, finance = signed()
    first, mid, final = tranches(p)
    release(first, finance)
    evaluate(p, manager, "mid_term", 80)
    release(mid, finance)
    evaluate(p, manager, "final", 55)
    assert _fresh(p).status == P.FINAL_EVALUATED
    with pytest.raises(WorkflowError, match="“尾款”暂不能拨付：末期评估未通过（第1次，55.00分）"):
        release(final, finance)
    assert _state(final)["status"] == T.PLANNED


# ---- releasing: who and what ---------------------------------------------------------------------------


def test_only_finance_of_the_calls_region_may_release(regions):
    p, manager, finance = signed()
    first = tranches(p)[0]
    before = _state(first)
    refused = [
        manager,  # a call manager holds no grants.release_tranche
        staff(Role.REVIEWER, regions["city"]),
        staff(Role.AUDITOR, regions["fenghuang"]),
        _leader(p),
        staff(Role.FINANCE, regions["huarong"]),  # finance of another district
        UserFactory(),
    ]
    for user in refused:
        with pytest.raises(PermissionDenied, match="须由征集所在区域的财务人员办理"):
            release(first, user)
        with pytest.raises(PermissionDenied):
            tranche_withhold(tranche=first, by=user, reason="材料不全")
    assert _state(first) == before
    release(first, staff(Role.FINANCE, regions["city"]))  # the city's finance covers the street
    assert _state(first)["status"] == T.RELEASED


@pytest.mark.parametrize(
    "kwargs, field, message",
    [
        ({"paid_on": "TOMORROW"}, "paid_on", "拨付日期不能晚于今天。"),
        ({"paid_on": None}, "paid_on", "请填写拨付日期。"),
        ({"voucher_no": "  "}, "voucher_no", "请填写记账凭证号。"),
        ({"paid_on": "LONG_AGO"}, "paid_on", "拨付日期不能早于协议签订日期"),
        ({"bank_account": "62-22-AB"}, "bank_account", "银行账号只能包含数字"),
    ],
)
def test_bad_input_is_said_in_chinese_and_changes_nothing(regions, kwargs, field, message):
    p, _, finance = signed()
    first = tranches(p)[0]
    dates = {"TOMORROW": TODAY() + datetime.timedelta(days=1), "LONG_AGO": TODAY() - datetime.timedelta(days=400)}
    kwargs = {k: dates.get(v, v) if isinstance(v, str) else v for k, v in kwargs.items()}
    before = _state(first)
    with pytest.raises(ValidationError) as refused:
        release(first, finance, **kwargs)
    assert message in " ".join(refused.value.message_dict[field])
    assert _state(first) == before and _fresh(p).status == P.IN_PROGRESS


def test_an_organisation_without_a_bank_account_is_paid_only_into_one_typed(regions):
    p, _, finance = signed()
    Organisation.objects.filter(pk=p.organisation_id).update(bank_account="")
    first = tranches(p)[0]
    with pytest.raises(ValidationError) as refused:
        release(first, finance)
    assert "该组织尚未登记银行账号" in refused.value.message_dict["bank_account"][0]
    assert _state(first)["status"] == T.PLANNED
    release(first, finance, bank_account="6228 4800 1234 5678")
    assert _state(first)["bank_account"] == "6228480012345678"


def test_the_sum_released_never_exceeds_the_award(regions):
    p, _, finance = signed()
    first = tranches(p)[0]
    Proposal.objects.filter(pk=p.pk).update(awarded_amount=first.amount - Decimal("0.01"))  # an award cut later
    with pytest.raises(WorkflowError, match="将超过资助金额"):
        release(first, finance)
    assert _state(first)["status"] == T.PLANNED


def test_the_service_is_exported_under_the_name_the_issue_fixes():
    assert grants_services.tranche_release is tranche_release


# ---- withholding and the daily work ------------------------------------------------------------------


def test_withholding_records_the_reason_and_a_withheld_tranche_is_released_later(regions):
    p, _, finance = signed()
    first = tranches(p)[0]
    with pytest.raises(WorkflowError, match="请填写理由"):
        tranche_withhold(tranche=first, by=finance, reason=" ")
    assert _state(first)["status"] == T.PLANNED

    tranche_withhold(tranche=first, by=finance, reason="银行账户信息待核实")
    row = _state(first)
    assert row["status"] == T.WITHHELD and row["withhold_reason"] == "银行账户信息待核实"
    assert Notification.objects.filter(recipient=_leader(p), body__contains="银行账户信息待核实").exists()
    with pytest.raises(WorkflowError, match="不能执行“暂缓拨付”"):
        tranche_withhold(tranche=Tranche.objects.get(pk=first.pk), by=finance, reason="再次")

    release(Tranche.objects.get(pk=first.pk), finance)
    row = _state(first)
    assert row["status"] == T.RELEASED and row["withhold_reason"] == ""


def test_each_day_planned_tranches_whose_date_has_come_fall_due(regions):
    p, _, _ = signed()
    first = tranches(p)[0]
    assert fall_due_tranches(first.due_on - datetime.timedelta(days=1)) == 0
    done = grants_run_daily(first.due_on)
    assert done["tranches_due"] == 1
    assert _state(first)["status"] == T.DUE
    assert StateLog.objects.for_(first).filter(transition="fall_due", by=None).count() == 1
    assert grants_run_daily(first.due_on)["tranches_due"] == 0  # once


# ---- the staff screens ------------------------------------------------------------------------------------


def page_url(p) -> str:
    return reverse("grants_admin:proposal", args=[p.pk])


def action_url(t, slug) -> str:
    return reverse("grants_admin:tranche_action", args=[t.pk, slug])


def test_finance_sees_the_gates_and_releases_through_the_project_page(client, regions):
    p, _, finance = signed()
    first, mid, _ = tranches(p)
    client.force_login(finance)

    html = client.get(page_url(p)).content.decode()
    assert "资金拨付" in html and "已满足（协议已于" in html and "未满足</span>（尚未完成中期评估）" in html
    form = read_form(html, action=action_url(first, "release"))
    assert form.data["release-bank_account"] == [ACCOUNT] and form.data["release-paid_on"] == [TODAY().isoformat()]
    assert action_url(mid, "release") not in html  # not offered while the gate is shut
    assert action_url(mid, "withhold") in html

    data = form.post_data() | {"release-voucher_no": "记-2026-007"}
    response = client.post(action_url(first, "release"), data)
    assert response.status_code == 302 and response["Location"].endswith(f"{page_url(p)}#tranches")
    assert _state(first)["voucher_no"] == "记-2026-007"

    html = client.get(page_url(p)).content.decode()
    assert "凭证号 记-2026-007" in html and action_url(first, "release") not in html


def test_a_bad_release_on_the_page_shows_the_message_and_what_was_typed(client, regions):
    p, _, finance = signed()
    first = tranches(p)[0]
    client.force_login(finance)
    tomorrow = (TODAY() + datetime.timedelta(days=1)).isoformat()
    response = client.post(
        action_url(first, "release"),
        {"release-paid_on": tomorrow, "release-voucher_no": "记-9", "release-bank_account": ""},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "拨付日期不能晚于今天。" in html and 'value="记-9"' in html
    response = client.post(action_url(first, "release"), {"release-paid_on": TODAY().isoformat()})
    assert response.status_code == 400 and "请填写记账凭证号。" in response.content.decode()
    assert _state(first)["status"] == T.PLANNED


def test_others_read_the_panel_and_are_refused_on_a_post(client, regions):
    p, manager, _ = signed()
    first = tranches(p)[0]
    for user, code in (
        (manager, 403),
        (staff(Role.AUDITOR, regions["fenghuang"]), 403),
        (staff(Role.FINANCE, regions["gulou"]), 404),  # the next street's finance
    ):
        client.force_login(user)
        if code == 403:
            html = client.get(page_url(p)).content.decode()
            assert "资金拨付" in html and action_url(first, "release") not in html
        data = {"release-paid_on": TODAY().isoformat(), "release-voucher_no": "记-1"}
        assert client.post(action_url(first, "release"), data).status_code == code
    assert _state(first)["status"] == T.PLANNED


def test_the_list_shows_the_scopes_tranches_with_overdue_flagged_and_filters(client, regions):
    p, _, finance = signed()
    first, mid, _ = tranches(p)
    Tranche.objects.filter(pk=first.pk).update(due_on=TODAY() - datetime.timedelta(days=3))  # planned long ago
    far_call = make_call(regions["huarong_town"], title="华容镇公益创投征集")
    url = reverse("grants_admin:tranches")
    client.force_login(finance)

    response = client.get(url)
    rows = list(response.context["page_obj"].object_list)
    assert {t.proposal_id for t in rows} == {p.pk}
    html = response.content.decode()
    assert p.title in html and "逾期" in html and "中期评估通过后" in html and far_call.title not in html
    overdue = client.get(url, {"overdue": "on"}).context["page_obj"].object_list
    assert [t.pk for t in overdue] == [first.pk]
    by_status = client.get(url, {"status": T.PLANNED, "call": p.call_id}).context["page_obj"].object_list
    assert len(by_status) == 3
    refused = client.get(url, {"call": far_call.pk})
    assert "征集" in " ".join(refused.context.get("filter_errors", []))
    home = client.get("/admin/").content.decode()  # the dashboard's waiting items
    assert "项目资金逾期未拨付" in home and f"{url}?overdue=on" in home

    client.force_login(staff(Role.FINANCE, regions["huarong"]))
    assert not list(client.get(url).context["page_obj"].object_list)
    client.force_login(UserFactory(roles=[Role.REVIEWER], region=regions["fenghuang"]))
    assert client.get(url).status_code in (302, 403)


def test_the_menu_offers_the_screens_to_finance_managers_and_auditors(client, regions):
    roles = (
        (Role.FINANCE, True),
        (Role.CALL_MANAGER, True),
        (Role.AUDITOR, True),
        (Role.REVIEWER, False),
        (Role.BASE_OPERATOR, False),  # sees the calls of its area, not their money
    )
    urls = (reverse("grants_admin:tranches"), reverse("grants_admin:finance"))
    for role, shown in roles:
        client.force_login(staff(role, regions["fenghuang"]))
        html = client.get("/admin/").content.decode()
        assert all(url in html for url in urls) is shown, role
        if not shown:
            assert all(client.get(url).status_code in (302, 403) for url in urls), role


def test_finance_dashboard_sums_per_call_and_level_in_scope(client, regions):
    p, manager, finance = signed()
    first = tranches(p)[0]
    release(first, finance)
    tranche_withhold(tranche=tranches(p)[1], by=finance, reason="待中期评估")
    Proposal.objects.filter(pk=p.pk).update(returned_amount=Decimal("1200.50"), clawback_repaid=Decimal("300.00"))
    Call.objects.filter(pk=p.call_id).update(status=CallStatus.IMPLEMENTING)
    far_call = make_call(regions["huarong_town"], title="华容镇不可见的征集", status=CallStatus.DRAFT)
    Call.objects.filter(pk=far_call.pk).update(status=CallStatus.DECIDED)
    client.force_login(finance)

    response = client.get(reverse("grants_admin:finance"))
    figures = response.context["figures"]
    [row] = figures["calls"]
    assert (row.pool, row.committed, row.released, row.withheld, row.outstanding) == (
        p.call.pool_total,
        p.awarded_amount,
        first.amount,
        tranches(p)[1].amount,
        tranches(p)[2].amount,
    )
    assert (row.returned, row.clawed_back, row.projects) == (Decimal("1200.50"), Decimal("300.00"), 1)
    [level] = figures["levels"]
    assert level.label == "街道（镇）级" and level.released == first.amount
    html = response.content.decode()
    assert p.call.title in html and far_call.title not in html
    # one level in scope: the chart (ECharts) draws the calls, in 万元
    option = chart_option(html, "finance-calls")
    assert categories(option) == [p.call.title]
    assert series(option)["已拨付"] == [float((first.amount / 10000).quantize(Decimal("0.01")))]
    assert f"¥{first.amount:,.2f}" in html


# ---- the applicant ------------------------------------------------------------------------------------------


def test_the_applicant_reads_what_was_paid_and_what_comes_next(client, regions):
    p, _, finance = signed()
    release(tranches(p)[0], finance)
    client.force_login(_leader(p))
    html = client.get(reverse("grants:proposal", args=[p.pk])).content.decode()
    assert "项目资金拨付" in html
    assert f"¥{tranches(p)[0].amount:,.2f}" in html
    assert "中期评估通过后拨付（尚未完成中期评估）" in html


# ---- query counts ---------------------------------------------------------------------------------------------


def _bulk_projects(call, n: int, *, start: int = 0):
    """For the query-count tests only: n funded projects of `call` with three tranches each,
    written in bulk (rows for the screens to read, not for the logic, which the other tests
    drive through the services)."""
    org = eligible_org(call.region)[0]
    now = timezone.now()
    rows = Proposal.objects.bulk_create(
        Proposal(
            call=call,
            organisation=org,
            number=f"GY{call.year}-{call.pk:03d}-{80000 + start + i:05d}",
            title=f"批量资助项目{start + i}号",
            status=P.IN_PROGRESS,
            submitted_at=now,
            grant_amount=Decimal("50000.00"),
            budget_total=Decimal("100000.00"),
            awarded_amount=Decimal("50000.00"),
        )
        for i in range(n)
    )
    statuses = (T.RELEASED, T.WITHHELD, T.PLANNED)
    Tranche.objects.bulk_create(
        Tranche(
            proposal=p,
            position=i,
            name=name,
            percent=Decimal(percent),
            gate=gate,
            amount=Decimal(amount),
            status=statuses[i - 1],
            due_on=TODAY() - datetime.timedelta(days=i),
            paid_on=TODAY() if i == 1 else None,
            voucher_no=f"记-{p.pk}" if i == 1 else "",
        )
        for p in rows
        for i, name, percent, gate, amount in (
            (1, "首期", "50", "signed", "25000.00"),
            (2, "中期", "30", "mid_term", "15000.00"),
            (3, "尾款", "20", "final", "10000.00"),
        )
    )
    return rows


@pytest.mark.parametrize("data", [None, {"overdue": "on"}, {"status": T.RELEASED, "call": "CALL"}, {"q": "批量"}])
def test_the_list_costs_the_same_queries_for_10_and_1000_tranches(client, regions, data):
    call = make_call(regions["fenghuang"])
    data = {k: (call.pk if v == "CALL" else v) for k, v in data.items()} if data else None
    client.force_login(staff(Role.FINANCE, regions["fenghuang"]))
    url = reverse("grants_admin:tranches")
    _bulk_projects(call, 4)  # 12 tranches
    few = page_queries(client, url, data)
    _bulk_projects(call, 330, start=4)  # 1,002
    many = page_queries(client, url, data)
    assert few == many and many <= 15, (few, many)
    print(f"{url} {data or ''}: {many} queries")


def test_the_dashboard_costs_the_same_queries_for_5_and_50_projects(client, regions):
    """The projects are bulk-created (rows in the states the figures read), not driven
    through the services: this test counts queries only."""
    calls = [make_call(regions["fenghuang"]), make_call(regions["fenghuang_c"]), make_call(regions["city"])]
    Call.objects.filter(pk__in=[c.pk for c in calls]).update(status=CallStatus.IMPLEMENTING)
    client.force_login(staff(Role.FINANCE, regions["city"]))
    url = reverse("grants_admin:finance")
    for c in calls[:2]:
        _bulk_projects(c, 2)
    _bulk_projects(calls[2], 1)
    few = page_queries(client, url)
    for c in calls:
        _bulk_projects(c, 15, start=10)
    many = page_queries(client, url)
    assert few == many and many <= 15, (few, many)
    print(f"{url}: {many} queries")
    figures = client.get(url).context["figures"]
    assert figures["total"].projects == 50
    assert figures["total"].released == Decimal("25000.00") * 50
    assert figures["total"].overdue == 50  # the planned tranches, dated 3 days ago


def test_the_project_pages_tranches_cost_one_query(client, regions):
    """The 资金拨付 panel reads the project's tranches, their gates and the agreement in one
    query, however many tranches (the page's total is shared with the other panels)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    p, _, finance = signed()
    release(tranches(p)[0], finance)
    client.force_login(finance)
    for url in (page_url(p), reverse("grants:proposal", args=[p.pk])):
        if url.startswith("/me/"):
            client.force_login(_leader(p))
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        mine = [q["sql"] for q in ctx.captured_queries if "gate_agreement_status" in q["sql"]]
        assert len(mine) == 1, url
