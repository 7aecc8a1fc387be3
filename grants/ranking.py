"""The review ranking of one call (公益创投, 专家评审 → 路演答辩 → 排序 → 立项), as pure computation
over pandas frames: no database, no Django models. The selector loads the rows; the pages
show what comes back.

    ranking = rank_call(scores, rubric, proposals, aggregation="trimmed",
                        spread_limit=Decimal("20"), pitch=pitch_scores, pitch_weight=Decimal("30"))
    for row in ranking.rows: row.rank, row.proposal, row.final, row.aggregate, row.flagged …
    ranking.reviewers, ranking.agreement, ranking.unscored, ranking.only(pitched_ids)
    award = award_list(ranking, proposals, pool=Decimal("500000"), min_score=Decimal("60"),
                       skip_to_cheaper=True)
    sheet = criterion_matrix(scores, rubric, reviewer_order)

Inputs

- `scores`: columns proposal (int), reviewer (int), criterion (rubric key), points; one row per
  submitted criterion score (only submitted assignments). A criterion's points run from 0 to its
  weight, and a reviewer's total for a proposal is the sum over the rubric (0–100). Every
  submitted assignment must score every criterion exactly once.
- `rubric`: [{"key", "name", "weight"}, …] in order; the FIRST criterion breaks ties.
- `proposals`: indexed by proposal id; columns requested, submitted_at, category, level and
  optional adjusted (a manager-adjusted amount, None/NaN when not set).

Definitions (what the pages may state)

- Aggregate of a proposal's reviewer totals: "mean", or "trimmed" = drop ONE highest and ONE
  lowest total and average the rest; with 2 or fewer totals a trimmed call falls back to the
  mean, and the row says so (`method="mean"`, `fell_back=True`). Per-criterion figures use the
  same method on that criterion's points.
- std: SAMPLE standard deviation (ddof=1) of the reviewer totals; None with one total.
  spread: max − min of the totals; `flagged` when spread > spread_limit (equal is not flagged).
- Pitch (路演): final = review × (1 − w/100) + pitch × w/100, computed on the two-decimal review
  and pitch scores shown, rounded half-up. A proposal with no pitch score when the call has a
  pitch ranks on its review score alone and is marked `no_pitch` ("未参加路演").
- Ranking: final score, compared at the two decimals shown, then TIE_BREAK_TEXT.
- Calibration (评委尺度校准, advisory; the official rank is `rank`): each reviewer's totals are
  standardised within the call, z = (x − reviewer mean) / reviewer std (sample); a reviewer with
  one score or zero std divides by the pooled within-reviewer std instead, and since x equals
  that reviewer's mean then, z = 0: such a reviewer says nothing about relative standing and
  their totals calibrate to the grand mean. Calibrated total = grand mean + z × grand std
  (mean and sample std of every total in the call), clipped to [0, rubric total]; a proposal's
  calibrated score aggregates its calibrated totals by the call's method.
- Reviewer leniency: offset = reviewer mean − grand mean; 偏宽 when offset > 0.5 × grand std,
  偏严 when offset < −0.5 × grand std, else 适中.
- Agreement: ICC(1), one-way random effects, single rater, for random panels (each proposal its
  own reviewers), unbalanced panels through k0 = (N − Σk_i²/N)/(n − 1):
  ICC = (MSB − MSW) / (MSB + (k0 − 1)·MSW). Kendall's W (with the tie correction) only when
  every reviewer scored every proposal. Readings: ≥ 0.75 一致性较好, ≥ 0.5 一致性中等,
  < 0.5 一致性较差 (AGREEMENT_BANDS_TEXT), on the three-decimal value shown.

Every figure a person reads is a Decimal rounded half-up (money and scores to 0.01, agreement
to 0.001). pandas computes in float; float noise is removed before rounding so a value that is
exactly x.xx5 rounds up. Money is Decimal only. Bad input raises RankingError (a
core.errors.UserError) with a Chinese message."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from core.errors import UserError

from .rules import CENT

MEAN, TRIMMED = "mean", "trimmed"
METHOD_LABELS = {MEAN: "算术平均", TRIMMED: "去掉一个最高分和一个最低分后平均"}
TIE_BREAK_TEXT = (
    "最终得分（保留两位小数）相同时，评审标准第一项的得分高者在前；仍相同的，申报书提交时间早者在前；"
    "再相同的，按项目编号从小到大。"
)
FELL_BACK_TEXT = "评分不足3个，未去掉最高分和最低分，按算术平均计算"
NO_PITCH_TEXT = "未参加路演，按评审得分排序"
SPREAD_TEXT = "评委总分相差 {spread} 分，超过 {limit} 分，建议复核"
CALIBRATION_TEXT = (
    "校准分：把每位评委的总分换算成本次评审中的相对位置（减去该评委的平均分，除以该评委的标准差），"
    "再换回全体评分的平均分和标准差，消除评委打分偏宽或偏严的影响；只评了一个项目或所有打分相同的评委，"
    "校准后为全体平均分。校准分仅供参考，正式排名按最终得分。"
)
LENIENCY_TEXT = "评委平均分比全体平均分高出全体标准差的一半以上为“偏宽”，低出一半以上为“偏严”，其余为“适中”。"
LENIENT, HARSH, NEUTRAL = "偏宽", "偏严", "适中"
GOOD, MEDIUM, POOR = "一致性较好", "一致性中等", "一致性较差"
AGREEMENT_BANDS_TEXT = "系数 ≥ 0.75 为一致性较好，≥ 0.5 为一致性中等，< 0.5 为一致性较差。"
ICC_METHOD = "组内相关系数 ICC(1)（单向随机效应，单个评委）"
KENDALL_METHOD = "肯德尔和谐系数 W（含同分校正）"

REASON_BELOW_MIN = "低于最低立项分数"
REASON_NO_FUNDS = "资金不足"
REASON_UNSCORED = "没有评分"
REASON_NO_AMOUNT = "没有有效的资助金额"

COLUMNS = ["proposal", "reviewer", "criterion", "points"]
_EPS = 1e-9  # below this a float std or denominator is zero (noise of the arithmetic)


class RankingError(UserError):
    """Input the ranking cannot use; `message` is Chinese and shown as is."""


# ---------------------------------------------------------------- results


@dataclass
class RankRow:
    proposal: int
    rank: int  # 1..n, no ties (TIE_BREAK_TEXT)
    final: Decimal  # the ranking score: review, or review and pitch combined by weight
    aggregate: Decimal  # review-stage aggregate of the reviewer totals (the review score)
    method: str  # method actually used: "trimmed" | "mean"
    fell_back: bool  # trimmed call, ≤ 2 totals: averaged instead
    n_scores: int  # reviewer totals (submitted assignments)
    reviewer_totals: dict[int, Decimal]  # reviewer id → total, by reviewer id
    std: Decimal | None  # sample std (ddof=1); None with one total
    spread: Decimal  # max − min of the totals (0.00 with one)
    flagged: bool  # spread > spread_limit
    criterion_means: dict[str, Decimal]  # rubric key → aggregate of that criterion (same method), rubric order
    calibrated: Decimal
    calibrated_rank: int
    pitch_aggregate: Decimal | None  # pitch-stage aggregate; None without pitch scores
    pitch_n_scores: int
    no_pitch: bool  # the call has a pitch stage and this proposal has no pitch score
    notes: list[str] = field(default_factory=list)  # Chinese remarks for the page

    @property
    def review_aggregate(self) -> Decimal:
        """The review-stage score: the same as `aggregate`."""
        return self.aggregate


@dataclass
class ReviewerStats:
    reviewer: int
    n: int  # proposals scored in this call
    mean: Decimal
    std: Decimal | None  # sample std; None with one score
    offset: Decimal  # mean − grand mean: positive = lenient, negative = harsh
    label: str  # 偏宽 | 偏严 | 适中


@dataclass
class AgreementMeasure:
    method: str  # Chinese name of the coefficient
    value: Decimal | None  # 3 places; None when it cannot be computed
    reading: str  # 一致性较好 | 一致性中等 | 一致性较差; "" when value is None
    reason: str = ""  # why value is None


@dataclass
class Agreement:
    icc: AgreementMeasure
    kendall_w: AgreementMeasure  # value None unless every reviewer scored every proposal
    bands: str = AGREEMENT_BANDS_TEXT


@dataclass
class Ranking:
    rows: list[RankRow]  # by rank
    unscored: list[int]  # proposals in `proposals` without any score (not ranked), by id
    reviewers: list[ReviewerStats]  # by reviewer id
    agreement: Agreement
    aggregation: str  # the call's setting: "trimmed" | "mean"
    criteria: list[tuple[str, str]]  # (key, name) in rubric order
    grand_mean: Decimal | None
    grand_std: Decimal | None
    spread_limit: Decimal | None
    has_pitch: bool
    pitch_weight: Decimal | None
    tie_break: str = TIE_BREAK_TEXT

    @property
    def method_label(self) -> str:
        return METHOD_LABELS[self.aggregation]

    def row(self, proposal: int) -> RankRow:
        return next(r for r in self.rows if r.proposal == proposal)

    def only(self, proposals) -> "Ranking":
        """The same ranking limited to `proposals` (ids), e.g. those that pitched, for the
        award list: rows keep their order and their rank numbers in the whole call; the
        reviewers and the agreement still describe the whole call."""
        keep = {int(p) for p in proposals}
        return replace(
            self,
            rows=[r for r in self.rows if r.proposal in keep],
            unscored=[p for p in self.unscored if p in keep],
        )


@dataclass
class AwardRow:
    proposal: int
    rank: int | None  # None for an unscored proposal
    final: Decimal | None
    amount: Decimal | None  # adjusted amount when set, else requested
    adjusted: bool  # amount is the manager's adjusted amount
    funded: bool
    awarded: Decimal  # amount when funded, else 0.00
    reason: str  # why not funded ("" when funded)
    category: str
    level: str


@dataclass
class Award:
    rows: list[AwardRow]  # ranking order, then the unscored
    pool: Decimal
    committed: Decimal
    remaining: Decimal
    committed_by_category: dict[str, Decimal]  # funded only, in order of first funded row
    committed_by_level: dict[str, Decimal]
    skip_to_cheaper: bool
    min_score: Decimal | None

    @property
    def funded(self) -> list[AwardRow]:
        return [r for r in self.rows if r.funded]


# ---------------------------------------------------------------- rounding


def _scaled(values, places: int = 2) -> np.ndarray:
    """Half-up (away from zero, as Decimal's ROUND_HALF_UP) rounding to `places` decimals, as
    float integers value × 10^places (NaN stays NaN). The arithmetic's noise (~1e-12) is
    removed first, so 85.01249999999999 (meaning 85.0125) rounds like 85.0125."""
    a = np.asarray(values, dtype=float)
    return np.sign(a) * np.floor(np.round(np.abs(a) * 10**places, 6) + 0.5)


def _dec(scaled, places: int = 2) -> Decimal | None:
    if scaled != scaled:  # NaN
        return None
    return Decimal(int(scaled)).scaleb(-places)


def _decimal(value, what: str) -> Decimal | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    try:
        d = Decimal(str(value))
    except ArithmeticError:
        raise RankingError(f"{what}不是有效的数字：{value}。")
    if not d.is_finite():
        return None
    return d


def _money(value) -> Decimal | None:
    d = _decimal(value, "金额")
    return None if d is None else d.quantize(CENT, ROUND_HALF_UP)


def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)


# ---------------------------------------------------------------- inputs


def _rubric(rubric) -> tuple[list[str], list[str], np.ndarray]:
    if not rubric:
        raise RankingError("评审标准为空，无法排序。")
    keys, names, weights = [], [], []
    for i, c in enumerate(rubric, start=1):
        key = str(c.get("key") or "")
        if not key:
            raise RankingError(f"评审标准第{i}项没有代码（key）。")
        if key in keys:
            raise RankingError(f"评审标准的代码“{key}”重复。")
        weight = _decimal(c.get("weight"), f"评审标准“{c.get('name') or key}”的分值")
        if weight is None or weight <= 0:
            raise RankingError(f"评审标准“{c.get('name') or key}”的分值应大于0。")
        keys.append(key)
        names.append(str(c.get("name") or key))
        weights.append(float(weight))
    return keys, names, np.array(weights)


def _clean_scores(frame, *, known: pd.Index, what: str, keys=None, weights=None) -> pd.DataFrame:
    """The four columns with plain dtypes, after every check (vectorised). `keys`: the rubric
    the rows must follow (each assignment scores each key once, within its weight); without
    it (pitch) each assignment scores the same set of criteria as the others."""
    if frame is None:
        frame = pd.DataFrame(columns=COLUMNS)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise RankingError(f"{what}数据缺少列：{'、'.join(missing)}。")
    points = pd.to_numeric(frame["points"], errors="coerce").astype(float)
    if points.isna().any():
        raise RankingError(f"{what}中有空缺或不是数字的分数。")
    if (points < 0).any():
        raise RankingError(f"{what}中有负分。")
    try:
        proposal = frame["proposal"].astype("int64")
        reviewer = frame["reviewer"].astype("int64")
    except (TypeError, ValueError):
        raise RankingError(f"{what}中的项目或评委编号不是整数。")
    criterion = frame["criterion"].astype(str)
    s = pd.DataFrame(
        {"proposal": proposal.to_numpy(), "reviewer": reviewer.to_numpy(), "criterion": criterion.to_numpy()},
    )
    s["points"] = points.to_numpy()
    if s.empty:
        return s
    stray = ~s["proposal"].isin(known)
    if stray.any():
        ids = "、".join(str(p) for p in sorted(s.loc[stray, "proposal"].unique())[:5])
        raise RankingError(f"{what}中有不在项目列表中的项目（编号 {ids}）。")
    if keys is not None:
        code = pd.Index(keys).get_indexer(s["criterion"])
        if (code < 0).any():
            bad = "、".join(sorted(s.loc[code < 0, "criterion"].unique())[:5])
            raise RankingError(f"{what}中有评审标准以外的指标：{bad}。")
        over = s["points"].to_numpy() > weights[code] + _EPS
        if over.any():
            p, r, c = s.loc[over, ["proposal", "reviewer", "criterion"]].iloc[0]
            raise RankingError(f"评委 {r} 对项目 {p} 的“{c}”打分超过了该项满分。")
    dup = s.duplicated(["proposal", "reviewer", "criterion"])
    if dup.any():
        p, r, c = s.loc[dup, ["proposal", "reviewer", "criterion"]].iloc[0]
        raise RankingError(f"评委 {r} 对项目 {p} 的“{c}”有重复的{what}。")
    expected = len(keys) if keys is not None else s["criterion"].nunique()
    counts = s.groupby(["proposal", "reviewer"], sort=False).size()
    short = counts[counts != expected]
    if len(short):
        p, r = short.index[0]
        raise RankingError(f"评委 {r} 对项目 {p} 的{what}不完整：应对全部 {expected} 项指标打分。")
    return s


def _aggregate(values: pd.Series, level, method: str) -> pd.DataFrame:
    """Per group: n, mean, sum/min/max and the aggregate by `method` (trimmed falls back to the
    mean at n ≤ 2)."""
    g = values.groupby(level=level, sort=True)
    out = pd.DataFrame({"n": g.count(), "sum": g.sum(), "min": g.min(), "max": g.max()})
    out["mean"] = out["sum"] / out["n"]
    if method == TRIMMED:
        out["fell_back"] = out["n"] <= 2
        with np.errstate(divide="ignore", invalid="ignore"):
            trimmed = (out["sum"] - out["max"] - out["min"]) / (out["n"] - 2)
        out["agg"] = out["mean"].where(out["fell_back"], trimmed)
    else:
        out["fell_back"] = False
        out["agg"] = out["mean"]
    return out


def _reading(value: Decimal) -> str:
    return GOOD if value >= Decimal("0.75") else MEDIUM if value >= Decimal("0.5") else POOR


def _measure(method: str, value: float | None, reason: str = "") -> AgreementMeasure:
    if value is None:
        return AgreementMeasure(method=method, value=None, reading="", reason=reason)
    v = _dec(_scaled(value, 3), 3)
    return AgreementMeasure(method=method, value=v, reading=_reading(v))


def _icc(totals: pd.Series, per: pd.DataFrame) -> AgreementMeasure:
    n = len(per)
    if n < 2:
        return _measure(ICC_METHOD, None, "参与排序的项目少于2个，无法计算一致性。")
    k = per["n"].to_numpy(dtype=float)
    if not (k >= 2).any():
        return _measure(ICC_METHOD, None, "没有项目有2个及以上的评分，无法计算一致性。")
    N = k.sum()
    x = totals.to_numpy()
    means = per["mean"]
    grand = x.mean()
    ssb = float((k * (means.to_numpy() - grand) ** 2).sum())
    ssw = float(((x - means.reindex(totals.index.get_level_values("proposal")).to_numpy()) ** 2).sum())
    msb, msw = ssb / (n - 1), ssw / (N - n)
    k0 = (N - (k**2).sum() / N) / (n - 1)
    den = msb + (k0 - 1) * msw
    if den <= _EPS:
        return _measure(ICC_METHOD, None, "所有评分完全相同，无法计算一致性。")
    return _measure(ICC_METHOD, (msb - msw) / den)


def _kendall(totals: pd.Series, n_props: int) -> AgreementMeasure:
    reviewers = totals.index.get_level_values("reviewer")
    m = reviewers.nunique()
    if n_props < 2 or m < 2:
        return _measure(KENDALL_METHOD, None, "少于2个项目或少于2位评委，不计算肯德尔和谐系数。")
    if len(totals) != n_props * m:
        return _measure(KENDALL_METHOD, None, "并非每位评委都评了每个项目，不计算肯德尔和谐系数（适用于 ICC）。")
    cents = pd.Series(_scaled(totals.to_numpy()), index=totals.index)  # ties as shown, not float noise
    grid = cents.unstack("proposal")  # reviewers × proposals
    ranks = grid.rank(axis=1, method="average")
    r = ranks.sum(axis=0).to_numpy()
    s = float(((r - r.mean()) ** 2).sum())
    t = cents.groupby([reviewers, cents.to_numpy()]).size().to_numpy(dtype=float)
    ties = float((t**3 - t).sum())
    den = m**2 * (n_props**3 - n_props) - m * ties
    if den <= _EPS:
        return _measure(KENDALL_METHOD, None, "所有评委对所有项目打分相同，无法计算肯德尔和谐系数。")
    return _measure(KENDALL_METHOD, 12 * s / den)


def _order(primary_cents: np.ndarray, first_cents: np.ndarray, submitted: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Positions by rank: higher primary, higher first criterion, earlier submission, lower id."""
    return np.lexsort((ids, submitted, -first_cents, -primary_cents))


# ---------------------------------------------------------------- ranking


def rank_call(
    scores: pd.DataFrame,
    rubric: Sequence[Mapping],
    proposals: pd.DataFrame,
    *,
    aggregation: str = TRIMMED,
    spread_limit: Decimal | None = None,
    pitch: pd.DataFrame | None = None,
    pitch_weight: Decimal | None = None,
    pitch_rubric: Sequence[Mapping] | None = None,
) -> Ranking:
    """Rank every proposal of `proposals` that has scores (the others: `Ranking.unscored`).
    `pitch` (a frame like `scores`) with `pitch_weight` (percent, 0–100) when the call has a
    pitch stage; `pitch_rubric` (same shape as `rubric`) checks the pitch rows like the review
    rows (without it each pitch assignment must score the same criteria as the others).
    `spread_limit` None never flags."""
    if aggregation not in METHOD_LABELS:
        raise RankingError("计分方式应为算术平均（mean）或去掉最高最低分（trimmed）。")
    keys, names, weights = _rubric(rubric)
    max_total = float(weights.sum())
    limit = _decimal(spread_limit, "评分差异上限")
    if limit is not None and limit < 0:
        raise RankingError("评分差异上限不能为负数。")
    weight = None
    if pitch is not None:
        weight = _decimal(pitch_weight, "路演得分比例")
        if weight is None or not (0 <= weight <= 100):
            raise RankingError("设有路演时，路演得分比例应在0到100之间。")
    if not proposals.index.is_unique:
        raise RankingError("项目列表中有重复的项目编号。")
    known = proposals.index.astype("int64")

    s = _clean_scores(scores, known=known, what="评分", keys=keys, weights=weights)
    totals = s.groupby(["proposal", "reviewer"], sort=True)["points"].sum()
    per = _aggregate(totals, "proposal", aggregation)
    ids = per.index.to_numpy(dtype="int64")
    n_props = len(ids)
    per["std"] = totals.groupby(level="proposal", sort=True).std(ddof=1)

    # per criterion, rubric order; the first column breaks ties
    crit = _aggregate(s.set_index(["proposal", "criterion"])["points"], ["proposal", "criterion"], aggregation)
    crit_cents = _scaled(crit["agg"].unstack("criterion").reindex(index=per.index, columns=keys).to_numpy())

    # calibration
    x = totals.to_numpy()
    rev_codes = totals.index.get_level_values("reviewer")
    by_rev = totals.groupby(level="reviewer", sort=True)
    rev = pd.DataFrame({"n": by_rev.count(), "mean": by_rev.mean(), "std": by_rev.std(ddof=1)})
    grand_mean = float(x.mean()) if len(x) else float("nan")
    grand_std = float(x.std(ddof=1)) if len(x) > 1 else float("nan")
    r_mean = rev["mean"].reindex(rev_codes).to_numpy()
    r_std = rev["std"].reindex(rev_codes).to_numpy()
    dev = x - r_mean
    within = len(x) - len(rev)
    pooled = float(np.sqrt((dev**2).sum() / within)) if within > 0 else float("nan")
    denom = np.where(r_std > _EPS, r_std, pooled)  # NaN std (one score) > eps is False
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(denom > _EPS, dev / denom, 0.0)
    g_std = grand_std if grand_std == grand_std else 0.0
    calibrated = pd.Series(np.clip(grand_mean + z * g_std, 0.0, max_total), index=totals.index)
    per["calibrated"] = _aggregate(calibrated, "proposal", aggregation)["agg"]

    # pitch
    pitch_per = None
    if pitch is not None:
        p_keys, _, p_weights = _rubric(pitch_rubric) if pitch_rubric else (None, None, None)
        p = _clean_scores(pitch, known=known, what="路演评分", keys=p_keys, weights=p_weights)
        p_totals = p.groupby(["proposal", "reviewer"], sort=True)["points"].sum()
        pitch_per = _aggregate(p_totals, "proposal", aggregation).reindex(per.index)

    # the figures people read, as rounded integers (cents) and then Decimal
    agg_c = _scaled(per["agg"].to_numpy())
    std_c = _scaled(per["std"].to_numpy())
    spread_c = _scaled((per["max"] - per["min"]).to_numpy())
    cal_c = _scaled(per["calibrated"].to_numpy())
    pitch_c = _scaled(pitch_per["agg"].to_numpy()) if pitch_per is not None else np.full(n_props, np.nan)
    pitch_n = pitch_per["n"].fillna(0).to_numpy(dtype=int) if pitch_per is not None else np.zeros(n_props, int)

    finals, final_c = [], np.empty(n_props)
    for i in range(n_props):
        review = _dec(agg_c[i])
        if pitch_c[i] == pitch_c[i]:
            w = weight / 100
            final = (review * (1 - w) + _dec(pitch_c[i]) * w).quantize(CENT, ROUND_HALF_UP)
        else:
            final = review
        finals.append(final)
        final_c[i] = int(final.scaleb(2))

    when = (
        proposals["submitted_at"] if "submitted_at" in proposals.columns else pd.Series(pd.NaT, index=proposals.index)
    )
    submitted = pd.to_datetime(when.reindex(per.index), utc=True)
    sub_key = submitted.to_numpy(dtype="datetime64[ns]").astype("int64")
    sub_key[submitted.isna().to_numpy()] = np.iinfo(np.int64).max  # unknown time last
    first_c = np.nan_to_num(crit_cents[:, 0], nan=-1.0)
    order = _order(final_c, first_c, sub_key, ids)
    cal_order = _order(cal_c, first_c, sub_key, ids)
    rank = np.empty(n_props, int)
    rank[order] = np.arange(1, n_props + 1)
    cal_rank = np.empty(n_props, int)
    cal_rank[cal_order] = np.arange(1, n_props + 1)

    # reviewer totals as {reviewer: Decimal} per proposal (one pass over the totals, not the score rows)
    tot_c = _scaled(x)
    by_prop: dict[int, dict[int, Decimal]] = {int(i): {} for i in ids}
    for p_id, r_id, c in zip(
        totals.index.get_level_values("proposal").tolist(), rev_codes.tolist(), tot_c.tolist(), strict=True
    ):
        by_prop[p_id][r_id] = _dec(c)

    n_arr = per["n"].to_numpy(dtype=int)
    fell = per["fell_back"].to_numpy(dtype=bool)
    limit_text = None if limit is None else f"{limit.quantize(CENT, ROUND_HALF_UP)}"
    rows = []
    for i in order:
        spread = _dec(spread_c[i])
        flagged = limit is not None and spread > limit
        no_pitch = pitch is not None and pitch_n[i] == 0
        notes = []
        if fell[i]:
            notes.append(FELL_BACK_TEXT)
        if flagged:
            notes.append(SPREAD_TEXT.format(spread=spread, limit=limit_text))
        if no_pitch:
            notes.append(NO_PITCH_TEXT)
        rows.append(
            RankRow(
                proposal=int(ids[i]),
                rank=int(rank[i]),
                final=finals[i],
                aggregate=_dec(agg_c[i]),
                method=MEAN if (aggregation == MEAN or fell[i]) else TRIMMED,
                fell_back=bool(fell[i]),
                n_scores=int(n_arr[i]),
                reviewer_totals=by_prop[int(ids[i])],
                std=_dec(std_c[i]),
                spread=spread,
                flagged=flagged,
                criterion_means={k: _dec(crit_cents[i, j]) for j, k in enumerate(keys)},
                calibrated=_dec(cal_c[i]),
                calibrated_rank=int(cal_rank[i]),
                pitch_aggregate=_dec(pitch_c[i]),
                pitch_n_scores=int(pitch_n[i]),
                no_pitch=no_pitch,
                notes=notes,
            )
        )

    # reviewers
    half = 0.5 * grand_std if grand_std == grand_std else float("inf")
    offsets = rev["mean"].to_numpy() - grand_mean
    labels = np.where(offsets > half + _EPS, LENIENT, np.where(offsets < -half - _EPS, HARSH, NEUTRAL))
    rev_mean_c, rev_std_c, off_c = _scaled(rev["mean"]), _scaled(rev["std"]), _scaled(offsets)
    reviewers = [
        ReviewerStats(
            reviewer=int(r_id),
            n=int(rev["n"].iat[j]),
            mean=_dec(rev_mean_c[j]),
            std=_dec(rev_std_c[j]),
            offset=_dec(off_c[j]),
            label=str(labels[j]),
        )
        for j, r_id in enumerate(rev.index)
    ]

    scored = set(ids.tolist())
    return Ranking(
        rows=rows,
        unscored=sorted(int(p) for p in known if int(p) not in scored),
        reviewers=reviewers,
        agreement=Agreement(icc=_icc(totals, per), kendall_w=_kendall(totals, n_props)),
        aggregation=aggregation,
        criteria=list(zip(keys, names, strict=True)),
        grand_mean=_dec(_scaled(grand_mean)),
        grand_std=_dec(_scaled(grand_std)),
        spread_limit=limit,
        has_pitch=pitch is not None,
        pitch_weight=weight,
    )


# ---------------------------------------------------------------- funding


def award_list(
    ranking: Ranking,
    proposals: pd.DataFrame,
    *,
    pool,
    min_score,
    skip_to_cheaper: bool,
) -> Award:
    """Walk down the ranking and fund each proposal its adjusted amount (when set) else its
    requested amount while the pool lasts. Final score < min_score: not funded (低于最低立项分数).
    A proposal that no longer fits: with skip_to_cheaper, skipped and the walk goes on with
    cheaper ones; without, funding stops there and every later one is 资金不足. The committed
    sum never exceeds the pool (Decimal arithmetic only). Unscored proposals come last, unfunded."""
    pool = _money(pool)
    if pool is None or pool < 0:
        raise RankingError("资金总额应为不小于0的金额。")
    min_d = _decimal(min_score, "最低立项分数")
    remaining = pool
    stopped = False
    by_category: dict[str, Decimal] = {}
    by_level: dict[str, Decimal] = {}
    has_adjusted = "adjusted" in proposals.columns
    zero = Decimal("0.00")

    def facts(pid):
        if pid not in proposals.index:
            raise RankingError(f"项目列表中没有编号为 {pid} 的项目。")
        rec = proposals.loc[pid]
        adjusted = _money(rec["adjusted"]) if has_adjusted else None
        amount = adjusted if adjusted is not None else _money(rec["requested"])
        return rec, amount, adjusted is not None

    rows = []
    for r in ranking.rows:
        rec, amount, adjusted = facts(r.proposal)
        category, level = _text(rec.get("category")), _text(rec.get("level"))
        funded, reason = False, ""
        if min_d is not None and r.final < min_d:
            reason = REASON_BELOW_MIN
        elif amount is None or amount <= 0:
            reason = REASON_NO_AMOUNT
        elif stopped or amount > remaining:
            reason = REASON_NO_FUNDS
            stopped = stopped or not skip_to_cheaper
        else:
            funded = True
            remaining -= amount
            by_category[category] = by_category.get(category, zero) + amount
            by_level[level] = by_level.get(level, zero) + amount
        rows.append(
            AwardRow(
                proposal=r.proposal,
                rank=r.rank,
                final=r.final,
                amount=amount,
                adjusted=adjusted,
                funded=funded,
                awarded=amount if funded else zero,
                reason=reason,
                category=category,
                level=level,
            )
        )
    for pid in ranking.unscored:
        rec, amount, adjusted = facts(pid)
        rows.append(
            AwardRow(
                proposal=pid,
                rank=None,
                final=None,
                amount=amount,
                adjusted=adjusted,
                funded=False,
                awarded=zero,
                reason=REASON_UNSCORED,
                category=_text(rec.get("category")),
                level=_text(rec.get("level")),
            )
        )
    committed = pool - remaining
    assert committed <= pool and remaining >= 0
    return Award(
        rows=rows,
        pool=pool,
        committed=committed,
        remaining=remaining,
        committed_by_category=by_category,
        committed_by_level=by_level,
        skip_to_cheaper=skip_to_cheaper,
        min_score=min_d,
    )


# ---------------------------------------------------------------- Excel sheet


def reviewer_label(position: int) -> str:
    return f"评委{position}"


def criterion_matrix(
    scores: pd.DataFrame,
    rubric: Sequence[Mapping],
    reviewer_labels: Sequence[int] | Mapping[int, str],
    *,
    proposals: Sequence[int] | None = None,
    totals: bool = False,
) -> pd.DataFrame:
    """Proposal × (评委k, criterion name) of Decimal points (None where that reviewer did not
    score the proposal), for an Excel sheet. `reviewer_labels`: the reviewer ids in the stable
    order the caller chooses (→ 评委1…评委N), or a mapping reviewer id → label (its order is
    the column order). `proposals`: row order (default: ids ascending). `totals`: add a
    (评委k, "合计") column after each reviewer's criteria."""
    keys, names, weights = _rubric(rubric)
    if isinstance(reviewer_labels, Mapping):
        labels = {int(r): str(label) for r, label in reviewer_labels.items()}
    else:
        labels = {int(r): reviewer_label(i) for i, r in enumerate(reviewer_labels, start=1)}
    frame = scores if scores is not None else pd.DataFrame(columns=COLUMNS)
    known = pd.Index(frame["proposal"].astype("int64").unique()) if len(frame) else pd.Index([], dtype="int64")
    s = _clean_scores(frame, known=known, what="评分", keys=keys, weights=weights)
    stray = ~s["reviewer"].isin(list(labels))
    if stray.any():
        raise RankingError(f"评委 {s.loc[stray, 'reviewer'].iloc[0]} 不在评委编号顺序中。")
    name_of = dict(zip(keys, names, strict=True))
    s["label"] = s["reviewer"].map(labels)
    s["name"] = s["criterion"].map(name_of)
    parts = [s[["proposal", "label", "name", "points"]]]
    sub = names + (["合计"] if totals else [])
    if totals:
        t = s.groupby(["proposal", "label"], sort=False)["points"].sum().reset_index()
        t["name"] = "合计"
        parts.append(t[["proposal", "label", "name", "points"]])
    long = pd.concat(parts, ignore_index=True)
    columns = pd.MultiIndex.from_product([list(labels.values()), sub], names=["评委", "评审标准"])
    wide = long.set_index(["proposal", "label", "name"])["points"].unstack(["label", "name"])
    index = pd.Index(
        list(proposals) if proposals is not None else sorted(long["proposal"].unique().tolist()), name="项目"
    )
    wide = wide.reindex(index=index, columns=columns)
    cents = _scaled(wide.to_numpy())
    cells = np.empty(cents.shape, dtype=object)
    for (i, j), c in np.ndenumerate(cents):
        cells[i, j] = _dec(c)
    return pd.DataFrame(cells, index=index, columns=columns)
