"""grants.ranking: the review ranking of a call on plain frames, every figure checked against a
hand computation (written out in the comments) as the exact Decimal a page shows."""

import datetime
import random
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from grants import ranking as rk

D = Decimal
T0 = datetime.datetime(2026, 4, 1, 9, 0, tzinfo=datetime.UTC)

# two criteria: points for "a" run 0–40, for "b" 0–60; a total is their sum (0–100)
RUBRIC = [{"key": "a", "name": "项目设计", "weight": 40}, {"key": "b", "name": "社会效益", "weight": 60}]
# one criterion worth 100: the points are the total
ONE = [{"key": "t", "name": "总分", "weight": 100}]


def frame(table: dict, rubric=RUBRIC) -> pd.DataFrame:
    """{proposal: {reviewer: points per criterion, or a total for a one-criterion rubric}}"""
    keys = [c["key"] for c in rubric]
    rows = []
    for p, by in table.items():
        for r, pts in by.items():
            pts = pts if isinstance(pts, list | tuple) else [pts]
            rows += [(p, r, k, float(v)) for k, v in zip(keys, pts, strict=True)]
    return pd.DataFrame(rows, columns=rk.COLUMNS)


def props(ids, *, requested=None, adjusted=None, submitted=None, category=None, level=None) -> pd.DataFrame:
    ids = list(ids)
    return pd.DataFrame(
        {
            "requested": [D(str((requested or {}).get(p, "10000"))) for p in ids],
            "submitted_at": [(submitted or {}).get(p, T0 + datetime.timedelta(hours=p)) for p in ids],
            "category": [(category or {}).get(p, "老年人") for p in ids],
            "level": [(level or {}).get(p, "区级") for p in ids],
            "adjusted": [(adjusted or {}).get(p) for p in ids],
        },
        index=pd.Index(ids, name="proposal"),
    )


def rank(table, rubric=RUBRIC, proposals=None, **kw):
    scores = frame(table, rubric)
    return rk.rank_call(scores, rubric, proposals if proposals is not None else props(table), **kw)


# ---------------------------------------------------------------- aggregate, std, spread


def test_trimmed_mean_of_five_totals_with_std_and_spread():
    # totals 71, 80, 84, 90, 96 (split over the two criteria); trimmed: drop 96 and 71,
    # (80 + 84 + 90) / 3 = 254 / 3 = 84.666… → 84.67
    # mean 84.2; deviations −13.2 −4.2 −0.2 5.8 11.8; squares 174.24 17.64 0.04 33.64 139.24
    # = 364.8; sample variance 364.8 / 4 = 91.2; std √91.2 = 9.5499 → 9.55; spread 96 − 71 = 25
    table = {1: {11: [30, 41], 12: [32, 48], 13: [34, 50], 14: [36, 54], 15: [38, 58]}}
    row = rank(table).rows[0]
    assert row.aggregate == D("84.67") and row.final == D("84.67")
    assert (row.method, row.fell_back, row.n_scores) == ("trimmed", False, 5)
    assert row.reviewer_totals == {11: D("71.00"), 12: D("80.00"), 13: D("84.00"), 14: D("90.00"), 15: D("96.00")}
    assert row.std == D("9.55")
    assert row.spread == D("25.00")
    # per criterion, same method: a 30 32 34 36 38 → (32+34+36)/3 = 34; b 41 48 50 54 58 → 152/3 = 50.67
    assert row.criterion_means == {"a": D("34.00"), "b": D("50.67")}
    assert row.notes == []


def test_mean_method_averages_all_five():
    table = {1: {11: [30, 41], 12: [32, 48], 13: [34, 50], 14: [36, 54], 15: [38, 58]}}
    row = rank(table, aggregation="mean").rows[0]
    # (71 + 80 + 84 + 90 + 96) / 5 = 421 / 5 = 84.2
    assert (row.aggregate, row.method, row.fell_back) == (D("84.20"), "mean", False)


def test_trimmed_falls_back_to_the_mean_with_two_scores_and_says_so():
    # totals 80 and 91: mean 85.5; std √((5.5² + 5.5²) / 1) = √60.5 = 7.778 → 7.78; spread 11
    ranking = rank({1: {11: [30, 50], 12: [35, 56]}, 2: {11: [30, 40]}})
    row = ranking.row(1)
    assert (row.aggregate, row.method, row.fell_back) == (D("85.50"), "mean", True)
    assert row.std == D("7.78") and row.spread == D("11.00")
    assert rk.FELL_BACK_TEXT in row.notes
    # one score: std None, spread 0
    one = ranking.row(2)
    assert (one.aggregate, one.std, one.spread, one.fell_back) == (D("70.00"), None, D("0.00"), True)


def test_three_scores_trimmed_is_the_middle_one():
    row = rank({1: {11: 60, 12: 75.5, 13: 99}}, ONE).rows[0]
    assert (row.aggregate, row.method) == (D("75.50"), "trimmed")


def test_half_cent_rounds_up():
    # (80.01 + 80.02) / 2 = 80.015 exactly → 80.02 (float gives 80.01499999…)
    row = rank({1: {11: 80.01, 12: 80.02}}, ONE).rows[0]
    assert row.aggregate == D("80.02")


def test_spread_exactly_at_the_limit_is_not_flagged_above_is():
    ranking = rank({1: {11: 70, 12: 90}, 2: {11: 69.99, 12: 90}}, ONE, spread_limit=D("20"))
    at, above = ranking.row(1), ranking.row(2)
    assert (at.spread, at.flagged) == (D("20.00"), False)
    assert (above.spread, above.flagged) == (D("20.01"), True)
    assert "评委总分相差 20.01 分，超过 20.00 分，建议复核" in above.notes
    assert not any(r.flagged for r in rank({1: {11: 0, 12: 100}}, ONE).rows)  # no limit: never


# ---------------------------------------------------------------- ties


def test_ties_broken_by_the_first_criterion_then_submission_time():
    # every proposal totals 80 from both reviewers; the first criterion ("a") decides, then time
    table = {
        1: {11: [30, 50], 12: [30, 50]},  # a = 30
        2: {11: [36, 44], 12: [36, 44]},  # a = 36: first
        3: {11: [33, 47], 12: [33, 47]},  # a = 33, submitted later than 4
        4: {11: [33, 47], 12: [33, 47]},  # a = 33, submitted earlier
        5: {11: [40, 50], 12: [40, 50]},  # 90: above all
    }
    submitted = {3: T0 + datetime.timedelta(days=2), 4: T0 + datetime.timedelta(days=1)}
    ranking = rank(table, proposals=props(table, submitted=submitted))
    assert [(r.proposal, r.rank) for r in ranking.rows] == [(5, 1), (2, 2), (4, 3), (3, 4), (1, 5)]
    assert [r.final for r in ranking.rows] == [D("90.00")] + [D("80.00")] * 4
    assert "第一项" in rk.TIE_BREAK_TEXT and "提交时间早者在前" in rk.TIE_BREAK_TEXT
    assert ranking.tie_break == rk.TIE_BREAK_TEXT


def test_scores_equal_as_shown_are_a_tie():
    # 80.004 and 80.001 both show as 80.00: the first criterion decides, not the hidden digits
    table = {1: {11: [30, 50.004]}, 2: {11: [35, 45.001]}}
    assert [r.proposal for r in rank(table).rows] == [2, 1]


# ---------------------------------------------------------------- calibration


def test_calibration_two_reviewers_one_harsh():
    # A (11): 80, 70, 90 → mean 80, sample std √((0 + 100 + 100)/2) = 10
    # B (12): 60, 55, 65 → mean 60, sample std √((0 + 25 + 25)/2) = 5    (harsh, narrow)
    # z: A 0, −1, +1; B 0, −1, +1
    # grand mean (240 + 180) / 6 = 70; deviations 10 0 20 −10 −15 −5, squares sum 850,
    # grand std √(850 / 5) = √170 = 13.0384
    # calibrated totals: z = 0 → 70; z = −1 → 70 − 13.0384 = 56.9616; z = +1 → 83.0384
    # per proposal (two scores: mean): 1 → 70.00, 2 → 56.96, 3 → 83.04
    # raw aggregates: 1 → 70, 2 → 62.5, 3 → 77.5
    ranking = rank({1: {11: 80, 12: 60}, 2: {11: 70, 12: 55}, 3: {11: 90, 12: 65}}, ONE)
    got = {r.proposal: (r.aggregate, r.calibrated, r.rank, r.calibrated_rank) for r in ranking.rows}
    assert got == {
        1: (D("70.00"), D("70.00"), 2, 2),
        2: (D("62.50"), D("56.96"), 3, 3),
        3: (D("77.50"), D("83.04"), 1, 1),
    }
    assert (ranking.grand_mean, ranking.grand_std) == (D("70.00"), D("13.04"))
    # offsets ±10 against half the grand std 6.52: A lenient, B harsh
    a, b = ranking.reviewers
    assert (a.reviewer, a.n, a.mean, a.std, a.offset, a.label) == (11, 3, D("80.00"), D("10.00"), D("10.00"), "偏宽")
    assert (b.reviewer, b.n, b.mean, b.std, b.offset, b.label) == (12, 3, D("60.00"), D("5.00"), D("-10.00"), "偏严")


def test_calibration_reviewer_with_one_score_sits_at_the_grand_mean():
    # A (11): 80, 60 → mean 70, std √((100 + 100)/1) = 14.1421; C (12): one score, 90 on proposal 1
    # grand mean (80 + 60 + 90)/3 = 76.6667; deviations 3.3333 −16.6667 13.3333, squares
    # 11.1111 + 277.7778 + 177.7778 = 466.6667, grand std √(466.6667/2) = 15.2753
    # A: z = ±10/14.1421 = ±0.70711 → 76.6667 ± 10.8012 = 87.4679, 65.8654
    # C: x − mean = 0 (divided by the pooled std 14.1421) → z = 0 → 76.6667
    # proposal 1: (87.4679 + 76.6667)/2 = 82.0673 → 82.07; proposal 2: 65.87
    ranking = rank({1: {11: 80, 12: 90}, 2: {11: 60}}, ONE)
    assert {r.proposal: r.calibrated for r in ranking.rows} == {1: D("82.07"), 2: D("65.87")}
    c = ranking.reviewers[1]
    # offset 90 − 76.6667 = 13.33 > 7.64 (half the grand std): lenient; std None with one score
    assert (c.n, c.std, c.offset, c.label) == (1, None, D("13.33"), "偏宽")


def test_calibrated_totals_are_clipped_to_the_rubric():
    # A: 100, 0 (z ±0.7071); B: 100, 100 (zero std → z 0); grand mean 75, std 50:
    # A's top: 75 + 0.7071 × 50 = 110.36 → 100; proposal 1 = (100 + 75)/2 = 87.50
    ranking = rank({1: {11: 100, 12: 100}, 2: {11: 0, 12: 100}}, ONE)
    assert ranking.row(1).calibrated == D("87.50")
    assert ranking.row(2).calibrated == D("57.32")  # (75 − 35.36 + 75)/2 = 57.322


# ---------------------------------------------------------------- agreement


def test_icc_on_shrout_and_fleiss_balanced_example():
    # Shrout & Fleiss (1979), Table 2: 6 targets × 4 judges; their ICC(1,1) = .17.
    # row means 6, 3, 6.5, 4, 7.5, 4.75; grand 127/24; SSB = 4 Σ(mean − grand)² = 56.2083,
    # MSB = 56.2083/5 = 11.2417; SSW = 30 + 14 + 11 + 26 + 17 + 14.75 = 112.75, MSW = 112.75/18 = 6.2639;
    # k0 = 4; ICC = (11.2417 − 6.2639)/(11.2417 + 3 × 6.2639) = 1792/10812 = 0.16574 → 0.166
    data = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    table = {p: {r: v for r, v in enumerate(row, start=11)} for p, row in enumerate(data, start=1)}
    icc = rank(table, ONE).agreement.icc
    assert (icc.value, icc.reading, icc.reason) == (D("0.166"), "一致性较差", "")
    assert icc.method == rk.ICC_METHOD


def test_icc_unbalanced_panels_use_k0():
    # p1: 80, 90 (mean 85); p2: 70, 72, 74 (mean 72); p3: 60, 64 (mean 62); N = 7, n = 3
    # grand 510/7; SSB = (2·85² + 3·6² + 2·76²)/49 = 26110/49, MSB = 13055/49 = 266.43
    # SSW = 50 + 8 + 8 = 66, MSW = 66/4 = 16.5; k0 = (7 − 17/7)/2 = 16/7
    # ICC = (13055/49 − 33/2)/(13055/49 + (9/7)(33/2)) = 24493/28189 = 0.86889 → 0.869
    table = {1: {11: 80, 12: 90}, 2: {13: 70, 14: 72, 15: 74}, 3: {16: 60, 17: 64}}
    agreement = rank(table, ONE).agreement
    assert (agreement.icc.value, agreement.icc.reading) == (D("0.869"), "一致性较好")
    assert agreement.kendall_w.value is None and "并非每位评委都评了每个项目" in agreement.kendall_w.reason


def test_icc_none_with_a_reason():
    one = rank({1: {11: 80, 12: 70}}, ONE).agreement.icc
    assert one.value is None and one.reading == "" and "少于2个" in one.reason
    singles = rank({1: {11: 80}, 2: {12: 70}}, ONE).agreement.icc
    assert singles.value is None and "没有项目有2个及以上的评分" in singles.reason


def test_kendall_w_on_a_complete_three_by_four_design():
    # reviewers' ranks (1 = lowest) of proposals 1–4:
    # A: 90 80 70 60 → 4 3 2 1;  B: 85 88 70 65 → 3 4 2 1;  C: 80 75 78 60 → 4 2 3 1
    # R = 11, 9, 7, 3; mean 7.5; S = 3.5² + 1.5² + 0.5² + 4.5² = 35
    # W = 12 S / (m²(n³ − n)) = 420 / (9 × 60) = 0.7778 → 0.778
    scores = {"A": [90, 80, 70, 60], "B": [85, 88, 70, 65], "C": [80, 75, 78, 60]}
    table = {p: {11 + i: scores[r][p - 1] for i, r in enumerate("ABC")} for p in range(1, 5)}
    w = rank(table, ONE).agreement.kendall_w
    assert (w.value, w.reading, w.method) == (D("0.778"), "一致性较好", rk.KENDALL_METHOD)


def test_kendall_w_corrects_for_ties():
    # A: 90 90 70 60 → 3.5 3.5 2 1, ties T = 2³ − 2 = 6; B and C as above
    # R = 10.5, 9.5, 7, 3; S = 3² + 2² + 0.5² + 4.5² = 33.5
    # W = 12 × 33.5 / (9 × 60 − 3 × 6) = 402 / 522 = 0.7701 → 0.770 (≥ 0.75: 较好); without the
    # correction it would be 402 / 540 = 0.744 (中等)
    scores = {"A": [90, 90, 70, 60], "B": [85, 88, 70, 65], "C": [80, 75, 78, 60]}
    table = {p: {11 + i: scores[r][p - 1] for i, r in enumerate("ABC")} for p in range(1, 5)}
    w = rank(table, ONE).agreement.kendall_w
    assert (w.value, w.reading) == (D("0.770"), "一致性较好")


# ---------------------------------------------------------------- pitch


def test_pitch_combined_by_weight_and_no_pitch_ranks_on_review():
    # p1: review 80, pitch 90 → 80 × 0.7 + 90 × 0.3 = 56 + 27 = 83.00
    # p2: review (85 + 86)/2 = 85.5, pitch (70 + 70.5)/2 = 70.25 → 59.85 + 21.075 = 80.925 → 80.93
    # p3: review 82, no pitch → 82.00 on review only, marked 未参加路演
    review = {1: {11: 80, 12: 80}, 2: {11: 85, 12: 86}, 3: {11: 82, 12: 82}}
    pitch = pd.DataFrame([(1, 21, "show", 90.0), (2, 21, "show", 70.0), (2, 22, "show", 70.5)], columns=rk.COLUMNS)
    ranking = rank(review, ONE, pitch=pitch, pitch_weight=D("30"))
    got = {r.proposal: (r.rank, r.review_aggregate, r.pitch_aggregate, r.final, r.no_pitch) for r in ranking.rows}
    assert got == {
        1: (1, D("80.00"), D("90.00"), D("83.00"), False),
        3: (2, D("82.00"), None, D("82.00"), True),
        2: (3, D("85.50"), D("70.25"), D("80.93"), False),
    }
    assert rk.NO_PITCH_TEXT in ranking.row(3).notes
    assert (ranking.has_pitch, ranking.pitch_weight) == (True, D("30"))
    assert ranking.row(2).pitch_n_scores == 2


def test_only_keeps_order_and_rank_numbers():
    ranking = rank({1: {11: 90}, 2: {11: 80}, 3: {11: 70}}, ONE, proposals=props([1, 2, 3, 4]))
    part = ranking.only([3, 1, 4])
    assert [(r.proposal, r.rank) for r in part.rows] == [(1, 1), (3, 3)] and part.unscored == [4]
    assert len(ranking.rows) == 3  # the whole ranking is unchanged


def test_pitch_rows_checked_against_the_pitch_rubric():
    pitch_rubric = [{"key": "show", "name": "路演表现", "weight": 60}, {"key": "qa", "name": "答辩", "weight": 40}]
    pitch = pd.DataFrame([(1, 21, "show", 50.0), (1, 21, "qa", 38.5)], columns=rk.COLUMNS)
    row = rank({1: {11: 80}}, ONE, pitch=pitch, pitch_weight=D("50"), pitch_rubric=pitch_rubric).rows[0]
    assert (row.pitch_aggregate, row.final) == (D("88.50"), D("84.25"))  # 40 + 44.25
    short = pd.DataFrame([(1, 21, "show", 50.0)], columns=rk.COLUMNS)
    with pytest.raises(rk.RankingError, match="路演评分不完整"):
        rank({1: {11: 80}}, ONE, pitch=short, pitch_weight=D("50"), pitch_rubric=pitch_rubric)


def test_pitch_requires_a_weight():
    with pytest.raises(rk.RankingError, match="路演得分比例"):
        rank({1: {11: 80}}, ONE, pitch=pd.DataFrame(columns=rk.COLUMNS))


# ---------------------------------------------------------------- bad input, edges


@pytest.mark.parametrize(
    "rows, message",
    [
        ([(1, 11, "a", 30.0)], "不完整"),  # b missing
        ([(1, 11, "a", 30.0), (1, 11, "b", 50.0), (1, 11, "b", 50.0)], "重复"),
        ([(1, 11, "a", 30.0), (1, 11, "x", 50.0)], "评审标准以外的指标：x"),
        ([(1, 11, "a", 41.0), (1, 11, "b", 50.0)], "超过了该项满分"),
        ([(9, 11, "a", 30.0), (9, 11, "b", 50.0)], "不在项目列表中"),
        ([(1, 11, "a", None), (1, 11, "b", 50.0)], "空缺"),
    ],
)
def test_bad_scores_are_refused_in_chinese(rows, message):
    with pytest.raises(rk.RankingError, match=message):
        rk.rank_call(pd.DataFrame(rows, columns=rk.COLUMNS), RUBRIC, props([1]))


def test_bad_aggregation_refused():
    with pytest.raises(rk.RankingError, match="计分方式"):
        rank({1: {11: 80}}, ONE, aggregation="median")


def test_unscored_proposals_are_listed_apart_and_no_scores_at_all_works():
    ranking = rk.rank_call(frame({2: {11: 80}}, ONE), ONE, props([1, 2, 3]))
    assert [r.proposal for r in ranking.rows] == [2] and ranking.unscored == [1, 3]
    empty = rk.rank_call(pd.DataFrame(columns=rk.COLUMNS), ONE, props([1]))
    assert empty.rows == [] and empty.unscored == [1] and empty.agreement.icc.value is None


def test_decimal_points_from_the_database_are_accepted():
    scores = pd.DataFrame([(1, 11, "t", D("80.50")), (1, 12, "t", D("79.25"))], columns=rk.COLUMNS)
    assert rk.rank_call(scores, ONE, props([1])).rows[0].aggregate == D("79.88")  # 159.75/2 = 79.875


# ---------------------------------------------------------------- award list


def _award(table, proposals, **kw):
    return rk.award_list(rank(table, ONE, proposals=proposals), proposals, **kw)


def test_award_min_score_cut_and_adjusted_amount():
    table = {1: {11: 90}, 2: {11: 80}, 3: {11: 60}, 4: {11: 59.99}}
    proposals = props(table, requested={1: "30000", 2: "50000", 3: "10000", 4: "5000"}, adjusted={2: D("40000")})
    award = _award(table, proposals, pool=D("100000"), min_score=D("60"), skip_to_cheaper=False)
    got = [(r.proposal, r.funded, r.awarded, r.reason, r.adjusted) for r in award.rows]
    assert got == [
        (1, True, D("30000.00"), "", False),
        (2, True, D("40000.00"), "", True),  # the manager's 40,000, not the 50,000 asked
        (3, True, D("10000.00"), "", False),  # exactly at the minimum: funded
        (4, False, D("0.00"), "低于最低立项分数", False),
    ]
    assert (award.committed, award.remaining, award.pool) == (D("80000.00"), D("20000.00"), D("100000.00"))


def test_award_stops_at_the_first_that_does_not_fit_without_skip():
    table = {1: {11: 90}, 2: {11: 85}, 3: {11: 80}, 4: {11: 75}}
    proposals = props(
        table,
        requested={1: "60000", 2: "50000", 3: "30000", 4: "10000"},
        category={1: "老年人", 2: "妇女", 3: "儿童青少年", 4: "老年人"},
        level={1: "区级", 2: "区级", 3: "街道级", 4: "街道级"},
    )
    off = _award(table, proposals, pool=D("100000"), min_score=D("60"), skip_to_cheaper=False)
    assert [(r.proposal, r.funded, r.reason) for r in off.rows] == [
        (1, True, ""),
        (2, False, "资金不足"),  # 50,000 > 40,000 left
        (3, False, "资金不足"),  # would fit, but funding stopped
        (4, False, "资金不足"),
    ]
    assert (off.committed, off.remaining) == (D("60000.00"), D("40000.00"))

    on = _award(table, proposals, pool=D("100000"), min_score=D("60"), skip_to_cheaper=True)
    assert [(r.proposal, r.funded, r.reason) for r in on.rows] == [
        (1, True, ""),
        (2, False, "资金不足"),
        (3, True, ""),  # 30,000 ≤ 40,000
        (4, True, ""),  # 10,000 ≤ 10,000: exactly the rest
    ]
    assert (on.committed, on.remaining) == (D("100000.00"), D("0.00"))
    assert on.committed_by_category == {"老年人": D("70000.00"), "儿童青少年": D("30000.00")}
    assert on.committed_by_level == {"区级": D("60000.00"), "街道级": D("40000.00")}


def test_award_lists_unscored_last_unfunded():
    proposals = props([1, 2])
    award = rk.award_list(
        rk.rank_call(frame({1: {11: 80}}, ONE), ONE, proposals),
        proposals,
        pool=D("50000"),
        min_score=D("60"),
        skip_to_cheaper=True,
    )
    assert [(r.proposal, r.rank, r.funded, r.reason) for r in award.rows] == [
        (1, 1, True, ""),
        (2, None, False, "没有评分"),
    ]


def test_award_never_exceeds_the_pool_over_random_calls():
    rng = random.Random(20260510)
    for _ in range(300):
        n = rng.randint(1, 25)
        table = {p: {11: rng.randint(40, 100), 12: rng.randint(40, 100)} for p in range(1, n + 1)}
        requested = {p: f"{rng.randint(1, 800) * 100}.{rng.randint(0, 99):02d}" for p in table}
        adjusted = {p: D(f"{rng.randint(1, 500) * 100}") for p in table if rng.random() < 0.3}
        proposals = props(table, requested=requested, adjusted=adjusted)
        pool = D(f"{rng.randint(0, 20000) * 10}.{rng.randint(0, 99):02d}")
        min_score = D(rng.choice(["0", "60", "70"]))
        for skip in (False, True):
            award = _award(table, proposals, pool=pool, min_score=min_score, skip_to_cheaper=skip)
            funded = [r for r in award.rows if r.funded]
            assert award.committed == sum((r.awarded for r in funded), D("0.00"))
            assert award.committed <= award.pool and award.remaining == award.pool - award.committed
            assert sum(award.committed_by_category.values(), D(0)) == award.committed
            for r in award.rows:
                assert r.funded == (r.reason == "") and r.funded == (r.awarded > 0)
                assert r.amount == (adjusted.get(r.proposal) or D(requested[r.proposal])).quantize(D("0.01"))
                assert (r.final < min_score) == (r.reason == "低于最低立项分数")
            eligible = [r for r in award.rows if r.final >= min_score]
            if skip:  # greedy: nothing left unfunded that would still fit
                assert all(r.amount > award.remaining for r in eligible if not r.funded)
            else:  # a prefix of the ranking is funded
                flags = [r.funded for r in eligible]
                assert flags == sorted(flags, reverse=True)


def test_award_refuses_a_negative_pool():
    proposals = props([1])
    with pytest.raises(rk.RankingError, match="资金总额"):
        rk.award_list(
            rk.rank_call(frame({1: {11: 80}}, ONE), ONE, proposals),
            proposals,
            pool=D("-1"),
            min_score=D("60"),
            skip_to_cheaper=True,
        )


# ---------------------------------------------------------------- criterion matrix


def test_criterion_matrix_anonymises_reviewers_in_the_callers_order():
    scores = frame({1: {11: [30, 50], 12: [35.5, 44]}, 2: {12: [20, 40]}})
    sheet = rk.criterion_matrix(scores, RUBRIC, [12, 11])  # the caller's stable order: 12 is 评委1
    assert list(sheet.columns) == [
        ("评委1", "项目设计"),
        ("评委1", "社会效益"),
        ("评委2", "项目设计"),
        ("评委2", "社会效益"),
    ]
    assert list(sheet.index) == [1, 2]
    assert sheet.loc[1].tolist() == [D("35.50"), D("44.00"), D("30.00"), D("50.00")]
    assert sheet.loc[2].tolist() == [D("20.00"), D("40.00"), None, None]  # 11 did not score 2
    with_totals = rk.criterion_matrix(scores, RUBRIC, {11: "甲", 12: "乙"}, proposals=[2, 1], totals=True)
    assert list(with_totals.index) == [2, 1]
    assert with_totals.loc[1, ("甲", "合计")] == D("80.00") and with_totals.loc[2, ("甲", "合计")] is None


def test_criterion_matrix_refuses_a_reviewer_missing_from_the_order():
    with pytest.raises(rk.RankingError, match="不在评委编号顺序中"):
        rk.criterion_matrix(frame({1: {11: [30, 50], 12: [30, 50]}}), RUBRIC, [11])


# ---------------------------------------------------------------- scale


def test_a_large_random_call_ranks_every_proposal_once():
    rng = np.random.default_rng(7)
    n, panel = 200, 5
    rows = [
        (p, int(r), "t", float(rng.integers(40, 100)))
        for p in range(1, n + 1)
        for r in rng.choice(30, panel, replace=False)
    ]
    ranking = rk.rank_call(pd.DataFrame(rows, columns=rk.COLUMNS), ONE, props(range(1, n + 1)), spread_limit=D("30"))
    assert sorted(r.rank for r in ranking.rows) == list(range(1, n + 1))
    assert sorted(r.calibrated_rank for r in ranking.rows) == list(range(1, n + 1))
    finals = [r.final for r in ranking.rows]
    assert finals == sorted(finals, reverse=True)
    assert ranking.agreement.icc.value is not None and ranking.agreement.kendall_w.value is None
