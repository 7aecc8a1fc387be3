"""进度报告: who may start, edit and submit a report and in which project states; the
spending per grant budget line against the budget (variance) and KPI progress; photos
(JPG/PNG, 10 MB, public per photo); the portal pages (panel, form round trip, errors kept);
staff review through the project's page; `public_updates` for the public page.

The projects are decided, signed and paid their first tranche through the real services
once for the module (tests.grants.factories.signed_projects, rolled back after it); each
test runs in its own transaction inside it."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_fsm_log.models import StateLog

from accounts.roles import Role
from core.models import Notification
from core.workflow import WorkflowError
from grants.models import FundingSource, ProgressReport, Proposal, ProposalStatus, ReportPhoto, ReportStatus
from grants.selectors.reports import kpi_table, public_updates, reported_spending, spending_table
from grants.services import evaluations, reports
from orgs.models import Membership
from tests.factories import PNG_BYTES, applicant, region_tree, staff
from tests.grants.factories import leader_of, signed_projects
from tests.html_forms import read_form

P = ProposalStatus
R = ReportStatus
pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Two projects of 凤凰街道's call in progress (first tranche paid), rolled back after the module."""
    with django_db_blocker.unblock(), transaction.atomic():
        call, projects, manager, finance = signed_projects(2)
        yield {"call": call, "projects": [p.pk for p in projects], "manager": manager, "finance": finance}
        transaction.set_rollback(True)


def project(world, i=0) -> Proposal:
    return Proposal.objects.select_related("call__region", "organisation").get(pk=world["projects"][i])


def lines(p):
    return [line for line in p.budget_lines.order_by("position", "pk") if line.source == FundingSource.GRANT]


def started(p, by=None, **kw) -> ProgressReport:
    return reports.report_start(
        proposal=p,
        by=by or leader_of(p),
        period=kw.pop("period", "第一阶段"),
        period_start=kw.pop("period_start", TODAY() - datetime.timedelta(days=30)),
        period_end=kw.pop("period_end", TODAY()),
    )


def fresh(report) -> ProgressReport:
    return ProgressReport.objects.select_related("proposal__call__region", "proposal__organisation").get(pk=report.pk)


def filled(p, report, spent: dict, kpi: str = "60", narrative="开展长者助餐20场，服务老人60人。"):
    reports.report_save(
        report=report,
        by=leader_of(p),
        fields={"narrative": narrative, "activities_held": 20, "participants": 400, "beneficiaries": 60},
        spending=spent,
        kpi_progress={str(p.kpis.get().pk): kpi},
    )
    return fresh(report)


def submitted(p, spent: dict, **kw) -> ProgressReport:
    report = filled(p, started(p, **{k: v for k, v in kw.items() if k.startswith("period")}), spent)
    reports.report_submit(report=report, by=leader_of(p))
    return fresh(report)


def _row(obj) -> dict:
    return type(obj).objects.filter(pk=obj.pk).values().get()


# ---- who and when ------------------------------------------------------------------------------------


def test_the_leader_or_contact_start_edit_and_submit_others_are_refused(world):
    p = project(world)
    org = p.organisation
    contact, finance_member = applicant(name="项目联系人"), applicant(name="组织财务")
    org.memberships.create(user=contact, role=Membership.Role.CONTACT)
    org.memberships.create(user=finance_member, role=Membership.Role.FINANCE)
    outsider = leader_of(project(world, 1))  # another organisation's 负责人
    for user in (finance_member, outsider, world["manager"], world["finance"]):
        with pytest.raises(PermissionDenied, match="只有该组织的负责人或项目联系人"):
            started(p, by=user)
    assert not ProgressReport.objects.filter(proposal=p).exists()

    report = started(p, by=contact)
    assert (report.status, report.created_by, report.period) == (R.DRAFT, contact, "第一阶段")
    with pytest.raises(PermissionDenied):
        reports.report_save(report=fresh(report), by=finance_member, fields={"narrative": "改掉"})
    report = filled(p, fresh(report), {str(lines(p)[0].pk): "100"})
    with pytest.raises(PermissionDenied):
        reports.report_submit(report=report, by=world["manager"])
    reports.report_submit(report=report, by=contact)
    report = fresh(report)
    assert report.status == R.SUBMITTED and report.submitted_at is not None
    assert StateLog.objects.for_(report).filter(transition="submit", by=contact).exists()
    # the call managers of the region are told
    assert Notification.objects.filter(recipient=world["manager"], title__contains="进度报告待审阅").exists()
    # a submitted report is locked
    with pytest.raises(WorkflowError, match="已提交，不能再修改"):
        reports.report_save(report=report, by=contact, fields={"narrative": "改掉"})


def test_bad_period_and_an_empty_narrative_are_said_in_chinese(world):
    p = project(world)
    with pytest.raises(ValidationError) as exc:
        started(p, period=" ", period_start=TODAY(), period_end=TODAY() - datetime.timedelta(days=1))
    assert exc.value.message_dict == {"period": ["请填写报告期，如“2027年3月”或“第一阶段”。"]}
    with pytest.raises(ValidationError) as exc:
        started(p, period_start=TODAY(), period_end=TODAY() - datetime.timedelta(days=1))
    assert exc.value.message_dict == {"period_end": ["报告期结束日期不能早于开始日期。"]}
    report = started(p)
    with pytest.raises(ValidationError) as exc:
        reports.report_submit(report=fresh(report), by=leader_of(p))
    assert exc.value.message_dict == {"narrative": ["请填写工作情况后再提交。"]}
    assert fresh(report).status == R.DRAFT


def _close_with_final_fail(p, world):
    """Mid-term passed, final 不合格 and closed through the real services."""
    manager = world["manager"]
    for kind, score in (("mid_term", 80), ("final", 50)):
        ev = evaluations.evaluation_start(proposal=project(world), kind=kind, by=manager)
        points = {
            c["key"]: str((Decimal(str(c["weight"])) * score / 100).quantize(Decimal("0.1")))
            for c in evaluations.rubric_of(p.call)
        }
        evaluations.evaluation_submit(
            evaluation=type(ev).objects.get(pk=ev.pk), by=manager, points=points, comment="评估意见。"
        )
    evaluations.project_close(proposal=project(world), by=manager, returned_amount="0")
    return project(world)


def test_a_report_on_a_closed_project_is_refused_and_changes_nothing(world, client):
    p = project(world)
    draft = filled(p, started(p), {str(lines(p)[0].pk): "100"})
    p = _close_with_final_fail(p, world)
    assert p.status == P.CLOSED
    before, count = _row(draft), ProgressReport.objects.count()
    with pytest.raises(WorkflowError, match="项目当前状态为“已结项”，不能新建、修改或提交进度报告"):
        started(p)
    with pytest.raises(WorkflowError, match="已结项"):
        reports.report_save(report=fresh(draft), by=leader_of(p), fields={"narrative": "改掉"})
    with pytest.raises(WorkflowError, match="已结项"):
        reports.report_submit(report=fresh(draft), by=leader_of(p))
    # the portal: no 新建报告, and a POST is refused with the reason
    client.force_login(leader_of(p))
    page = client.get(p.get_absolute_url()).content.decode()
    assert 'id="reports"' in page and 'id="report-new"' not in page
    response = client.post(reverse("grants:report_new", args=[p.pk]), {"period": "x"}, follow=True)
    assert "不能新建、修改或提交进度报告" in response.content.decode()
    response = client.post(reverse("grants:report", args=[p.pk, draft.pk]), {"narrative": "改掉"}, follow=True)
    assert "项目当前状态为“已结项”" in response.content.decode()
    assert _row(draft) == before and ProgressReport.objects.count() == count


def test_a_project_not_yet_under_way_takes_no_report(world):
    from tests.grants.factories import approved_call

    _call, [p], _manager = approved_call(1)
    with pytest.raises(WorkflowError, match="项目当前状态为“批复立项”"):
        started(Proposal.objects.select_related("call__region", "organisation").get(pk=p.pk))


# ---- what is computed ----------------------------------------------------------------------------------


def test_spending_to_date_per_line_against_the_budget_and_kpi_progress(world):
    p = project(world)
    personnel, activity = lines(p)  # 人员费用 20,000 and 活动费用 40,000 of the grant (factories.budget)
    assert (personnel.amount, activity.amount) == (Decimal("20000.00"), Decimal("40000.00"))
    first = submitted(p, {str(personnel.pk): "8000", str(activity.pk): "10000.5"})
    second = submitted(
        p,
        {str(personnel.pk): "14000"},
        period_start=TODAY() + datetime.timedelta(days=1),
        period_end=TODAY() + datetime.timedelta(days=30),
    )
    draft = filled(p, started(p, period="第三阶段"), {str(activity.pk): "99999"})  # a draft counts for nobody

    table = spending_table(p)
    rows = {r.line.pk: r for r in table.rows}
    assert rows[personnel.pk].to_date == Decimal("22000.00")
    assert rows[personnel.pk].variance == Decimal("2000.00") and rows[personnel.pk].over
    assert rows[personnel.pk].variance_percent == Decimal("10.00")
    assert rows[personnel.pk].variance_percent_text == "+10.00%"
    assert rows[activity.pk].to_date == Decimal("10000.50")
    assert rows[activity.pk].variance == Decimal("-29999.50") and not rows[activity.pk].over
    assert rows[activity.pk].variance_percent == Decimal("-75.00")
    assert (table.budget, table.to_date, table.total.variance) == (
        Decimal("60000.00"),
        Decimal("32000.50"),
        Decimal("-27999.50"),
    )
    assert reported_spending(p) == Decimal("32000.50")
    # one report's own period beside the earlier ones
    mine = spending_table(p, report=second, reports=[first])
    assert {r.line.pk: r.this_period for r in mine.rows} == {
        personnel.pk: Decimal("14000.00"),
        activity.pk: Decimal("0.00"),
    }
    # KPI: the value the latest counted report reached, against the target (120 老人)
    [kpi] = kpi_table(p)
    assert (kpi.target, kpi.reached, kpi.percent) == (Decimal("120.00"), Decimal("60.00"), Decimal("50.00"))
    [with_draft] = kpi_table(p, report=filled(p, draft, {}, kpi="90"))
    assert with_draft.percent == Decimal("75.00")


def test_amounts_are_checked_and_nothing_is_saved_on_an_error(world):
    p = project(world)
    personnel, activity = lines(p)
    self_line = p.budget_lines.get(source=FundingSource.SELF)
    report = started(p)
    before = _row(report)
    with pytest.raises(ValidationError) as exc:
        reports.report_save(
            report=fresh(report),
            by=leader_of(p),
            fields={"narrative": "写了", "participants": "-3"},
            spending={str(personnel.pk): "-1", str(activity.pk): "12.345"},
            kpi_progress={str(p.kpis.get().pk): "很多"},
        )
    errors = exc.value.message_dict
    assert errors[f"spending_{personnel.pk}"] == ["“项目社工补贴”的支出须是不小于0的数。"]
    assert errors[f"spending_{activity.pk}"] == ["“社区活动物料”的支出最多保留两位小数。"]
    assert errors[f"kpi_{p.kpis.get().pk}"] == ["“服务老人”的完成值须是数字。"]
    assert errors["participants"] == ["参与人次须在0到10,000,000之间。"]
    with pytest.raises(ValidationError, match="支出只能填在本项目申请资助的预算科目上"):
        reports.report_save(report=fresh(report), by=leader_of(p), spending={str(self_line.pk): "10"})
    assert _row(report) == before


# ---- photos ---------------------------------------------------------------------------------------


def test_photos_are_jpg_or_png_of_10_mb_at_most_each_public_or_not(world):
    p = project(world)
    report = started(p)
    leader = leader_of(p)
    with pytest.raises(ValidationError) as exc:
        reports.photo_add(report=fresh(report), by=leader, upload=SimpleUploadedFile("活动.png", b"not an image"))
    assert "只接受 JPG、PNG" in exc.value.message_dict["photo"][0]
    big = SimpleUploadedFile("大图.png", PNG_BYTES + b"0" * (10 * 1024 * 1024))
    with pytest.raises(ValidationError, match="超过了 10 MB 的上限"):
        reports.photo_add(report=fresh(report), by=leader, upload=big)
    assert not ReportPhoto.objects.filter(report=report).exists()

    photo = reports.photo_add(
        report=fresh(report), by=leader, upload=SimpleUploadedFile("活动.png", PNG_BYTES), caption="助餐现场"
    )
    assert (photo.caption, photo.public) == ("助餐现场", False)
    assert photo.image.storage.exists(photo.image.name)
    reports.report_save(report=fresh(report), by=leader, photos={photo.pk: {"public": True, "caption": "助餐现场"}})
    assert ReportPhoto.objects.get(pk=photo.pk).public is True
    reports.photo_remove(photo=ReportPhoto.objects.get(pk=photo.pk), by=leader)
    assert not ReportPhoto.objects.filter(pk=photo.pk).exists()


# ---- the public page --------------------------------------------------------------------------------


def test_public_updates_hold_only_the_public_text_and_photos_of_submitted_reports(world):
    p = project(world)
    leader = leader_of(p)
    report = started(p)
    reports.report_save(
        report=fresh(report),
        by=leader,
        fields={"narrative": "探访独居老人王秀英、李建国。", "public_text": "本期开展助餐20场。"},
        new_photos=[
            {"upload": SimpleUploadedFile("a.png", PNG_BYTES), "caption": "志愿者合影", "public": True},
            {"upload": SimpleUploadedFile("b.png", PNG_BYTES), "caption": "王秀英老人近照", "public": False},
        ],
    )
    assert public_updates(p) == []  # a draft is the organisation's own
    reports.report_submit(report=fresh(report), by=leader)
    reports.report_review(report=fresh(report), by=world["manager"], comment="请补充李建国的签到表。")
    draft = started(p, period="第二阶段")
    reports.report_save(report=fresh(draft), by=leader, fields={"public_text": "草稿里的公开内容"})

    public = ReportPhoto.objects.get(report=report, public=True)
    updates = public_updates(p)
    assert updates == [
        {
            "period": "第一阶段",
            "period_start": report.period_start,
            "period_end": report.period_end,
            "text": "本期开展助餐20场。",
            "photos": [{"id": public.pk, "caption": "志愿者合影"}],
        }
    ]
    shown = repr(updates)
    for private in ("王秀英", "李建国", "草稿", str(leader), leader.name, world["manager"].name):
        assert private not in shown
    assert ReportPhoto.objects.get(report=report, public=False).pk not in {
        ph["id"] for u in updates for ph in u["photos"]
    }


# ---- the portal --------------------------------------------------------------------------------------


def test_the_project_page_lists_the_reports_and_offers_a_new_one(world, client):
    p = project(world)
    client.force_login(leader_of(p))
    page = client.get(p.get_absolute_url()).content.decode()
    assert "进度报告" in page and reverse("grants:report_new", args=[p.pk]) in page
    response = client.post(
        reverse("grants:report_new", args=[p.pk]),
        {
            "period": "2026年12月",
            "period_start": TODAY().isoformat(),
            "period_end": (TODAY() - datetime.timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 400 and "报告期结束日期不能早于开始日期。" in response.content.decode()
    assert 'value="2026年12月"' in response.content.decode()
    response = client.post(
        reverse("grants:report_new", args=[p.pk]),
        {"period": "2026年12月", "period_start": TODAY().isoformat(), "period_end": TODAY().isoformat()},
    )
    report = ProgressReport.objects.get(proposal=p)
    assert response.status_code == 302 and response["Location"] == reverse("grants:report", args=[p.pk, report.pk])
    assert "2026年12月" in client.get(p.get_absolute_url()).content.decode()
    # someone of no organisation of the project: a 404; anonymous: the log-in page
    client.force_login(applicant())
    assert client.get(reverse("grants:report", args=[p.pk, report.pk])).status_code == 404
    client.logout()
    assert client.get(reverse("grants:report", args=[p.pk, report.pk])).status_code == 302


def test_the_report_form_saved_unchanged_changes_nothing_and_keeps_input_on_errors(world, client):
    p = project(world)
    personnel, activity = lines(p)
    report = filled(p, started(p), {str(personnel.pk): "1200", str(activity.pk): "350.5"})
    leader = leader_of(p)
    photo = reports.photo_add(
        report=fresh(report), by=leader, upload=SimpleUploadedFile("a.png", PNG_BYTES), caption="现场"
    )
    client.force_login(leader)
    url = reverse("grants:report", args=[p.pk, report.pk])
    before, photo_before = _row(report), _row(photo)

    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    for text in ("项目社工补贴", "20,000.00", "偏差率", "服务老人", "完成率", "50.00%", "可以公开"):
        assert text in html
    form = read_form(html, action=url)
    response = client.post(url, form.post_data())
    assert response.status_code == 302
    assert _row(report) == before and _row(photo) == photo_before

    data = form.post_data() | {f"spending_{activity.pk}": "3,5x", "participants": "-1", "narrative": "改过的工作情况"}
    response = client.post(url, data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "进度报告没有保存" in html and "“社区活动物料”的支出须是数字。" in html
    assert 'value="3,5x"' in html and "改过的工作情况" in html
    assert _row(report) == before

    response = client.post(url, form.post_data() | {"action": "submit"})
    assert response.status_code == 302 and fresh(report).status == R.SUBMITTED
    html = client.get(url).content.decode()
    assert 'id="report-form"' not in html and "1,200.00" in html


# ---- staff --------------------------------------------------------------------------------------------


def test_a_call_manager_reviews_from_the_project_page_others_are_refused(world, client):
    p = project(world)
    personnel, _ = lines(p)
    report = submitted(p, {str(personnel.pk): "21000"})
    page_url = reverse("grants_admin:proposal", args=[p.pk])
    action = reverse("grants_admin:report_action", args=[report.pk, "review"])

    client.force_login(world["finance"])  # in the region, may read, may not review
    html = client.get(page_url).content.decode()
    assert "第一阶段" in html and "+1,000.00" in html and "+5.00%" in html  # the variance of 人员费用
    assert action not in html
    assert client.post(action, {"review-reason": "越权"}).status_code == 403
    client.force_login(staff(Role.CALL_MANAGER, region_tree()["huarong"]))  # another district
    assert client.post(action, {"review-reason": "越权"}).status_code == 404
    assert client.get(reverse("grants_admin:report", args=[report.pk])).status_code == 404
    assert fresh(report).status == R.SUBMITTED

    client.force_login(world["manager"])
    html = client.get(page_url).content.decode()
    assert action in html and reverse("grants_admin:report", args=[report.pk]) in html
    response = client.post(action, {"review-reason": "人员费用超出预算，请说明。"})
    assert response.status_code == 302 and response["Location"].endswith("#reports")
    report = fresh(report)
    assert (report.status, report.staff_comment) == (R.REVIEWED, "人员费用超出预算，请说明。")
    assert Notification.objects.filter(recipient=leader_of(p), body__contains="人员费用超出预算").exists()
    html = client.get(reverse("grants_admin:report", args=[report.pk])).content.decode()
    assert "人员费用超出预算，请说明。" in html and "21,000.00" in html
    client.force_login(leader_of(p))
    assert "人员费用超出预算，请说明。" in client.get(reverse("grants:report", args=[p.pk, report.pk])).content.decode()
