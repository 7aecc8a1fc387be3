"""数据统计 (/stats/, cms/stats.py and grants/figures.py): the funded projects' figures by
year, level, street, category, organisation type, stage and grade, the incubation's, each
chart with its table and its CSV and Excel download; nothing private; an empty site says
so; the page's queries do not grow with the number of projects."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from grants.models import Call, CallStatus, ProgressReport, Proposal, ProposalStatus, Tranche, TrancheStatus
from grants.services import reports
from orgs.models import Organisation, ServiceArea
from tests.charts import categories, chart_option, series
from tests.grants.factories import BANK_ACCOUNT, leader_of, make_call, proposal_at, signed_projects
from tests.incubator.factories import IncubationBaseFactory, incubation_at
from tests.queries import page_queries

P = ProposalStatus
URL = "/stats/"
PHONE = "13987654321"


def _wan(amount: Decimal) -> float:
    return float((amount / 10000).quantize(Decimal("0.01")))


def _yuan(amount: Decimal) -> str:
    return f"¥{amount:,.2f}"


def _report(project, *, served: int) -> None:
    """A progress report of `project` counting `served` people, submitted by its 负责人."""
    leader = leader_of(project)
    today = timezone.localdate()
    r = reports.report_start(
        proposal=project, by=leader, period="第一阶段", period_start=today.replace(day=1), period_end=today
    )
    r = reports.report_save(
        report=ProgressReport.objects.get(pk=r.pk),
        by=leader,
        fields={"beneficiaries": served, "narrative": "开展助餐服务。"},
    )
    reports.report_submit(report=ProgressReport.objects.get(pk=r.pk), by=leader)


@pytest.fixture
def funded(site_pages, regions):
    """Two projects of a 凤凰街道 call under way (agreement signed, first tranche paid, their
    organisations with a bank account and a phone); the second then closed 优秀 with all its
    money paid; a report counting 80 people served on the first; and a proposal still
    waiting for its eligibility check, which counts nowhere."""
    call, projects, manager, finance = signed_projects(2)
    first, second = projects
    Organisation.objects.filter(pk__in=[p.organisation_id for p in projects]).update(contact_phone=PHONE)
    _report(first, served=80)
    Tranche.objects.filter(proposal=second).update(status=TrancheStatus.RELEASED, paid_on=timezone.localdate())
    Proposal.objects.filter(pk=second.pk).update(status=P.CLOSED, final_grade="优秀")
    waiting = proposal_at(make_call(regions["huarong_town"]), title="华容镇还在审查的项目")
    return {"call": call, "projects": [Proposal.objects.get(pk=p.pk) for p in projects], "waiting": waiting}


def _get(client, url=URL):
    response = client.get(url)
    assert response.status_code == 200
    return response, response.content.decode()


def _released(project) -> Decimal:
    return sum(Tranche.objects.filter(proposal=project, status=TrancheStatus.RELEASED).values_list("amount", flat=True))


# ---- what a visitor reads --------------------------------------------------------------------------


def test_the_key_figures_add_up_the_funded_projects_only(client, funded):
    first, second = funded["projects"]
    awarded = first.awarded_amount + second.awarded_amount
    released = _released(first) + _released(second)
    _, html = _get(client)
    tiles = html[html.index('class="stats-tiles"') : html.index("</dl>")]
    assert '<dt>资助项目</dt><dd><span class="stats-value">2</span>' in tiles  # not the one in review
    assert f'<dt>资助金额</dt><dd><span class="stats-value">{_yuan(awarded)}</span>' in tiles
    assert f'<dt>已拨付</dt><dd><span class="stats-value">{_yuan(released)}</span>' in tiles
    assert '<dt>计划直接受益</dt><dd><span class="stats-value">240</span>' in tiles  # 120 each
    assert '<dt>已服务对象</dt><dd><span class="stats-value">80</span>' in tiles
    assert "华容镇还在审查的项目" not in html


def test_each_breakdown_has_its_chart_and_table(client, funded):
    first, second = funded["projects"]
    call = funded["call"]
    awarded = first.awarded_amount + second.awarded_amount
    year = f"{call.year}年"
    _, html = _get(client)

    years = chart_option(html, "years")
    assert categories(years) == [year]
    assert series(years) == {
        "资助金额": [_wan(awarded)],
        "已拨付": [_wan(_released(first) + _released(second))],
    }
    assert (
        f'<th scope="row">{year}</th><td class="num">2</td><td class="num">2</td><td class="num">{_yuan(awarded)}</td>'
        in html
    )

    assert series(chart_option(html, "levels")) == {"街道（镇）级": _wan(awarded)}
    streets = chart_option(html, "streets")
    assert categories(streets) == ["凤凰街道（鄂城区）"] and series(streets) == {"资助项目": [2]}
    category = call.categories.first().name
    assert categories(chart_option(html, "categories")) == [category]
    assert series(chart_option(html, "org-types"))  # one slice per type of the two organisations

    stages = series(chart_option(html, "stages"))
    assert stages["实施中"] == [1] and stages["已结项"] == [1] and stages["已终止"] == [None]
    stage_table = html[html.index('id="table-stages"') :]
    assert '<td class="num">50%</td>' in stage_table[: stage_table.index("</table>")]  # 结项率
    assert series(chart_option(html, "grades")) == {"优秀": 1}

    # every chart is a labelled image with its table and the downloads of its numbers
    for slug in ("years", "levels", "streets", "categories", "org-types", "stages", "grades"):
        assert f'id="table-{slug}"' in html
        assert f'href="/stats/{slug}/csv/"' in html and f'href="/stats/{slug}/xlsx/"' in html
    assert html.count('role="img"') == html.count('class="chart-canvas"') == 7
    assert '<script defer src="/static/vendor/echarts/echarts.min.js"></script>' in html


def test_a_project_in_two_streets_counts_in_both(client, funded, regions):
    first, _ = funded["projects"]
    first.places.add(regions["gulou"])
    _, html = _get(client)
    streets = chart_option(html, "streets")
    assert categories(streets) == ["凤凰街道（鄂城区）", "古楼街道（鄂城区）"]
    assert series(streets) == {"资助项目": [2, 1]}
    assert "在每个街道都计入" in html


def test_the_incubation_figures_have_their_section(client, funded, regions):
    base = IncubationBaseFactory(name="凤凰街道共享工作站", region=regions["fenghuang"])
    incubation_at(base, status="in_incubation")
    _, html = _get(client)
    assert "社会组织孵化" in html and 'id="table-incubation-levels"' in html
    assert series(chart_option(html, "incubation-years"))["入壳"][-1] == 1
    assert '<dt>累计入壳组织</dt><dd><span class="stats-value">1</span>' in html


def test_nothing_private_reaches_the_page(client, funded):
    first, second = funded["projects"]
    response, html = _get(client)
    for project in (first, second):
        org = project.organisation
        leader = leader_of(project)
        assert org.bank_account == BANK_ACCOUNT  # they have one, and a phone
        for private in (BANK_ACCOUNT, PHONE, org.email, leader.mobile, leader.name, str(project.score)):
            assert not private or private not in html, private
        assert org.name not in html and project.title not in html  # totals only, no project's row
    assert "sessionid" not in response.cookies


def test_an_empty_site_says_there_are_no_figures_yet(client, site_pages):
    _, html = _get(client)
    assert "暂无统计数据。" in html
    assert "data-chart" not in html and "echarts" not in html and "stats-tiles" not in html


def test_incubation_alone_shows_its_section_and_the_empty_text_for_the_grants(client, site_pages, regions):
    incubation_at(IncubationBaseFactory(region=regions["fenghuang"]), status="in_incubation")
    _, html = _get(client)
    assert "暂无统计数据。" in html and "社会组织孵化" in html
    assert chart_option(html, "incubation-years") and 'id="table-years"' not in html


# ---- downloads ---------------------------------------------------------------------------------------


def test_csv_download_opens_in_excel_with_the_chinese_and_exact_amounts(client, funded):
    first, second = funded["projects"]
    awarded = first.awarded_amount + second.awarded_amount
    response = client.get("/stats/years/csv/")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"] and ".csv" in response["Content-Disposition"]
    assert not response.cookies
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel needs for UTF-8
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == [
        "年度",
        "资助项目（个）",
        "获资助组织（家）",
        "资助金额（元）",
        "已拨付（元）",
        "计划直接受益（人）",
        "已服务对象（人次）",
    ]
    year = f"{funded['call'].year}年"
    assert rows[1][:4] == [year, "2", "2", f"{awarded:f}"] and rows[2][0] == "合计"


def test_excel_download_holds_the_same_numbers(client, funded):
    first, second = funded["projects"]
    response = client.get("/stats/levels/xlsx/")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(response.content)).active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert ws.title == "各层级资助情况" and values[0][0] == "各层级资助情况" and values[1][0].startswith("数据截至")
    assert values[2][:4] == ["层级", "资助项目（个）", "获资助组织（家）", "资助金额（元）"]
    assert values[3][:4] == ["街道（镇）级", 2, 2, float(first.awarded_amount + second.awarded_amount)]
    assert ws.cell(row=4, column=4).number_format == '#,##0.00"元"'


def test_a_name_that_looks_like_a_formula_stays_text_in_both_downloads(client, funded):
    first, _ = funded["projects"]
    area = ServiceArea.objects.create(code="formula", name='=HYPERLINK("http://x.example","点我")', sort_order=99)
    Proposal.objects.filter(pk=first.pk).update(category=area)
    rows = list(csv.reader(io.StringIO(client.get("/stats/categories/csv/").content.decode("utf-8-sig"))))
    assert "'" + area.name in [r[0] for r in rows]
    ws = load_workbook(io.BytesIO(client.get("/stats/categories/xlsx/").content)).active
    cell = next(c for row in ws.iter_rows() for c in row if c.value == area.name)
    assert cell.data_type == "s"


@pytest.mark.parametrize("path", ["/stats/nothing/csv/", "/stats/years/pdf/", "/stats/years/", "/stats/years.csv"])
def test_an_unknown_table_or_format_is_not_found(client, site_pages, path):
    assert client.get(path).status_code == 404


# ---- speed -----------------------------------------------------------------------------------------


def _more_projects(template: Proposal, n: int, *, call: Call) -> None:
    """`n` funded projects like `template` in `call`, written in bulk, at every stage, each
    with a tranche paid, a report and its place."""
    fields = {
        f.attname: getattr(template, f.attname)
        for f in Proposal._meta.concrete_fields
        if f.attname not in ("id", "call_id", "number", "title", "status", "final_grade")
    }
    stages = [P.IN_PROGRESS, P.MID_TERM_PASSED, P.SUSPENDED, P.CLOSED, P.TERMINATED, P.APPROVED]
    made = Proposal.objects.bulk_create(
        [
            Proposal(
                **fields,
                call_id=call.pk,
                number=f"V{call.pk}-{i:05d}",
                title=f"批量项目{i}",
                status=stages[i % len(stages)],
                final_grade="良好" if stages[i % len(stages)] == P.CLOSED else "",
            )
            for i in range(n)
        ]
    )
    place = template.places.first()
    Proposal.places.through.objects.bulk_create(
        [Proposal.places.through(proposal_id=p.pk, region_id=place.pk) for p in made]
    )
    Tranche.objects.bulk_create(
        [
            Tranche(
                proposal=p,
                position=1,
                name="首期",
                percent=Decimal("50"),
                gate="signed",
                amount=p.awarded_amount / 2,
                status=TrancheStatus.RELEASED,
                paid_on=timezone.localdate(),
            )
            for p in made
        ]
    )
    today = timezone.localdate()
    ProgressReport.objects.bulk_create(
        [
            ProgressReport(
                proposal=p,
                period="第一阶段",
                period_start=today - datetime.timedelta(days=30),
                period_end=today,
                beneficiaries=10,
                status=ProgressReport.Status.SUBMITTED,
            )
            for p in made
        ]
    )


def test_the_page_and_a_download_cost_the_same_queries_at_10_and_200_projects(client, funded, regions):
    template = funded["projects"][0]
    last_year = make_call(regions["fenghuang"], title="凤凰街道去年的征集", year=timezone.localdate().year - 1)
    Call.objects.filter(pk=last_year.pk).update(status=CallStatus.FINISHED)
    _more_projects(template, 8, call=last_year)
    few = page_queries(client, URL)
    few_download = page_queries(client, "/stats/stages/xlsx/")
    _, html = _get(client)
    assert '<dt>资助项目</dt><dd><span class="stats-value">10</span>' in html

    _more_projects(template, 190, call=last_year)
    many = page_queries(client, URL)
    _, html = _get(client)
    assert '<dt>资助项目</dt><dd><span class="stats-value">200</span>' in html
    assert len(categories(chart_option(html, "years"))) == 2
    assert many == few and page_queries(client, "/stats/stages/xlsx/") == few_download
    assert few <= 15, few
