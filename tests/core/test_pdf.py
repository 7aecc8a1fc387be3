"""The PDF service renders Chinese with an embedded CJK font; the text comes back out."""

import io
import re

import pytest
from pypdf import PdfReader

from core.pdf import chinese_date, cjk_font_available, render_pdf

SOURCE = "鄂州市民政局关于同意鄂城区澜湖社区老宝贝互助会入驻共益园的通知"


def _pdf(**context):
    return render_pdf(
        "core/pdf/notice.html", {"title": "入驻通知书", "issuer": "鄂州市民政局", "body_text": SOURCE, **context}
    )


def test_cjk_font_is_installed():
    assert cjk_font_available(), "fonts-noto-cjk 未安装：运行 make test 会自动安装"


def test_chinese_pdf_embeds_a_cjk_font_and_text_round_trips():
    data = _pdf()
    assert data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(data))
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert any("NotoSansCJK" in f or "Noto-Sans-CJK" in f or "NotoSerifCJK" in f for f in fonts), fonts
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in reader.pages))
    assert SOURCE in text
    assert "入驻通知书" in text
    assert "第1页共1页" in text  # page numbers in the footer


def test_long_documents_number_every_page():
    data = _pdf(paragraphs=[f"第{i}段：公益创投项目实施方案、预算与绩效指标。" for i in range(120)])
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) > 1
    last = re.sub(r"\s+", "", reader.pages[-1].extract_text())
    assert f"第{len(reader.pages)}页共{len(reader.pages)}页" in last


def test_chinese_date():
    import datetime

    assert chinese_date(datetime.date(2026, 11, 3)) == "2026年11月3日"


@pytest.mark.skipif(not __import__("shutil").which("pdffonts"), reason="poppler-utils 未安装")
def test_pdffonts_agrees(tmp_path):
    import subprocess

    path = tmp_path / "doc.pdf"
    path.write_bytes(_pdf())
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert "CJK" in out and " yes " in out  # embedded
