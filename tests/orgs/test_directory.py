"""The public directory (/directory/): verified organisations only, public facts only,
filters, and a query count that does not grow with the registry."""

import datetime
import html
import re
from urllib.parse import parse_qs

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.roles import Role
from orgs import services
from orgs.models import DocumentKind, EvaluationGrade, Membership, Organisation, OrgType, ServiceArea
from tests.factories import OrganisationFactory, applicant, make_uscc, pdf_upload, staff

Status = Organisation.Status
PHONE, BANK, EMAIL = "13912340000", "6228480012345678", "secret-contact@example.org"
TODAY = timezone.localdate  # Beijing time, called when used


def text(response) -> str:
    return response.content.decode()


def names_on(response) -> list[str]:
    return [org.name for org in response.context["page"].object_list]


@pytest.fixture
def areas(db):
    return {a.code: a for a in ServiceArea.objects.all()}


@pytest.fixture
def registry(regions, areas):
    """Verified organisations in both districts, and one of every other status."""
    manager = staff(Role.CALL_MANAGER, regions["city"])

    def make(name, status=Status.VERIFIED, region="fenghuang", service_areas=(), **kwargs):
        org = OrganisationFactory(name=name, status=status, region=regions[region], **kwargs)
        org.service_areas.set([areas[code] for code in service_areas])
        return org

    orgs = {
        "elderly": make(
            "凤凰街道夕阳红助老服务中心",
            service_areas=["elderly"],
            introduction="为独居老人提供助餐和上门探访。",
            contact_phone=PHONE,
            email=EMAIL,
            bank_name="中国农业银行",
            bank_account_name="凤凰街道夕阳红助老服务中心",
            bank_account=BANK,
        ),
        "children": make(
            "小候鸟儿童关爱协会",
            org_type=OrgType.SOCIAL_GROUP,
            region="huarong_town",
            service_areas=["children"],
            introduction="留守儿童课后陪伴。",
        ),
        "foundation": make(
            "鄂州市海马爸比公益基金会",
            org_type=OrgType.FOUNDATION,
            region="gulou",
            service_areas=["children", "elderly"],
            introduction="资助社区亲子活动，关爱老人。",
        ),
    }
    for status in (Status.DRAFT, Status.SUBMITTED, Status.RETURNED, Status.SUSPENDED, Status.REVOKED):
        orgs[status] = make(f"未认证组织{status.label}", status=status, service_areas=["elderly"])

    services.grade_record(org=orgs["elderly"], by=manager, grade="4A", awarded_on=TODAY().replace(month=1, day=1))
    services.grade_record(org=orgs["children"], by=manager, grade="3A", awarded_on=datetime.date(2015, 1, 1))

    leader = applicant()
    Membership.objects.create(organisation=orgs["elderly"], user=leader, role=Membership.Role.LEADER)
    upload = pdf_upload("夕阳红登记证书.pdf")
    upload.kind = "pdf"
    orgs["document"] = services.document_upload(
        org=orgs["elderly"], by=leader, kind=DocumentKind.REGISTRATION_CERTIFICATE, upload=upload
    )
    return orgs


VERIFIED = ["凤凰街道夕阳红助老服务中心", "小候鸟儿童关爱协会", "鄂州市海马爸比公益基金会"]


def test_only_verified_organisations_are_listed(client, registry):
    response = client.get("/directory/")
    assert response.status_code == 200
    assert sorted(names_on(response)) == sorted(VERIFIED)
    page = text(response)
    assert "共 3 家" in page
    assert "未认证组织" not in page


def test_the_list_shows_public_facts(client, registry):
    page = text(client.get("/directory/"))
    org = registry["elderly"]
    assert f'<a href="/directory/{org.pk}/">{org.name}</a>' in page
    assert "民办非企业单位（社会服务机构）" in page
    assert "凤凰街道" in page
    assert "评估等级 4A" in page
    assert "老年人服务" in page
    assert "为独居老人提供助餐和上门探访。" in page


@pytest.mark.parametrize("url", ["/directory/", "/directory/{pk}/"])
def test_private_facts_are_never_shown(client, registry, url):
    org, doc = registry["elderly"], registry["document"]
    page = text(client.get(url.format(pk=org.pk)))
    assert org.name in page
    for secret in (PHONE, BANK, EMAIL, "中国农业银行", "夕阳红登记证书", f"/documents/{doc.pk}/", "/me/orgs/"):
        assert secret not in page, secret


def test_the_detail_page_of_a_verified_organisation(client, registry):
    org = registry["foundation"]
    page = text(client.get(f"/directory/{org.pk}/"))
    assert org.uscc in page
    assert "鄂州市鄂城区古楼街道" in page
    assert "基金会" in page
    assert "儿童青少年服务、老年人服务" in page or "老年人服务、儿童青少年服务" in page
    assert "资助社区亲子活动，关爱老人。" in page


@pytest.mark.parametrize("status", [Status.DRAFT, Status.SUBMITTED, Status.RETURNED, Status.SUSPENDED, Status.REVOKED])
def test_the_detail_page_of_an_unverified_organisation_is_not_found(client, registry, status):
    response = client.get(f"/directory/{registry[status].pk}/")
    assert response.status_code == 404
    assert registry[status].name not in text(response)


# ---- search and filters ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=夕阳红", ["凤凰街道夕阳红助老服务中心"]),
        ("q=关爱", ["小候鸟儿童关爱协会", "鄂州市海马爸比公益基金会"]),  # name or introduction
        ("q=未认证", []),
        ("type=social_group", ["小候鸟儿童关爱协会"]),
        ("type=foundation", ["鄂州市海马爸比公益基金会"]),
        ("area=children", ["小候鸟儿童关爱协会", "鄂州市海马爸比公益基金会"]),
        ("area=elderly", ["凤凰街道夕阳红助老服务中心", "鄂州市海马爸比公益基金会"]),
        ("grade=4A", ["凤凰街道夕阳红助老服务中心"]),
        ("grade=3A", []),  # 小候鸟's 3A of 2015 expired in 2020
        ("q=关爱&type=foundation", ["鄂州市海马爸比公益基金会"]),
    ],
)
def test_search_and_filters(client, registry, areas, query, expected):
    if "area=" in query:
        code = query.split("area=")[1]
        query = f"area={areas[code].pk}"
    response = client.get(f"/directory/?{query}")
    assert sorted(names_on(response)) == sorted(expected)


def test_district_filter(client, registry, regions):
    echeng = client.get(f"/directory/?district={regions['echeng'].pk}")
    huarong = client.get(f"/directory/?district={regions['huarong'].pk}")
    assert sorted(names_on(echeng)) == ["凤凰街道夕阳红助老服务中心", "鄂州市海马爸比公益基金会"]
    assert names_on(huarong) == ["小候鸟儿童关爱协会"]
    assert "selected>华容区</option>" in text(huarong)


def test_an_expired_grade_is_not_shown(client, registry):
    page = text(client.get(f"/directory/{registry['children'].pk}/"))
    assert "<dt>评估等级</dt><dd>—</dd>" in page
    listing = text(client.get("/directory/", {"q": "小候鸟"}))
    assert "小候鸟儿童关爱协会" in listing
    assert "评估等级 3A" not in listing


def test_filters_keep_their_values_in_the_pagination_links(client, regions):
    make_verified(30, regions)
    page = text(client.get("/directory/", {"q": "组织", "type": "service_org"}))
    assert "第 1 / 2 页" in page
    [href] = re.findall(r'<a href="\?([^"]+)">下一页</a>', page)
    assert parse_qs(html.unescape(href)) == {"q": ["组织"], "type": ["service_org"], "page": ["2"]}


def test_an_empty_result_says_so(client, registry):
    assert "没有符合条件的社会组织。" in text(client.get("/directory/?q=不存在的名字"))


# ---- the query count does not grow with the registry -------------------------------------------


def make_verified(n, regions, start=0):
    """n verified organisations in bulk, each with two service areas (via the through model),
    every third one with a valid 4A grade."""
    areas = list(ServiceArea.objects.all()[:3])
    streets = [regions["fenghuang"], regions["huarong_town"]]
    orgs = Organisation.objects.bulk_create(
        Organisation(
            name=f"测试社会组织{start + i:04d}",
            org_type=OrgType.SERVICE_ORG,
            uscc=make_uscc(100000 + start + i),
            legal_representative="张三",
            address="鄂州市",
            region=streets[i % 2],
            contact_name="张三",
            contact_phone="13800000000",
            status=Status.VERIFIED,
            latest_grade="4A" if i % 3 == 0 else "",
            introduction="社区服务。",
        )
        for i in range(n)
    )
    EvaluationGrade.objects.bulk_create(
        EvaluationGrade(organisation=org, grade="4A", awarded_on=TODAY().replace(month=1, day=1)) for org in orgs[::3]
    )
    through = Organisation.service_areas.through
    through.objects.bulk_create(
        through(organisation_id=org.pk, servicearea_id=area.pk)
        for i, org in enumerate(orgs)
        for area in (areas[i % 3], areas[(i + 1) % 3])
    )
    return orgs


@pytest.mark.parametrize("query", ["", "?type=service_org", "?grade=4A", "?q=测试&page=3"])
def test_the_list_runs_the_same_queries_for_10_and_1000_organisations(
    client, regions, query, django_assert_num_queries
):
    make_verified(10, regions)
    with CaptureQueriesContext(connection) as small:
        first = client.get(f"/directory/{query}")
    assert first.status_code == 200
    assert first.context["page"].object_list

    make_verified(990, regions, start=10)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(f"/directory/{query}")
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 20
    for org in response.context["page"].object_list:  # service areas came with the page
        assert len(org.service_areas.all()) == 2
