"""需求 (民呼我应) as the public reads it: /needs/ lists the accepted needs by place and
service area; a need's page shows the projects that answered it, the funded ones linked to
/projects/<pk>/ with their public status, award and (once published) grade, the others at
their stage. Never the submitter's phone or name, never an organisation's contacts. Bad
filters are said, not a 500; the pages cost the same few queries with 10 or 200 rows."""

import re

import pytest

from grants.models import Need, NeedStatus, Proposal, ProposalStatus
from grants.rules import fmt_money
from grants.services import needs as svc
from orgs.models import ServiceArea
from tests.cms.public_data import EMAIL, PHONE, copy_projects, with_private_contacts
from tests.grants.factories import make_call, proposal_at, signed_projects
from tests.queries import page_queries

pytestmark = pytest.mark.django_db
SUBMITTER_PHONE = "13707110000"


def accepted_need(regions, manager, title="空巢老人定期探访", **fields) -> Need:
    need = svc.need_submit(
        region=regions["fenghuang"].get_children().get(),
        title=title,
        description="子女不在身边的老人缺少陪伴，希望有志愿者定期上门看望。",
        affected="独居、空巢及高龄老人",
        people_count=64,
        submitter_kind="resident",
        submitter_name="王秀英",
        phone=SUBMITTER_PHONE,
        **fields,
    )
    svc.need_accept(need=need, by=manager, category=ServiceArea.objects.get(code="elderly"))
    need.refresh_from_db()
    return need


@pytest.fixture
def answered(site_pages, regions):
    """A need answered by a funded project (in progress, its organisation with a phone and
    a bank account), by an application being checked, and cited by a draft."""
    call, (project,), manager, _ = signed_projects(1)
    with_private_contacts(project.organisation)
    need = accepted_need(regions, manager)
    checking = proposal_at(make_call(regions["fenghuang"], title="凤凰街道第二批征集"), ProposalStatus.ELIGIBLE)
    draft = proposal_at(checking.call, ProposalStatus.DRAFT, title="还在填写的申报书")
    for p in (project, checking, draft):
        p.cited_needs.add(need)
    return {"need": need, "project": project, "checking": checking, "draft": draft, "call": call, "manager": manager}


def test_a_need_shows_the_funded_project_linked_with_its_result(client, answered):
    project = answered["project"]
    html = client.get(f"/needs/{answered['need'].pk}/").content.decode()
    funded = html[html.index('id="funded-projects"') : html.index('id="applications"')]
    assert f'<a class="project-title" href="/projects/{project.pk}/">{project.title}</a>' in funded
    assert project.organisation.name in funded and f"{answered['call'].year}年 · {answered['call'].title}" in funded
    assert "实施中" in funded and f"资助 ¥{fmt_money(project.awarded_amount)}" in funded
    assert "共 2 个项目回应，其中 1 个获得公益创投资助。" in html


def test_an_application_shows_its_stage_unlinked_and_a_draft_not_at_all(client, answered):
    html = client.get(f"/needs/{answered['need'].pk}/").content.decode()
    applications = html[html.index('id="applications"') :]
    checking = answered["checking"]
    assert checking.title in applications and "资格审查通过" in applications
    assert f'href="/projects/{checking.pk}/"' not in html
    assert "还在填写的申报书" not in html


def test_the_grade_appears_only_once_published_and_nothing_private_ever(client, answered):
    Proposal.objects.filter(pk=answered["project"].pk).update(final_grade="优秀")  # no 评估结果公示 yet
    html = client.get(f"/needs/{answered['need'].pk}/").content.decode()
    assert answered["project"].title in html and "优秀" not in html
    for private in (SUBMITTER_PHONE, "王秀英", PHONE, EMAIL, "6222021102034567890"):
        assert private not in html
    assert "居民 王*" in html


def test_the_list_counts_the_answers_and_reads_in_order(client, answered, regions):
    accepted_need(regions, answered["manager"], title="老年人智能手机培训")
    html = client.get("/needs/").content.decode()
    assert html.count("<h1") == 1
    titles = re.findall(r'<h2 class="need-card__title"><a href="/needs/\d+/">([^<]+)</a>', html)
    assert set(titles) == {"空巢老人定期探访", "老年人智能手机培训"}
    assert "2 个项目回应" in html and "尚无项目回应" in html
    assert SUBMITTER_PHONE not in html and "王秀英" not in html


@pytest.mark.parametrize("query", ["?street=abc", "?community=999999", "?category=999999", "?category=x&page=zz"])
def test_bad_filters_are_said_not_an_error(client, answered, query):
    response = client.get(f"/needs/{query}")
    assert response.status_code == 200
    assert "筛选条件有误" in response.content.decode()


def test_a_bad_page_number_or_an_unknown_need_is_no_error(client, answered):
    assert client.get("/needs/?page=zz").status_code == 200
    assert client.get("/needs/?page=999").status_code == 200
    assert client.get("/needs/999999/").status_code == 404


def test_the_list_costs_the_same_queries_with_10_or_200_needs(client, answered, regions):
    need = answered["need"]
    copy = {f.attname: getattr(need, f.attname) for f in Need._meta.concrete_fields if f.name != "id"}

    def more(n):
        Need.objects.bulk_create([Need(**{**copy, "title": f"{need.title}{i}"}) for i in range(n)])

    more(9)
    few = page_queries(client, "/needs/")
    more(190)
    assert Need.objects.filter(status=NeedStatus.ACCEPTED).count() == 200
    assert page_queries(client, "/needs/") == few <= 15


def test_a_need_page_costs_the_same_queries_with_10_or_200_answers(client, answered):
    need, template = answered["need"], answered["project"]
    url = f"/needs/{need.pk}/"
    need.proposals.add(*copy_projects(template, 8))
    few = page_queries(client, url)
    need.proposals.add(*copy_projects(template, 190, title="更多回应的项目"))
    html = client.get(url).content.decode()
    assert "共 200 个项目回应，其中 199 个获得公益创投资助。" in html
    assert page_queries(client, url) == few <= 15
