"""The ranking workbook of a call: `python manage.py export_ranking --call ID --output
FILE.xlsx` and 导出 Excel on the ranking screen write the same file.

Sheet 排名: the call's title and the date above the header; one row per ranked proposal
with its rank, each reviewer's total (reviewers anonymised as 评委1…N, the same labels as
the ranking screen), the aggregate, the spread flag, the requested and awarded amounts
(numbers in the 元 format, not text) and 是否立项. Sheet 评分明细: every criterion score of
every reviewer (grants.ranking.criterion_matrix). Sheet 评委尺度: each reviewer's mean and
offset. Every value goes through core.excel's safe writer."""

from django.utils import timezone

from core.excel import ONE_DECIMAL, YUAN, Sheet, new_workbook, workbook_bytes, xlsx_response

from . import ranking as rk
from .selectors.review import score_frame
from .services.award import award_list


def ranking_workbook(call) -> bytes:
    result, award = award_list(call)
    ranking, frame, labels = result.ranking, result.proposals, result.reviewer_labels
    order = sorted(labels, key=lambda e: int(labels[e].removeprefix("评委")))
    awarded = {a.proposal: a for a in award.rows}
    wb = new_workbook()
    preamble = [
        [call.title],
        [f"导出时间：{timezone.localtime():%Y年%m月%d日 %H:%M}"],
        [f"计分方式：{ranking.method_label}；{ranking.tie_break}"],
    ]
    headers = [
        "排名",
        "申报编号",
        "项目名称",
        *[labels[e] for e in order],
        "专家评审得分",
        *(["路演得分"] if ranking.has_pitch else []),
        "最终得分",
        "标准差",
        "极差",
        "评分分歧较大",
        "校准后得分",
        "申请金额",
        "拟资助金额",
        "是否立项",
    ]
    reviewer_cols = {labels[e] for e in order}
    two_places = {"专家评审得分", "路演得分", "最终得分", "标准差", "极差", "校准后得分"}
    formats = {}
    for i, h in enumerate(headers):
        if h in reviewer_cols:
            formats[i] = ONE_DECIMAL
        elif h in two_places:
            formats[i] = "0.00"
        elif h in ("申请金额", "拟资助金额"):
            formats[i] = YUAN
    widths = [{"排名": 6, "申报编号": 14, "项目名称": 36}.get(h, 14 if "金额" in h else 10) for h in headers]
    sheet = Sheet(wb, "排名", headers, widths=widths, formats=formats, freeze="D2", preamble=preamble)
    for r in ranking.rows:
        info = frame.loc[r.proposal]
        a = awarded.get(r.proposal)
        sheet.append(
            [
                r.rank,
                info["number"],
                info["title"],
                *[r.reviewer_totals.get(e) for e in order],
                r.aggregate,
                *([r.pitch_aggregate] if ranking.has_pitch else []),
                r.final,
                r.std,
                r.spread,
                "是" if r.flagged else "否",
                r.calibrated,
                info["requested"],
                a.awarded if a and a.funded else None,
                "是" if a and a.funded else "否",
            ]
        )
    matrix = rk.criterion_matrix(
        score_frame(_review_round(call)),
        call.rubric,
        {e: labels[e] for e in order},
        proposals=[r.proposal for r in ranking.rows],
        totals=True,
    )
    columns = list(matrix.columns)
    detail = Sheet(
        wb,
        "评分明细",
        ["申报编号", *[f"{who}·{what}" for who, what in columns]],
        widths=[14, *[10] * len(columns)],
        formats={i: ONE_DECIMAL for i in range(1, len(columns) + 1)},
    )
    for pid, values in matrix.iterrows():
        detail.append([frame.loc[pid, "number"], *[v for v in values.tolist()]])
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


def _review_round(call):
    from .models import ReviewRound, Stage

    return ReviewRound.objects.filter(call=call, stage=Stage.REVIEW).first()


def ranking_filename(call) -> str:
    return f"评审排名_{call.pk}_{timezone.localdate():%Y%m%d}.xlsx"


def ranking_workbook_response(call):
    return xlsx_response(ranking_workbook(call), ranking_filename(call))
