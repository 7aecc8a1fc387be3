"""Excel (.xlsx) pieces shared by every import and export (orgs, incubator, grants).

Reading, for imports:

    table = read_table(upload, header_key=my_header_key, required={"name": "名称"},
                       max_rows=50_000, seconds=120, prefer_sheet="社会组织")
    for row_no, values in table.rows: ...

`read_table` bounds what an uploaded file may cost: the sheets' <row> elements are
counted before openpyxl opens the file, rows are counted again as they are READ (blank
rows and the rows openpyxl fills into gaps count too), never by the sheet's declared
dimension, columns are cut at the header's width, and a deadline stops a slow read. Every refusal is an `ImportFileError` in Chinese. `text`, `digits`, `parse_date`
and `parse_money` turn cells into values or raise `CellError` with a Chinese message.

Writing, for exports:

    wb = new_workbook()
    sheet = Sheet(wb, "社会组织", ["名称", "成立日期"], widths=[36, 12], formats={1: DATE})
    sheet.append([org.name, org.founded_on])
    return workbook_bytes(wb)

Every value goes through `set_value`: a str is always stored as text, so a name such as
`=HYPERLINK("http://…")` is never a live formula (formula injection). We force the cell
type to string rather than prefix an apostrophe to the value: the value read back is
exactly what was written (an export can be imported back unchanged), and cells that
start with = + - @ tab or CR also get Excel's quotePrefix style, so they stay text when
someone edits them in Excel or WPS.
"""

import datetime
import io
import logging
import re
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from .errors import UserError

logger = logging.getLogger(__name__)

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE = "yyyy-mm-dd"
DATETIME = "yyyy-mm-dd hh:mm"
MONEY = "#,##0.00"
YUAN = '#,##0.00"元"'
PERCENT = "0%"
ONE_DECIMAL = "0.0"
TEXT = "@"

# ---- cell parsing --------------------------------------------------------------------------


class CellError(Exception):
    """One cell's value is unusable; the message (Chinese) names the column."""


def norm_label(s) -> str:
    """For comparing headers and labels: no white space, full-width brackets."""
    return re.sub(r"\s+", "", str(s)).replace("(", "（").replace(")", "）")


def text(value) -> str:
    """A cell as the text a user typed: integral floats without '.0', dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time(0) else value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).replace("\u3000", " ").strip()


def digits(value, label: str) -> str:
    """Identifier-like cells (phone, bank account): Excel may have stored them as numbers."""
    if isinstance(value, float) and not value.is_integer():
        raise CellError(f"{label}“{value}”不是有效的号码。")
    if isinstance(value, float) and abs(value) >= 1e15:
        raise CellError(
            f"{label}超过15位时请以文本格式填写（Excel 会把长数字的末几位变成0），请将该列设为“文本”后重新输入。"
        )
    return text(value)


DATE_PATTERNS = [
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]


def parse_date(value, label: str = "日期") -> datetime.date | None:
    """A date cell, an Excel serial day number, or text like 2018-05-01 / 2018/5/1 / 2018年5月1日."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 100_000 and float(value).is_integer():
            from openpyxl.utils.datetime import from_excel

            return from_excel(value).date()
        value = text(value)
    shown = text(value)
    for pattern in DATE_PATTERNS:
        m = pattern.match(shown.split(" ")[0])
        if m:
            try:
                return datetime.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                break
    raise CellError(f"{label}“{shown}”无法识别，请填写有效日期，如 2018-05-01。")


def parse_money(value, label: str = "金额") -> Decimal | None:
    """An amount in 元 (Decimal, two places): 30000, 30,000.00, ¥3万, 3万元."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise CellError(f"{label}应为金额数字。")
    if isinstance(value, int | float):
        amount = Decimal(str(value))
    else:
        raw = re.sub(r"[\s,，¥￥]", "", text(value))
        factor = Decimal(1)
        if raw.endswith("元"):
            raw = raw[:-1]
        if raw.endswith("万"):
            raw, factor = raw[:-1], Decimal(10000)
        try:
            amount = Decimal(raw) * factor
        except InvalidOperation:
            raise CellError(f"{label}“{text(value)}”不是有效的金额，请填写数字（单位：元）。")
    if not amount.is_finite() or amount < 0:
        raise CellError(f"{label}“{text(value)}”不是有效的金额。")
    if amount != amount.quantize(Decimal("0.01")):
        raise CellError(f"{label}“{text(value)}”最多保留两位小数。")
    return amount.quantize(Decimal("0.01"))


# ---- reading an uploaded workbook -------------------------------------------------------------


class ImportFileError(UserError):
    """The file as a whole cannot be imported (not an .xlsx, no header row, too large …)."""


HEADER_SEARCH_ROWS = 5  # the header may sit below a title row or two
MAX_COLUMNS = 200  # columns read in the header row; data rows stop at the header's width
MAX_BLANK_ROWS = 5_000  # blank rows read beyond max_rows before the file is refused
MAX_UNCOMPRESSED = 400 * 1024 * 1024  # bytes inside the .xlsx (a zip) before it is refused
DEADLINE_CHECK_EVERY = 500  # rows between looks at the clock


@dataclass
class Table:
    headers: list[str]  # the header row as written (for the rejected-rows file)
    mapping: dict[str, int]  # column key → index
    rows: list[tuple[int, tuple]] = field(default_factory=list)  # (Excel row number, values), blanks left out


def _too_many_rows(max_rows: int) -> ImportFileError:
    return ImportFileError(
        f"文件的行数超过上限（最多 {max_rows} 行数据，空行也计入读取行数）。"
        "请删除数据下方的空行，或拆分成多个文件分别导入。"
    )


def _too_slow(seconds: float) -> ImportFileError:
    return ImportFileError(
        f"读取文件超过 {int(seconds)} 秒仍未完成，已停止导入，没有写入任何数据。"
        "文件可能含有大量空行或格式：请把数据复制到新的 Excel 文件中，或拆分成几个文件后重试。"
    )


ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>/]")
SCAN_CHUNK = 1 << 20


def _scan_sheets(z: zipfile.ZipFile, row_limit: int, max_rows: int, deadline: float, seconds: float, clock) -> None:
    """Count the <row> elements of every worksheet before openpyxl sees the file: opening a
    sheet with no <dimension> makes openpyxl parse all of it (5 million empty rows: over a
    minute and 400 MB) before a single row can be counted."""
    for info in z.infolist():
        if "worksheets/" not in info.filename or not info.filename.endswith(".xml"):
            continue
        rows, tail = 0, b""
        with z.open(info) as f:
            while chunk := f.read(SCAN_CHUNK):
                data = tail + chunk
                rows += len(ROW_TAG.findall(data))
                tail = data[-16:]
                rows -= len(ROW_TAG.findall(tail))  # counted again with the next chunk
                if rows > row_limit:
                    raise _too_many_rows(max_rows)
                if clock() > deadline:
                    raise _too_slow(seconds)


def _open(file, *, row_limit: int, max_rows: int, deadline: float, seconds: float, clock):
    from openpyxl import load_workbook

    try:
        if zipfile.is_zipfile(file):
            with zipfile.ZipFile(file) as z:
                if sum(info.file_size for info in z.infolist()) > MAX_UNCOMPRESSED:
                    raise ImportFileError(
                        "该文件解压后过大（可能含有大量空行或格式）。请把数据复制到新的 Excel 文件中另存为 .xlsx 后重试。"
                    )
                _scan_sheets(z, row_limit, max_rows, deadline, seconds, clock)
        if hasattr(file, "seek"):
            file.seek(0)
        return load_workbook(file, read_only=True, data_only=True)
    except ImportFileError:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as e:
        logger.info("unreadable workbook: %r", e)
        raise ImportFileError(
            "无法读取该文件：请上传 Excel 2007 及以上版本的 .xlsx 文件（不支持 .xls、.csv 或加密文件）。"
        )
    except Exception as e:  # openpyxl raises assorted errors on damaged files
        logger.info("unreadable workbook: %r", e)
        raise ImportFileError("无法读取该 Excel 文件，文件可能已损坏。请用 Excel 或 WPS 另存为 .xlsx 后重试。")


def _blank(values) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def read_table(
    file,
    *,
    header_key: Callable[[object], str | None],
    required: dict[str, str],
    max_rows: int,
    seconds: float,
    prefer_sheet: str = "",
    clock: Callable[[], float] = time.monotonic,
) -> Table:
    """The first sheet (`prefer_sheet` first) whose first rows hold a header with every key
    of `required` ({key: header shown in messages}; the first key finds the header row).
    `header_key(cell)` maps a header cell to a column key or None. At most `max_rows` data
    rows and `max_rows + MAX_BLANK_ROWS` rows read; reading longer than `seconds` fails."""
    deadline = clock() + seconds
    first_key = next(iter(required))
    limit = max_rows + MAX_BLANK_ROWS
    wb = _open(
        file,
        row_limit=limit + HEADER_SEARCH_ROWS,
        max_rows=max_rows,
        deadline=deadline,
        seconds=seconds,
        clock=clock,
    )
    try:
        for ws in sorted(wb.worksheets, key=lambda s: s.title != prefer_sheet):
            found = _find_header(ws, header_key, first_key)
            if found is None:
                continue
            header_row_no, header, mapping = found
            missing = [label for key, label in required.items() if key not in mapping]
            if missing:
                raise ImportFileError(
                    f"表头缺少必填列：{'、'.join(missing)}。请使用系统提供的导入模板（第一行为表头）。"
                )
            table = Table(headers=[text(h) for h in header], mapping=mapping)
            # An explicit max_row: openpyxl would otherwise trust the declared dimension
            # (a 49 KB file can declare 5 million rows and have them filled in).
            rows = ws.iter_rows(
                min_row=header_row_no + 1,
                max_row=header_row_no + limit + 1,
                max_col=len(header),
                values_only=True,
            )
            for read, values in enumerate(rows, start=1):
                if read % DEADLINE_CHECK_EVERY == 0 and clock() > deadline:
                    raise _too_slow(seconds)
                if read > limit:
                    raise _too_many_rows(max_rows)
                if values is None or _blank(values):
                    continue
                if len(table.rows) >= max_rows:
                    raise ImportFileError(f"文件超过 {max_rows} 行数据，请拆分成多个文件分别导入。")
                table.rows.append((header_row_no + read, tuple(values)))
            return table
        shown = "".join(f"“{label}”" for label in list(required.values())[:2])
        raise ImportFileError(f"没有找到表头行（含{shown}等列）。请使用系统提供的导入模板。")
    finally:
        wb.close()


def _find_header(ws, header_key, first_key):
    """(row number, header cells trimmed of trailing blanks, key → index) or None."""
    head = ws.iter_rows(min_row=1, max_row=HEADER_SEARCH_ROWS, max_col=MAX_COLUMNS, values_only=True)
    for row_no, cells in enumerate(head, start=1):
        mapping: dict[str, int] = {}
        for i, cell in enumerate(cells or ()):
            key = header_key(cell) if cell is not None else None
            if key and key not in mapping:
                mapping[key] = i
        if first_key in mapping:
            cells = list(cells)
            while cells and cells[-1] is None:
                cells.pop()
            return row_no, cells, mapping
    return None


# ---- writing ----------------------------------------------------------------------------------

# What Excel, WPS and LibreOffice may take as the start of a formula (OWASP CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def plain(value):
    """pandas/numpy scalars to plain Python; NaN (nothing to average) to an empty cell."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
        return None if isinstance(value, float) and value != value else value
    return value


def set_value(cell, value) -> None:
    """THE way a value enters a cell. A str is stored as text, never as a formula or an
    error code; one that starts like a formula also gets Excel's quotePrefix."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    value = plain(value)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters openpyxl refuses
        cell.value = value
        cell.data_type = "s"
        if value.startswith(FORMULA_TRIGGERS):
            cell.quotePrefix = True
    else:
        cell.value = value


def cell(ws, value, *, number_format: str | None = None, font=None, fill=None, alignment=None, comment=None):
    """A cell for `ws.append` in a write-only sheet, with `value` stored safely."""
    from openpyxl.cell import WriteOnlyCell

    c = WriteOnlyCell(ws)
    set_value(c, value)
    if number_format:
        c.number_format = number_format
    if font is not None:
        c.font = font
    if fill is not None:
        c.fill = fill
    if alignment is not None:
        c.alignment = alignment
    if comment is not None:
        c.comment = comment
    return c


def put(ws, row: int, column: int, value, **style):
    """Set one cell of an ordinary (not write-only) sheet safely; returns the cell."""
    c = ws.cell(row=row, column=column)
    set_value(c, value)
    for name, v in style.items():
        setattr(c, name, v)
    return c


def append(ws, values: Iterable, **style) -> list:
    """Append a row to an ordinary sheet, every value set safely; returns its cells."""
    row = ws.max_row + 1 if ws.max_row > 1 or ws.cell(row=1, column=1).value is not None else 1
    return [put(ws, row, i, v, **style) for i, v in enumerate(values, start=1)]


def header_style() -> dict:
    from openpyxl.styles import Alignment, Font, PatternFill

    return {
        "font": Font(bold=True),
        "fill": PatternFill("solid", fgColor="F2F2F2"),
        "alignment": Alignment(horizontal="center", vertical="center", wrap_text=True),
    }


def new_workbook():
    from openpyxl import Workbook

    return Workbook(write_only=True)


class Sheet:
    """A write-only sheet: a styled header row, column widths, frozen header and first
    column, and per-column number formats (`formats`: 0-based column → format).
    `preamble`: lines written above the header (a title, a date), bold, the header and
    the frozen panes moved below them."""

    def __init__(
        self,
        wb,
        title: str,
        headers: list[str],
        *,
        widths: Iterable[int] = (),
        formats: dict[int, str] | None = None,
        freeze: str | None = "B2",
        preamble: Iterable[Iterable] = (),
    ):
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        self.ws = wb.create_sheet(title)
        self.formats = formats or {}
        preamble = [list(line) for line in preamble]
        for i, width in enumerate(widths, start=1):
            self.ws.column_dimensions[get_column_letter(i)].width = width
        if freeze:
            self.ws.freeze_panes = (
                f"{freeze.rstrip('0123456789')}{int(freeze.lstrip('ABCDEFGHIJKLMNOPQRSTUVWXYZ')) + len(preamble)}"
            )
        for line in preamble:
            self.ws.append([cell(self.ws, v, font=Font(bold=True)) for v in line])
        style = header_style()
        self.ws.append([cell(self.ws, h, **style) for h in headers])
        self.rows = 0

    def append(self, values: Iterable) -> None:
        self.ws.append([cell(self.ws, v, number_format=self.formats.get(i)) for i, v in enumerate(values)])
        self.rows += 1


def workbook_bytes(wb) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def rejected_rows_workbook(headers: list[str], rejected: Iterable, *, title: str = "未通过校验的行") -> bytes:
    """The rows an import refused, with their original columns, 原行号 and 错误原因, so the
    user can correct them and import the file again. `rejected`: items with `.row`,
    `.values` and `.reason`."""
    wb = new_workbook()
    width = len(headers)
    sheet = Sheet(wb, title, [*headers, "原行号", "错误原因"], widths=[16] * width + [8, 50], freeze="A2")
    for r in rejected:
        values = list(r.values[:width]) + [None] * (width - len(r.values[:width]))
        sheet.append([*values, r.row, r.reason])
    return workbook_bytes(wb)


def xlsx_response(content: bytes, filename: str):
    """An HttpResponse that downloads `content` as `filename` (any characters kept)."""
    from django.http import HttpResponse
    from django.utils.http import content_disposition_header

    response = HttpResponse(content, content_type=XLSX_MIME)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, no-store"
    return response


def export_button(url: str, label: str = "导出 Excel", *, icon_name: str = "download"):
    """A Wagtail header button that POSTs to `url` (Wagtail's w-action controller builds
    the form with the CSRF token): an export never starts on a GET. `url` may carry the
    list's query string; the export view reads it on the POST."""
    from wagtail.admin.widgets.button import HeaderButton

    return HeaderButton(
        label,
        icon_name=icon_name,
        attrs={"data-controller": "w-action", "data-action": "w-action#post", "data-w-action-url-value": url},
    )
