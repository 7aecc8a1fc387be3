"""入驻协议 and 出壳证书: Chinese A4 PDFs with a CJK font embedded, the organisation's name and
the document's number as extractable text; who may download them."""

import io
import re

import pytest
from pypdf import PdfReader

from accounts.roles import Role
from incubator import pdf
from incubator.models import IncubationStatus, Residence
from orgs.models import Membership, OrgType
from tests.factories import applicant, organisation_with_leader, staff
from tests.incubator.factories import IncubationBaseFactory, base_operator, incubation_at

S = IncubationStatus
A4 = (595, 842)  # points, portrait


def _reader(data: bytes) -> PdfReader:
    assert data.startswith(b"%PDF")
    return PdfReader(io.BytesIO(data))


def _text(reader: PdfReader) -> str:
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def _fonts(reader: PdfReader) -> set[str]:
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]).replace("-", ""))
    return names


def _size(page) -> tuple[int, int]:
    return round(float(page.mediabox.width)), round(float(page.mediabox.height))


@pytest.fixture
def street(regions):
    return IncubationBaseFactory(name="凤凰街道社会组织共享工作站", region=regions["fenghuang"], handback_days=15)


@pytest.fixture
def graduate(street):
    org, leader = organisation_with_leader(name="鄂州市凤凰街道夕阳红居家养老服务中心")
    inc = incubation_at(street, org, S.GRADUATED, applicant=leader)
    return inc, leader


# ---- the documents ---------------------------------------------------------------------------


def test_agreement_states_both_parties_the_terms_and_the_rules(graduate):
    inc, _ = graduate
    reader = _reader(pdf.agreement_pdf(inc))
    text = _text(reader)
    assert any("NotoSansCJK" in f or "NotoSerifCJK" in f for f in _fonts(reader)), _fonts(reader)
    assert all(_size(p) == A4 for p in reader.pages)
    assert "社会组织孵化基地入驻协议" in text
    assert f"协议编号：{inc.agreement_no}" in text
    assert "甲方（孵化基地）凤凰街道社会组织共享工作站" in text
    assert "乙方（入驻组织）鄂州市凤凰街道夕阳红居家养老服务中心" in text
    assert f"统一社会信用代码{inc.organisation.uscc}" in text
    assert f"使用{inc.desk_label}" in text
    start, end = inc.starts_on, inc.ends_on
    assert f"{start.year}年{start.month}月{start.day}日至{end.year}年{end.month}月{end.day}日" in text
    assert "5个工作日内完成初审" in text and "15个工作日内" in text
    for n in ("第一条", "第四条", "第七条"):
        assert n in text
    assert "甲方（盖章）" in text and "乙方（盖章）" in text
    assert f"第1页共{len(reader.pages)}页" in text


def test_agreement_of_a_preparing_group_says_so(street):
    group, leader = organisation_with_leader(
        name="鄂州市澜湖社区银龄互助小组（筹）", org_type=OrgType.PREPARING, uscc=None
    )
    inc = incubation_at(street, group, S.ADMITTED, applicant=leader, residence=Residence.VIRTUAL)
    text = _text(_reader(pdf.agreement_pdf(inc)))
    assert "鄂州市澜湖社区银龄互助小组（筹）" in text
    assert "筹备中（尚未登记或备案）" in text
    assert "虚拟入驻" in text


def test_certificate_is_an_a4_certificate_with_the_name_and_number(graduate):
    inc, _ = graduate
    reader = _reader(pdf.certificate_pdf(inc))
    text = _text(reader)
    assert any("NotoSerifCJK" in f for f in _fonts(reader)), _fonts(reader)
    assert len(reader.pages) == 1 and _size(reader.pages[0]) == A4[::-1]  # landscape
    assert "出壳证书" in re.sub(r"\s", "", text)
    assert f"证书编号：{inc.certificate_no}" in text
    assert "鄂州市凤凰街道夕阳红居家养老服务中心" in text
    assert "凤凰街道社会组织共享工作站" in text
    assert "特发此证" in text
    assert "第1页" not in text  # a certificate has no page numbers


def test_no_documents_before_their_time(street):
    applied = incubation_at(street, status=S.SCREENED)
    resident = incubation_at(street, status=S.IN_INCUBATION)
    assert not pdf.has_agreement(applied) and not pdf.has_certificate(resident)
    assert pdf.has_agreement(resident)


# ---- who may download them -----------------------------------------------------------------------


def _url(inc, kind):
    return f"/me/incubation/{inc.pk}/{kind}.pdf"


@pytest.mark.parametrize("kind", ["agreement", "certificate"])
def test_members_download_inline(client, graduate, kind):
    inc, leader = graduate
    finance = applicant()
    Membership.objects.create(organisation=inc.organisation, user=finance, role=Membership.Role.FINANCE)
    for user in (leader, finance):
        client.force_login(user)
        response = client.get(_url(inc, kind))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("inline")
        data = b"".join(response.streaming_content)
        assert "鄂州市凤凰街道夕阳红居家养老服务中心" in _text(_reader(data))


def test_staff_in_scope_may_download(client, graduate, regions):
    inc, _ = graduate
    for user in (
        base_operator(inc.base),
        staff(Role.CALL_MANAGER, regions["city"]),
        staff(Role.AUDITOR, regions["echeng"]),
    ):
        client.force_login(user)
        assert client.get(_url(inc, "certificate")).status_code == 200, user


def test_others_are_refused(client, graduate, regions):
    inc, _ = graduate
    other_org, other_leader = organisation_with_leader()
    incubation_at(inc.base, other_org, S.IN_INCUBATION, applicant=other_leader)
    refused = [
        other_leader,  # another applicant, even at the same base
        staff(Role.BASE_OPERATOR, regions["huarong_town"]),  # out of scope
        staff(Role.BASE_OPERATOR, regions["gulou"]),  # the next street
        staff(Role.REVIEWER, regions["city"]),  # in scope, without the permission
    ]
    for user in refused:
        client.force_login(user)
        for kind in ("agreement", "certificate"):
            assert client.get(_url(inc, kind)).status_code == 403, (user, kind)


def test_anonymous_goes_to_log_in(client, graduate):
    inc, _ = graduate
    response = client.get(_url(inc, "certificate"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_missing_documents_are_404(client, street):
    org, leader = organisation_with_leader()
    resident = incubation_at(street, org, S.IN_INCUBATION, applicant=leader)
    client.force_login(leader)
    assert client.get(_url(resident, "certificate")).status_code == 404  # not graduated
    assert client.get(_url(resident, "agreement")).status_code == 200
    screened = incubation_at(IncubationBaseFactory(), org, S.SCREENED, applicant=leader)
    assert client.get(_url(screened, "agreement")).status_code == 404  # not admitted
    assert client.get("/me/incubation/999999/agreement.pdf").status_code == 404
