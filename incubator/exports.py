"""Excel download of the incubation figures (the admin dashboard's “导出 Excel”).

Three sheets with Chinese headers — 各层级汇总, 各基地汇总, 分年度 — from the same frames as
the dashboard (figures.py), so the file always says what the screen says. The figures
are tens of rows (one per base), so the workbook is made in the request, not as a job."""

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .figures import SUMMARY_COLUMNS, YEARLY_COLUMNS, Frames, summary, yearly
from .models import BaseLevel

HEADER_FILL = PatternFill("solid", fgColor="F2F2F2")
PERCENT = "0%"
ONE_DECIMAL = "0.0"
FORMATS = {"registered_share": PERCENT, "service_hours": ONE_DECIMAL, "avg_gain": ONE_DECIMAL}


def _value(v):
    """pandas/numpy scalars to plain Python; NaN (no graduates, nobody assessed twice) to empty."""
    if v is None or v != v:
        return None
    return v.item() if hasattr(v, "item") else v


def _sheet(wb, title: str, headers: list[str], rows: list[list], formats: dict[int, str], widths: list[int]):
    ws = wb.create_sheet(title)
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row in rows:
        ws.append([_value(v) for v in row])
    for col, fmt in formats.items():
        for cells in ws.iter_rows(min_row=2, min_col=col, max_col=col):
            cells[0].number_format = fmt
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "B2"
    return ws


def figures_workbook(frames: Frames) -> bytes:
    keys = list(SUMMARY_COLUMNS)
    measure_headers = list(SUMMARY_COLUMNS.values())
    formats = {i: FORMATS[k] for i, k in enumerate(keys) if k in FORMATS}
    wb = Workbook()
    wb.remove(wb.active)

    by_level = summary(frames, by="level")
    _sheet(
        wb,
        "各层级汇总",
        ["层级", "基地数（个）", *measure_headers],
        [[row["label"], row["bases"], *[row[k] for k in keys]] for _, row in by_level.iterrows()],
        {i + 3: f for i, f in formats.items()},
        [22, 12, *[14] * len(keys)],
    )

    by_base = summary(frames, by="base")
    _sheet(
        wb,
        "各基地汇总",
        ["基地名称", "层级", *measure_headers],
        [[row["name"], BaseLevel(row["level"]).label, *[row[k] for k in keys]] for _, row in by_base.iterrows()],
        {i + 3: f for i, f in formats.items()},
        [34, 20, *[14] * len(keys)],
    )

    per_year = yearly(frames, "base")
    names = frames.bases.set_index("id")["name"]
    _sheet(
        wb,
        "分年度",
        ["基地名称", "年度", *[f"{label}（家）" for label in YEARLY_COLUMNS.values()]],
        [
            [names[row["base_id"]], int(row["year"]), *[row[k] for k in YEARLY_COLUMNS]]
            for _, row in per_year.iterrows()
        ],
        {},
        [34, 8, 10, 10, 10],
    )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
