"""Excel download of the incubation figures (the admin dashboard's “导出 Excel”).

Three sheets with Chinese headers — 各层级汇总, 各基地汇总, 分年度 — from the same frames as
the dashboard (figures.py), so the file always says what the screen says. The figures
are tens of rows (one per base), so the workbook is made in the request, not as a job.
Cells are written by core.excel (base names are text, never formulas)."""

from core.excel import ONE_DECIMAL, PERCENT, Sheet, new_workbook, workbook_bytes

from .figures import SUMMARY_COLUMNS, YEARLY_COLUMNS, Frames, summary, yearly
from .models import BaseLevel

FORMATS = {"registered_share": PERCENT, "service_hours": ONE_DECIMAL, "avg_gain": ONE_DECIMAL}


def figures_workbook(frames: Frames) -> bytes:
    keys = list(SUMMARY_COLUMNS)
    measure_headers = list(SUMMARY_COLUMNS.values())
    # the measures start at the third column on both summary sheets
    formats = {i + 2: FORMATS[k] for i, k in enumerate(keys) if k in FORMATS}
    wb = new_workbook()

    sheet = Sheet(
        wb,
        "各层级汇总",
        ["层级", "基地数（个）", *measure_headers],
        widths=[22, 12, *[14] * len(keys)],
        formats=formats,
    )
    for _, row in summary(frames, by="level").iterrows():
        sheet.append([row["label"], row["bases"], *[row[k] for k in keys]])

    sheet = Sheet(
        wb, "各基地汇总", ["基地名称", "层级", *measure_headers], widths=[34, 20, *[14] * len(keys)], formats=formats
    )
    for _, row in summary(frames, by="base").iterrows():
        sheet.append([row["name"], BaseLevel(row["level"]).label, *[row[k] for k in keys]])

    names = frames.bases.set_index("id")["name"]
    sheet = Sheet(
        wb,
        "分年度",
        ["基地名称", "年度", *[f"{label}（家）" for label in YEARLY_COLUMNS.values()]],
        widths=[34, 8, 10, 10, 10],
    )
    for _, row in yearly(frames, "base").iterrows():
        sheet.append([names[row["base_id"]], int(row["year"]), *[row[k] for k in YEARLY_COLUMNS]])
    return workbook_bytes(wb)
