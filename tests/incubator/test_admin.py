"""The operator's side in the Wagtail admin (/admin/incubator/): the queue with its overdue
flag, each action through the page, who is refused, promotions and base management."""

import datetime
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, reverse_lazy
from django_fsm_log.models import StateLog

from accounts.roles import Role
from core.workdays import add_workdays
from core.workflow import CREATED
from incubator import services
from incubator.models import (
    CapacityAssessment,
    Incubation,
    IncubationBase,
    IncubationStatus,
    Promotion,
    PromotionState,
    Residence,
    ServiceLog,
)
from orgs.models import OrgType
from tests.charts import chart_option, series
from tests.factories import applicant, make_uscc, organisation_with_leader, staff
from tests.incubator.factories import IncubationBaseFactory, base_operator, incubation_at
from tests.incubator.test_views import _bulk_incubations
from tests.queries import page_queries

pytestmark = pytest.mark.django_db
S = IncubationStatus
SCORES = ("governance", "finance", "projects", "team", "resources")
QUEUE = "/admin/incubator/incubations/"


@pytest.fixture
def base(regions):
    return IncubationBaseFactory(name="凤凰街道社会组织共享工作站", region=regions["fenghuang"], desks=3)


@pytest.fixture
def operator(base):
    return base_operator(base, name="凤凰站运营")


def page_url(inc) -> str:
    return reverse("incubator_admin:incubation", args=[inc.pk])


def action_url(inc, action) -> str:
    return reverse("incubator_admin:incubation_action", args=[inc.pk, action])


def _logs(inc):
    return (
        StateLog.objects.filter(object_id=inc.pk, content_type__model="incubation")
        .exclude(transition=CREATED)
        .order_by("pk")
    )


def _assess(inc, by, score=80, stage="mid"):
    return services.assessment_record(incubation=inc, by=by, stage=stage, scores=dict.fromkeys(SCORES, score))


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# ---- the queue -------------------------------------------------------------------------------------------


def test_the_queue_shows_the_bases_in_scope_only(client, regions, base, operator):
    mine = incubation_at(base, by=operator)
    gulou = IncubationBaseFactory(name="古楼街道共享工作站", region=regions["gulou"])
    theirs = incubation_at(gulou)
    client.force_login(operator)

    response = client.get(QUEUE)

    assert response.status_code == 200
    html = response.content.decode()
    assert mine.organisation.name in html and theirs.organisation.name not in html
    # the district's operator sees both streets
    client.force_login(staff(Role.BASE_OPERATOR, regions["echeng"]))
    html = client.get(QUEUE).content.decode()
    assert mine.organisation.name in html and theirs.organisation.name in html


def test_filters_by_base_and_status(client, regions, base, operator):
    applied = incubation_at(base, by=operator)
    admitted = incubation_at(base, status=S.ADMITTED, by=operator)
    community = IncubationBaseFactory(
        name="凤凰社区共享工作室", level=4, region=regions["fenghuang_c"], parent=base, desks=2
    )
    at_community = incubation_at(community, by=operator)
    client.force_login(operator)

    by_status = client.get(QUEUE, {"status": S.ADMITTED}).context["page_obj"].object_list
    assert list(by_status) == [admitted]
    by_base = client.get(QUEUE, {"base": community.pk}).context["page_obj"].object_list
    assert list(by_base) == [at_community]
    assert {i.pk for i in client.get(QUEUE).context["page_obj"].object_list} == {
        applied.pk,
        admitted.pk,
        at_community.pk,
    }


def _apply_on(day: datetime.date, base, operator):
    with mock.patch("django.utils.timezone.localdate", return_value=day):
        return incubation_at(base, by=operator)


@pytest.mark.parametrize(
    "applied_on, due, not_yet, overdue_on",
    [
        # Monday + 5 working days = next Monday; flagged from Tuesday
        (datetime.date(2025, 3, 3), datetime.date(2025, 3, 10), datetime.date(2025, 3, 10), datetime.date(2025, 3, 11)),
        # weekends do not count: Friday → next Friday
        (datetime.date(2025, 3, 7), datetime.date(2025, 3, 14), datetime.date(2025, 3, 14), datetime.date(2025, 3, 17)),
        # 国庆 2025 (1–8 Oct off, Sat 11 Oct a working day): 30 Sep → 14 Oct, not 7 Oct
        (
            datetime.date(2025, 9, 30),
            datetime.date(2025, 10, 14),
            datetime.date(2025, 10, 10),
            datetime.date(2025, 10, 15),
        ),
    ],
)
def test_applications_older_than_five_working_days_are_flagged(
    client, base, operator, applied_on, due, not_yet, overdue_on
):
    inc = _apply_on(applied_on, base, operator)
    assert inc.screening_due == due == add_workdays(applied_on, 5)
    client.force_login(operator)

    with mock.patch("django.utils.timezone.localdate", return_value=not_yet):
        response = client.get(QUEUE)
    assert not response.context["page_obj"].object_list[0].is_overdue
    assert 'id="overdue-alert"' not in response.content.decode()

    with mock.patch("django.utils.timezone.localdate", return_value=overdue_on):
        response = client.get(QUEUE)
        detail = client.get(page_url(inc)).content.decode()
    row = response.context["page_obj"].object_list[0]
    assert row.is_overdue and inc.screening_overdue(overdue_on)
    html = response.content.decode()
    assert 'id="overdue-alert"' in html and "有 1 份入驻申请已超过初审时限" in html
    assert "⚠ 超期 1 个工作日" in html
    assert "已超期 1 个工作日" in detail


def test_overdue_applications_come_first_and_the_flag_ends_with_screening(client, base, operator):
    fresh = _apply_on(datetime.date(2025, 3, 12), base, operator)
    old = _apply_on(datetime.date(2025, 3, 3), base, operator)
    screened_old = _apply_on(datetime.date(2025, 3, 3), base, operator)
    services.incubation_screen(incubation=screened_old, by=operator, accept=True)
    client.force_login(operator)
    today = datetime.date(2025, 3, 14)

    with mock.patch("django.utils.timezone.localdate", return_value=today):
        rows = list(client.get(QUEUE).context["page_obj"].object_list)
        only = list(client.get(QUEUE, {"overdue": "on"}).context["page_obj"].object_list)
        newest_first = list(client.get(QUEUE, {"order": "-applied_on"}).context["page_obj"].object_list)

    assert rows[0] == old and rows[0].is_overdue
    assert not any(r.is_overdue for r in rows[1:]) and {r.pk for r in rows[1:]} == {fresh.pk, screened_old.pk}
    assert only == [old]
    assert newest_first[0] == fresh


def test_the_queue_has_fifty_a_page(client, base, operator):
    _bulk_incubations(base, 60)
    client.force_login(operator)
    response = client.get(QUEUE)
    assert len(response.context["page_obj"].object_list) == 50
    assert len(client.get(QUEUE, {"p": 2}).context["page_obj"].object_list) == 10


def test_the_queue_does_not_grow_with_the_number_of_stays(client, base, operator):
    client.force_login(operator)
    _apply_on(datetime.date(2025, 3, 3), base, operator)  # one overdue
    _bulk_incubations(base, 4)
    with CaptureQueriesContext(connection) as small:
        assert client.get(QUEUE).status_code == 200
    _bulk_incubations(base, 195)
    assert Incubation.objects.count() == 200
    with CaptureQueriesContext(connection) as large:
        response = client.get(QUEUE)
    assert response.status_code == 200 and response.context["page_obj"].paginator.count == 200
    assert len(large.captured_queries) == len(small.captured_queries)
    assert len(large.captured_queries) <= 15


# ---- each action through the page --------------------------------------------------------------------


def _post(client, inc, action, prefix, **fields):
    return client.post(action_url(inc, action), {f"{prefix}-{k}": v for k, v in fields.items()})


TRANSITIONS = [
    # (action, form prefix, from status, fields, to status, audit reason contains)
    ("screen-accept", "screen", S.APPLIED, {"reason": ""}, S.SCREENED, ""),
    ("screen-reject", "screen", S.APPLIED, {"reason": "服务对象不在本街道。"}, S.REJECTED, "服务对象不在本街道。"),
    ("admit", "admit", S.SCREENED, {"residence": "desk", "desk_label": "B-201"}, S.ADMITTED, "签订入驻协议"),
    ("begin", "begin", S.ADMITTED, {}, S.IN_INCUBATION, ""),
    ("mid-start", "mid", S.IN_INCUBATION, {}, S.MID_REVIEW, ""),
    ("mid-pass", "mid", S.MID_REVIEW, {"reason": "各项指标达到中期要求。"}, S.IN_INCUBATION, "各项指标达到中期要求"),
    (
        "extend",
        "extend",
        S.IN_INCUBATION,
        {"new_end": "2031-12-31", "reason": "项目第二期尚未结束。"},
        S.EXTENDED,
        "续驻至2031年12月31日",
    ),
    ("withdraw", "withdraw", S.IN_INCUBATION, {"reason": "组织已迁出本街道。"}, S.WITHDRAWN, "组织已迁出本街道。"),
]


@pytest.mark.parametrize("action, prefix, start, fields, target, reason", TRANSITIONS, ids=[t[0] for t in TRANSITIONS])
def test_each_transition_through_the_page(client, base, operator, action, prefix, start, fields, target, reason):
    inc = incubation_at(base, status=start, by=operator)
    before = _logs(inc).count()
    client.force_login(operator)
    page = client.get(page_url(inc)).content.decode()
    assert action_url(inc, action) in page  # offered in this status

    response = _post(client, inc, action, prefix, **fields)

    assert response.status_code == 302 and response.url == page_url(inc), (
        _messages(response) if response.context else ""
    )
    inc.refresh_from_db()
    assert inc.status == target
    logs = _logs(inc)
    assert logs.count() == before + 1
    last = logs.last()
    assert last.by == operator and last.state == target and reason in (last.description or "")
    assert inc.organisation.name in _messages(client.get(response.url))[0]


def test_graduation_with_the_checklist_and_a_registration_during_incubation(client, base, operator):
    group, _ = organisation_with_leader(org_type=OrgType.PREPARING, uscc=None, name="雷山社区海马爸比亲子服务队")
    inc = incubation_at(base, org=group, status=S.IN_INCUBATION, by=operator)
    _assess(inc, operator, 75, stage="graduation")
    client.force_login(operator)
    uscc = make_uscc(777)

    response = _post(
        client,
        inc,
        "graduate",
        "graduate",
        registered="on",
        governance="on",
        project="on",
        new_org_type=OrgType.SERVICE_ORG,
        new_uscc=uscc.lower(),
        reason="各项条件满足。",
    )

    assert response.status_code == 302
    inc.refresh_from_db()
    group.refresh_from_db()
    assert inc.status == S.GRADUATED and inc.certificate_no and inc.registered_during
    assert group.org_type == OrgType.SERVICE_ORG and group.uscc == uscc
    assert _logs(inc).last().state == S.GRADUATED
    html = client.get(page_url(inc)).content.decode()
    assert inc.certificate_no in html and reverse("incubator:certificate_pdf", args=[inc.pk]) in html


def test_graduating_without_the_checklist_shows_the_blockers_and_changes_nothing(client, base, operator):
    group, _ = organisation_with_leader(org_type=OrgType.PREPARING, uscc=None)
    inc = incubation_at(base, org=group, status=S.MID_REVIEW, by=operator)
    _assess(inc, operator, 50)
    before = _logs(inc).count()
    client.force_login(operator)

    response = _post(client, inc, "graduate", "graduate", governance="on", reason="想提前出壳")

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="graduation-blockers"' in html
    for blocker in (
        "尚未完成登记或备案。",
        "尚未独立运作至少一个项目。",
        "最近一次能力评估 50.00 分，低于出壳要求的 60.00 分。",
    ):
        assert blocker in html
    assert "治理结构尚不健全" not in html.split('id="graduation-blockers"')[1].split("</ul>")[0]
    assert any(m.startswith("不能出壳：") for m in _messages(response))
    assert "想提前出壳" in html  # what was typed is kept
    inc.refresh_from_db()
    assert inc.status == S.MID_REVIEW and not inc.certificate_no and _logs(inc).count() == before


def test_admitting_beyond_capacity_shows_the_message_and_changes_nothing(client, regions, operator):
    small = IncubationBaseFactory(name="澜湖社区共享工作室", region=regions["fenghuang"], desks=1, virtual_places=0)
    incubation_at(small, status=S.ADMITTED, by=operator)
    waiting = incubation_at(small, status=S.SCREENED, by=operator)
    before = _logs(waiting).count()
    client.force_login(operator)

    response = _post(client, waiting, "admit", "admit", residence=Residence.DESK, desk_label="C-09")

    assert response.status_code == 400
    assert "澜湖社区共享工作室的实体工位已满，无法入驻。" in " ".join(_messages(response))
    assert 'value="C-09"' in response.content.decode()
    waiting.refresh_from_db()
    small.refresh_from_db()
    assert waiting.status == S.SCREENED and not waiting.agreement_no and _logs(waiting).count() == before
    assert small.desks_used == 1
    # the virtual places are full too (there are none)
    response = _post(client, waiting, "admit", "admit", residence=Residence.VIRTUAL)
    assert response.status_code == 400 and "虚拟入驻名额已满" in " ".join(_messages(response))


def test_a_desk_needs_its_label(client, base, operator):
    inc = incubation_at(base, status=S.SCREENED, by=operator)
    client.force_login(operator)
    response = _post(client, inc, "admit", "admit", residence=Residence.DESK, desk_label="")
    assert response.status_code == 400
    assert "实体入驻请填写工位或房间号。" in response.content.decode()
    inc.refresh_from_db()
    assert inc.status == S.SCREENED


def test_rejecting_needs_a_reason(client, base, operator):
    inc = incubation_at(base, by=operator)
    client.force_login(operator)
    response = _post(client, inc, "screen-reject", "screen", reason="")
    assert response.status_code == 400
    assert "初审不通过时请填写理由" in " ".join(_messages(response))
    inc.refresh_from_db()
    assert inc.status == S.APPLIED


def test_withdrawing_twice_is_refused(client, base, operator):
    inc = incubation_at(base, status=S.IN_INCUBATION, by=operator)
    client.force_login(operator)
    assert _post(client, inc, "withdraw", "withdraw", reason="不再需要工位。").status_code == 302
    page = client.get(page_url(inc)).content.decode()
    assert action_url(inc, "withdraw") not in page  # no longer offered

    response = _post(client, inc, "withdraw", "withdraw", reason="再次退驻")

    assert response.status_code == 400
    assert "该组织已经退驻，无需重复办理。" in _messages(response)
    assert _logs(inc).filter(state=S.WITHDRAWN).count() == 1
    base.refresh_from_db()
    assert base.desks_used == 0


def test_extending_is_offered_once(client, base, operator):
    inc = incubation_at(base, status=S.EXTENDED, by=operator)
    services.incubation_mid_review_start(incubation=inc, by=operator)
    client.force_login(operator)
    assert action_url(inc, "extend") not in client.get(page_url(inc)).content.decode()
    response = _post(client, inc, "extend", "extend", new_end="2035-01-01", reason="再续一次")
    assert response.status_code == 400 and "每个组织只能续驻一次。" in _messages(response)


def test_only_the_actions_of_the_current_status_are_offered(client, base, operator):
    inc = incubation_at(base, by=operator)
    client.force_login(operator)
    html = client.get(page_url(inc)).content.decode()
    assert action_url(inc, "screen-accept") in html and action_url(inc, "screen-reject") in html
    for later in ("admit", "begin", "graduate", "withdraw", "service-log", "assessment", "extend"):
        assert action_url(inc, later) not in html
    # and a POST of one that is not valid now is refused by the service
    response = _post(client, inc, "begin", "begin")
    assert response.status_code == 400 and "不能执行“开始孵化”" in " ".join(_messages(response))


def test_recording_a_service_and_an_assessment(client, base, operator):
    inc = incubation_at(base, status=S.IN_INCUBATION, by=operator)
    client.force_login(operator)

    response = _post(
        client,
        inc,
        "service-log",
        "service-log",
        kind="mentoring",
        title="项目设计一对一辅导",
        date="2026-03-02",
        hours="1.5",
        mentor="刘督导",
        participants="2",
        notes="梳理了需求调研方法。",
    )
    assert response.status_code == 302
    log = ServiceLog.objects.get(incubation=inc)
    assert log.title == "项目设计一对一辅导" and log.recorded_by == operator and str(log.hours) == "1.5"

    response = _post(
        client,
        inc,
        "assessment",
        "assessment",
        stage="admission",
        assessed_on="2026-03-02",
        governance="60",
        finance="70",
        projects="80",
        team="50",
        resources="40",
        comment="财务制度待完善。",
    )
    assert response.status_code == 302
    a = CapacityAssessment.objects.get(incubation=inc)
    # 60*25 + 70*20 + 80*25 + 50*15 + 40*15 = 6250 → 62.50
    assert str(a.total) == "62.50" and a.assessor == operator
    html = client.get(page_url(inc)).content.decode()
    assert "项目设计一对一辅导" in html and "62.50" in html
    assert series(chart_option(html, "assessments"))["加权总分"] == [62.5]


def test_a_bad_service_log_keeps_what_was_typed(client, base, operator):
    inc = incubation_at(base, status=S.IN_INCUBATION, by=operator)
    client.force_login(operator)
    response = _post(
        client, inc, "service-log", "service-log", kind="training", title="志愿者培训", date="2026-03-02", hours="30"
    )
    assert response.status_code == 400 and not ServiceLog.objects.exists()
    assert 'value="志愿者培训"' in response.content.decode()


def test_an_assessment_score_out_of_range_is_refused(client, base, operator):
    inc = incubation_at(base, status=S.IN_INCUBATION, by=operator)
    client.force_login(operator)
    scores = dict.fromkeys(SCORES, "70") | {"finance": "120"}
    response = _post(client, inc, "assessment", "assessment", stage="mid", **scores)
    assert response.status_code == 400 and not CapacityAssessment.objects.exists()


# ---- who is refused ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.CALL_MANAGER])
def test_staff_who_may_look_see_the_page_read_only_and_are_refused_on_post(client, regions, base, operator, role):
    inc = incubation_at(base, by=operator)
    client.force_login(staff(role, regions["city"]))

    assert inc.organisation.name in client.get(QUEUE).content.decode()
    html = client.get(page_url(inc)).content.decode()
    assert 'id="read-only"' in html and action_url(inc, "screen-accept") not in html

    response = _post(client, inc, "screen-accept", "screen", reason="")

    assert response.status_code == 403 and "您没有“初审通过”的权限" in response.content.decode()
    inc.refresh_from_db()
    assert inc.status == S.APPLIED and _logs(inc).count() == 0


def test_an_operator_of_another_street_gets_404(client, regions, base, operator):
    inc = incubation_at(base, by=operator)
    client.force_login(staff(Role.BASE_OPERATOR, regions["gulou"]))
    assert client.get(page_url(inc)).status_code == 404
    assert _post(client, inc, "screen-accept", "screen").status_code == 404
    inc.refresh_from_db()
    assert inc.status == S.APPLIED


def test_an_applicant_and_anonymous_users_do_not_get_in(client, base, operator):
    inc = incubation_at(base, by=operator)
    leader = inc.organisation.memberships.get().user
    for user in (leader, applicant(), None):
        if user:
            client.force_login(user)
        else:
            client.logout()
        for response in (client.get(QUEUE), client.get(page_url(inc)), _post(client, inc, "screen-accept", "screen")):
            assert response.status_code in (302, 403)
            if response.status_code == 302:
                assert "/admin/login/" in response.url or response.url.startswith("/admin/")
    inc.refresh_from_db()
    assert inc.status == S.APPLIED and _logs(inc).count() == 0


def test_an_unknown_action_is_404(client, base, operator):
    inc = incubation_at(base, by=operator)
    client.force_login(operator)
    assert client.post(action_url(inc, "delete-everything")).status_code == 404


# ---- promotions --------------------------------------------------------------------------------------------


@pytest.fixture
def city_base(regions):
    return IncubationBaseFactory(name="鄂州市共益园", level=1, region=regions["city"], desks=10)


@pytest.fixture
def promotion(regions, city_base, operator):
    street = IncubationBase.objects.get(name="凤凰街道社会组织共享工作站")
    street.parent = city_base
    street.save()
    inc = incubation_at(street, status=S.IN_INCUBATION, by=operator)
    _assess(inc, operator, 85)
    return services.promotion_recommend(incubation=inc, by=operator, reason="服务成效突出，已辐射三个社区。")


def test_an_operator_recommends_through_the_page(client, regions, city_base, base, operator):
    base.parent = city_base
    base.save()
    inc = incubation_at(base, status=S.IN_INCUBATION, by=operator)
    client.force_login(operator)
    response = _post(client, inc, "promote", "promote", reason="项目可在全市推广。")
    assert response.status_code == 302
    promo = Promotion.objects.get(incubation=inc)
    assert promo.to_base == city_base and promo.state == PromotionState.PENDING
    assert action_url(inc, "promote") not in client.get(page_url(inc)).content.decode()


def test_the_city_operator_sees_and_accepts_a_promotion(client, regions, city_base, promotion):
    city_op = staff(Role.BASE_OPERATOR, regions["city"])
    client.force_login(city_op)
    inbox = client.get(reverse("incubator_admin:promotions")).content.decode()
    assert promotion.incubation.organisation.name in inbox and "待上级基地处理" in inbox
    detail = client.get(reverse("incubator_admin:promotion", args=[promotion.pk])).content.decode()
    assert "服务成效突出" in detail and chart_option(detail, "assessments")

    response = client.post(
        reverse("incubator_admin:promotion_action", args=[promotion.pk, "accept"]),
        {"accept-residence": "desk", "accept-desk_label": "共益园 3-05"},
    )

    new = Incubation.objects.get(base=city_base)
    assert response.status_code == 302 and response.url == page_url(new)
    assert new.status == S.ADMITTED and new.promoted_from == promotion.incubation and new.desk_label == "共益园 3-05"
    promotion.refresh_from_db()
    assert promotion.state == PromotionState.ACCEPTED and promotion.result == new
    assert [log.state for log in _logs(new)] == [S.SCREENED, S.ADMITTED]


def test_declining_needs_a_reason_and_is_logged(client, regions, promotion):
    client.force_login(staff(Role.BASE_OPERATOR, regions["city"]))
    url = reverse("incubator_admin:promotion_action", args=[promotion.pk, "decline"])
    response = client.post(url, {"decline-reason": ""})
    assert response.status_code == 400 and "请填写不接收的理由。" in _messages(response)
    response = client.post(url, {"decline-reason": "本年度名额已满。"})
    assert response.status_code == 302
    promotion.refresh_from_db()
    assert promotion.state == PromotionState.DECLINED
    log = StateLog.objects.exclude(transition=CREATED).get(object_id=promotion.pk, content_type__model="promotion")
    assert log.description == "本年度名额已满。"


def test_the_recommending_street_cannot_decide_for_the_city(client, regions, promotion, operator):
    client.force_login(operator)
    assert client.get(reverse("incubator_admin:promotion", args=[promotion.pk])).status_code == 404
    url = reverse("incubator_admin:promotion_action", args=[promotion.pk, "accept"])
    assert client.post(url, {"accept-residence": "virtual"}).status_code == 404
    client.force_login(staff(Role.AUDITOR, regions["city"]))
    assert 'id="read-only"' in client.get(reverse("incubator_admin:promotion", args=[promotion.pk])).content.decode()
    assert client.post(url, {"accept-residence": "virtual"}).status_code == 403
    promotion.refresh_from_db()
    assert promotion.state == PromotionState.PENDING


# ---- base management ---------------------------------------------------------------------------------------


BASES = "/admin/incubator/bases/"


def _base_form(base, **overrides):
    data = {
        "name": base.name,
        "level": base.level,
        "region": base.region_id,
        "parent": base.parent_id or "",
        "address": base.address,
        "operator_org": "",
        "operator_unit": base.operator_unit,
        "contact_name": base.contact_name,
        "contact_phone": base.contact_phone,
        "opening_hours": base.opening_hours,
        "desks": base.desks,
        "virtual_places": base.virtual_places,
        "services": ["space", "training", "finance"],
        "introduction": "街道社会组织孵化与能力建设平台。",
        "photo": "",
        "screening_days": 5,
        "period_months": 24,
        "handback_days": 15,
        "graduation_min_score": "60",
        "weight_governance": "30",
        "weight_finance": "20",
        "weight_projects": "20",
        "weight_team": "15",
        "weight_resources": "15",
        "is_active": "on",
    }
    return data | overrides


def test_base_management_is_scoped_and_edits_services_and_weights(client, regions, base, operator):
    other = IncubationBaseFactory(name="古楼街道共享工作站", region=regions["gulou"])
    client.force_login(operator)
    html = client.get(BASES).content.decode()
    assert base.name in html and other.name not in html
    assert client.get(f"{BASES}edit/{other.pk}/").status_code == 404

    response = client.post(f"{BASES}edit/{base.pk}/", _base_form(base, screening_days=7))

    assert response.status_code == 302, response.context["form"].errors
    base.refresh_from_db()
    assert base.services == ["space", "training", "finance"] and base.screening_days == 7
    assert base.assessment_weights == {"governance": 30, "finance": 20, "projects": 20, "team": 15, "resources": 15}


def test_weights_must_add_up_to_100_and_capacity_cannot_drop_below_use(client, base, operator):
    incubation_at(base, status=S.ADMITTED, by=operator)
    incubation_at(base, status=S.ADMITTED, by=operator)
    client.force_login(operator)
    response = client.post(f"{BASES}edit/{base.pk}/", _base_form(base, weight_team="25", desks=1))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "合计须为100" in errors["weight_governance"][0]
    assert "已占用" in errors["desks"][0]
    base.refresh_from_db()
    assert base.desks == 3 and base.assessment_weights["team"] == 15


def test_the_auditor_sees_bases_but_cannot_edit(client, regions, base):
    client.force_login(staff(Role.AUDITOR, regions["city"]))
    assert base.name in client.get(BASES).content.decode()
    response = client.post(f"{BASES}edit/{base.pk}/", _base_form(base, name="改名"))
    assert response.status_code in (302, 403)
    base.refresh_from_db()
    assert base.name == "凤凰街道社会组织共享工作站"


# ---- every list's queries stay flat ------------------------------------------------------------------


def _bulk_promotions(inc_base, to_base, n: int) -> None:
    _bulk_incubations(inc_base, n)
    stays = Incubation.objects.filter(base=inc_base).order_by("-pk")[:n]
    Promotion.objects.bulk_create(Promotion(incubation=s, to_base=to_base, reason="推荐") for s in stays)


@pytest.mark.parametrize(
    "url, data",
    [
        (QUEUE, {"status": S.IN_INCUBATION, "ordering": "organisation"}),
        (QUEUE, {"overdue": "on", "order": "-applied_on"}),
        (QUEUE, {"base": "BASE", "p": "2"}),
        (reverse_lazy("incubator_admin:promotions"), None),
        (reverse_lazy("incubator_admin:promotions"), {"state": PromotionState.PENDING, "p": "2"}),
        (BASES, None),
        (BASES, {"q": "工作", "level": "3"}),
    ],
)
def test_every_list_costs_the_same_queries_for_10_and_1000_rows(client, regions, city_base, base, operator, url, data):
    base.parent = city_base
    base.save()
    client.force_login(staff(Role.BASE_OPERATOR, regions["city"]))
    data = {k: (base.pk if v == "BASE" else v) for k, v in data.items()} if data else None

    def more(n):
        _bulk_promotions(base, city_base, n)
        IncubationBaseFactory.create_batch(min(n, 50), region=regions["gulou"], parent=city_base)

    more(10)
    with_ten = page_queries(client, str(url), data)
    more(990)
    with_thousand = page_queries(client, str(url), data)
    assert with_ten == with_thousand
    assert with_thousand <= 15
