"""Shared factory_boy factories. Regions are built as a real treebeard tree."""

import datetime

import factory
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Region, User
from accounts.roles import Role, grant_role
from orgs.models import Membership, Organisation, OrgType
from orgs.validators import orgcode_check_char, uscc_check_char

PASSWORD = "Test-pass-2026"


def _one_page_pdf() -> bytes:
    """A one-page PDF with a correct cross-reference table (uploads are opened with pypdf)."""
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj" % n + body + b"endobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# a tiny valid PDF and PNG, for upload tests
PDF_BYTES = _one_page_pdf()
PNG_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c49444154789c63f8ffff3f"
    "0005fe02fe0def46b80000000049454e44ae426082"
)


def pdf_upload(name="登记证书.pdf", content=PDF_BYTES):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def make_uscc(seq: int, type_code: str = "2", division: str = "420704") -> str:
    body = f"MB{seq % 10**6:06d}"
    first17 = f"5{type_code}{division}{body}{orgcode_check_char(body)}"
    return first17 + uscc_check_char(first17)


def region_tree() -> dict[str, Region]:
    """市 → 2 区 → 2 街道 each → 1 社区 each; returns nodes by short key."""
    existing = Region.objects.filter(code="420700").first()
    if existing:
        return {r.code: r for r in Region.objects.all()} | _keys()
    city = Region.add_root(code="420700", name="鄂州市", level=Region.Level.CITY)
    for dcode, dname, streets in [
        ("420704", "鄂城区", [("420704001", "凤凰街道"), ("420704002", "古楼街道")]),
        ("420703", "华容区", [("420703001", "华容镇"), ("420703002", "葛店镇")]),
    ]:
        d = Region.objects.get(pk=city.pk).add_child(code=dcode, name=dname, level=Region.Level.DISTRICT)
        for scode, sname in streets:
            s = Region.objects.get(pk=d.pk).add_child(code=scode, name=sname, level=Region.Level.STREET)
            Region.objects.get(pk=s.pk).add_child(
                code=scode + "001", name=sname[:2] + "社区", level=Region.Level.COMMUNITY
            )
    return _keys()


def _keys():
    by = {r.code: r for r in Region.objects.all()}
    return {
        "city": by["420700"],
        "echeng": by["420704"],
        "fenghuang": by["420704001"],
        "fenghuang_c": by["420704001001"],
        "gulou": by["420704002"],
        "huarong": by["420703"],
        "huarong_town": by["420703001"],
    }


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    name = factory.Sequence(lambda n: f"用户{n}")
    mobile = factory.Sequence(lambda n: f"138{n:08d}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        self.save()
        for role in extracted or ():
            grant_role(self, role)


def staff(role: Role, region: Region, **kwargs) -> User:
    return UserFactory(region=region, roles=[role], **kwargs)


def applicant(**kwargs) -> User:
    return UserFactory(roles=[Role.APPLICANT], **kwargs)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"鄂州市测试社会工作服务中心{n}号")
    org_type = OrgType.SERVICE_ORG
    uscc = factory.Sequence(lambda n: make_uscc(n + 1))
    legal_representative = "张三"
    founded_on = datetime.date(2018, 5, 1)
    address = "湖北省鄂州市凤凰街道1号"
    region = factory.LazyFunction(lambda: region_tree()["fenghuang"])
    contact_name = "张三"
    contact_phone = "13800000000"
    introduction = "为社区老人提供助餐和陪伴服务。"


def organisation_with_leader(**kwargs) -> tuple[Organisation, User]:
    leader = kwargs.pop("leader", None) or applicant()
    org = OrganisationFactory(**kwargs)
    Membership.objects.create(organisation=org, user=leader, role=Membership.Role.LEADER)
    return org, leader
