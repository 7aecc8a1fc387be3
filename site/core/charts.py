"""Charts with their data tables: the one charting piece of the project (ECharts).

    table = Table("years", "各年度资助情况", "年度", [
        Column("projects", "资助项目（个）", legend="资助项目"),
        Column("awarded", "资助金额（元）", MONEY, legend="资助金额"),
    ])
    table.add("2026年", projects=5, awarded=Decimal("218097.17"))
    chart = Chart(table, BAR, series=["awarded"])
    {% include "includes/chart.html" with chart=chart %}     (once per page: includes/chart_scripts.html)

A `Table` holds figures already added up on the server (never rows of records): a label per
row and a value per column, with the column's kind saying how it reads (COUNT 1,234; MONEY
¥1,234.00, Decimal; SHARE 50%; NUMBER 62.5). The include renders it as an HTML table, which
is what readers without JavaScript and screen readers get, and beside it a container
(role="img", aria-label) holding the `Chart.option()` dict for ECharts as JSON;
site/static/js/charts.js draws every such container of the page. `Table.export_rows()` gives
the same numbers unformatted, for CSV and Excel downloads.

On a chart, money is drawn in 万元 (two decimals) and shares in per cent: the table keeps the
exact Decimal. Everything the option holds is plain JSON (no functions), so it can go through
json_script; the few things that need a function (the tooltip's unit) charts.js adds."""

import math
from dataclasses import dataclass, field
from decimal import Decimal

COUNT, MONEY, SHARE, NUMBER, TEXT = "count", "money", "share", "number", "text"
BAR, STACKED, LINE, PIE = "bar", "stacked", "line", "pie"
KIND_LABELS = {BAR: "柱状图", STACKED: "堆叠柱状图", LINE: "折线图", PIE: "饼图"}

# the site's red first, then colours that stay apart for readers with a colour deficiency
PALETTE = ["#b3261e", "#1d4ed8", "#1a7f37", "#9a6700", "#8250df", "#0b7285", "#9aa0a8", "#c2410c"]
NARROW = 480  # px: below this a chart drops its bar labels and pie labels shrink to the share
WAN = Decimal(10000)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


@dataclass(frozen=True)
class Column:
    """One measure: `label` heads the table and the downloads (say the unit: "资助金额（元）"),
    `legend` names it on the chart (default: the label)."""

    key: str
    label: str
    kind: str = COUNT
    legend: str = ""
    colour: str = ""

    @property
    def name(self) -> str:
        return self.legend or self.label

    def show(self, value) -> str:
        """The value as the table prints it; nothing to show is “—”."""
        if _missing(value):
            return "—"
        if self.kind == MONEY:
            return f"¥{Decimal(value):,.2f}"
        if self.kind == COUNT:
            return f"{int(value):,}"
        if self.kind == SHARE:
            return f"{float(value):.0%}"
        if self.kind == NUMBER:
            return f"{float(value):,.2f}".rstrip("0").rstrip(".")
        return str(value)

    def plot(self, value):
        """The value as the chart draws it: money in 万元, shares in per cent, None a gap."""
        if _missing(value):
            return None
        if self.kind == MONEY:
            return float((Decimal(value) / WAN).quantize(Decimal("0.01")))
        if self.kind == SHARE:
            return round(float(value) * 100, 1)
        if self.kind == COUNT:
            return int(value)
        return round(float(value), 2)

    def export(self, value):
        """The value for CSV and Excel: exact, unformatted; nothing is an empty cell."""
        if _missing(value):
            return None
        if self.kind == MONEY:
            return Decimal(value).quantize(Decimal("0.01"))
        if self.kind == COUNT:
            return int(value)
        if self.kind in (SHARE, NUMBER):
            return round(float(value), 4)
        return value


@dataclass
class Row:
    label: str
    values: dict


@dataclass
class Table:
    """Figures by one dimension: `index_label` heads the first column (年度, 街道 …)."""

    slug: str
    title: str
    index_label: str
    columns: list[Column]
    rows: list[Row] = field(default_factory=list)
    total: Row | None = None
    note: str = ""

    def add(self, label: str, **values) -> None:
        self.rows.append(Row(str(label), values))

    def add_total(self, label: str = "合计", **values) -> None:
        self.total = Row(label, values)

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    @property
    def empty(self) -> bool:
        return not self.rows

    @property
    def headers(self) -> list[str]:
        return [self.index_label, *(c.label for c in self.columns)]

    def _shown(self, row: Row) -> dict:
        return {"label": row.label, "cells": [c.show(row.values.get(c.key)) for c in self.columns]}

    @property
    def display_rows(self) -> list[dict]:
        return [self._shown(r) for r in self.rows]

    @property
    def display_total(self) -> dict | None:
        return self._shown(self.total) if self.total else None

    @property
    def numeric(self) -> list[bool]:
        return [c.kind != TEXT for c in self.columns]

    def export_rows(self) -> list[list]:
        """Header, rows and the total row, unformatted (for CSV and Excel)."""
        rows = [self.headers]
        for r in [*self.rows, *([self.total] if self.total else [])]:
            rows.append([r.label, *(c.export(r.values.get(c.key)) for c in self.columns)])
        return rows


@dataclass
class Chart:
    """What to draw of a table: `series` are column keys (default: every column). BAR and
    STACKED may be `horizontal` (long labels: streets, categories); PIE draws its one
    series' share per row. `highlight` draws one series bold (a total among its parts);
    `mark` = (label, value) a dashed reference line; `value_max` fixes the value axis."""

    table: Table
    kind: str = BAR
    series: list[str] = field(default_factory=list)
    horizontal: bool = False
    title: str = ""
    highlight: str = ""
    mark: tuple[str, float] | None = None
    value_max: float | None = None
    downloads: list[tuple[str, str]] = field(default_factory=list)  # (label, url) under the table

    def __post_init__(self):
        if self.kind not in KIND_LABELS:
            raise ValueError(f"unknown chart kind {self.kind!r}")
        self.series = list(self.series) or [c.key for c in self.table.columns if c.kind != TEXT]
        if self.kind == PIE and len(self.series) != 1:
            raise ValueError("a pie draws one series")
        kinds = {self.table.column(k).kind for k in self.series}
        if len(kinds) > 1:
            raise ValueError("one chart draws measures of one kind (one value axis)")
        self.title = self.title or self.table.title

    # ---- what the template needs -----------------------------------------------------------

    @property
    def dom_id(self) -> str:
        return f"chart-{self.table.slug}"

    @property
    def option_id(self) -> str:
        return f"chart-{self.table.slug}-option"

    @property
    def columns(self) -> list[Column]:
        return [self.table.column(k) for k in self.series]

    @property
    def unit(self) -> str:
        kind = self.columns[0].kind
        return {MONEY: "万元", SHARE: "%"}.get(kind, "")

    @property
    def beside(self) -> bool:
        """A narrow table stands beside its chart on a wide screen, a wide one below it."""
        return len(self.table.columns) <= 3

    @property
    def drawn(self) -> bool:
        """Something to draw: a row with a value other than nothing or zero."""
        return any(c.plot(r.values.get(c.key)) for r in self.table.rows for c in self.columns)

    @property
    def aria_label(self) -> str:
        unit = f"，单位：{self.unit}" if self.unit else ""
        return f"{self.title}（{KIND_LABELS[self.kind]}{unit}），详细数字见表格"

    @property
    def height(self) -> int:
        """Pixels: a horizontal chart grows with its rows, so labels never crowd."""
        rows = max(len(self.table.rows), 1)
        if self.horizontal:
            per_row = 22 + (10 * len(self.series) if self.kind == BAR else 0)
            return max(200, 64 + rows * per_row)
        return 340 if self.kind == PIE else 320

    # ---- the ECharts option ----------------------------------------------------------------

    def _colours(self) -> list[str]:
        picked = [c.colour for c in self.columns if c.colour]
        if self.kind == PIE or len(picked) != len(self.columns):
            return PALETTE
        return picked

    def option(self) -> dict:
        base = self._pie() if self.kind == PIE else self._axes()
        base = {"color": self._colours(), "animationDuration": 400, **base}
        return {"baseOption": base, "media": [{"query": {"maxWidth": NARROW}, "option": self._narrow()}]}

    def _point(self, column: Column, row: Row):
        value = column.plot(row.values.get(column.key))
        if value == 0 and self.kind == STACKED:
            return None  # no segment: its label would sit on the neighbour's
        if value == 0 and self.kind == BAR:
            return {"value": 0, "label": {"show": False}}  # a row of "0" labels says nothing
        return value

    def _legend_lines(self, width: int = 320) -> int:
        """How many lines a plain legend of the series' names takes on a phone."""
        names = [r.label for r in self.table.rows] if self.kind == PIE else [c.name for c in self.columns]
        lines, used = 1, 0
        for name in names:
            item = 12 * len(name) + 40  # 12px glyphs, the swatch and the gap
            if used and used + item > width:
                lines, used = lines + 1, 0
            used += item
        return lines

    def _pie(self) -> dict:
        column = self.columns[0]
        data = [{"name": r.label, "value": column.plot(r.values.get(column.key))} for r in self.table.rows]
        return {
            "tooltip": {"trigger": "item", "formatter": f"{{b}}：{{c}}{self.unit}（{{d}}%）"},
            "legend": {"type": "scroll", "bottom": 0},
            "series": [
                {
                    "name": column.name,
                    "type": "pie",
                    "radius": ["38%", "66%"],
                    "center": ["50%", "45%"],
                    "avoidLabelOverlap": True,
                    "percentPrecision": 1,
                    "labelLayout": {"hideOverlap": True},
                    "label": {"formatter": "{b}\n{d}%"},
                    "data": [d for d in data if d["value"]],
                }
            ],
        }

    def _axes(self) -> dict:
        labels = [r.label for r in self.table.rows]
        many = len(labels) * len(self.series) > 12
        value_axis = {"type": "value", "name": self.unit, "nameTextStyle": {"align": "left"}}
        if self.columns[0].kind == COUNT:
            value_axis["minInterval"] = 1
        if self.value_max is not None:
            value_axis.update(min=0, max=self.value_max)
        category_axis = {"type": "category", "data": labels, "axisTick": {"alignWithLabel": True}}
        if self.horizontal:
            category_axis.update(inverse=True, axisLabel={"width": 170, "overflow": "truncate"})
            value_axis.update(nameLocation="middle", nameGap=24, nameTextStyle={"align": "center"})
        series = []
        for column in self.columns:
            one = {
                "name": column.name,
                "type": "line" if self.kind == LINE else "bar",
                "data": [self._point(column, r) for r in self.table.rows],
                "emphasis": {"focus": "series"},
            }
            if self.kind == LINE:
                bold = column.key == self.highlight
                one.update(symbolSize=8 if bold else 5, lineStyle={"width": 3 if bold else 1.5}, z=3 if bold else 2)
                one["label"] = {"show": bold or len(self.series) == 1, "position": "top"}
            else:
                one.update(barMaxWidth=28, labelLayout={"hideOverlap": True})
                if self.kind == STACKED:
                    one["stack"] = "total"
                one["label"] = {
                    "show": not many or self.kind == STACKED,
                    "position": "inside" if self.kind == STACKED else ("right" if self.horizontal else "top"),
                }
            series.append(one)
        if self.mark:
            label, value = self.mark
            series[0]["markLine"] = {
                "symbol": "none",
                "silent": True,
                "lineStyle": {"type": "dashed", "color": "#667085"},
                "label": {"formatter": label, "position": "insideEndTop"},
                "data": [{"yAxis": value}],
            }
        legend = len(series) > 1
        option = {
            "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow" if self.kind != LINE else "line"}},
            "legend": {"show": legend, "type": "scroll", "top": 0},
            "grid": {
                "left": 8,
                "right": 24,
                "top": 48 if legend else 28,
                "bottom": 24 if self.horizontal and self.unit else 8,
                "containLabel": True,
            },
            "xAxis": value_axis if self.horizontal else category_axis,
            "yAxis": category_axis if self.horizontal else value_axis,
            "series": series,
        }
        return option

    def _narrow(self) -> dict:
        """On a phone: pie labels shrink to the share inside the ring (the legend names the
        slices), bar labels go (the tooltip and the table still say the numbers), legends
        wrap above the grid, and a long category axis turns its labels."""
        lines = self._legend_lines()
        if self.kind == PIE:
            return {
                "series": [
                    {
                        "radius": ["32%", "64%"],
                        "center": ["50%", f"{44 - 4 * lines}%"],
                        "label": {"position": "inside", "formatter": "{d}%", "color": "#fff", "fontSize": 11},
                        "labelLine": {"show": False},
                    }
                ],
                "legend": {"type": "plain", "bottom": 0},
            }
        option = {"series": [{"label": {"show": self.kind == STACKED}} for _ in self.series]}
        if len(self.series) > 1:
            option["legend"] = {"type": "plain", "top": 0, "left": "center"}
            option["grid"] = {"top": 28 + 22 * lines}
        if self.horizontal:
            option["yAxis"] = {"axisLabel": {"width": 100, "overflow": "truncate", "fontSize": 11}}
        elif len(self.table.rows) > 4:
            option["xAxis"] = {"axisLabel": {"rotate": 40, "fontSize": 11}}
        if self.kind == LINE:
            option["series"] = [{"label": {"show": k == self.highlight}} for k in self.series]
        return option
