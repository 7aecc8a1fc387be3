"""数据统计 (/stats/): the public figures, each chart with its table and downloads.

The grants' figures come from grants/figures.py (funded projects by year, level, street,
service category, organisation type, stage and final grade), the incubation's from
incubator/figures.py; both add up on the server, so the page gets totals, never a project's
or an organisation's row. Each table is drawn by ECharts (core.charts, includes/chart.html)
and can be downloaded: <page>/<table>/csv/ (UTF-8 with a byte-order mark, so Excel and WPS
open the Chinese) or <page>/<table>/xlsx/ (core.excel: every text cell stored as text).
The page and every download cost the same few queries whatever the number of projects."""

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header

from core.charts import BAR, COUNT, LINE, MONEY, NUMBER, PIE, SHARE, STACKED, Chart, Column, Table
from core.dates import chinese_date
from core.excel import FORMULA_TRIGGERS, PERCENT, YUAN, Sheet, cell, new_workbook, workbook_bytes, xlsx_response
from grants import figures as grant_figures
from incubator import figures as incubation_figures
from incubator.models import BaseLevel, IncubationBase

FORMATS = {"csv": "CSV", "xlsx": "Excel"}


@dataclass
class Section:
    slug: str
    heading: str
    intro: str
    charts: list[Chart] = field(default_factory=list)
    tables: list[dict] = field(default_factory=list)  # tables without a chart: {"table", "downloads"}
    empty_text: str = ""


@dataclass
class Figures:
    grants: grant_figures.Frames
    incubation: incubation_figures.Frames

    @property
    def has_grants(self) -> bool:
        return not self.grants.projects.empty

    @property
    def has_incubation(self) -> bool:
        return not self.incubation.incubations["starts_on"].dropna().empty


def load_figures() -> Figures:
    return Figures(
        grants=grant_figures.load_frames(),
        incubation=incubation_figures.load_frames(IncubationBase.objects.all()),
    )


# ---- the incubation's tables ----------------------------------------------------------------

INCUBATION_LEVEL_COLUMNS = [
    Column("bases", "孵化基地（个）"),
    Column("residents", "在孵组织（家）"),
    Column("admitted", "累计入壳（家）"),
    Column("graduated", "累计出壳（家）"),
    Column("withdrawn", "累计退驻（家）"),
    Column("registered_share", "孵化期间完成登记", SHARE),
    Column("service_hours", "服务时长（小时）", NUMBER),
    Column("projects_funded", "获公益创投资助项目（个）"),
]


def incubation_years(frames) -> Table:
    rows = incubation_figures.yearly(frames)
    rows = rows[rows[list(incubation_figures.YEARLY_COLUMNS)].sum(axis=1).cumsum() > 0]  # from the first event on
    return incubation_figures.yearly_table(rows, "各年度入壳、出壳与退驻", "incubation-years")


def incubation_levels(frames) -> Table:
    table = Table(
        "incubation-levels",
        "各级孵化基地孵化情况",
        "基地层级",
        INCUBATION_LEVEL_COLUMNS,
        note=(
            "在孵：当前处于入壳、孵化中、中期评估或续驻的组织；孵化期间完成登记：出壳组织中在孵化期间完成登记"
            "或备案的比例；获公益创投资助项目：在该级基地入驻或已出壳的组织获资助的项目。"
        ),
    )
    summary = incubation_figures.summary(frames, by="level")
    for row in incubation_figures.as_records(summary):
        table.add(BaseLevel(row["level"]).label, **{c.key: row[c.key] for c in INCUBATION_LEVEL_COLUMNS})
    if len(summary):
        # an organisation incubated at two levels counts at both: its projects have no total
        totals = {
            c.key: summary[c.key].sum()
            for c in INCUBATION_LEVEL_COLUMNS
            if c.kind == COUNT and c.key != "projects_funded"
        }
        graduated = summary["graduated"].sum()
        registered = (summary["registered_share"].fillna(0) * summary["graduated"]).sum()
        totals["registered_share"] = registered / graduated if graduated else None
        totals["service_hours"] = summary["service_hours"].sum()
        table.add_total(**totals)
    return table


# ---- the page --------------------------------------------------------------------------------


def tables(figures: Figures) -> dict[str, Table]:
    """Every table of the page by its slug (the download's name)."""
    g = figures.grants
    found = [
        grant_figures.by_year(g),
        grant_figures.by_level(g),
        grant_figures.by_street(g),
        grant_figures.by_category(g),
        grant_figures.by_org_type(g),
        grant_figures.by_stage(g),
        grant_figures.by_grade(g),
        incubation_years(figures.incubation),
        incubation_levels(figures.incubation),
    ]
    return {t.slug: t for t in found}


def _downloads(page, request, slug: str) -> list[tuple[str, str]]:
    base = page.get_url(request)
    return [(label, base + page.reverse_subpage("download", args=(slug, fmt))) for fmt, label in FORMATS.items()]


def sections(figures: Figures, found: dict[str, Table], page, request) -> list[Section]:
    def chart(slug, kind, series=(), **options) -> Chart:
        return Chart(found[slug], kind, list(series), downloads=_downloads(page, request, slug), **options)

    money = ["awarded", "released"]
    out = []
    if figures.has_grants:
        stages = list(grant_figures.STAGES)
        out += [
            Section(
                "years",
                "按年度",
                "每年批复立项的公益创投项目（按征集年度），资助金额与已拨付金额。",
                [chart("years", BAR, money)],
            ),
            Section(
                "levels",
                "按层级",
                "市级、街道（镇）级、社区（村）级征集的资助金额。",
                [chart("levels", PIE, ["awarded"])],
            ),
            Section(
                "streets",
                "按实施街道（镇）",
                "各街道（镇）实施的资助项目数。",
                [chart("streets", BAR, ["projects"], horizontal=True)],
            ),
            Section(
                "categories",
                "按服务领域",
                "各服务领域项目的资助金额与已拨付金额。",
                [chart("categories", BAR, money, horizontal=True)],
            ),
            Section(
                "org-types",
                "按组织类型",
                "获资助项目的申报组织类型。",
                [chart("org-types", PIE, ["projects"])],
            ),
            Section(
                "stages",
                "项目实施进展",
                "各年度资助项目目前所处的阶段。",
                [chart("stages", STACKED, stages)],
            ),
        ]
        grades = found["grades"]
        out.append(
            Section(
                "grades",
                "末期评估等级",
                "项目实施结束后的末期评估等级。",
                [chart("grades", PIE, ["projects"])] if not grades.empty else [],
                empty_text="" if not grades.empty else "尚无项目完成末期评估。",
            )
        )
    if figures.has_incubation:
        out.append(
            Section(
                "incubation",
                "社会组织孵化",
                "市、街道（镇）、社区（村）三级孵化基地每年入壳、出壳和退驻的组织。",
                [chart("incubation-years", LINE)],
                [{"table": found["incubation-levels"], "downloads": _downloads(page, request, "incubation-levels")}],
            )
        )
    return out


def headline(figures: Figures, found: dict[str, Table]) -> list[dict]:
    """The key figures, as tiles: {label, value, unit}."""
    tiles = []
    if figures.has_grants:
        h = grant_figures.headline(figures.grants)
        tiles += [
            {"label": "资助项目", "value": f"{h['projects']:,}", "unit": "个"},
            {"label": "获资助组织", "value": f"{h['organisations']:,}", "unit": "家"},
            {"label": "资助金额", "value": _money(h["awarded"]), "unit": "", "wide": True},
            {"label": "已拨付", "value": _money(h["released"]), "unit": "", "wide": True},
            {"label": "计划直接受益", "value": f"{h['planned']:,}", "unit": "人"},
            {"label": "已服务对象", "value": f"{h['reached']:,}", "unit": "人次"},
        ]
    if figures.has_incubation:
        total = found["incubation-levels"].total.values
        tiles += [
            {"label": "孵化基地", "value": f"{int(total['bases']):,}", "unit": "个"},
            {"label": "累计入壳组织", "value": f"{int(total['admitted']):,}", "unit": "家"},
            {"label": "累计出壳组织", "value": f"{int(total['graduated']):,}", "unit": "家"},
        ]
    return tiles


def _money(value: Decimal) -> str:
    return f"¥{value:,.2f}"


def statistics_context(request, page) -> dict:
    figures = load_figures()
    found = tables(figures)
    return {
        "headline": headline(figures, found),
        "sections": sections(figures, found, page, request),
        "has_grants": figures.has_grants,
        "as_of": chinese_date(timezone.localdate()),
    }


# ---- downloads -------------------------------------------------------------------------------


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:f}"
    text = str(value)
    # a text that starts like a formula would be run by a spreadsheet program
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text


def csv_bytes(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in table.export_rows():
        writer.writerow([_csv_cell(v) for v in row])
    if table.note:
        writer.writerow([])
        writer.writerow([_csv_cell(f"说明：{table.note}")])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(table: Table, as_of: str) -> bytes:
    wb = new_workbook()
    formats = {
        i: {MONEY: YUAN, SHARE: PERCENT}[c.kind] for i, c in enumerate(table.columns, 1) if c.kind in (MONEY, SHARE)
    }
    header, *rows = table.export_rows()
    sheet = Sheet(
        wb,
        table.title[:31],
        header,
        widths=[22, *(18 if c.kind == MONEY else 14 for c in table.columns)],
        formats=formats,
        preamble=[[table.title], [f"数据截至{as_of}"]],
    )
    for row in rows:
        sheet.append(row)
    if table.note:
        sheet.ws.append([])
        sheet.ws.append([cell(sheet.ws, f"说明：{table.note}")])
    return workbook_bytes(wb)


def download(request, page, table, fmt):
    """<table>/csv/ or <table>/xlsx/: one table's numbers; an unknown table or format is a 404."""
    if fmt not in FORMATS:
        raise Http404("没有这种下载格式。")
    found = tables(load_figures()).get(table)
    if found is None:
        raise Http404("没有这张统计表。")
    today = timezone.localdate()
    filename = f"{found.title}-{today:%Y%m%d}.{fmt}"
    if fmt == "xlsx":
        return xlsx_response(xlsx_bytes(found, chinese_date(today)), filename)
    response = HttpResponse(csv_bytes(found), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
