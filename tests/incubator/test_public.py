"""The public face of the bases: /bases/ (the directory, grouped by level, filtered by region)
and /bases/<pk>/ (one base: facts, services, capacity, residents, graduates, figures).
Only public facts; query counts do not grow with the number of bases or residents."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cms.models import BaseIndexPage
from incubator.models import BaseLevel, Incubation, IncubationBase, IncubationStatus, Residence
from orgs.models import Membership, Organisation, OrganisationStatus
from tests.charts import categories, chart_option, series
from tests.factories import OrganisationFactory, applicant
from tests.incubator.factories import IncubationBaseFactory, base_operator, incubation_at

S = IncubationStatus


@pytest.fixture
def bases(regions, site_pages):
    city = IncubationBaseFactory(
        name="鄂州市共益园", level=BaseLevel.CITY, region=regions["city"], desks=20, virtual_places=30
    )
    street = IncubationBaseFactory(
        name="凤凰街道社会组织共享工作站",
        level=BaseLevel.STREET,
        region=regions["fenghuang"],
        parent=city,
        services=["space", "training", "registration"],
        introduction="面向凤凰街道辖区的社区社会组织。",
        opening_hours="周一至周五 9:00–17:00",
    )
    studio = IncubationBaseFactory(
        name="凤凰社区社会组织共享工作室", level=BaseLevel.COMMUNITY, region=regions["fenghuang_c"], parent=street
    )
    huarong = IncubationBaseFactory(
        name="华容镇社会组织共享工作站", level=BaseLevel.STREET, region=regions["huarong_town"], parent=city
    )
    closed = IncubationBaseFactory(
        name="古楼街道旧工作站", level=BaseLevel.STREET, region=regions["gulou"], parent=city, is_active=False
    )
    return {"city": city, "street": street, "studio": studio, "huarong": huarong, "closed": closed}


def _get(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def _section(html, heading):
    """The part of the directory under one level's heading."""
    start = html.index(f">{heading} <")
    end = min([i for i in (html.find("<section", start), html.find("</main>", start)) if i != -1])
    return html[start:end]


# ---- the page itself --------------------------------------------------------------------------


def test_bases_is_the_routable_page_and_its_intro_is_edited_in_wagtail(client, bases):
    page = BaseIndexPage.objects.get()
    assert page.url == "/bases/"
    page.intro = "<p>三级孵化网络，就近入驻。</p>"
    page.save_revision().publish()
    assert "三级孵化网络，就近入驻。" in _get(client, "/bases/")


# ---- the directory --------------------------------------------------------------------------


def test_directory_groups_active_bases_by_level(client, bases):
    html = _get(client, "/bases/")
    city = _section(html, "市级孵化基地")
    street = _section(html, "街道（镇）共享工作站")
    community = _section(html, "社区（村）共享工作室")
    assert "鄂州市共益园" in city and "凤凰街道" not in city
    assert "凤凰街道社会组织共享工作站" in street and "华容镇社会组织共享工作站" in street
    assert "凤凰社区社会组织共享工作室" in community and "共享工作站" not in community
    assert "古楼街道旧工作站" not in html  # not taking applications: not listed
    assert f'href="/bases/{bases["street"].pk}/"' in street
    assert "注册指导" in street  # its services


def test_directory_shows_free_places_and_residents(client, bases):
    street = bases["street"]
    incubation_at(street, status=S.IN_INCUBATION)
    incubation_at(street, status=S.IN_INCUBATION, residence=Residence.VIRTUAL)
    street.refresh_from_db()
    card = _section(_get(client, "/bases/"), "街道（镇）共享工作站")
    card = card[card.index("凤凰街道社会组织共享工作站") :]
    assert "<dd>4<small> / 5</small></dd>" in card  # desks: 1 of 5 taken
    assert "<dd>9<small> / 10</small></dd>" in card  # virtual: 1 of 10 taken
    assert "<dt>在孵</dt><dd>2</dd>" in card


def test_directory_filters_by_district_or_street(client, bases):
    html = _get(client, "/bases/?region=420703001")  # 华容镇
    assert "华容镇社会组织共享工作站" in html
    assert "凤凰街道社会组织共享工作站" not in html and "鄂州市共益园" not in html

    html = _get(client, "/bases/?region=420704")  # 鄂城区: the street and the community below it
    assert "凤凰街道社会组织共享工作站" in html and "凤凰社区社会组织共享工作室" in html
    assert "华容镇社会组织共享工作站" not in html

    # the filter offers districts and streets that have bases; an unknown code shows all
    assert '<option value="420704001">' in html
    assert "华容镇社会组织共享工作站" in _get(client, "/bases/?region=999999")


def test_directory_empty_state(client, regions, site_pages):
    assert "孵化基地信息正在整理中。" in _get(client, "/bases/")


# ---- one base -----------------------------------------------------------------------------------


def test_base_page_shows_facts_residents_graduates_and_figures(client, bases):
    street = bases["street"]
    op = base_operator(street)
    resident = incubation_at(street, status=S.IN_INCUBATION, by=op)
    graduate = incubation_at(street, status=S.GRADUATED, by=op)
    applied = incubation_at(street, status=S.APPLIED, by=op)
    _verify(resident.organisation, graduate.organisation, applied.organisation)  # only these are named
    html = _get(client, f"/bases/{street.pk}/")
    assert "凤凰街道社会组织共享工作站" in html and "街道（镇）共享工作站" in html
    assert "面向凤凰街道辖区的社区社会组织。" in html and "周一至周五 9:00–17:00" in html
    assert "鄂城区凤凰街道" in html  # its region as an address reads
    assert "注册指导" in html
    residents = html[html.index("在孵组织 <") : html.index("已出壳组织 <")]
    assert resident.organisation.name in residents
    assert f"{resident.starts_on:%Y}年{resident.starts_on.month}月入驻" in residents
    graduates = html[html.index("已出壳组织 <") :]
    assert graduate.organisation.name in graduates and f"{graduate.graduated_on:%Y}年出壳" in graduates
    assert applied.organisation.name not in html  # an application is not public
    # parent and children
    assert f'href="/bases/{bases["city"].pk}/"' in html and "鄂州市共益园" in html
    assert f'href="/bases/{bases["studio"].pk}/"' in html
    # figures: the yearly chart (ECharts) with the same numbers in the table beside it
    option = chart_option(html, f"base-{street.pk}-years")
    this_year = f"{timezone.localdate().year}年"
    assert categories(option)[-1] == this_year
    assert series(option)["入壳"][-1] == 2 and series(option)["出壳"][-1] == 1
    table = html[html.index(f'id="table-base-{street.pk}-years"') :]
    assert (
        "累计出壳" in html and f'<th scope="row">{this_year}</th><td class="num">2</td><td class="num">1</td>' in table
    )
    assert f'href="/me/incubation/apply/{street.pk}/"' in html


def test_base_page_shows_nothing_private(client, bases):
    street = bases["street"]
    org = OrganisationFactory(
        name="鄂州市凤凰街道夕阳红居家养老服务中心",
        contact_phone="13912345678",
        email="xiyanghong@example.org",
        bank_name="湖北银行鄂州分行",
        bank_account="6221000012345678901",
        legal_representative="王秀英",
        address="湖北省鄂州市凤凰街道滨湖路99号",
        status=OrganisationStatus.VERIFIED,  # named on the page, as the directory names it
    )
    Membership.objects.create(organisation=org, user=applicant(), role=Membership.Role.LEADER)
    incubation_at(street, org, S.IN_INCUBATION, plan="每周为独居老人送餐三次。", needs="需要财务培训。")
    html = _get(client, f"/bases/{street.pk}/")
    assert org.name in html
    for private in (
        "13912345678",
        "xiyanghong@example.org",
        "6221000012345678901",
        "湖北银行",
        "王秀英",
        "滨湖路99号",
        "每周为独居老人送餐三次。",
        "需要财务培训。",
        org.uscc,
    ):
        assert private not in html, private


def test_unknown_base_is_404_and_a_closed_one_says_so(client, bases):
    assert client.get("/bases/999999/").status_code == 404
    html = _get(client, f"/bases/{bases['closed'].pk}/")
    assert "该基地暂停接收入驻申请。" in html and "申请入驻" not in html


def test_home_page_counts_the_bases(client, bases):
    html = _get(client, "/")
    assert "<dt>孵化基地</dt><dd>4<small>个</small></dd>" in html and 'href="/bases/"' in html


# ---- query counts -------------------------------------------------------------------------


def _verify(*orgs):
    """Test data: organisations whose registration has been verified (public in the directory)."""
    Organisation.objects.filter(pk__in=[o.pk for o in orgs]).update(status=OrganisationStatus.VERIFIED)


def test_base_page_names_only_organisations_the_directory_shows(client, bases):
    """Defect 8: a draft or an organisation under review is not named as 在孵 or 出壳; a
    verified one is, linked to its directory entry."""
    street = bases["street"]
    op = base_operator(street)
    public = incubation_at(street, status=S.IN_INCUBATION, by=op)
    _verify(public.organisation)
    draft = incubation_at(street, status=S.IN_INCUBATION, by=op)
    under_review = incubation_at(street, status=S.IN_INCUBATION, by=op)
    Organisation.objects.filter(pk=under_review.organisation_id).update(status=OrganisationStatus.SUBMITTED)
    graduate = incubation_at(street, status=S.GRADUATED, by=op)  # still a draft

    html = _get(client, f"/bases/{street.pk}/")
    residents = html[html.index("在孵组织 <") : html.index("已出壳组织 <")]
    assert f'<a href="/directory/{public.organisation_id}/">{public.organisation.name}</a>' in residents
    assert "1 家" in residents and "另有 2 家组织正在办理登记" in residents
    for hidden in (draft, under_review, graduate):
        assert hidden.organisation.name not in html
    graduates = html[html.index("已出壳组织 <") :]
    assert "还没有出壳的组织" not in graduates and "另有 1 家出壳组织的登记信息尚未公开" in graduates
    assert client.get(f"/directory/{public.organisation_id}/").status_code == 200


def _queries(client, url) -> int:
    client.get(url)  # warm the site-root cache
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _more_residents(base, n):
    """Residents beyond the few made through the services: the same rows, in bulk."""
    template = Incubation.objects.filter(base=base, status=S.IN_INCUBATION).first()
    orgs = Organisation.objects.bulk_create(
        [
            Organisation(
                name=f"鄂州市批量社区服务队{i}号",
                org_type="preparing",
                legal_representative="张三",
                address="鄂州市",
                region=base.region,
                contact_name="张三",
                contact_phone="13800000000",
                status=OrganisationStatus.VERIFIED,  # the public page names verified ones only
            )
            for i in range(n)
        ]
    )
    Incubation.objects.bulk_create(
        [
            Incubation(
                base=base,
                organisation=o,
                status=S.GRADUATED if i % 2 else S.IN_INCUBATION,
                plan="助老服务",
                applied_on=template.applied_on,
                screening_due=template.screening_due,
                starts_on=template.starts_on,
                ends_on=template.ends_on,
                graduated_on=template.starts_on if i % 2 else None,
                residence=Residence.VIRTUAL,
            )
            for i, o in enumerate(orgs)
        ]
    )


def test_base_page_queries_do_not_grow_with_residents(client, bases):
    street = bases["street"]
    op = base_operator(street)
    for _ in range(3):
        incubation_at(street, status=S.IN_INCUBATION, by=op)
    incubation_at(street, status=S.GRADUATED, by=op)
    incubation_at(street, status=S.WITHDRAWN, by=op)
    url = f"/bases/{street.pk}/"
    few = _queries(client, url)
    _more_residents(street, 95)
    html = client.get(url).content.decode()
    assert "鄂州市批量社区服务队94号" in html
    assert _queries(client, url) == few
    assert few <= 16, (
        few
    )  # 6 to serve the Wagtail page, 9 for the base (see incubator.public), 1 for its funded projects (grants)


def test_directory_queries_do_not_grow_with_bases(client, bases, regions):
    incubation_at(bases["street"], status=S.IN_INCUBATION)
    few = _queries(client, "/bases/")
    IncubationBase.objects.bulk_create(
        [
            IncubationBase(
                name=f"凤凰社区第{i}共享工作室",
                level=BaseLevel.COMMUNITY,
                region=regions["fenghuang_c"],
                parent=bases["street"],
                address="凤凰街道",
                contact_name="李",
                contact_phone="0711-3200000",
            )
            for i in range(95)
        ]
    )
    html = client.get("/bases/").content.decode()
    assert "凤凰社区第94共享工作室" in html
    assert _queries(client, "/bases/") == few
    assert few <= 8, few  # 6 to serve the Wagtail page, 2 for the bases and their regions
