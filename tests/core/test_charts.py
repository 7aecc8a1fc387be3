"""core.charts: a table of figures, the ECharts option drawn from it and the include that
renders both (the chart's container and the table readers without JavaScript get)."""

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

from core.charts import BAR, COUNT, LINE, MONEY, NUMBER, PIE, SHARE, STACKED, Chart, Column, Table
from tests.charts import categories, chart_option, series

ROOT = Path(__file__).resolve().parents[2]


def money_table() -> Table:
    table = Table(
        "years",
        "各年度资助情况",
        "年度",
        [
            Column("projects", "资助项目（个）", legend="资助项目"),
            Column("awarded", "资助金额（元）", MONEY, legend="资助金额"),
            Column("released", "已拨付（元）", MONEY, legend="已拨付"),
        ],
        note="按征集年度统计。",
    )
    table.add("2025年", projects=3, awarded=Decimal("123456.78"), released=Decimal("0"))
    table.add("2026年", projects=1204, awarded=Decimal("50000.00"), released=Decimal("25000.50"))
    table.add_total(projects=1207, awarded=Decimal("173456.78"), released=Decimal("25000.50"))
    return table


def test_a_column_shows_plots_and_exports_each_kind():
    money = Column("m", "金额（元）", MONEY)
    assert money.show(Decimal("1234567.8")) == "¥1,234,567.80"
    assert money.plot(Decimal("123456.78")) == 12.35  # 万元 on the chart
    assert money.export(Decimal("1234.5")) == Decimal("1234.50")
    count = Column("n", "项目（个）", COUNT)
    assert (count.show(1204), count.plot(1204), count.export(1204.0)) == ("1,204", 1204, 1204)
    share = Column("s", "结项率", SHARE)
    assert (share.show(0.5), share.plot(0.5), share.export(1 / 3)) == ("50%", 50.0, 0.3333)
    number = Column("h", "服务时长（小时）", NUMBER)
    assert (number.show(192.5), number.show(78.0)) == ("192.5", "78")
    for column in (money, count, share, number):  # nothing to show: a dash, a gap, an empty cell
        assert (column.show(None), column.plot(float("nan")), column.export(None)) == ("—", None, None)


def test_a_table_gives_its_rows_shown_and_unformatted():
    table = money_table()
    assert table.headers == ["年度", "资助项目（个）", "资助金额（元）", "已拨付（元）"]
    assert table.display_rows[1] == {"label": "2026年", "cells": ["1,204", "¥50,000.00", "¥25,000.50"]}
    assert table.display_total["cells"][1] == "¥173,456.78"
    header, *rows = table.export_rows()
    assert rows == [
        ["2025年", 3, Decimal("123456.78"), Decimal("0.00")],
        ["2026年", 1204, Decimal("50000.00"), Decimal("25000.50")],
        ["合计", 1207, Decimal("173456.78"), Decimal("25000.50")],
    ]


def test_a_bar_chart_draws_money_in_wan_yuan():
    chart = Chart(money_table(), BAR, ["awarded", "released"])
    option = chart.option()
    base = option["baseOption"]
    assert categories(option) == ["2025年", "2026年"]
    assert series(option) == {"资助金额": [12.35, 5.0], "已拨付": [0, 2.5]}
    assert base["xAxis"]["type"] == "category" and base["yAxis"] == {
        "type": "value",
        "name": "万元",
        "nameTextStyle": {"align": "left"},
    }
    assert base["legend"]["show"] and chart.unit == "万元"
    assert base["series"][1]["data"][0] == {"value": 0, "label": {"show": False}}  # no "0" label
    assert "柱状图" in chart.aria_label and "万元" in chart.aria_label
    # a phone: no bar labels, the legend on as many lines as it needs above the grid
    narrow = option["media"][0]
    assert narrow["query"] == {"maxWidth": 480}
    assert [s["label"]["show"] for s in narrow["option"]["series"]] == [False, False]


def test_a_horizontal_bar_puts_the_categories_down_the_side_and_grows_with_them():
    table = Table("streets", "各街道", "街道", [Column("projects", "项目（个）")])
    for n in range(12):
        table.add(f"第{n}街道", projects=n + 1)
    chart = Chart(table, BAR, horizontal=True)
    base = chart.option()["baseOption"]
    assert base["yAxis"]["type"] == "category" and base["yAxis"]["inverse"] is True
    assert base["xAxis"]["type"] == "value" and base["xAxis"]["minInterval"] == 1
    assert categories(chart.option())[0] == "第0街道"
    short = Table("streets", "各街道", "街道", [Column("projects", "项目（个）")], rows=table.rows[:2])
    assert chart.height > Chart(short, BAR, horizontal=True).height >= 200


def test_a_stack_leaves_out_zero_segments_and_a_pie_its_empty_slices():
    table = Table("stages", "进展", "年度", [Column("a", "实施中（个）"), Column("b", "已结项（个）")])
    table.add("2026年", a=3, b=0)
    stacked = Chart(table, STACKED).option()["baseOption"]["series"]
    assert [s["stack"] for s in stacked] == ["total", "total"] and stacked[1]["data"] == [None]
    grades = Table("grades", "等级", "等级", [Column("projects", "项目（个）")])
    grades.add("优秀", projects=2)
    grades.add("不合格", projects=0)
    pie = Chart(grades, PIE).option()["baseOption"]
    assert pie["series"][0]["type"] == "pie" and pie["series"][0]["data"] == [{"name": "优秀", "value": 2}]


def test_a_line_chart_draws_one_series_bold_with_a_reference_line():
    table = Table(
        "assessments",
        "能力评估得分变化",
        "评估",
        [Column("total", "加权总分", NUMBER), Column("g", "治理结构", NUMBER)],
    )
    table.add("入壳评估", total=49.85, g=45)
    table.add("中期评估", total=70.9, g=60)
    option = Chart(table, LINE, highlight="total", mark=("出壳要求 60 分", 60.0), value_max=100).option()
    total, dimension = option["baseOption"]["series"]
    assert total["lineStyle"]["width"] > dimension["lineStyle"]["width"]
    assert (
        total["markLine"]["data"] == [{"yAxis": 60.0}] and total["markLine"]["label"]["formatter"] == "出壳要求 60 分"
    )
    assert option["baseOption"]["yAxis"]["max"] == 100 and series(option)["加权总分"] == [49.85, 70.9]


def test_a_chart_refuses_what_it_cannot_draw():
    with pytest.raises(ValueError):
        Chart(money_table(), "radar")
    with pytest.raises(ValueError):
        Chart(money_table(), PIE, ["awarded", "released"])
    with pytest.raises(ValueError):  # counts and money on one value axis
        Chart(money_table(), BAR, ["projects", "awarded"])


def test_the_include_renders_the_container_the_option_and_the_table():
    chart = Chart(money_table(), BAR, ["awarded", "released"], downloads=[("CSV", "/stats/years/csv/")])
    html = render_to_string("includes/chart.html", {"chart": chart})
    assert series(chart_option(html, "years"))["资助金额"] == [12.35, 5.0]
    assert 'aria-label="各年度资助情况（柱状图，单位：万元），详细数字见表格"' in html
    assert 'data-unit="万元"' in html and 'style="height: 320px"' in html
    assert "<caption>各年度资助情况</caption>" in html
    assert '<th scope="row">2026年</th><td class="num">1,204</td><td class="num">¥50,000.00</td>' in html
    assert "<tfoot>" in html and "¥173,456.78" in html and "按征集年度统计。" in html
    assert '<a href="/stats/years/csv/" download>CSV</a>' in html


def test_without_data_the_include_shows_the_table_but_no_chart():
    table = Table("grades", "末期评估等级分布", "等级", [Column("projects", "项目（个）")])
    table.add("优秀", projects=0)
    html = render_to_string("includes/chart.html", {"chart": Chart(table, PIE)})
    assert "data-chart" not in html and "application/json" not in html
    assert '<th scope="row">优秀</th><td class="num">0</td>' in html


def test_a_page_with_its_own_table_shows_the_chart_alone_with_its_title():
    html = render_to_string(
        "includes/chart.html", {"chart": Chart(money_table(), BAR, ["awarded"]), "no_table": True, "show_title": True}
    )
    assert chart_option(html, "years") and "<table" not in html
    assert '<figcaption class="chart-title">各年度资助情况</figcaption>' in html


def test_the_scripts_come_from_the_projects_own_static_files():
    html = render_to_string("includes/chart_scripts.html")
    assert '<script defer src="/static/vendor/echarts/echarts.min.js"></script>' in html
    assert '<script defer src="/static/js/charts.js"></script>' in html
    assert "http" not in html  # no CDN


def test_make_install_put_the_pinned_echarts_into_the_static_files():
    package = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    pinned = package["dependencies"]["echarts"]
    assert pinned[0].isdigit() and lock["packages"]["node_modules/echarts"]["version"] == pinned
    found = finders.find("vendor/echarts/echarts.min.js")
    assert found, "ECharts is missing from the static files: run `make install`"
    assert f"{pinned}" in Path(found).read_text(encoding="utf-8")[:100_000]
