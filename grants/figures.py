"""Public figures of the funded projects (数据统计, site/cms/stats.py), added up on the server.

`load_frames()` reads everything in three queries, whatever the number of projects: the
funded projects (one row each, with the columns the figures group by, the money released and
the people served summed per project), the projects' places and the regions down to the
streets. The rest is pandas; the page and its downloads get totals per
group only, never a project's row.

Which projects: every proposal approved (批复立项) or later, terminated ones included — the
grant was made (the same set as the open data, grants/opendata.py). The measures of a group:
- projects: how many; organisations: how many organisations hold them;
- awarded: the approved amounts (awarded_amount) summed; released: the tranches paid
  (Tranche 已拨付) summed; both Decimal, exact to the fen;
- planned: the direct beneficiaries the proposals set out to reach (beneficiaries_direct);
- reached: the people served that the submitted progress reports count (服务对象, per report
  period: someone served in two periods counts twice).
A project carried out in several streets counts in each of them (`by_street`), so the
streets add up to more than the whole; every other breakdown adds up to the total.
"""

from dataclasses import dataclass
from decimal import Decimal

import pandas as pd
from django.db.models import OuterRef, Subquery, Sum

from accounts.models import Region
from core.charts import COUNT, MONEY, SHARE, Column, Table
from orgs.models import OrgType

from .figures_hooks import FUNDED
from .models import CallLevel, ProgressReport, Proposal, ProposalStatus, Tranche, TrancheStatus
from .models.calls import DEFAULT_GRADE_BANDS

P = ProposalStatus
# the progress reports whose counts are published: submitted ones (a draft may still change)
COUNTED_REPORTS = (ProgressReport.Status.SUBMITTED, ProgressReport.Status.REVIEWED)

MEASURES = ("projects", "organisations", "awarded", "released", "planned", "reached")
COLUMNS = {
    "projects": Column("projects", "资助项目（个）", COUNT, legend="资助项目"),
    "organisations": Column("organisations", "获资助组织（家）", COUNT, legend="获资助组织"),
    "awarded": Column("awarded", "资助金额（元）", MONEY, legend="资助金额", colour="#b3261e"),
    "released": Column("released", "已拨付（元）", MONEY, legend="已拨付", colour="#1a7f37"),
    "planned": Column("planned", "计划直接受益（人）", COUNT, legend="计划直接受益"),
    "reached": Column("reached", "已服务对象（人次）", COUNT, legend="已服务对象"),
}

# 实施进展: where the funded projects stand, in the order a project passes them
STAGES = {
    "approved": ("待签订协议", (P.APPROVED,)),
    "implementing": ("实施中", (P.AGREEMENT_SIGNED, P.IN_PROGRESS, P.MID_TERM_PASSED)),
    "suspended": ("暂停拨付整改中", (P.SUSPENDED,)),
    "evaluated": ("末期评估完成", (P.FINAL_EVALUATED,)),
    "closed": ("已结项", (P.CLOSED,)),
    "terminated": ("已终止", (P.TERMINATED,)),
}
STAGE_OF = {status: key for key, (_, statuses) in STAGES.items() for status in statuses}
STAGE_COLOURS = {
    "approved": "#9aa0a8",
    "implementing": "#1d4ed8",
    "suspended": "#9a6700",
    "evaluated": "#8250df",
    "closed": "#1a7f37",
    "terminated": "#b3261e",
}
GRADE_ORDER = [band["grade"] for band in DEFAULT_GRADE_BANDS]
NO_CATEGORY = "其他"
CITY_WIDE = "全市范围"

_PROJECT_COLUMNS = ["id", "organisation_id", "year", "level", "category", "category_order", "org_type", "status"]
_PROJECT_COLUMNS += ["grade", "awarded", "planned"]


@dataclass
class Frames:
    projects: pd.DataFrame  # _PROJECT_COLUMNS + stage, released, reached; money in fen (int)
    places: pd.DataFrame  # id (project), area (a street's key, or a district's / the city's)
    areas: dict[str, str]  # area key → its label


def _fen(value) -> int:
    return int((Decimal(value or 0) * 100).to_integral_value())


def _yuan(fen) -> Decimal:
    return (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))


def _sum_per_project(rows, field: str):
    """The sum of `field` over `rows` (tranches, reports) of the outer project, as a subquery."""
    return Subquery(
        rows.filter(proposal=OuterRef("pk")).order_by().values("proposal").annotate(total=Sum(field)).values("total")
    )


def load_frames() -> Frames:
    """Three queries: the projects (with the money released and the people served summed
    per project in subqueries), their places, the regions down to the streets."""
    funded = Proposal.objects.filter(status__in=FUNDED).order_by()
    rows = funded.annotate(
        released=_sum_per_project(Tranche.objects.filter(status=TrancheStatus.RELEASED), "amount"),
        reached=_sum_per_project(ProgressReport.objects.filter(status__in=COUNTED_REPORTS), "beneficiaries"),
    ).values_list(
        "id",
        "organisation_id",
        "call__year",
        "call__level",
        "category__name",
        "category__sort_order",
        "organisation__org_type",
        "status",
        "final_grade",
        "awarded_amount",
        "beneficiaries_direct",
        "released",
        "reached",
    )
    projects = pd.DataFrame.from_records(list(rows), columns=[*_PROJECT_COLUMNS, "released", "reached"])
    places = list(
        Proposal.places.through.objects.filter(proposal__in=funded.values("pk"))
        .order_by()
        .values_list("proposal_id", "region__path")
    )
    step = Region.steplen
    names = dict(Region.objects.filter(depth__lte=3).values_list("path", "name"))

    projects["awarded"] = [_fen(v) for v in projects["awarded"]]
    projects["released"] = [_fen(v) for v in projects["released"]]
    projects["reached"] = projects["reached"].fillna(0).astype(int)
    projects["planned"] = projects["planned"].fillna(0).astype(int)
    projects["category"] = projects["category"].fillna(NO_CATEGORY)
    projects["category_order"] = projects["category_order"].fillna(9999).astype(int)
    projects["grade"] = projects["grade"].fillna("")
    projects["stage"] = [STAGE_OF[s] for s in projects["status"]]

    areas: dict[str, str] = {}
    pairs = set()
    for pk, path in places:
        if len(path) >= 3 * step:
            key = path[: 3 * step]
            district = names.get(path[: 2 * step], "")
            areas[key] = f"{names.get(key, '')}（{district}）" if district else names.get(key, "")
        elif len(path) == 2 * step:
            key = path
            areas[key] = f"{names.get(path, '')}（全区范围）"
        else:
            key = path[:step]
            areas[key] = CITY_WIDE
        pairs.add((pk, key))
    place_frame = pd.DataFrame.from_records(sorted(pairs), columns=["id", "area"])
    return Frames(projects=projects, places=place_frame, areas=areas)


# ---- the figures ----------------------------------------------------------------------------


def _measures(df: pd.DataFrame, key: str) -> pd.DataFrame:
    """MEASURES per value of `key` (money still in fen)."""
    grouped = df.groupby(key, sort=False)
    out = pd.DataFrame(
        {
            "projects": grouped["id"].nunique(),
            "organisations": grouped["organisation_id"].nunique(),
            "awarded": grouped["awarded"].sum(),
            "released": grouped["released"].sum(),
            "planned": grouped["planned"].sum(),
            "reached": grouped["reached"].sum(),
        }
    )
    return out.astype("int64")


def headline(frames: Frames) -> dict:
    """The page's key figures: the MEASURES over every funded project (money as Decimal)."""
    p = frames.projects
    return _as_values(
        {
            "projects": len(p),
            "organisations": p["organisation_id"].nunique(),
            "awarded": int(p["awarded"].sum()),
            "released": int(p["released"].sum()),
            "planned": int(p["planned"].sum()),
            "reached": int(p["reached"].sum()),
        }
    )


def _as_values(row) -> dict:
    values = {k: int(row[k]) for k in MEASURES}
    values["awarded"], values["released"] = _yuan(values["awarded"]), _yuan(values["released"])
    return values


def _table(slug, title, index_label, frame: pd.DataFrame, labels, *, note: str = "") -> Table:
    """A measures frame as a core.charts Table, its rows in the order of `labels`
    ({index value: label}); a group without projects has no row."""
    table = Table(slug, title, index_label, [COLUMNS[k] for k in MEASURES], note=note)
    for value, label in labels.items():
        if value in frame.index:
            table.add(label, **_as_values(frame.loc[value]))
    return table


def _with_total(table: Table, frames: Frames) -> Table:
    if not table.empty:
        table.add_total(**headline(frames))
    return table


def by_year(frames: Frames) -> Table:
    years = sorted(frames.projects["year"].unique())
    m = _measures(frames.projects, "year")
    return _with_total(_table("years", "各年度资助情况", "年度", m, {y: f"{y}年" for y in years}), frames)


def by_level(frames: Frames) -> Table:
    m = _measures(frames.projects, "level")
    labels = {level: label for level, label in CallLevel.choices}
    return _with_total(_table("levels", "各层级资助情况", "层级", m, labels), frames)


def by_street(frames: Frames) -> Table:
    merged = frames.places.merge(frames.projects, on="id")
    m = _measures(merged, "area")
    labels = {key: frames.areas[key] for key in sorted(frames.areas)}
    note = "按实施地点所在街道（镇）统计；在几个街道实施的项目在每个街道都计入，各街道相加会多于总数。"
    return _table("streets", "各街道（镇）资助情况", "街道（镇）", m, labels, note=note)


def by_category(frames: Frames) -> Table:
    p = frames.projects
    m = _measures(p, "category")
    order = p.drop_duplicates("category").sort_values(["category_order", "category"])["category"]
    return _with_total(_table("categories", "各服务领域资助情况", "服务领域", m, {c: c for c in order}), frames)


def by_org_type(frames: Frames) -> Table:
    m = _measures(frames.projects, "org_type")
    labels = dict(OrgType.choices)
    return _with_total(_table("org-types", "各类型组织获资助情况", "组织类型", m, labels), frames)


def by_stage(frames: Frames) -> Table:
    """实施进展: per year, the projects at each stage, and the share finished (结项)."""
    p = frames.projects
    columns = [
        Column(key, f"{label}（个）", COUNT, legend=label, colour=STAGE_COLOURS[key])
        for key, (label, _) in STAGES.items()
    ]
    columns.append(Column("closed_share", "结项率", SHARE))
    table = Table(
        "stages",
        "各年度项目实施进展",
        "年度",
        columns,
        note="结项率：已结项的项目占当年全部资助项目的比例。",
    )
    counts = p.groupby(["year", "stage"]).size().unstack("stage").reindex(columns=list(STAGES)).fillna(0).astype(int)

    def values(row, n) -> dict:
        return {**{k: int(row[k]) for k in STAGES}, "closed_share": row["closed"] / n if n else None}

    for year, row in counts.iterrows():
        table.add(f"{year}年", **values(row, int(row.sum())))
    if len(counts):
        table.add_total(**values(counts.sum(), len(p)))
    return table


def by_grade(frames: Frames) -> Table:
    """末期评估等级: the projects graded so far, per grade (the call's bands, best first)."""
    graded = frames.projects[frames.projects["grade"] != ""]
    counts = graded.groupby("grade").size()
    order = [g for g in GRADE_ORDER if g in counts.index] + sorted(g for g in counts.index if g not in GRADE_ORDER)
    table = Table(
        "grades",
        "末期评估等级分布",
        "等级",
        [Column("projects", "项目（个）", COUNT, legend="项目"), Column("share", "占已评估项目", SHARE)],
        note="已完成末期评估的项目按评估等级统计。",
    )
    for grade in order:
        table.add(grade, projects=int(counts[grade]), share=counts[grade] / len(graded))
    if order:
        table.add_total(projects=len(graded), share=1.0)
    return table
