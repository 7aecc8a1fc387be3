"""中期评估, 末期评估, 结项, 追回 and the 3-year ban: the project's state after each outcome,
the money (clawback = released − eligible spending, funds returned), grade bands at their
edges, scores out of range, wrong role and region; the scoring page, the evaluation
report PDF, the 评估结果公示; and what grants tells the layers below it (the incubator's
funded-projects figure, the organisation's record).

The projects are decided, signed and paid their first tranche through the real services
once for the module (tests.grants.factories.signed_projects, rolled back after it); each
test runs in its own transaction inside it."""

import datetime
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from core.models import Notification
from core.workflow import WorkflowError
from grants.eligibility import may_apply
from grants.models import (
    Evaluation,
    EvaluationStatus,
    FundingSource,
    Proposal,
    ProposalStatus,
    Publicity,
    PublicityKind,
    Tranche,
    TrancheStatus,
)
from grants.models.calls import default_grade_bands
from grants.services import evaluations, reports
from grants.services.tranches import tranche_release
from orgs.models import ListEntry
from tests.factories import region_tree, staff
from tests.grants.factories import leader_of, make_call, signed_projects
from tests.html_forms import read_form

P = ProposalStatus
T = TrancheStatus
pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Three projects of 凤凰街道's call in progress (award 60,000, first tranche of 30,000 paid)."""
    with django_db_blocker.unblock(), transaction.atomic():
        call, projects, manager, finance = signed_projects(3)
        yield {"call": call, "projects": [p.pk for p in projects], "manager": manager, "finance": finance}
        transaction.set_rollback(True)


def project(world, i=0) -> Proposal:
    return Proposal.objects.select_related("call__region", "organisation").get(pk=world["projects"][i])


def fresh(ev) -> Evaluation:
    return Evaluation.objects.select_related("proposal__call__region", "proposal__organisation").get(pk=ev.pk)


def evaluate(world, i, kind, total, *, by=None, **submit):
    by = by or world["manager"]
    ev = evaluations.evaluation_start(proposal=project(world, i), kind=kind, by=by)
    submit.setdefault("comment", "活动按计划开展，资料齐全。")
    return evaluations.evaluation_submit(
        evaluation=fresh(ev), by=by, points=evaluations.points_for_total(project(world, i).call, total), **submit
    )


def pay(world, i, gate):
    """Finance pays the project's tranche of `gate` (mid_term: after the mid-term; final)."""
    t = Tranche.objects.get(proposal_id=world["projects"][i], gate=gate)
    tranche_release(tranche=t, by=world["finance"], paid_on=TODAY(), voucher_no=f"记-{t.pk:05d}-2")


def report_spending(world, i, amount: str):
    """A submitted progress report spending `amount` on the first grant line."""
    p = project(world, i)
    line = p.budget_lines.filter(source=FundingSource.GRANT).order_by("position", "pk").first()
    leader = leader_of(p)
    r = reports.report_start(
        proposal=p, by=leader, period="第一阶段", period_start=TODAY() - datetime.timedelta(days=60), period_end=TODAY()
    )
    r = type(r).objects.get(pk=r.pk)
    reports.report_save(report=r, by=leader, fields={"narrative": "按计划开展活动。"}, spending={str(line.pk): amount})
    reports.report_submit(report=type(r).objects.get(pk=r.pk), by=leader)


# ---- 中期评估 --------------------------------------------------------------------------------------


def test_a_mid_term_at_the_pass_score_passes_and_the_mid_tranche_gets_its_date(world):
    ev = evaluate(world, 0, "mid_term", 60)
    ev = fresh(ev)
    assert (ev.status, ev.total, ev.passed, ev.attempt) == (EvaluationStatus.SUBMITTED, Decimal("60.00"), True, 1)
    p = project(world)
    assert p.status == P.MID_TERM_PASSED
    mid = Tranche.objects.get(proposal=p, gate="mid_term")
    assert mid.due_on is not None  # scheduled within 15 working days of the pass
    assert Notification.objects.filter(recipient=leader_of(p), title__contains="中期评估通过").exists()
    with pytest.raises(WorkflowError, match="不能开展中期评估"):
        evaluations.evaluation_start(proposal=p, kind="mid_term", by=world["manager"])


def test_a_first_fail_suspends_the_project_with_a_deadline_and_tells_the_organisation(world, client):
    with pytest.raises(ValidationError, match="整改期限须晚于今天"):
        evaluate(world, 0, "mid_term", 59.9, rectify_until=TODAY())
    assert project(world).status == P.IN_PROGRESS and not Evaluation.objects.filter(status="submitted").exists()
    Evaluation.objects.all().delete()

    ev = fresh(evaluate(world, 0, "mid_term", 59.9))
    assert (ev.passed, ev.total, ev.rectify_until) == (False, Decimal("59.90"), TODAY() + datetime.timedelta(days=30))
    p = project(world)
    assert p.status == P.SUSPENDED
    note = Notification.objects.get(recipient=leader_of(p), title__contains="限期整改")
    assert f"{ev.rectify_until.year}年{ev.rectify_until.month}月{ev.rectify_until.day}日前完成整改" in note.body
    client.force_login(leader_of(p))
    page = client.get(p.get_absolute_url()).content.decode()
    assert 'id="rectify"' in page and "59.90" in page
    # a custom deadline on another project
    deadline = TODAY() + datetime.timedelta(days=45)
    assert fresh(evaluate(world, 1, "mid_term", 40, rectify_until=deadline)).rectify_until == deadline
    # the one re-evaluation, passed: the project goes on
    again = fresh(evaluate(world, 0, "mid_term", 72))
    assert (again.attempt, again.passed) == (2, True) and project(world).status == P.MID_TERM_PASSED


def test_a_second_fail_terminates_with_the_clawback_and_a_ban_that_blocks_the_next_application(world, client):
    report_spending(world, 0, "12000.50")
    evaluate(world, 0, "mid_term", 50)
    evaluate(world, 0, "mid_term", 45.5, serious_breach=True, reason="挪用项目资金，复评仍不合格")
    p = project(world)
    released = Decimal("30000.00")  # the first tranche: 50% of the 60,000 award
    assert p.status == P.TERMINATED and p.ended_at is not None
    assert (p.eligible_spending, p.clawback_amount, p.clawback_repaid) == (
        Decimal("12000.50"),
        released - Decimal("12000.50"),
        Decimal("0.00"),
    )
    assert p.status_reason == "挪用项目资金，复评仍不合格"
    # no more money: the unpaid tranches are withheld
    assert set(Tranche.objects.filter(proposal=p).exclude(status=T.RELEASED).values_list("status", flat=True)) == {
        T.WITHHELD
    }
    ban = ListEntry.objects.get(organisation=p.organisation, kind=ListEntry.Kind.BAN)
    until = TODAY().replace(year=TODAY().year + 3)
    assert (ban.listed_on, ban.removed_on) == (TODAY(), until)
    note = Notification.objects.get(recipient=leader_of(p), title__contains="项目终止")
    assert "应退回17,999.50元" in note.body and f"至{until.year}年{until.month}月{until.day}日" in note.body
    # the organisation's next application is refused, with the reason and the end date
    next_call = make_call(title="鄂州市凤凰街道下一年度公益创投")
    verdict = may_apply(next_call, p.organisation)
    assert not verdict.eligible
    banned = f"被禁止申报至{until.year}年{until.month}月{until.day}日"
    assert any("严重违约" in r and banned in r for r in verdict.reasons)
    client.force_login(leader_of(p))  # the applicant reads it before typing anything
    html = client.get(reverse("grants:start", args=[next_call.pk])).content.decode()
    assert banned in html and "暂不能申报" in html


def test_the_eligible_spending_entered_is_never_above_released_and_the_clawback_never_negative(world):
    report_spending(world, 1, "40000")  # more than was paid
    evaluate(world, 1, "mid_term", 30)
    with pytest.raises(ValidationError, match="认定的合规支出不能超过已拨付的资金（30,000.00元）"):
        evaluate(world, 1, "mid_term", 30, eligible_spending="30000.01")
    assert project(world, 1).status == P.SUSPENDED
    Evaluation.objects.filter(proposal_id=world["projects"][1], attempt=2).delete()
    evaluate(world, 1, "mid_term", 30)  # no figure: the reports' 40,000, at most the 30,000 paid
    p = project(world, 1)
    assert (p.status, p.eligible_spending, p.clawback_amount) == (P.TERMINATED, Decimal("30000.00"), Decimal("0.00"))
    assert not ListEntry.objects.filter(organisation=p.organisation).exists()  # no serious breach: no ban
    assert evaluations.clawback_for(Decimal("100"), Decimal("250")) == Decimal("0.00")


# ---- 末期评估, 结项 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "total, grade",
    [
        (100, "优秀"),
        (90, "优秀"),
        ("89.99", "良好"),
        (75, "良好"),
        ("74.99", "合格"),
        (60, "合格"),
        ("59.99", "不合格"),
        (0, "不合格"),
    ],
)
def test_grade_bands_at_their_edges(total, grade):
    class Call:
        grade_bands = default_grade_bands()

    assert evaluations.grade_for(Call, Decimal(str(total))) == grade


def test_a_final_evaluation_grades_the_project_and_closure_records_the_funds_returned(world):
    report_spending(world, 0, "20000")
    evaluate(world, 0, "mid_term", 80)
    pay(world, 0, "mid_term")
    # 89.5 of points, a bonus of 0.5: 90.00, 优秀; a deduction is taken off, the total kept within 0..100
    ev = fresh(evaluate(world, 0, "final", "89.5", bonus="0.5"))
    assert (ev.total, ev.grade, ev.passed) == (Decimal("90.00"), "优秀", True)
    p = project(world)
    assert (p.status, p.final_grade) == (P.FINAL_EVALUATED, "优秀")
    with pytest.raises(WorkflowError, match="还有未拨付的资金（尾款）"):
        evaluations.project_close(proposal=p, by=world["manager"], returned_amount="0")
    pay(world, 0, "final")
    released = Decimal("60000.00")
    with pytest.raises(
        ValidationError, match="不能超过已拨付减去已报支出的结余（60,000.00 − 20,000.00 = 40,000.00元）"
    ):
        evaluations.project_close(proposal=project(world), by=world["manager"], returned_amount="40000.01")
    with pytest.raises(PermissionDenied):
        evaluations.project_close(proposal=project(world), by=world["finance"], returned_amount="100")
    assert project(world).status == P.FINAL_EVALUATED
    evaluations.project_close(proposal=project(world), by=world["manager"], returned_amount="40000")
    p = project(world)
    assert (p.status, p.returned_amount, p.eligible_spending) == (P.CLOSED, Decimal("40000.00"), Decimal("20000.00"))
    assert p.ended_at is not None and evaluations.released_total(p) == released
    # the bonus and deduction clip: 100 of points and a bonus stay 100
    assert evaluations.compute_total(Decimal("100"), Decimal("5"), Decimal("0")) == Decimal("100.00")
    assert evaluations.compute_total(Decimal("3"), Decimal("0"), Decimal("10")) == Decimal("0.00")


def test_a_failed_final_is_closed_with_its_grade_and_its_last_tranche_is_never_paid(world):
    evaluate(world, 2, "mid_term", 70)
    pay(world, 2, "mid_term")
    ev = fresh(evaluate(world, 2, "final", "59.9"))
    assert (ev.grade, ev.passed) == ("不合格", False)
    last = Tranche.objects.get(proposal_id=world["projects"][2], gate="final")
    with pytest.raises(WorkflowError):
        tranche_release(tranche=last, by=world["finance"], paid_on=TODAY(), voucher_no="记-尾款")
    evaluations.project_close(proposal=project(world, 2), by=world["manager"], returned_amount="0")
    p = project(world, 2)
    assert (p.status, p.final_grade) == (P.CLOSED, "不合格")
    assert Tranche.objects.get(pk=last.pk).status == T.WITHHELD


def test_clawback_repayments_are_recorded_up_to_what_is_owed(world):
    evaluate(world, 0, "mid_term", 10)
    evaluate(world, 0, "mid_term", 10)
    p = project(world)
    assert p.clawback_amount == Decimal("30000.00")
    with pytest.raises(ValidationError, match="追回金额不能超过尚未追回的30,000.00元"):
        evaluations.record_clawback_repayment(proposal=p, by=world["finance"], amount="30000.01", paid_on=TODAY())
    with pytest.raises(ValidationError, match="到账日期不能晚于今天"):
        evaluations.record_clawback_repayment(
            proposal=p, by=world["finance"], amount="1", paid_on=TODAY() + datetime.timedelta(days=1)
        )
    with pytest.raises(PermissionDenied):
        evaluations.record_clawback_repayment(proposal=p, by=leader_of(p), amount="1", paid_on=TODAY())
    evaluations.record_clawback_repayment(proposal=p, by=world["finance"], amount="10000", paid_on=TODAY())
    evaluations.record_clawback_repayment(proposal=project(world), by=world["manager"], amount="20000", paid_on=TODAY())
    assert project(world).clawback_repaid == Decimal("30000.00")
    with pytest.raises(ValidationError):
        evaluations.record_clawback_repayment(
            proposal=project(world), by=world["finance"], amount="0.01", paid_on=TODAY()
        )


# ---- refused -----------------------------------------------------------------------------------------


def test_scores_out_of_range_are_refused_with_a_message_and_nothing_changes(world):
    manager = world["manager"]
    ev = evaluations.evaluation_start(proposal=project(world), kind="mid_term", by=manager)
    good = evaluations.points_for_total(project(world).call, 80)
    cases = [
        ({**good, "delivery": "30.5"}, "", "", "delivery", "“项目实施”的得分须在0到30分之间。"),
        ({**good, "inputs": "-1"}, "", "", "inputs", "“人力物资投入”的得分须在0到20分之间。"),
        ({**good, "finance": "很好"}, "", "", "finance", "“财务管理”的得分须是数字。"),
        (good, "10.5", "", "bonus", "加分须在0到10分之间。"),
        (good, "", "-2", "deduction", "扣分须在0到10分之间。"),
    ]
    for points, bonus, deduction, key, message in cases:
        for service in (evaluations.evaluation_save, evaluations.evaluation_submit):
            with pytest.raises(ValidationError) as exc:
                service(
                    evaluation=fresh(ev), by=manager, points=points, bonus=bonus, deduction=deduction, comment="意见"
                )
            assert exc.value.message_dict[key] == [message]
    with pytest.raises(ValidationError) as exc:
        evaluations.evaluation_submit(evaluation=fresh(ev), by=manager, points={"delivery": "20"}, comment="")
    assert exc.value.message_dict["inputs"] == ["请为“人力物资投入”打分。"]
    assert exc.value.message_dict["comment"] == ["请填写评估意见。"]
    ev = fresh(ev)
    assert (ev.status, ev.points, ev.total, ev.passed) == (EvaluationStatus.DRAFT, {}, None, None)
    assert project(world).status == P.IN_PROGRESS


def test_only_evaluators_of_the_calls_region_start_and_score(world):
    p = project(world)
    far = staff(Role.CALL_MANAGER, region_tree()["huarong"])
    outsiders = [
        world["finance"],
        far,
        leader_of(p),
        staff(Role.REVIEWER, p.call.region),
        staff(Role.AUDITOR, p.call.region),
    ]
    for user in outsiders:
        with pytest.raises(PermissionDenied, match="您无权开展该项目的评估"):
            evaluations.evaluation_start(proposal=p, kind="mid_term", by=user)
    ev = evaluations.evaluation_start(proposal=p, kind="mid_term", by=world["manager"])
    for user in outsiders:
        with pytest.raises(PermissionDenied):
            evaluations.evaluation_submit(
                evaluation=fresh(ev), by=user, points=evaluations.points_for_total(p.call, 90), comment="好"
            )
    with pytest.raises(WorkflowError, match="中期评估通过后才能开展末期评估"):
        evaluations.evaluation_start(proposal=p, kind="final", by=world["manager"])
    with pytest.raises(WorkflowError, match="已有一次进行中的中期评估（第1次）"):
        evaluations.evaluation_start(proposal=p, kind="mid_term", by=world["manager"])
    assert fresh(ev).status == EvaluationStatus.DRAFT and project(world).status == P.IN_PROGRESS


# ---- the staff screens -------------------------------------------------------------------------------


def test_the_scoring_page_offers_the_rubric_keeps_what_was_typed_and_submits(world, client):
    p = project(world)
    page_url = reverse("grants_admin:proposal", args=[p.pk])
    client.force_login(world["manager"])
    html = client.get(page_url).content.decode()
    assert "开始中期评估" in html and "项目评估" in html and "进度报告" in html
    response = client.post(reverse("grants_admin:proposal_action", args=[p.pk, "start-mid-term"]))
    assert response.status_code == 302
    ev = Evaluation.objects.get(proposal=p)
    url = reverse("grants_admin:evaluation", args=[ev.pk])
    assert url in client.get(page_url).content.decode()

    html = client.get(url).content.decode()
    for text in (
        "项目实施（满分 30）",
        "活动按计划开展，服务对象和数量达到要求。",
        "加分（0–10）",
        "整改期限（如不合格）",
    ):
        assert text in html
    data = read_form(html, action=url).post_data()
    data |= {f"points_{k}": v for k, v in evaluations.points_for_total(p.call, 85).items()} | {"comment": "执行良好。"}
    response = client.post(url, data | {"points_delivery": "31", "action": "submit"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "“项目实施”的得分须在0到30分之间。" in html and 'value="31"' in html and "执行良好。" in html
    assert fresh(ev).status == EvaluationStatus.DRAFT

    assert client.post(url, data | {"action": "save"}).status_code == 302
    assert fresh(ev).points["delivery"] == "25.5" and fresh(ev).total == Decimal("85.00")
    response = client.post(url, data | {"action": "submit"})
    assert response.status_code == 302 and response["Location"].endswith("#evaluations")
    assert project(world).status == P.MID_TERM_PASSED
    html = client.get(page_url).content.decode()
    assert reverse("grants_admin:evaluation_pdf", args=[ev.pk]) in html and "开始末期评估" in html

    # finance of the region reads it, may not score; staff of another region get a 404
    client.force_login(world["finance"])
    assert 'name="points_delivery"' not in client.get(url).content.decode()
    assert client.post(url, data | {"action": "save"}).status_code == 403
    client.force_login(staff(Role.CALL_MANAGER, region_tree()["huarong"]))
    assert client.get(url).status_code == 404
    assert client.get(reverse("grants_admin:evaluation_pdf", args=[ev.pk])).status_code == 404


def test_closure_and_clawback_are_actions_of_the_project_page(world, client):
    evaluate(world, 0, "mid_term", 20)
    evaluate(world, 0, "mid_term", 20)
    p = project(world)
    client.force_login(world["finance"])
    action = reverse("grants_admin:proposal_action", args=[p.pk, "record-clawback"])
    assert action in client.get(p.get_admin_url()).content.decode()
    response = client.post(action, {"record-clawback-amount": "abc", "record-clawback-paid_on": TODAY().isoformat()})
    assert response.status_code == 400 and "请填写追回金额（元）。" in response.content.decode()
    response = client.post(action, {"record-clawback-amount": "5000", "record-clawback-paid_on": TODAY().isoformat()})
    assert response.status_code == 302 and project(world).clawback_repaid == Decimal("5000.00")
    assert "尚欠 <strong>25,000.00</strong> 元" in client.get(p.get_admin_url()).content.decode()


def test_the_evaluation_report_pdf_shows_the_organisation_the_scores_and_a_cjk_font(world, client, tmp_path):
    ev = fresh(evaluate(world, 0, "mid_term", "77.5"))
    client.force_login(world["manager"])
    response = client.get(reverse("grants_admin:evaluation_pdf", args=[ev.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = tmp_path / "evaluation.pdf"
    pdf.write_bytes(response.content)
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils not installed")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    p = project(world)
    for expected in (
        p.organisation.name,
        p.title,
        "公益创投项目中期评估报告",
        "77.50",
        "合格（通过）",
        "项目实施",
        "活动按计划开展",
    ):
        assert expected in text, expected
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    assert "CJK" in fonts


# ---- 评估结果公示 ------------------------------------------------------------------------------------


def test_the_results_are_publicised_for_one_week_and_take_no_objection(world, client, site_pages):
    for i, total in ((0, 92), (1, 70)):
        evaluate(world, i, "mid_term", 80)
        pay(world, i, "mid_term")
        evaluate(world, i, "final", total)
    call = project(world).call
    call.title = "凤凰街道“暖心”公益创投项目"  # a title ending in 项目 is not doubled
    call.save(update_fields=["title"])
    with pytest.raises(PermissionDenied):
        evaluations.publish_evaluation_results(call=call, by=world["finance"])
    client.force_login(world["manager"])  # the call's page offers it
    action = reverse("grants_admin:call_action", args=[call.pk, "publish-evaluation-results"])
    assert action in client.get(call.get_admin_url()).content.decode()
    assert client.post(action).status_code == 302
    publicity = Publicity.objects.get(call=call, kind=PublicityKind.EVALUATION)
    assert (publicity.kind, publicity.opens_on, publicity.closes_on) == (
        PublicityKind.EVALUATION,
        TODAY(),
        TODAY() + datetime.timedelta(days=6),
    )
    assert [(r["title"], r["grade"], r["total"], r["rank"]) for r in publicity.rows] == [
        (project(world, 0).title, "优秀", "92.00", 1),
        (project(world, 1).title, "合格", "70.00", 2),
    ]
    assert not publicity.accepts_objections() and "另有1个项目尚在实施或评估中" in publicity.intro
    assert publicity.title == "凤凰街道“暖心”公益创投项目末期评估结果公示"
    with pytest.raises(WorkflowError, match="已经发布"):
        evaluations.publish_evaluation_results(call=call, by=world["manager"])
    page = Publicity.objects.get(pk=publicity.pk).page
    assert page.live
    html = client.get(page.url).content.decode()
    for text in ("评估结果公示名单", "公示中", "评估等级", "优秀", "92.00", project(world, 0).organisation.name):
        assert text in html
    assert "提交异议" not in html and "拟资助金额合计" not in html


# ---- what grants tells the layers below it ------------------------------------------------------


def test_funded_projects_by_base_counts_the_projects_of_organisations_incubated_there(world):
    from incubator.figures import funded_projects_by_base, load_frames, summary
    from incubator.models import IncubationBase, IncubationStatus
    from tests.incubator.factories import IncubationBaseFactory, incubation_at

    p = project(world)
    base, other = IncubationBaseFactory(), IncubationBaseFactory()
    incubation_at(base, p.organisation, IncubationStatus.IN_INCUBATION, applicant=leader_of(p))
    incubation_at(
        other, project(world, 1).organisation, IncubationStatus.APPLIED, applicant=leader_of(project(world, 1))
    )
    assert funded_projects_by_base([base.pk, other.pk]) == {base.pk: 1, other.pk: 0}
    table = summary(load_frames(IncubationBase.objects.filter(pk__in=[base.pk, other.pk])))
    assert int(table.loc[base.pk, "projects_funded"]) == 1 and int(table.loc[other.pk, "projects_funded"]) == 0


def test_an_excellent_final_grade_enters_the_organisations_record(world, client):
    from orgs.record import record_of

    evaluate(world, 0, "mid_term", 85)
    pay(world, 0, "mid_term")
    evaluate(world, 0, "final", 95)
    p = project(world)
    lines = record_of(p.organisation)
    assert lines[0].label == "获公益创投资助项目" and lines[0].value == "1个（末期评估优秀1个）" and lines[0].highlight
    assert lines[1].label == "末期评估优秀项目" and p.title in lines[1].value
    client.force_login(staff(Role.CALL_MANAGER, p.call.region))
    html = client.get(reverse("orgs_admin:review", args=[p.organisation_id])).content.decode()
    assert "项目业绩" in html and "末期评估优秀项目" in html and p.title in html


# ---- the staff page of a project far along ------------------------------------------------------


def test_the_staff_page_of_a_project_with_reports_tranches_and_evaluations_stays_within_15_queries(world, client):
    """A project with a report, a passed mid-term and its second tranche paid: the page's own
    queries (without the admin shell) stay within the budget of one proposal's staff page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.orgs.test_admin import _own_queries

    report_spending(world, 0, "1000.00")
    evaluate(world, 0, "mid_term", 80)
    pay(world, 0, "mid_term")
    url = reverse("grants_admin:proposal", args=[world["projects"][0]])
    client.force_login(world["manager"])
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "中期评估" in text and "第一阶段" in text
    own = _own_queries(ctx.captured_queries)
    print(f"funded project's staff page: {len(ctx.captured_queries)} queries, {len(own)} of them the page's own")
    assert len(ctx.captured_queries) <= 15, "\n".join(q["sql"][:300] for q in ctx.captured_queries)


def test_points_for_a_total_follow_the_weights_and_add_up_exactly(world):
    call = project(world).call
    for total in ("93", "59.9", "100", "0", "77.7"):
        points = evaluations.points_for_total(call, total)
        assert list(points) == [c["key"] for c in evaluations.rubric_of(call)]
        assert sum(Decimal(v) for v in points.values()) == Decimal(total)
    assert evaluations.points_for_total(call, 100) == {
        "delivery": "30.0",
        "inputs": "20.0",
        "finance": "20.0",
        "outcomes": "30.0",
    }
