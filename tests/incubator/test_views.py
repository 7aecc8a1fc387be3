"""The organisation's side of incubation (/me/incubation/): apply with the profile on file,
follow a stay, withdraw; what a member sees, and what everyone else does not."""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_fsm_log.models import StateLog

from core.workdays import add_workdays
from core.workflow import CREATED
from incubator import services
from incubator.forms import ApplicationForm
from incubator.models import (
    CapacityAssessment,
    Incubation,
    IncubationStatus,
    Residence,
    ServiceKind,
    ServiceLog,
)
from orgs.models import Membership, Organisation, OrgType
from tests.charts import chart_option, series
from tests.factories import OrganisationFactory, applicant, organisation_with_leader
from tests.incubator.factories import IncubationBaseFactory, base_operator, incubation_at

pytestmark = pytest.mark.django_db
S = IncubationStatus
SCORES = ("governance", "finance", "projects", "team", "resources")


@pytest.fixture
def base(regions):
    return IncubationBaseFactory(name="凤凰街道社会组织共享工作站", services=["space", "training", "mentoring"])


@pytest.fixture
def operator(base):
    return base_operator(base)


def _apply_data(org, **overrides):
    data = {
        "organisation": org.pk,
        "plan": "在澜湖社区开展“老宝贝”助餐陪伴服务，每周两次。",
        "member_count": 6,
        "needs": "需要财务制度辅导和一个固定的活动场地。",
        "requested_services": ["training", "mentoring"],
        "residence": Residence.DESK,
    }
    return data | overrides


def _count_queries(client, url) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(ctx.captured_queries), response


# ---- applying -------------------------------------------------------------------------------------


def test_apply_form_reuses_the_profile_and_asks_only_what_is_new(client, base):
    org, leader = organisation_with_leader(name="鄂州市老宝贝社会工作服务中心")
    client.force_login(leader)
    response = client.get(reverse("incubator:apply", args=[base.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    # the profile is shown, read-only, as the choice of organisation
    assert "鄂州市老宝贝社会工作服务中心" in html
    assert org.uscc in html and org.legal_representative in html
    form = response.context["form"]
    assert set(form.fields) == {"organisation", "plan", "member_count", "needs", "requested_services", "residence"}
    # nothing of the profile is asked again
    for profile_field in ("name", "uscc", "legal_representative", "address", "contact_phone", "org_type"):
        assert f'name="{profile_field}"' not in html
    # the base's services are the choices
    assert [c[0] for c in form.fields["requested_services"].choices] == ["space", "training", "mentoring"]


def test_a_preparing_group_applies_and_sees_its_screening_date(client, base, operator):
    group = OrganisationFactory(
        name="月畔湾社区小候鸟志愿服务队", org_type=OrgType.PREPARING, uscc=None, introduction="暑期陪伴留守儿童。"
    )
    leader = applicant()
    Membership.objects.create(organisation=group, user=leader, role=Membership.Role.LEADER)
    assert group.status == Organisation.Status.DRAFT
    client.force_login(leader)

    response = client.post(reverse("incubator:apply", args=[base.pk]), _apply_data(group))

    inc = Incubation.objects.get(organisation=group)
    assert response.status_code == 302 and response.url == reverse("incubator:detail", args=[inc.pk])
    assert inc.status == S.APPLIED and inc.base == base and inc.applied_by == leader
    assert inc.plan.startswith("在澜湖社区") and inc.member_count == 6
    assert inc.requested_services == ["training", "mentoring"] and inc.wants_desk
    assert inc.screening_due == add_workdays(inc.applied_on, 5)
    page = client.get(response.url).content.decode()
    assert "已申请" in page and f"{inc.screening_due:%Y}年{inc.screening_due.month}月{inc.screening_due.day}日" in page
    assert "筹备中" in page


def test_a_non_member_cannot_apply_for_someone_elses_organisation(client, base):
    org, _leader = organisation_with_leader()
    stranger = applicant()
    client.force_login(stranger)

    response = client.post(reverse("incubator:apply", args=[base.pk]), _apply_data(org))

    assert response.status_code == 400
    assert "organisation" in response.context["form"].errors
    assert not Incubation.objects.exists()
    # and the page does not even offer it
    assert org.name not in client.get(reverse("incubator:apply", args=[base.pk])).content.decode()


def test_a_finance_member_may_not_apply(client, base):
    org, _ = organisation_with_leader()
    finance = applicant()
    Membership.objects.create(organisation=org, user=finance, role=Membership.Role.FINANCE)
    client.force_login(finance)
    response = client.post(reverse("incubator:apply", args=[base.pk]), _apply_data(org))
    assert response.status_code == 400 and not Incubation.objects.exists()
    assert "负责人或项目联系人" in response.content.decode()


def test_a_second_open_application_is_refused_in_chinese(client, base):
    org, leader = organisation_with_leader()
    client.force_login(leader)
    url = reverse("incubator:apply", args=[base.pk])
    assert client.post(url, _apply_data(org)).status_code == 302

    response = client.post(url, _apply_data(org, plan="再申请一次"))

    assert response.status_code == 400
    assert "该组织在本基地已有进行中的入驻申请或入驻记录，不能重复申请。" in response.content.decode()
    assert Incubation.objects.filter(organisation=org).count() == 1
    # what was typed is kept
    assert "再申请一次" in response.content.decode()


def test_a_missing_plan_is_asked_for_and_nothing_is_saved(client, base):
    org, leader = organisation_with_leader()
    client.force_login(leader)
    response = client.post(reverse("incubator:apply", args=[base.pk]), _apply_data(org, plan=""))
    assert response.status_code == 400 and "plan" in response.context["form"].errors
    assert not Incubation.objects.exists()


def test_a_closed_base_refuses_applications(client, base):
    base.is_active = False
    base.save()
    org, leader = organisation_with_leader()
    client.force_login(leader)
    response = client.post(reverse("incubator:apply", args=[base.pk]), _apply_data(org))
    assert response.status_code == 400 and "该基地暂不接受入驻申请。" in response.content.decode()


def test_the_apply_page_needs_a_login(client, base):
    response = client.get(reverse("incubator:apply", args=[base.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_application_form_without_base_services_has_no_service_choice(base):
    base.services = []
    form = ApplicationForm(base=base, organisations=Organisation.objects.none())
    assert "requested_services" not in form.fields


# ---- the stay's page ---------------------------------------------------------------------------------


def _resident_with_history(base, operator):
    inc = incubation_at(base, status=S.IN_INCUBATION, by=operator)
    services.assessment_record(
        incubation=inc,
        by=operator,
        stage="admission",
        scores=dict(zip(SCORES, (40, 50, 45, 60, 30), strict=True)),
        assessed_on=inc.starts_on,
    )
    services.assessment_record(
        incubation=inc,
        by=operator,
        stage="mid",
        scores=dict(zip(SCORES, (70, 65, 72, 80, 60), strict=True)),
        assessed_on=inc.starts_on + datetime.timedelta(days=300),
        comment="治理结构明显改善。",
    )
    services.service_log_add(
        incubation=inc,
        by=operator,
        kind=ServiceKind.TRAINING,
        title="社会组织财务管理培训",
        date=inc.starts_on,
        hours=Decimal("2.5"),
        mentor="王老师",
        participants=3,
    )
    return inc


def test_a_member_sees_status_dates_history_services_and_the_assessment_chart(client, base, operator):
    inc = _resident_with_history(base, operator)
    leader = inc.organisation.memberships.get().user
    client.force_login(leader)

    response = client.get(reverse("incubator:detail", args=[inc.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "孵化中" in html
    assert inc.agreement_no in html and f"A-{inc.pk:03d}" in html
    # the audit history: every transition with who and when
    assert "已申请 → <strong>初审通过</strong>" in html and "初审通过 → <strong>已入壳</strong>" in html
    assert StateLog.objects.filter(object_id=inc.pk).exclude(transition=CREATED).count() == 3
    assert "提交入驻申请" in html  # the history starts with the application itself
    # the service log table
    assert "社会组织财务管理培训" in html and "王老师" in html and "2.5 小时" in html
    # the assessments: a table and a line chart (ECharts) of the total and the five dimensions
    lines = series(chart_option(html, "assessments"))
    assert len(lines) == 6 and all(len(points) == 2 for points in lines.values())
    assert "入壳评估" in html and "中期评估" in html and "治理结构明显改善。" in html
    totals = [float(a.total) for a in CapacityAssessment.objects.filter(incubation=inc).order_by("assessed_on")]
    assert f"+{totals[1] - totals[0]:.2f}" in html
    # the agreement exists, the certificate does not yet
    assert reverse("incubator:agreement_pdf", args=[inc.pk]) in html
    assert reverse("incubator:certificate_pdf", args=[inc.pk]) not in html


def test_a_rejected_application_shows_the_reason(client, base, operator):
    inc = incubation_at(base, status=S.REJECTED, by=operator)
    client.force_login(inc.organisation.memberships.get().user)
    html = client.get(reverse("incubator:detail", args=[inc.pk])).content.decode()
    assert "初审未通过" in html and "服务方向与本基地不符。" in html


def test_a_graduate_gets_the_certificate_link(client, base, operator):
    inc = incubation_at(base, status=S.GRADUATED, by=operator)
    client.force_login(inc.organisation.memberships.get().user)
    html = client.get(reverse("incubator:detail", args=[inc.pk])).content.decode()
    assert "已出壳" in html and inc.certificate_no in html
    assert reverse("incubator:certificate_pdf", args=[inc.pk]) in html
    assert 'id="withdraw"' not in html


def test_non_members_get_403_and_anonymous_users_log_in(client, base, operator):
    inc = incubation_at(base, status=S.ADMITTED, by=operator)
    client.force_login(applicant())
    assert client.get(reverse("incubator:detail", args=[inc.pk])).status_code == 403
    # nor may staff use the applicant's page as a way in
    client.force_login(operator)
    assert client.get(reverse("incubator:detail", args=[inc.pk])).status_code == 403
    client.logout()
    response = client.get(reverse("incubator:detail", args=[inc.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_the_stay_page_does_not_grow_with_residents_or_records(client, base, operator, django_assert_max_num_queries):
    inc = _resident_with_history(base, operator)
    client.force_login(inc.organisation.memberships.get().user)
    url = reverse("incubator:detail", args=[inc.pk])
    _bulk_incubations(base, 5)
    small, _ = _count_queries(client, url)

    _bulk_incubations(base, 195)
    ServiceLog.objects.bulk_create(
        ServiceLog(incubation=inc, kind=ServiceKind.MENTORING, title=f"导师辅导第{n}次", date=inc.starts_on, hours=1)
        for n in range(40)
    )
    assert Incubation.objects.filter(base=base).count() == 201
    large, response = _count_queries(client, url)

    assert large == small
    assert large <= 15
    assert "导师辅导第39次" in response.content.decode()


def _bulk_incubations(base, n: int) -> None:
    """n resident stays at `base`, written in two statements: rows for load, not for logic."""
    start = Organisation.objects.count()
    orgs = Organisation.objects.bulk_create(
        Organisation(
            name=f"批量测试社区社会组织{start + i}号",
            org_type=OrgType.PREPARING,
            legal_representative="张三",
            address="凤凰街道",
            region=base.region,
            contact_name="张三",
            contact_phone="13800000000",
        )
        for i in range(n)
    )
    today = datetime.date(2026, 3, 2)
    Incubation.objects.bulk_create(
        Incubation(
            base=base,
            organisation=org,
            status=S.IN_INCUBATION,
            plan="社区服务",
            applied_on=today,
            screening_due=today,
            residence=Residence.VIRTUAL,
            starts_on=today,
            ends_on=today.replace(year=2028),
        )
        for org in orgs
    )


# ---- withdrawing ----------------------------------------------------------------------------------------


def test_the_leader_withdraws_once_and_a_second_time_is_refused(client, base, operator):
    inc = incubation_at(base, status=S.IN_INCUBATION, by=operator)
    leader = inc.organisation.memberships.get().user
    client.force_login(leader)
    detail = client.get(reverse("incubator:detail", args=[inc.pk])).content.decode()
    assert 'id="withdraw"' in detail

    url = reverse("incubator:withdraw", args=[inc.pk])
    response = client.post(url, {"reason": "团队成员外出务工，暂停活动。"})

    assert response.status_code == 302
    inc.refresh_from_db()
    base.refresh_from_db()
    assert inc.status == S.WITHDRAWN and inc.handback_due == add_workdays(inc.withdrawn_on, 15)
    assert base.desks_used == 0
    log = StateLog.objects.filter(object_id=inc.pk, state=S.WITHDRAWN).get()
    assert log.by == leader and log.description == "团队成员外出务工，暂停活动。"

    again = client.post(url, {"reason": "再退一次"})

    assert again.status_code == 400
    assert "该组织已经退驻，无需重复办理。" in again.content.decode()
    assert StateLog.objects.filter(object_id=inc.pk, state=S.WITHDRAWN).count() == 1


def test_withdrawal_needs_a_reason(client, base, operator):
    inc = incubation_at(base, status=S.ADMITTED, by=operator)
    client.force_login(inc.organisation.memberships.get().user)
    response = client.post(reverse("incubator:withdraw", args=[inc.pk]), {"reason": " "})
    assert response.status_code == 400 and "请填写退驻原因。" in response.content.decode()
    inc.refresh_from_db()
    assert inc.status == S.ADMITTED


def test_only_the_leader_may_withdraw(client, base, operator):
    inc = incubation_at(base, status=S.IN_INCUBATION, by=operator)
    contact = applicant()
    Membership.objects.create(organisation=inc.organisation, user=contact, role=Membership.Role.CONTACT)
    client.force_login(contact)
    assert 'id="withdraw"' not in client.get(reverse("incubator:detail", args=[inc.pk])).content.decode()
    response = client.post(reverse("incubator:withdraw", args=[inc.pk]), {"reason": "想退出"})
    assert response.status_code == 400 and "只有基地运营人员或该组织负责人可以办理退驻。" in response.content.decode()
    inc.refresh_from_db()
    assert inc.status == S.IN_INCUBATION
    client.force_login(applicant())
    assert client.post(reverse("incubator:withdraw", args=[inc.pk]), {"reason": "x"}).status_code == 403


# ---- index and dashboard -----------------------------------------------------------------------------


def test_index_lists_my_stays_and_the_open_bases(client, base, operator):
    inc = incubation_at(base, status=S.SCREENED, by=operator)
    other_base = IncubationBaseFactory(name="古楼街道共享工作站", region=base.region)
    IncubationBaseFactory(name="已关闭的工作站", is_active=False)
    client.force_login(inc.organisation.memberships.get().user)
    html = client.get(reverse("incubator:index")).content.decode()
    assert reverse("incubator:detail", args=[inc.pk]) in html and "初审通过" in html
    assert reverse("incubator:apply", args=[other_base.pk]) in html
    assert "已关闭的工作站" not in html


def test_the_dashboard_has_my_incubations(client, base, operator):
    inc = incubation_at(base, status=S.ADMITTED, by=operator)
    incubation_at(base, status=S.ADMITTED, by=operator)  # someone else's
    client.force_login(inc.organisation.memberships.get().user)
    response = client.get(reverse("dashboard"))
    html = response.content.decode()
    assert "我的孵化" in html and reverse("incubator:detail", args=[inc.pk]) in html
    assert list(response.context["incubations"]) == [inc]


# ---- less typing: the nearest bases first, no desk preselected where none is free (defect 13) ----------


@pytest.fixture
def bases_everywhere(regions):
    """A base at each level around 凤凰社区 and two elsewhere, created far-first."""
    from incubator.models import BaseLevel

    city = IncubationBaseFactory(name="鄂州市社会组织孵化基地", level=BaseLevel.CITY, region=regions["city"])
    return {
        "other_street": IncubationBaseFactory(name="华容镇共享工作站", region=regions["huarong_town"]),
        "city": city,
        "other_community": IncubationBaseFactory(
            name="古楼社区共享工作室", level=BaseLevel.COMMUNITY, region=regions["gulou"].get_children().get()
        ),
        "street": IncubationBaseFactory(name="凤凰街道共享工作站", region=regions["fenghuang"]),
        "community": IncubationBaseFactory(
            name="凤凰社区共享工作室", level=BaseLevel.COMMUNITY, region=regions["fenghuang_c"]
        ),
    }


def _base_names(html: str) -> list[str]:
    return re.findall(r"<tr>\s*<td>([^<]+)<div class=\"muted\"", html)


def test_the_bases_where_the_organisation_is_come_first_deepest_first(client, regions, bases_everywhere):
    org, leader = organisation_with_leader(region=regions["fenghuang_c"])
    client.force_login(leader)
    html = client.get(reverse("incubator:index")).content.decode()

    names = _base_names(html)
    assert names[:3] == ["凤凰社区共享工作室", "凤凰街道共享工作站", "鄂州市社会组织孵化基地"]
    assert set(names[3:]) == {"华容镇共享工作站", "古楼社区共享工作室"}
    assert html.count("本组织所在区域") == 3
    assert f"{org.name}所在的社区、街道和区的基地排在前面。" in html


def test_with_several_organisations_the_chosen_one_decides_the_order(client, regions, bases_everywhere):
    org, leader = organisation_with_leader(region=regions["fenghuang_c"])
    other = OrganisationFactory(region=regions["huarong_town"])
    Membership.objects.create(organisation=other, user=leader, role=Membership.Role.LEADER)
    client.force_login(leader)

    names = _base_names(client.get(reverse("incubator:index") + f"?org={other.pk}").content.decode())
    assert names[:2] == ["华容镇共享工作站", "鄂州市社会组织孵化基地"]
    # no organisation chosen among several: the plain order, nothing marked
    html = client.get(reverse("incubator:index")).content.decode()
    assert "本组织所在区域" not in html


def test_desk_is_preselected_only_where_a_desk_is_free(client, base):
    from tests.html_forms import read_form

    org, leader = organisation_with_leader()
    client.force_login(leader)
    url = reverse("incubator:apply", args=[base.pk])
    assert read_form(client.get(url).content.decode(), action="").data["residence"] == [Residence.DESK]

    type(base).objects.filter(pk=base.pk).update(desks_used=base.desks)  # every desk taken
    html = client.get(url).content.decode()
    assert read_form(html, action="").data["residence"] == [Residence.VIRTUAL]
    assert "本基地目前没有空余工位" in html

    type(base).objects.filter(pk=base.pk).update(virtual_used=base.virtual_places)  # and every virtual place
    assert "residence" not in read_form(client.get(url).content.decode(), action="").data
