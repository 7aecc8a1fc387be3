"""资助项目 (/projects/): the funded projects' list (filters combined in the URL, invalid
ones ignored aloud, a 2-character search, sorts, pages, the count and the sum) and a
project's public page (organisation linked to the directory, call, category, places,
period, money awarded and released, the needs it answers, KPIs against what was
reached, public updates with the photos marked public, the grade once its 公示 is out);
404 for what is not public; nothing private on any of them; the same number of queries
at 10 and at 1,000 projects.

The projects are decided, signed and carried on through the real services once for the
module (rolled back after it): of 凤凰街道's call one closed 优秀 with its results
published, one terminated after two failed mid-terms, one in progress with a report; of
华容镇's call one approved and waiting for its agreement, one not funded."""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from cms.models import CallPage
from cms.setup import ensure_site
from grants.models import (
    ExpertProfile,
    Proposal,
    ProposalStatus,
    ReportPhoto,
    Tranche,
    TrancheStatus,
)
from grants.search import index_now
from grants.selectors.public import PUBLIC_STATES
from grants.services import evaluations
from orgs.models import Organisation, ServiceArea
from tests.factories import PNG_BYTES, region_tree
from tests.grants.factories import BANK_ACCOUNT, approved_call, signed_projects
from tests.grants.funded import closed_with_grade, evaluate, fresh, report
from tests.grants.funded import need as funded_need
from tests.queries import page_queries

P = ProposalStatus
pytestmark = pytest.mark.django_db
TODAY = timezone.localdate
PRIVATE = {
    "phone": "13912345678",
    "email": "private-contact@example.org",
    "legal": "钱法人",
    "contact": "孙联系人",
    "need_phone": "13700001111",
    "need_submitter": "周阿婆",
}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        ensure_site()
        regions = region_tree()
        call, projects, manager, finance = signed_projects(3, totals=(92, 88, 84))
        closed, ended, running = (p.pk for p in projects)
        CallPage.objects.get(call=call).save_revision().publish()
        Organisation.objects.filter(pk__in=[p.organisation_id for p in projects]).update(
            contact_phone=PRIVATE["phone"],
            email=PRIVATE["email"],
            legal_representative=PRIVATE["legal"],
            contact_name=PRIVATE["contact"],
        )

        # in progress: a children's project in a community, answering a need, one report in
        p = fresh(running)
        p.title, p.summary = "小候鸟儿童暑期课堂", "陪伴留守儿童度过暑假，开展防溺水安全教育。"
        p.category = ServiceArea.objects.get(code="children")
        p.save(update_fields=["title", "summary", "category"])
        p.places.set([regions["fenghuang_c"]])
        need = funded_need(
            regions["fenghuang_c"],
            "暑假孩子没人看",
            submitter=PRIVATE["need_submitter"],
            phone=PRIVATE["need_phone"],
            accepted_by=manager,
            category="children",
        )
        p.cited_needs.add(need)
        report(
            running,
            public_text="本期开展暑期课堂8场，孩子们学会了防溺水知识。",
            photos=[("志愿者带孩子做手工", True), ("王小明同学近照", False)],
        )

        # closed 优秀: mid-term passed, all paid, final 93, closed, results published
        closed_with_grade(closed, manager, finance)
        evaluations.publish_evaluation_results(call=call, by=manager)

        # terminated: two failed mid-terms
        evaluate(ended, "mid_term", 48, manager, "活动大多未按计划开展，请限期整改。")
        evaluate(ended, "mid_term", 40, manager, "整改期满仍未开展活动。", reason="复评仍不合格，项目终止")

        other, other_items, _m = approved_call(2, totals=(90, 40), region=regions["huarong_town"])
        waiting = next(x.pk for x in other_items if x.status == P.APPROVED)
        declined = next(x.pk for x in other_items if x.status == P.NOT_FUNDED)
        Proposal.objects.filter(pk=waiting).update(awarded_amount=Decimal("80000.00"))
        yield {
            "call": call.pk,
            "other_call": other.pk,
            "closed": closed,
            "ended": ended,
            "running": running,
            "waiting": waiting,
            "declined": declined,
            "need": need.pk,
            "manager": manager,
            "finance": finance,
            "regions": regions,
        }
        transaction.set_rollback(True)


def html(client, url, data=None) -> str:
    response = client.get(url, data)
    assert response.status_code == 200, (url, data)
    return response.content.decode()


def listed_ids(page: str) -> list[int]:
    """The projects of a list page, in order (their links)."""
    return [int(pk) for pk in re.findall(r'<h2><a href="/projects/(\d+)/">', page)]


# ---- the list -------------------------------------------------------------------------------------------


def test_the_list_shows_the_funded_projects_with_their_public_status_and_the_totals(client, world):
    page = html(client, "/projects/")
    assert set(listed_ids(page)) == {world["closed"], world["ended"], world["running"], world["waiting"]}
    assert world["declined"] not in listed_ids(page)
    for label in ("已结项", "已终止", "实施中", "待签约"):
        assert label in page
    # 60,000 × 3 (凤凰街道) + 80,000 (华容镇)
    assert "共 <strong>4</strong> 个项目，资助金额合计 <strong>¥260,000.00</strong>" in page
    assert "小候鸟儿童暑期课堂" in page and "优秀" in page  # the published grade on its card


def cards(page: str) -> dict[int, str]:
    """Each card of a list page, by project: its text with the tags stripped."""
    found = re.findall(r'<li class="card funded-card[^"]*">(.*?)</li>', page, re.S)
    return {
        int(re.search(r'href="/projects/(\d+)/"', c).group(1)): " ".join(re.sub(r"<[^>]+>", " ", c).split())
        for c in found
    }


def test_each_card_reads_status_level_category_organisation_money_score_grade_places_and_call(client, world):
    page = html(client, "/projects/")
    shown = cards(page)
    closed, running = fresh(world["closed"]), fresh(world["running"])
    assert shown[closed.pk].startswith(f"已结项 {closed.call.get_level_display()} 老年人服务")
    for fact in (closed.title, closed.organisation.name, "资助金额 ¥60,000.00", "已拨付 ¥60,000.00"):
        assert fact in shown[closed.pk], fact
    assert f"评审得分 {closed.score:.2f}" in shown[closed.pk] and "评估等级 优秀" in shown[closed.pk]
    assert shown[closed.pk].endswith(f"{closed.call.year}年 · {closed.call.title}")
    assert "儿童青少年服务" in shown[running.pk] and "评估等级" not in shown[running.pk]  # not graded yet
    assert "陪伴留守儿童度过暑假" in shown[running.pk] and "已拨付 ¥30,000.00" in shown[running.pk]
    assert f"凤凰社区 · {running.call.year}年" in shown[running.pk]
    assert '<li class="card funded-card funded-card--ended">' in page  # the terminated one, greyed
    assert '<dd class="grade grade-excellent">优秀</dd>' in page

    # what an organisation typed is text, never markup
    Proposal.objects.filter(pk=running.pk).update(title='<script>alert("x")</script>儿童课堂')
    page = html(client, "/projects/")
    assert "<script>alert" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;儿童课堂" in page


def test_filters_combine_and_stay_in_the_url(client, world):
    regions = world["regions"]
    cases = {
        "category": ({"category": ServiceArea.objects.get(code="children").pk}, {world["running"]}),
        "community": ({"region": regions["fenghuang_c"].pk}, {world["running"]}),
        "street": ({"region": regions["fenghuang"].pk}, {world["closed"], world["ended"], world["running"]}),
        "other district": ({"region": regions["huarong"].pk}, {world["waiting"]}),
        "status": ({"status": "terminated"}, {world["ended"]}),
        "waiting": ({"status": "approved"}, {world["waiting"]}),
        "grade": ({"grade": "优秀"}, {world["closed"]}),
        "call": ({"call": world["other_call"]}, {world["waiting"]}),
        "level and year": (
            {"level": 3, "year": TODAY().year},
            {world["closed"], world["ended"], world["running"], world["waiting"]},
        ),
        "combined": ({"call": world["call"], "status": "in_progress"}, {world["running"]}),
        "nothing": ({"call": world["other_call"], "status": "closed"}, set()),
    }
    for name, (params, expected) in cases.items():
        page = html(client, "/projects/", params)
        assert set(listed_ids(page)) == expected, name
        assert "已忽略" not in page, name
    page = html(client, "/projects/", {"call": world["other_call"], "status": "closed"})
    assert "没有符合条件的资助项目" in page and "共 <strong>0</strong> 个项目" in page


def test_invalid_filters_are_ignored_and_said_so(client, world):
    page = html(client, "/projects/", {"status": "bogus", "year": "abc", "region": "999999", "sort": "x", "page": "z"})
    assert "筛选条件无效，已忽略：年度、区域、项目状态、排序。" in page
    assert len(listed_ids(page)) == 4
    # a grade not yet published is not offered: the terminated project has none, and a
    # grade typed in by hand is refused
    assert "已忽略：评估等级" in html(client, "/projects/", {"grade": "不合格"})


def test_a_two_character_search_finds_the_project_by_title_summary_or_organisation(client, world):
    assert listed_ids(html(client, "/projects/", {"q": "儿童"})) == [world["running"]]
    assert listed_ids(html(client, "/projects/", {"q": "溺水"})) == [world["running"]]  # the summary
    assert listed_ids(html(client, "/projects/", {"q": "课堂", "status": "closed"})) == []
    org = fresh(world["waiting"]).organisation.name
    assert world["waiting"] in listed_ids(html(client, "/projects/", {"q": org}))
    page = html(client, "/projects/", {"q": "儿童"})
    assert "搜索“儿童”：共 <strong>1</strong> 个项目" in page
    assert 'value="儿童"' in page  # the box keeps what was typed


def test_sorts_by_score_amount_and_date(client, world):
    scores = listed_ids(html(client, "/projects/", {"sort": "score"}))
    assert scores == [world["closed"], world["waiting"], world["ended"], world["running"]]  # 92, 90, 88, 84
    assert listed_ids(html(client, "/projects/", {"sort": "amount"}))[0] == world["waiting"]  # 80,000
    by_date = listed_ids(html(client, "/projects/"))
    assert by_date[0] == world["waiting"]  # decided last


# ---- a project's page ---------------------------------------------------------------------------------------


def test_a_closed_project_shows_its_money_call_organisation_kpis_and_published_grade(client, world):
    p = fresh(world["closed"])
    page = html(client, f"/projects/{p.pk}/")
    assert f"<h1>{p.title}</h1>" in page
    assert f'<a href="/directory/{p.organisation_id}/">{p.organisation.name}</a>' in page
    call_page = CallPage.objects.get(call_id=world["call"])
    assert f'<a href="{call_page.url}">{p.call.title}</a>' in page
    assert "已结项" in page and "老年人服务" in page and "凤凰街道" in page
    assert page.count("¥60,000.00") >= 2  # awarded, and released in full
    agreement = p.agreement
    assert (
        f"{agreement.starts_on.year}年{agreement.starts_on.month}月 至 {agreement.ends_on.year}年{agreement.ends_on.month}月"
        in page
    )
    assert "服务老人" in page and "120人" in page and "100.00%" in page  # the KPI reached in full
    assert '<span class="grade grade-excellent">优秀</span> 末期评估 93.00 分' in page
    assert "项目目标全部达成，形成了可复制的服务模式。" in page
    assert "项目末期评估结果公示" in page


def test_a_running_project_shows_the_need_its_updates_and_only_the_public_photo(client, world):
    page = html(client, f"/projects/{world['running']}/")
    assert "实施中" in page and "儿童青少年服务" in page and "鄂城区凤凰街道凤凰社区" in page
    assert f'<a href="/needs/{world["need"]}/">暑假孩子没人看</a>' in page
    assert "本期开展暑期课堂8场，孩子们学会了防溺水知识。" in page
    assert "60人" in page and "50.00%" in page  # 60 of the 120 promised
    assert "8 场" in page and "120 人次" in page
    assert "¥30,000.00" in page  # the first tranche
    shown = ReportPhoto.objects.get(report__proposal_id=world["running"], public=True)
    hidden = ReportPhoto.objects.get(report__proposal_id=world["running"], public=False)
    assert f"/projects/{world['running']}/photos/{shown.pk}/" in page and "志愿者带孩子做手工" in page
    assert f"/photos/{hidden.pk}/" not in page and "王小明" not in page
    assert "尚未公布" in page  # no grade yet


def test_a_terminated_project_says_so_and_a_waiting_one_has_no_money_yet(client, world):
    page = html(client, f"/projects/{world['ended']}/")
    assert "已终止" in page and "该项目已终止" in page
    page = html(client, f"/projects/{world['waiting']}/")
    assert "待签约" in page and "¥80,000.00" in page and "¥0.00" in page and "项目待签订协议" in page


def test_what_is_not_public_is_not_found(client, world):
    draft = Proposal.objects.create(
        call_id=world["call"], organisation=fresh(world["running"]).organisation, title="草稿"
    )
    for pk in (world["declined"], draft.pk, 999999):
        assert client.get(f"/projects/{pk}/").status_code == 404
    assert client.get("/projects/abc/").status_code == 404


def test_a_photo_marked_public_is_served_and_no_other(client, world):
    shown = ReportPhoto.objects.get(report__proposal_id=world["running"], public=True)
    hidden = ReportPhoto.objects.get(report__proposal_id=world["running"], public=False)
    response = client.get(f"/projects/{world['running']}/photos/{shown.pk}/")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == PNG_BYTES
    assert response["Cache-Control"].startswith("public")
    for url in (
        f"/projects/{world['running']}/photos/{hidden.pk}/",  # private
        f"/projects/{world['closed']}/photos/{shown.pk}/",  # another project's
        f"/projects/{world['running']}/photos/999999/",
    ):
        assert client.get(url).status_code == 404, url


def test_nothing_private_reaches_the_list_or_a_project_page(client, world):
    org = fresh(world["running"]).organisation
    assert org.bank_account == BANK_ACCOUNT and org.contact_phone == PRIVATE["phone"]
    experts = [e.user.name for e in ExpertProfile.objects.select_related("user")]
    people = [world["manager"].name, world["finance"].name, *experts]
    pages = [
        html(client, "/projects/"),
        *(html(client, f"/projects/{world[k]}/") for k in ("closed", "ended", "running", "waiting")),
    ]
    for page in pages:
        for secret in (
            BANK_ACCOUNT,
            "中国工商银行",
            *PRIVATE.values(),
            org.uscc,
            "王秀英",  # the report's narrative
            "项目设计合理，同意资助。",  # the reviewers' comment
            "活动大多未按计划开展",  # a mid-term's comment
            *people,
        ):
            assert secret not in page, secret
        assert not re.search(r"1[3-9]\d{9}", page)  # no mobile number at all


def test_anonymous_visitors_get_the_same_page_and_no_session(client, world):
    from django.test import Client

    def without_csrf(response) -> str:
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())

    for url in ("/projects/", f"/projects/{world['closed']}/", "/projects/?q=儿童&status=in_progress"):
        first, second = client.get(url), Client().get(url)
        assert first.status_code == second.status_code == 200
        assert "sessionid" not in first.cookies and not first.wsgi_request.session.modified, url
        assert without_csrf(first) == without_csrf(second), url


# ---- speed --------------------------------------------------------------------------------------------------


def _bulk_projects(world, n: int) -> list[int]:
    """`n` more public projects written in bulk (as seed_volume does), at every public
    status, each with two places, a released tranche and a summary; indexed for search."""
    call = CallPage.objects.get(call_id=world["call"]).call
    orgs = list(Organisation.objects.all()[:3])
    area = ServiceArea.objects.get(code="elderly")
    now = timezone.now()
    rows = Proposal.objects.bulk_create(
        [
            Proposal(
                call=call,
                organisation=orgs[i % len(orgs)],
                title=f"批量项目{i}号社区助老",
                summary="为社区老人提供服务。",
                status=PUBLIC_STATES[i % len(PUBLIC_STATES)],
                category=area,
                score=Decimal("70") + i % 20,
                awarded_amount=Decimal("10000.00") + i,
                decided_at=now - datetime.timedelta(minutes=i),
            )
            for i in range(n)
        ],
        batch_size=500,
    )
    places = [world["regions"]["fenghuang"], world["regions"]["fenghuang_c"]]
    Proposal.places.through.objects.bulk_create(
        [Proposal.places.through(proposal_id=p.pk, region_id=r.pk) for p in rows for r in places], batch_size=500
    )
    Tranche.objects.bulk_create(
        [
            Tranche(
                proposal_id=p.pk,
                position=1,
                name="首期",
                percent=Decimal("50"),
                gate="signed",
                amount=Decimal("5000.00"),
                status=TrancheStatus.RELEASED,
                paid_on=TODAY(),
            )
            for p in rows
        ],
        batch_size=500,
    )
    ids = [p.pk for p in rows]
    index_now(ids)
    return ids


def test_the_list_and_a_project_page_run_the_same_queries_at_10_and_at_1000_projects(client, world):
    urls = [
        "/projects/",
        f"/projects/?region={world['regions']['fenghuang_c'].pk}&status=in_progress&sort=score",
        "/projects/?q=助老&sort=amount",
        "/projects/?grade=优秀",
        f"/projects/{world['running']}/",
        f"/projects/{world['closed']}/",
    ]
    _bulk_projects(world, 6)  # 10 in all
    few = [page_queries(client, url) for url in urls]
    _bulk_projects(world, 990)
    many = [page_queries(client, url) for url in urls]
    assert many == few, list(zip(urls, few, many, strict=True))
    assert max(many) <= 15, list(zip(urls, many, strict=True))
    # a page further on reads as the first does; past the end, the last page is shown,
    # for a count and its rows (two more queries)
    assert page_queries(client, "/projects/?page=2") == many[0]
    assert page_queries(client, "/projects/?page=9999") == many[0] + 2
    assert "第 84 / 84 页" in html(client, "/projects/", {"page": 9999})
    page = html(client, "/projects/", {"q": "助老", "sort": "amount", "page": 2})
    assert "共 <strong>996</strong> 个项目" in page
    # the page links keep the search and the order
    assert 'href="?q=%E5%8A%A9%E8%80%81&amp;sort=amount&amp;page=3"' in page
    assert 'href="?q=%E5%8A%A9%E8%80%81&amp;sort=amount&amp;page=1"' in page
