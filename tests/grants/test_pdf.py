"""申报书 as a printable A4 PDF: real Chinese glyphs (an embedded Noto CJK font, text that
pdftotext gives back), every section, and printed from the version frozen at submission,
not from what the organisation is editing after a return."""

import io
import shutil
import subprocess

import pytest
from django.urls import reverse
from pypdf import PdfReader

from core.pdf import cjk_font_available
from grants.models import Proposal, ProposalStatus
from grants.pdf import proposal_pdf, proposal_pdf_response
from grants.services import proposals as services
from tests.grants.factories import proposal_at

P = ProposalStatus
pytestmark = pytest.mark.django_db
needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils (pdftotext) 未安装")


def text_of(data: bytes) -> str:
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True)
    return out.stdout.decode("utf-8")


@needs_poppler
def test_the_submitted_proposal_prints_on_a4_with_chinese_glyphs(client, regions):
    assert cjk_font_available(), "Noto Sans CJK SC 未安装：PDF 中文会显示为方框"
    proposal = proposal_at(status=P.SUBMITTED)
    client.force_login(proposal.organisation.memberships.first().user)

    response = client.get(reverse("grants:pdf", args=[proposal.pk]))

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert (
        response["Content-Disposition"].startswith("inline;") and "filename*=UTF-8''" in response["Content-Disposition"]
    )
    data = response.content
    reader = PdfReader(io.BytesIO(data))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    fonts = subprocess.run(["pdffonts", "-"], input=data, capture_output=True).stdout.decode()
    assert "Noto-Sans-CJK-SC" in fonts or "NotoSansCJK" in fonts
    text = text_of(data)
    for expected in [
        "公益创投项目申报书",
        f"申报编号：{proposal.number}",
        proposal.organisation.name,
        "老宝贝·社区长者助餐陪伴计划",
        "一、申报单位基本情况",
        "九、项目预算",
        "项目社工补贴",
        "¥100,000.00",
        "60.00%",
        "长者助餐",
        "服务老人",
        "申报单位（盖章）",
    ]:
        assert expected in text, expected


@needs_poppler
def test_a_returned_proposal_prints_what_was_submitted_not_the_edit(regions):
    proposal = proposal_at(status=P.RETURNED)
    leader = proposal.organisation.memberships.first().user
    services.proposal_save(
        proposal=proposal, by=leader, revision=proposal.revision, fields={"title": "正在修改中的新名称"}
    )
    proposal = Proposal.objects.get(pk=proposal.pk)

    text = text_of(proposal_pdf(proposal))

    assert "老宝贝·社区长者助餐陪伴计划" in text and "正在修改中的新名称" not in text
    assert "第1次提交" in text


@needs_poppler
def test_a_draft_prints_marked_as_a_draft_and_the_staff_page_can_serve_it(regions):
    proposal = proposal_at(status=P.DRAFT)
    response = proposal_pdf_response(proposal)
    assert response["Content-Type"] == "application/pdf" and response["Cache-Control"] == "private, no-store"
    text = text_of(response.content)
    assert "草稿：尚未提交，仅供核对" in text and "老宝贝·社区长者助餐陪伴计划" in text
