"""Figures of the incubation bases (pandas): per base, per level and per year.

`load_frames(bases)` reads everything a dashboard needs in four queries, whatever the
number of bases, incubations, service logs or assessments: the bases, their incubations,
the service hours summed per base, and the assessment totals. The rest is pandas. The
public base pages, the admin dashboard (figures_views.py) and the Excel export
(exports.py) all read these functions, so they can never disagree.

The measures:
- residents now: incubations in a resident state (入壳, 孵化中, 中期评估, 续驻);
- admitted / graduated / withdrawn per year: by the year of 入驻日期, 出壳日期, 退驻日期;
- registered share: among graduates, the share that completed 登记/备案 during incubation;
- service hours: the sum of ServiceLog.hours;
- capacity-score gain: per incubation with two or more assessments, the last total minus
  the first (by assessment date), averaged over those incubations;
- projects funded: `funded_projects_by_base`, counted by grants through FUNDED_PROJECTS_HOOK.
"""

from dataclasses import dataclass

import pandas as pd
from django.db.models import QuerySet, Sum
from django.utils import timezone
from wagtail import hooks

from core.charts import BAR, Chart, Column, Table

from .models import RESIDENT_STATES, BaseLevel, CapacityAssessment, Incubation, IncubationStatus, ServiceLog

S = IncubationStatus
RESIDENT_VALUES = [s.value for s in RESIDENT_STATES]

# Columns of the per-base / per-level summary, with their Chinese headers (used by the
# dashboard table and the Excel export).
SUMMARY_COLUMNS = {
    "residents": "在孵组织（家）",
    "admitted": "累计入壳（家）",
    "graduated": "累计出壳（家）",
    "withdrawn": "累计退驻（家）",
    "registered_share": "出壳组织孵化期间完成登记比例",
    "service_hours": "服务时长（小时）",
    "avg_gain": "能力评估平均提升（分）",
    "projects_funded": "获公益创投资助项目（个）",
}
# The same, short enough for a table header on screen.
SUMMARY_SHORT = {
    "residents": "在孵",
    "admitted": "累计入壳",
    "graduated": "累计出壳",
    "withdrawn": "累计退驻",
    "registered_share": "孵化期间登记率",
    "service_hours": "服务时长（小时）",
    "avg_gain": "能力评估提升",
    "projects_funded": "获资助项目",
}
YEARLY_COLUMNS = {"admitted": "入壳", "graduated": "出壳", "withdrawn": "退驻"}
SERIES_COLOURS = {"admitted": "#b3261e", "graduated": "#1a7f37", "withdrawn": "#9aa0a8"}


# Grants answers for the projects funded (incubator must not import grants): a function
# registered with @hooks.register(FUNDED_PROJECTS_HOOK) takes the base ids and returns
# {base id: number of projects}, in a fixed number of queries.
FUNDED_PROJECTS_HOOK = "incubator_funded_projects_by_base"


def funded_projects_by_base(base_ids) -> dict[int, int]:
    """Projects funded (公益创投立项) for organisations incubated at each base: what the
    providers of FUNDED_PROJECTS_HOOK count (grants: the approved projects of
    organisations resident at or graduated from the base), added up; 0 without one."""
    base_ids = list(base_ids)
    counts = dict.fromkeys(base_ids, 0)
    if not base_ids:
        return counts
    for provider in hooks.get_hooks(FUNDED_PROJECTS_HOOK):
        for base_id, n in (provider(base_ids) or {}).items():
            if base_id in counts:
                counts[base_id] += int(n)
    return counts


@dataclass
class Frames:
    bases: pd.DataFrame  # id, name, level
    incubations: pd.DataFrame  # id, base_id, status, starts_on, graduated_on, withdrawn_on, registered_during
    hours: pd.DataFrame  # base_id, hours
    assessments: pd.DataFrame  # incubation_id, assessed_on, id, total


def _frame(rows, columns) -> pd.DataFrame:
    return pd.DataFrame.from_records(list(rows), columns=columns)


def load_frames(bases: QuerySet) -> Frames:
    """Four queries: bases, incubations, hours per base, assessments."""
    base_ids = bases.values("pk")
    inc_cols = ["id", "base_id", "status", "starts_on", "graduated_on", "withdrawn_on", "registered_during"]
    frames = Frames(
        bases=_frame(
            bases.order_by("level", "region__path", "name").values("id", "name", "level"), ["id", "name", "level"]
        ),
        incubations=_frame(Incubation.objects.filter(base__in=base_ids).order_by().values(*inc_cols), inc_cols),
        hours=_frame(
            ServiceLog.objects.filter(incubation__base__in=base_ids)
            .order_by()
            .values("incubation__base_id")
            .annotate(hours=Sum("hours"))
            .values_list("incubation__base_id", "hours"),
            ["base_id", "hours"],
        ),
        assessments=_frame(
            CapacityAssessment.objects.filter(incubation__base__in=base_ids)
            .order_by()
            .values_list("incubation_id", "assessed_on", "id", "total"),
            ["incubation_id", "assessed_on", "id", "total"],
        ),
    )
    frames.hours["hours"] = frames.hours["hours"].astype(float)
    frames.assessments["total"] = frames.assessments["total"].astype(float)
    for col in ("starts_on", "graduated_on", "withdrawn_on"):
        frames.incubations[col] = pd.to_datetime(frames.incubations[col])
    frames.incubations["registered_during"] = frames.incubations["registered_during"].astype(bool)
    return frames


def _gains(frames: Frames) -> pd.DataFrame:
    """incubation_id, base_id, gain: last assessment total minus the first, for
    incubations assessed at least twice."""
    a = frames.assessments.sort_values(["incubation_id", "assessed_on", "id"])
    grouped = a.groupby("incubation_id")["total"]
    gains = pd.DataFrame({"n": grouped.size(), "gain": grouped.last() - grouped.first()})
    gains = gains[gains["n"] >= 2].reset_index()
    return gains.merge(frames.incubations[["id", "base_id"]], left_on="incubation_id", right_on="id")


def _with_level(df: pd.DataFrame, frames: Frames) -> pd.DataFrame:
    return df.merge(frames.bases[["id", "level"]].rename(columns={"id": "base_id"}), on="base_id")


def summary(frames: Frames, by: str = "base") -> pd.DataFrame:
    """One row per base (index: base id, plus name and level) or per level (index: level,
    plus its label and the number of bases), with the SUMMARY_COLUMNS."""
    key = "base_id" if by == "base" else "level"
    inc = _with_level(frames.incubations, frames)
    graduates = inc[inc["status"] == S.GRADUATED]
    if by == "base":
        index = pd.Index(frames.bases["id"], name=key)
    else:
        index = pd.Index(sorted(frames.bases["level"].unique()), name=key)

    def count(df):
        return df.groupby(key).size().reindex(index, fill_value=0).astype(int)

    out = pd.DataFrame(index=index)
    out["residents"] = count(inc[inc["status"].isin(RESIDENT_VALUES)])
    out["admitted"] = count(inc[inc["starts_on"].notna()])
    out["graduated"] = count(graduates)
    out["withdrawn"] = count(inc[inc["status"] == S.WITHDRAWN])
    registered = count(graduates[graduates["registered_during"]])
    out["registered_share"] = (registered / out["graduated"]).where(out["graduated"] > 0)
    hours = _with_level(frames.hours, frames).groupby(key)["hours"].sum()
    out["service_hours"] = hours.reindex(index, fill_value=0.0).astype(float).round(1)
    gains = _with_level(_gains(frames), frames).groupby(key)["gain"].mean()
    out["avg_gain"] = gains.reindex(index).astype(float).round(1)
    funded = pd.Series(funded_projects_by_base(frames.bases["id"].tolist()), dtype=int)
    if by == "base":
        out["projects_funded"] = funded.reindex(index, fill_value=0).astype(int)
        names = frames.bases.set_index("id")
        out.insert(0, "name", names["name"].reindex(index))
        out.insert(1, "level", names["level"].reindex(index))
    else:
        levels = frames.bases.set_index("id")["level"]
        out["projects_funded"] = funded.groupby(levels.reindex(funded.index)).sum().reindex(index, fill_value=0)
        out.insert(0, "label", [BaseLevel(v).label for v in index])
        out.insert(1, "bases", frames.bases.groupby("level").size().reindex(index, fill_value=0).astype(int))
    return out


def yearly(frames: Frames, by: str | None = None, *, through: int | None = None) -> pd.DataFrame:
    """Admitted / graduated / withdrawn per year, for all bases together or `by` "base"
    (a base_id column) or "level". Columns: [base_id|level,] year, admitted, graduated,
    withdrawn; every year from the first event to `through` (default this year) is present,
    with zeros, so charts have no gaps."""
    through = through or timezone.localdate().year
    key = {"base": "base_id", "level": "level", None: None}[by]
    inc = _with_level(frames.incubations, frames)
    events = []
    for measure, column in (("admitted", "starts_on"), ("graduated", "graduated_on"), ("withdrawn", "withdrawn_on")):
        dated = inc[inc[column].notna()]
        events.append(
            pd.DataFrame(
                {
                    "base_id": dated["base_id"],
                    "level": dated["level"],
                    "measure": measure,
                    "year": dated[column].dt.year,
                }
            )
        )
    ev = pd.concat(events, ignore_index=True)
    first = int(ev["year"].min()) if len(ev) else through
    years = list(range(min(first, through), through + 1))
    keys = [key] if key else []
    counts = ev.groupby([*keys, "year", "measure"]).size().unstack("measure")
    counts = counts.reindex(columns=list(YEARLY_COLUMNS), fill_value=0).fillna(0).astype(int)
    if key:
        groups = frames.bases["id"] if key == "base_id" else sorted(frames.bases["level"].unique())
        full = pd.MultiIndex.from_product([list(groups), years], names=[key, "year"])
    else:
        full = pd.Index(years, name="year")
    return counts.reindex(full, fill_value=0).reset_index()


# ---- what templates get ---------------------------------------------------------------


def yearly_table(rows: pd.DataFrame, title: str, slug: str) -> Table:
    """One group's yearly rows (columns year, admitted, graduated, withdrawn) as a table:
    a row per year, a column per YEARLY_COLUMNS measure."""
    table = Table(
        slug,
        title,
        "年度",
        [
            Column(key, f"{label}（家）", legend=label, colour=SERIES_COLOURS[key])
            for key, label in YEARLY_COLUMNS.items()
        ],
    )
    for row in rows.to_dict("records"):
        table.add(f"{int(row['year'])}年", **{key: int(row[key]) for key in YEARLY_COLUMNS})
    return table


def yearly_chart(rows: pd.DataFrame, title: str, slug: str = "incubation-years") -> Chart:
    """The yearly rows as grouped bars (ECharts, core.charts) with their table."""
    return Chart(yearly_table(rows, title, slug), BAR)


@dataclass
class BaseFigures:
    residents: int
    admitted: int
    graduated: int
    withdrawn: int
    registered_share: float | None
    service_hours: float
    avg_gain: float | None
    projects_funded: int
    chart: Chart

    @property
    def registered_share_display(self) -> str:
        return share_display(self.registered_share)

    @property
    def avg_gain_display(self) -> str:
        return gain_display(self.avg_gain)

    @property
    def service_hours_display(self) -> str:
        return f"{self.service_hours:g}"


def share_display(value) -> str:
    """0.5 -> "50%"; no graduates -> "—"."""
    return "—" if value is None or pd.isna(value) else f"{value:.0%}"


def gain_display(value) -> str:
    """12.34 -> "+12.3 分"; nobody assessed twice -> "—"."""
    return "—" if value is None or pd.isna(value) else f"{value:+.1f} 分"


def _none_if_nan(value):
    return None if pd.isna(value) else float(value)


def base_figures(bases: QuerySet, base_id: int, *, years: int = 4) -> BaseFigures:
    """The figures of one base (the queryset should hold just that base: four queries)."""
    frames = load_frames(bases)
    row = summary(frames).loc[base_id]
    per_year = yearly(frames, "base")
    per_year = per_year[per_year["base_id"] == base_id].tail(years)
    return BaseFigures(
        residents=int(row["residents"]),
        admitted=int(row["admitted"]),
        graduated=int(row["graduated"]),
        withdrawn=int(row["withdrawn"]),
        registered_share=_none_if_nan(row["registered_share"]),
        service_hours=float(row["service_hours"]),
        avg_gain=_none_if_nan(row["avg_gain"]),
        projects_funded=int(row["projects_funded"]),
        chart=yearly_chart(per_year, "近年入壳、出壳与退驻（家）", f"base-{base_id}-years"),
    )


def as_records(df: pd.DataFrame) -> list[dict]:
    """Rows for templates: NaN becomes None (shown as “—”)."""
    return [
        {k: (None if isinstance(v, float) and pd.isna(v) else v) for k, v in row.items()}
        for row in df.reset_index().to_dict("records")
    ]
