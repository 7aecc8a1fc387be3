"""Reading the progress reports (进度报告) of a project: spending to date per budget line
against the budget, KPI progress against the targets, the eligible spending an
evaluation and a closure count on, and the public-safe updates for the project's public
page.

A report's `spending` holds what was spent on each grant-funded budget line in its own
period (budget line id → Decimal string); spending to date is the sum over the reports
that count (submitted or reviewed, plus the one being edited when asked). Its
`kpi_progress` holds the value each KPI has reached by the end of the period
(cumulative): the latest report that says it wins."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Prefetch, prefetch_related_objects

from ..models import BudgetLine, FundingSource, ProgressReport, ReportPhoto, ReportStatus
from ..rules import fmt_money, fmt_percent, money, share

ZERO = Decimal("0.00")
# the reports whose figures count (a draft is the organisation's own until submitted)
COUNTED = (ReportStatus.SUBMITTED, ReportStatus.REVIEWED)


def amount_of(value) -> Decimal:
    """A stored amount (Decimal string) as Decimal, 0.00 for anything unreadable."""
    return money(value)


@dataclass
class SpendingRow:
    line: BudgetLine
    budget: Decimal
    this_period: Decimal | None  # spent in the report being read (None: no report)
    to_date: Decimal
    variance: Decimal  # to date minus budget: negative while under budget

    @property
    def variance_percent(self) -> Decimal | None:
        return share(self.variance, self.budget)

    @property
    def used_percent(self) -> Decimal | None:
        return share(self.to_date, self.budget)

    @property
    def over(self) -> bool:
        return self.variance > 0

    # what screens and the PDF print
    @property
    def budget_text(self) -> str:
        return fmt_money(self.budget)

    @property
    def to_date_text(self) -> str:
        return fmt_money(self.to_date)

    @property
    def this_period_text(self) -> str:
        return "—" if self.this_period is None else fmt_money(self.this_period)

    @property
    def variance_text(self) -> str:
        sign = "+" if self.variance > 0 else ""
        return f"{sign}{fmt_money(self.variance)}"

    @property
    def variance_percent_text(self) -> str:
        p = self.variance_percent
        return fmt_percent(p) if p is None or p <= 0 else f"+{fmt_percent(p)}"

    @property
    def used_percent_text(self) -> str:
        return fmt_percent(self.used_percent)


@dataclass
class SpendingTable:
    rows: list[SpendingRow]

    @property
    def budget(self) -> Decimal:
        return sum((r.budget for r in self.rows), ZERO)

    @property
    def to_date(self) -> Decimal:
        return sum((r.to_date for r in self.rows), ZERO)

    @property
    def this_period(self) -> Decimal:
        return sum((r.this_period or ZERO for r in self.rows), ZERO)

    @property
    def total(self) -> SpendingRow:
        """The totals as a row (its `line` is None)."""
        budget, to_date = self.budget, self.to_date
        this = self.this_period if any(r.this_period is not None for r in self.rows) else None
        return SpendingRow(None, budget, this, to_date, money(to_date - budget))


@dataclass
class KpiRow:
    kpi: object
    target: Decimal
    reached: Decimal | None

    @property
    def percent(self) -> Decimal | None:
        return None if self.reached is None else share(self.reached, self.target)

    @property
    def percent_text(self) -> str:
        return fmt_percent(self.percent)

    @property
    def reached_text(self) -> str:
        return "—" if self.reached is None else f"{self.reached.normalize():f}"

    @property
    def target_text(self) -> str:
        return f"{self.target.normalize():f}"

    @property
    def reached_unit_text(self) -> str:
        """“60人”, or “—” before any report says."""
        return "—" if self.reached is None else f"{self.reached_text}{self.kpi.unit}"


def grant_lines(proposal) -> list[BudgetLine]:
    """The budget lines paid from the grant (prefetched `budget_lines` are used as is)."""
    return [line for line in proposal.budget_lines.all() if line.source == FundingSource.GRANT]


def counted_reports(proposal) -> list[ProgressReport]:
    """The submitted and reviewed reports, by period (prefetched `reports` are used as is)."""
    reports = [r for r in proposal.reports.all() if r.status in COUNTED]
    return sorted(reports, key=lambda r: (r.period_start, r.pk))


def spending_table(proposal, *, report=None, reports=None, lines=None) -> SpendingTable:
    """Each grant line: its budget, what `report` spent on it (if given), what the
    counted reports and `report` spent to date, and the variance (to date − budget)."""
    lines = grant_lines(proposal) if lines is None else lines
    reports = counted_reports(proposal) if reports is None else list(reports)
    if report is not None and all(r.pk != report.pk for r in reports):
        reports.append(report)
    rows = []
    for line in lines:
        key = str(line.pk)
        to_date = sum((amount_of((r.spending or {}).get(key)) for r in reports), ZERO)
        this = None
        if report is not None:
            this = amount_of((report.spending or {}).get(key))
        rows.append(SpendingRow(line, line.amount, this, to_date, money(to_date - line.amount)))
    return SpendingTable(rows)


def kpi_table(proposal, *, report=None, reports=None) -> list[KpiRow]:
    """Each KPI with its target and the value reached: `report`'s if it gives one, else
    the latest counted report's."""
    reports = counted_reports(proposal) if reports is None else sorted(reports, key=lambda r: (r.period_start, r.pk))
    rows = []
    for kpi in proposal.kpis.all():
        key = str(kpi.pk)
        reached = None
        for r in [*reports, *([report] if report is not None else [])]:
            value = (r.kpi_progress or {}).get(key)
            if value not in (None, ""):
                reached = money(value)
        rows.append(KpiRow(kpi, kpi.target, reached))
    return rows


def reported_spending(proposal) -> Decimal:
    """What the submitted and reviewed reports say was spent on the grant lines: the
    eligible spending an evaluation or a closure starts from."""
    return spending_table(proposal).to_date


def with_reports(proposal):
    """`proposal` with its budget lines and its reports (by period, each with its
    photo_count) loaded once, for every section of a page that reads them (two queries the
    first time, none after)."""
    cache = getattr(proposal, "_prefetched_objects_cache", {})
    wanted = []
    if "budget_lines" not in cache:
        wanted.append("budget_lines")
    if "reports" not in cache:
        wanted.append(
            Prefetch(
                "reports",
                queryset=ProgressReport.objects.annotate(photo_count=Count("photos")).order_by("period_start", "pk"),
            )
        )
    if wanted:
        prefetch_related_objects([proposal], *wanted)
    return proposal


# ---- the public page -----------------------------------------------------------------------------


def public_updates(proposal, reports=None) -> list[dict]:
    """What the project's public page may show of its reports: for each submitted or
    reviewed report, its period, the text the organisation wrote for the public, and the
    photos it marked public (id and caption). Nothing else: no narrative, no staff comment,
    no names of the people who wrote or reviewed it, no photo left private. Two queries
    (one when the page already loaded the counted `reports`, by period)."""
    if reports is None:
        reports = list(
            ProgressReport.objects.filter(proposal=proposal, status__in=COUNTED)
            .order_by("period_start", "pk")
            .only("pk", "period", "period_start", "period_end", "public_text", "status")
        )
    reports = [r for r in reports if r.status in COUNTED]
    photos: dict[int, list[dict]] = {}
    for photo in (
        ReportPhoto.objects.filter(report__in=[r.pk for r in reports], public=True)
        .order_by("pk")
        .only("pk", "report_id", "caption")
    ):
        photos.setdefault(photo.report_id, []).append({"id": photo.pk, "caption": photo.caption})
    updates = []
    for r in reports:
        text = (r.public_text or "").strip()
        shown = photos.get(r.pk, [])
        if not text and not shown:
            continue
        updates.append(
            {
                "period": r.period,
                "period_start": r.period_start,
                "period_end": r.period_end,
                "text": text,
                "photos": shown,
            }
        )
    return updates
