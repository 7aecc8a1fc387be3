"""Directories linked both ways with their projects: an organisation's entry in the public
directory (/directory/<pk>/) and an incubation base's page (/bases/<pk>/) list the funded
projects (of its residents and graduates, for a base), each linked to /projects/<pk>/.
orgs and incubator may not import grants: grants answers through
orgs.public_projects.PUBLIC_PROJECTS_HOOK. Nothing private; the same few queries however
many projects."""

import pytest

from grants.models import Proposal, ProposalStatus
from grants.rules import fmt_money
from incubator.models import IncubationStatus
from orgs.models import Organisation
from orgs.public_projects import public_projects
from tests.cms.public_data import EMAIL, PHONE, copy_projects, with_private_contacts
from tests.factories import OrganisationFactory
from tests.grants.factories import BANK_ACCOUNT, make_call, proposal_at, signed_projects
from tests.incubator.factories import IncubationBaseFactory, incubation_at
from tests.queries import page_queries

pytestmark = pytest.mark.django_db
S = IncubationStatus


@pytest.fixture
def funded(site_pages, regions):
    """Two organisations with a funded project each (in progress, first tranche paid), one
    of them with a second application still being checked."""
    call, projects, manager, _ = signed_projects(2)
    for p in projects:
        with_private_contacts(p.organisation)
    pending = proposal_at(
        make_call(regions["fenghuang"], title="凤凰街道第二批征集"),
        ProposalStatus.SUBMITTED,
        org=projects[0].organisation,
        title="尚在审查的申报",
    )
    return {"call": call, "projects": projects, "pending": pending}


def test_an_organisations_entry_lists_its_funded_projects_linked_to_their_pages(client, funded):
    project = funded["projects"][0]
    html = client.get(f"/directory/{project.organisation_id}/").content.decode()
    section = html[html.index('id="projects"') :]
    assert "获公益创投资助项目" in section and "1 个" in section
    assert f'<a class="project-title" href="/projects/{project.pk}/">{project.title}</a>' in section
    assert f"{funded['call'].year}年 · {funded['call'].title}" in section
    assert "实施中" in section and f"资助 ¥{fmt_money(project.awarded_amount)}" in section
    assert "尚在审查的申报" not in html and funded["projects"][1].title not in html


def test_an_unpublished_grade_is_not_shown_and_nothing_private_is(client, funded):
    project = funded["projects"][0]
    Proposal.objects.filter(pk=project.pk).update(final_grade="优秀")  # evaluated, no 评估结果公示 yet
    html = client.get(f"/directory/{project.organisation_id}/").content.decode()
    assert project.title in html and "优秀" not in html
    for private in (PHONE, EMAIL, BANK_ACCOUNT, BANK_ACCOUNT.replace(" ", ""), "6222021102034567890"):
        assert private not in html


def test_an_organisation_without_projects_says_so(client, site_pages, regions):
    org = OrganisationFactory(status=Organisation.Status.VERIFIED, contact_phone=PHONE)
    html = client.get(f"/directory/{org.pk}/").content.decode()
    assert "暂无获得公益创投资助的项目" in html and PHONE not in html


def test_the_hook_answers_for_many_organisations_in_one_query(funded, django_assert_num_queries):
    ids = [p.organisation_id for p in funded["projects"]]
    with django_assert_num_queries(1):
        found = public_projects(ids)
    assert {p.pk for p in found} == {p.pk for p in funded["projects"]}
    assert public_projects([]) == []


def test_a_base_lists_the_projects_of_its_residents_and_graduates(client, funded, regions):
    resident_project, graduate_project = funded["projects"]
    base = IncubationBaseFactory(region=regions["fenghuang"], name="凤凰街道社会组织共享工作站")
    incubation_at(base, resident_project.organisation, S.IN_INCUBATION)
    incubation_at(base, graduate_project.organisation, S.GRADUATED)
    elsewhere = IncubationBaseFactory(region=regions["gulou"], name="古楼街道共享工作站")
    _, (other,), _, _ = signed_projects(1, region=regions["gulou"], title="古楼街道公益创投")
    incubation_at(elsewhere, other.organisation, S.IN_INCUBATION)

    html = client.get(f"/bases/{base.pk}/").content.decode()
    section = html[html.index('id="projects"') :]
    assert '获公益创投资助项目 <span class="count">2 个</span>' in section
    for p in (resident_project, graduate_project):
        assert f'href="/projects/{p.pk}/"' in section and p.organisation.name in section
    assert f'href="/projects/{other.pk}/"' not in html and other.organisation.name not in html
    assert PHONE not in html and "6222021102034567890" not in html
    elsewhere_html = client.get(f"/bases/{elsewhere.pk}/").content.decode()
    assert f'href="/projects/{other.pk}/"' in elsewhere_html
    assert f'href="/projects/{resident_project.pk}/"' not in elsewhere_html


def test_a_base_without_funded_residents_says_so(client, site_pages, regions):
    base = IncubationBaseFactory(region=regions["fenghuang"])
    incubation_at(base, status=S.IN_INCUBATION)
    assert "还没有获得公益创投资助的项目" in client.get(f"/bases/{base.pk}/").content.decode()


def test_the_pages_cost_the_same_queries_with_few_or_many_projects(client, funded, regions):
    template = funded["projects"][0]
    org = template.organisation
    base = IncubationBaseFactory(region=regions["fenghuang"], desks=20)
    incubation_at(base, org, S.IN_INCUBATION)
    org_url, base_url = f"/directory/{org.pk}/", f"/bases/{base.pk}/"
    few = page_queries(client, org_url), page_queries(client, base_url)

    copy_projects(template, 20, organisation=org, title="本组织的项目")
    for _ in range(12):  # more residents, each with a funded project
        inc = incubation_at(base, status=S.IN_INCUBATION)
        Organisation.objects.filter(pk=inc.organisation_id).update(status="verified")
        copy_projects(template, 1, organisation=inc.organisation, title=f"入驻组织{inc.pk}的项目")
    html = client.get(base_url).content.decode()
    assert "显示最新的 12 个" in html and 'href="/projects/' in html
    assert (page_queries(client, org_url), page_queries(client, base_url)) == few
    assert few[0] <= 10 and few[1] <= 18  # the base page: its facts, stays and figures (incubator.public)
