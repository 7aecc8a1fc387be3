"""The Wagtail dashboard (/admin/): each role sees what waits for it in its region, in a fixed
number of queries (core.dashboard and each app's provider)."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from accounts.roles import Role
from core.models import BackgroundJob
from incubator.models import Incubation, IncubationStatus, Promotion, PromotionState, Residence
from orgs.models import Organisation, OrganisationStatus, OrgType
from tests.factories import staff
from tests.incubator.factories import IncubationBaseFactory

TODAY = timezone.localdate  # called when used: a run may cross midnight


def text(response) -> str:
    assert response.status_code == 200
    return re.sub(r"\s+", " ", strip_tags(response.content.decode()))


def _submitted(region, n: int, *, days_ago: int = 3, name="待审核组织") -> list[Organisation]:
    start = Organisation.objects.count()
    when = timezone.now() - datetime.timedelta(days=days_ago)
    return Organisation.objects.bulk_create(
        Organisation(
            name=f"{name}{start + i}号",
            org_type=OrgType.PREPARING,
            legal_representative="张三",
            address="凤凰街道",
            region=region,
            contact_name="张三",
            contact_phone="13800000000",
            status=OrganisationStatus.SUBMITTED,
            submitted_at=when - datetime.timedelta(days=i),
        )
        for i in range(n)
    )


def _applications(base, n: int, *, due: datetime.date) -> list[Incubation]:
    orgs = _submitted(base.region, n, name="申请入驻组织")
    return Incubation.objects.bulk_create(
        Incubation(
            base=base,
            organisation=org,
            status=IncubationStatus.APPLIED,
            plan="社区服务",
            applied_on=due - datetime.timedelta(days=10),
            screening_due=due - datetime.timedelta(days=i),
            residence=Residence.VIRTUAL,
        )
        for i, org in enumerate(orgs)
    )


def _promotions(to_base, from_base, n: int) -> None:
    stays = _applications(from_base, n, due=TODAY() + datetime.timedelta(days=30))
    Promotion.objects.bulk_create(
        Promotion(incubation=inc, to_base=to_base, reason="服务成效突出。", state=PromotionState.PENDING)
        for inc in stays
    )


@pytest.fixture
def bases(regions):
    city = IncubationBaseFactory(name="鄂州市共益园", level=1, region=regions["city"])
    fenghuang = IncubationBaseFactory(name="凤凰街道工作站", region=regions["fenghuang"], parent=city)
    huarong = IncubationBaseFactory(name="华容镇工作站", region=regions["huarong_town"], parent=city)
    return {"city": city, "fenghuang": fenghuang, "huarong": huarong}


# ---- call managers: organisations to review ---------------------------------------------------------


def test_a_call_manager_sees_how_many_organisations_wait_and_since_when(client, regions):
    _submitted(regions["fenghuang"], 2, days_ago=5)  # the oldest was submitted 6 days ago
    _submitted(regions["huarong_town"], 4, days_ago=40)  # another district: not counted
    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))

    page = text(client.get(reverse("wagtailadmin_home")))

    oldest = TODAY() - datetime.timedelta(days=6)
    assert "待办事项" in page and "待审核的社会组织 2 " in page
    assert f"最早一家提交于{oldest.year}年{oldest.month}月{oldest.day}日，已等待 6 天" in page
    assert f'href="{reverse("orgs_admin:queue")}"' in client.get(reverse("wagtailadmin_home")).content.decode()
    assert "暂无待办" not in page


def test_the_city_call_manager_counts_every_district(client, regions):
    _submitted(regions["fenghuang"], 2)
    _submitted(regions["huarong_town"], 4)
    client.force_login(staff(Role.CALL_MANAGER, regions["city"]))
    assert "待审核的社会组织 6 " in text(client.get(reverse("wagtailadmin_home")))


# ---- base operators: overdue screenings and promotions -------------------------------------------------


def test_an_operator_sees_overdue_screenings_and_promotions_of_their_bases(client, regions, bases):
    _applications(bases["fenghuang"], 3, due=TODAY() - datetime.timedelta(days=2))  # overdue
    _applications(bases["fenghuang"], 2, due=TODAY() + datetime.timedelta(days=3))  # not yet due
    _applications(bases["huarong"], 5, due=TODAY() - datetime.timedelta(days=20))  # another region
    _promotions(bases["fenghuang"], bases["fenghuang"], 1)
    _promotions(bases["huarong"], bases["huarong"], 2)  # to another region's base
    client.force_login(staff(Role.BASE_OPERATOR, regions["fenghuang"]))

    html = client.get(reverse("wagtailadmin_home")).content.decode()
    page = text(client.get(reverse("wagtailadmin_home")))

    assert "初审超期的入驻申请 3 " in page and "已超期" in page
    assert "待答复的推荐晋级 1 " in page
    oldest = TODAY() - datetime.timedelta(days=4)
    assert f"最早一份初审截止于{oldest.year}年{oldest.month}月{oldest.day}日" in page
    assert reverse("incubator_admin:queue") in html and reverse("incubator_admin:promotions") in html
    assert "待审核的社会组织" not in page  # operators do not verify organisations


def test_the_city_operator_answers_promotions_addressed_to_the_city_base(client, regions, bases):
    _promotions(bases["city"], bases["fenghuang"], 2)
    _promotions(bases["fenghuang"], bases["fenghuang"], 1)  # answered by the street, but in the city's scope
    client.force_login(staff(Role.BASE_OPERATOR, regions["city"]))
    assert "待答复的推荐晋级 3 " in text(client.get(reverse("wagtailadmin_home")))


# ---- nothing waiting ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.REVIEWER, Role.FINANCE])
def test_a_role_with_nothing_to_do_sees_a_calm_panel(client, regions, bases, role):
    _submitted(regions["fenghuang"], 3)
    _applications(bases["fenghuang"], 2, due=TODAY() - datetime.timedelta(days=5))
    client.force_login(staff(role, regions["city"]))

    page = text(client.get(reverse("wagtailadmin_home")))

    assert "待办事项" in page and "暂无待办" in page
    assert "待审核的社会组织" not in page and "初审超期" not in page


def test_a_call_manager_of_a_quiet_district_sees_a_calm_panel(client, regions):
    _submitted(regions["huarong_town"], 3)
    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))
    page = text(client.get(reverse("wagtailadmin_home")))
    assert "暂无待办" in page and "待审核的社会组织" not in page


# ---- background jobs ----------------------------------------------------------------------------------


def test_the_creator_sees_running_and_just_finished_jobs(client, regions):
    user = staff(Role.CALL_MANAGER, regions["echeng"])
    someone = staff(Role.CALL_MANAGER, regions["echeng"])
    long_ago = timezone.now() - datetime.timedelta(days=3)
    BackgroundJob.objects.create(
        kind="orgs_export", title="导出登记名录", runner="x", created_by=user, status="running", progress=40, total=200
    )
    BackgroundJob.objects.create(
        kind="orgs_import", title="导入社会组织：名录.xlsx", runner="x", created_by=user, status="failed",
        message="第 3 行：信用代码格式不对。", finished_at=timezone.now(),
    )  # fmt: skip
    BackgroundJob.objects.create(
        kind="orgs_export", title="上周的导出", runner="x", created_by=user, status="succeeded", finished_at=long_ago
    )
    BackgroundJob.objects.create(kind="orgs_export", title="别人的导出", runner="x", created_by=someone)
    client.force_login(user)

    page = text(client.get(reverse("wagtailadmin_home")))

    assert "导出登记名录 已处理 40 / 200 进行中" in page
    assert "导入社会组织：名录.xlsx 第 3 行：信用代码格式不对。 失败" in page
    assert "上周的导出" not in page and "别人的导出" not in page


# ---- queries do not grow with the number of waiting items ---------------------------------------------------


def _dashboard_queries(client) -> int:
    client.get(reverse("wagtailadmin_home"))  # warm the per-process caches (site, hooks)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("wagtailadmin_home")).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("role", [Role.CALL_MANAGER, Role.BASE_OPERATOR])
def test_the_dashboard_costs_the_same_with_10_or_200_waiting(client, regions, bases, role):
    user = staff(role, regions["city"])
    client.force_login(user)

    def add(n):
        _submitted(regions["fenghuang"], n)
        _applications(bases["fenghuang"], n, due=TODAY() - datetime.timedelta(days=2))
        _promotions(bases["city"], bases["fenghuang"], n)
        BackgroundJob.objects.bulk_create(
            BackgroundJob(kind="orgs_export", title=f"导出{i}", runner="x", created_by=user) for i in range(n)
        )

    add(10)
    with_10 = _dashboard_queries(client)
    add(190)
    with_200 = _dashboard_queries(client)

    assert with_200 == with_10
    assert with_10 <= 20
