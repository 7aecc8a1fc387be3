"""The ranking workbook of a call: `python manage.py export_ranking --call ID --output
FILE.xlsx` and 导出 Excel on the ranking screen write the same file.

Sheet 排名: the call's title and the date above the header; one row per ranked proposal
with its rank, each of its reviewers' totals (reviewers anonymised as 评委1…N, the same
labels as the ranking screen, one pair of columns 评委/总分 per seat of the panel, so a
call reviewed by 140 experts in panels of 5 stays 10 columns wide), the aggregate, the
spread flag, the requested and awarded amounts (numbers in the 元 format, not text) and
是否立项. Sheet 评分明细: the full criterion score matrix, one row per proposal and
reviewer, a column per criterion. Sheet 评委尺度: each reviewer's mean and offset. Every
value goes through core.excel's safe writer."""

from django.utils import timezone

from core.excel import ONE_DECIMAL, YUAN, Sheet, new_workbook, workbook_bytes, xlsx_response

from .models import ReviewRound, Stage
from .selectors.review import score_frame
from .services.award import award_list

TWO_PLACES = "0.00"


def ranking_workbook(call) -> bytes:
    result, award = award_list(call)
    ranking, frame, labels = result.ranking, result.proposals, result.reviewer_labels
    awarded = {a.proposal: a for a in award.rows}
    seats = max((len(r.reviewer_totals) for r in ranking.rows), default=0)
    wb = new_workbook()
    preamble = [
        [call.title],
        [f"导出时间：{timezone.localtime():%Y年%m月%d日 %H:%M}"],
        [f"计分方式：{ranking.method_label}；{ranking.tie_break}"],
    ]
    tail = [
        ("专家评审得分", TWO_PLACES, 12),
        *([("路演得分", TWO_PLACES, 10)] if ranking.has_pitch else []),
        ("最终得分", TWO_PLACES, 10),
        ("标准差", TWO_PLACES, 8),
        ("极差", TWO_PLACES, 8),
        ("评分分歧较大", None, 12),
        ("校准后得分", TWO_PLACES, 12),
        ("申请金额", YUAN, 14),
        ("拟资助金额", YUAN, 14),
        ("是否立项", None, 10),
    ]
    headers = ["排名", "申报编号", "项目名称"]
    widths = [6, 14, 36]
    for i in range(1, seats + 1):
        headers += [f"评委（{i}）", f"总分（{i}）"]
        widths += [8, 8]
    headers += [h for h, _, _ in tail]
    widths += [w for _, _, w in tail]
    formats = {3 + 2 * i + 1: ONE_DECIMAL for i in range(seats)}
    formats |= {3 + 2 * seats + j: fmt for j, (_, fmt, _) in enumerate(tail) if fmt}
    sheet = Sheet(wb, "排名", headers, widths=widths, formats=formats, freeze="D2", preamble=preamble)
    for r in ranking.rows:
        info = frame.loc[r.proposal]
        a = awarded.get(r.proposal)
        panel = sorted(r.reviewer_totals.items(), key=lambda et: int(labels[et[0]].removeprefix("评委")))
        cells = []
        for expert, total in panel:
            cells += [labels[expert], total]
        cells += [None, None] * (seats - len(panel))
        funded = bool(a and a.funded)
        sheet.append(
            [
                r.rank,
                info["number"],
                info["title"],
                *cells,
                r.aggregate,
                *([r.pitch_aggregate] if ranking.has_pitch else []),
                r.final,
                r.std,
                r.spread,
                "是" if r.flagged else "否",
                r.calibrated,
                info["requested"],
                a.awarded if funded else None,
                "是" if funded else "否",
            ]
        )
    _matrix_sheet(wb, call, ranking, frame, labels)
    scale = Sheet(
        wb,
        "评委尺度",
        ["评委", "评分项目数", "平均总分", "标准差", "与总体平均之差", "尺度"],
        widths=[8, 10, 10, 10, 14, 8],
        freeze=None,
    )
    for s in ranking.reviewers:
        scale.append([labels.get(s.reviewer, ""), s.n, s.mean, s.std, s.offset, s.label])
    return workbook_bytes(wb)


def _matrix_sheet(wb, call, ranking, frame, labels) -> None:
    """评分明细: every criterion score, one row per proposal and reviewer, in ranking order."""
    rubric = call.rubric
    scores = score_frame(ReviewRound.objects.filter(call=call, stage=Stage.REVIEW).first())
    sheet = Sheet(
        wb,
        "评分明细",
        ["排名", "申报编号", "评委", *[c["name"] for c in rubric], "合计"],
        widths=[6, 14, 8, *[10] * len(rubric), 8],
        formats={3 + i: ONE_DECIMAL for i in range(len(rubric) + 1)},
        freeze="D2",
    )
    if scores.empty:
        return
    matrix = scores.pivot_table(index=["proposal", "reviewer"], columns="criterion", values="points", aggfunc="first")
    keys = [c["key"] for c in rubric]
    matrix = matrix.reindex(columns=keys)
    rank_of = {r.proposal: r.rank for r in ranking.rows}
    rows = sorted(
        matrix.itertuples(name=None),
        key=lambda t: (rank_of.get(t[0][0], 10**9), int(labels.get(t[0][1], "评委0").removeprefix("评委"))),
    )
    for (proposal, reviewer), *values in rows:
        points = [None if v != v else round(float(v), 1) for v in values]  # NaN: not scored
        sheet.append(
            [
                rank_of.get(proposal),
                frame.loc[proposal, "number"] if proposal in frame.index else "",
                labels.get(reviewer, ""),
                *points,
                round(sum(p for p in points if p is not None), 1),
            ]
        )


def ranking_filename(call) -> str:
    return f"评审排名_{call.pk}_{timezone.localdate():%Y%m%d}.xlsx"


def ranking_workbook_response(call):
    return xlsx_response(ranking_workbook(call), ranking_filename(call))
