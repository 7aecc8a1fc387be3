"""Demo organisations for 鄂州市: every type, every registration state, with members,
documents, 年检 and grades, and some ineligible for realistic reasons. Idempotent."""

import datetime
import random

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from wagtail import hooks

from accounts.demo import demo_password_hash
from accounts.models import Region, User
from accounts.roles import Role, grant_role
from core.pdf import render_pdf

from . import services
from .models import AnnualInspection, DocumentKind, ListEntry, Membership, Organisation, OrgType, ServiceArea
from .services import REQUIRED_DOCUMENTS
from .validators import USCC_ALPHABET, orgcode_check_char, uscc_check_char

THEMES = [
    ("老宝贝", "老年人服务", "elderly"),
    ("小候鸟", "留守儿童关爱", "children"),
    ("海马爸比", "亲子成长", "children"),
    ("夕阳红", "居家养老", "elderly"),
    ("向日葵", "青少年成长", "children"),
    ("巾帼", "妇女发展", "women"),
    ("新市民", "新居民融入", "new_residents"),
    ("同心", "残障人士支持", "disabled"),
    ("暖冬", "困难家庭帮扶", "poverty"),
    ("绿水", "河湖保护", "environment"),
    ("邻里", "社区治理", "community_governance"),
    ("书香", "社区阅读", "culture_sports"),
    ("健康", "慢病管理", "health"),
    ("红色物业", "小区治理", "community_governance"),
    ("银龄", "老年志愿", "volunteering"),
]
SUFFIX = {
    OrgType.SOCIAL_GROUP: "协会",
    OrgType.SERVICE_ORG: "服务中心",
    OrgType.FOUNDATION: "公益基金会",
    OrgType.COMMUNITY_FILED: "志愿服务队",
    OrgType.PREPARING: "互助小组（筹）",
}
TYPE_CODE = {OrgType.SOCIAL_GROUP: "1", OrgType.SERVICE_ORG: "2", OrgType.FOUNDATION: "3"}
# (type, final state, eligibility twist) for 60 organisations
PLAN = (
    [(OrgType.SERVICE_ORG, "verified", None)] * 14
    + [(OrgType.SOCIAL_GROUP, "verified", None)] * 6
    + [(OrgType.FOUNDATION, "verified", None)] * 2
    + [(OrgType.COMMUNITY_FILED, "verified", None)] * 5
    + [
        (OrgType.SERVICE_ORG, "verified", "abnormal"),
        (OrgType.SOCIAL_GROUP, "verified", "dishonest"),
        (OrgType.SERVICE_ORG, "verified", "failed_inspection"),
        (OrgType.SERVICE_ORG, "verified", "ban"),
    ]
    + [(OrgType.SERVICE_ORG, "submitted", None)] * 4
    + [(OrgType.COMMUNITY_FILED, "submitted", None)] * 2
    + [(OrgType.SOCIAL_GROUP, "submitted", None)] * 2
    + [(OrgType.SERVICE_ORG, "returned", None)] * 3
    + [(OrgType.COMMUNITY_FILED, "returned", None)] * 2
    + [(OrgType.PREPARING, "draft", None)] * 5
    + [(OrgType.SERVICE_ORG, "draft", None)] * 2
    + [(OrgType.SERVICE_ORG, "suspended", None)] * 2
    + [(OrgType.SOCIAL_GROUP, "suspended", None)]
    + [(OrgType.SERVICE_ORG, "revoked", None), (OrgType.SOCIAL_GROUP, "revoked", None)]
    + [(OrgType.PREPARING, "submitted", None)] * 2
)
RETURN_REASONS = [
    "登记证书扫描件不清晰，请重新上传彩色扫描件。",
    "章程缺少理事会产生办法，请上传最新核准的章程。",
    "银行账户名称与组织名称不一致，请核对。",
    "备案证明已过期，请上传街道最新出具的备案证明。",
]


def make_uscc(type_code: str, division: str, seq: int) -> str:
    body = f"MA{seq % 10**6:06d}"  # organisation-code body (8 chars)
    first17 = f"5{type_code}{division}{body}{orgcode_check_char(body)}"
    assert all(c in USCC_ALPHABET for c in first17)
    return first17 + uscc_check_char(first17)


def demo_pdf(title: str, org_name: str) -> bytes:
    return render_pdf("orgs/pdf/demo_document.html", {"title": title, "org_name": org_name, "issuer": "鄂州市民政局"})


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈姚卢"
GIVEN_NAMES = [
    "秀英",
    "建华",
    "丽娟",
    "志强",
    "海燕",
    "红梅",
    "国平",
    "晓东",
    "玉兰",
    "文静",
    "春生",
    "淑珍",
    "德明",
    "卫东",
    "美玲",
    "慧敏",
    "振华",
    "桂芳",
    "永刚",
    "雪梅",
    "子涵",
]


def person_name(i: int) -> str:
    """A realistic name for the i-th demo person (the same every run)."""
    return SURNAMES[(i * 7) % len(SURNAMES)] + GIVEN_NAMES[(i * 5) % len(GIVEN_NAMES)]


@transaction.atomic
def seed_organisations() -> list[tuple[str, str, str]]:
    rng = random.Random(420700)
    city_staff = User.objects.get(username="shi_minzheng")
    streets = list(Region.objects.filter(level__in=[Region.Level.STREET, Region.Level.COMMUNITY]).order_by("code"))
    areas = {a.code: a for a in ServiceArea.objects.all()}
    pdf_cache: dict[str, bytes] = {}

    showcase = _user("shenbao", "黄丽萍", "13700000001")
    printed = [("shenbao", "申报单位", "多个组织的负责人"), ("xinyonghu", "申报单位", "尚未登记组织")]
    _user("xinyonghu", "吴小军", "13700000002")

    for i, (org_type, target, twist) in enumerate(PLAN, start=1):
        region = streets[(i * 7) % len(streets)]
        prefix, theme, area = THEMES[i % len(THEMES)]
        place = region.name.replace("（葛店开发区）", "")
        name = f"鄂州市{place}{prefix}{theme}{SUFFIX[org_type]}"
        if Organisation.objects.filter(name=name).exists():
            continue
        leader = showcase if i in (1, 31, 36) else _user(f"org{i:02d}", person_name(i), f"1370001{i:04d}")
        district_code = region.code[:6]
        data = {
            "name": name,
            "org_type": org_type,
            "uscc": make_uscc(TYPE_CODE[org_type], district_code, 4207000 + i) if org_type in TYPE_CODE else None,
            "filing_number": f"鄂州备{2024 + i % 3}{i:04d}" if org_type == OrgType.COMMUNITY_FILED else "",
            "sponsor_name": f"{place}办事处" if org_type == OrgType.COMMUNITY_FILED else "",
            "registration_authority": "鄂州市民政局" if org_type in TYPE_CODE else "",
            "supervisory_unit": "鄂州市民政局" if org_type == OrgType.FOUNDATION else "",
            "legal_representative": leader.name,
            "founded_on": datetime.date(2015 + i % 9, 1 + i % 12, 1 + i % 27),
            "registered_capital": (30000 + 10000 * (i % 5)) if org_type in TYPE_CODE else None,
            "address": f"湖北省鄂州市{place}{10 + i}号",
            "region": region,
            "contact_name": leader.name,
            "contact_phone": leader.mobile,
            "email": f"org{i:02d}@example.org",
            "bank_name": "湖北银行鄂州分行" if org_type in TYPE_CODE else "",
            "bank_account_name": name if org_type in TYPE_CODE else "",
            "bank_account": f"62210{i:03d}88{rng.randrange(10**9, 10**10)}" if org_type in TYPE_CODE else "",
            "introduction": f"扎根{place}，围绕{theme}开展专业服务，组织志愿者定期入户、开展小组活动，"
            f"累计服务居民{rng.randrange(300, 5000)}人次。",
        }
        org = services.organisation_create(user=leader, data=data, service_areas=[areas[area]])
        if i % 4 == 0:
            member = _user(f"org{i:02d}cw", person_name(i + 50), f"1370002{i:04d}")
            Membership.objects.get_or_create(organisation=org, user=member, defaults={"role": Membership.Role.FINANCE})
        if target == "draft":
            continue
        for kind in REQUIRED_DOCUMENTS[org_type] + ([DocumentKind.BANK_PROOF] if org_type in TYPE_CODE else []):
            label = DocumentKind(kind).label
            if label not in pdf_cache:
                pdf_cache[label] = demo_pdf(label, "（演示材料）")
            upload = SimpleUploadedFile(f"{label}.pdf", pdf_cache[label], content_type="application/pdf")
            upload.kind = "pdf"
            services.document_upload(org=org, by=leader, kind=kind, upload=upload)
        services.organisation_submit(org=org, by=leader)
        if target == "submitted":
            continue
        if target == "returned" or i % 5 == 0:
            services.organisation_return(org=org, by=city_staff, reason=RETURN_REASONS[i % len(RETURN_REASONS)])
            if target == "returned":
                continue
            services.organisation_submit(org=org, by=leader)
        services.organisation_verify(org=org, by=city_staff, reason="材料齐全，信息属实。")
        if target == "suspended":
            services.organisation_suspend(org=org, by=city_staff, reason="连续两年未参加年检，暂停平台资格。")
        elif target == "revoked":
            services.organisation_revoke(org=org, by=city_staff, reason="已被登记管理机关注销登记。")
        _facts(org, city_staff, i, twist)

    return printed


def _facts(org, staff, i, twist):
    today = datetime.date.today()
    if org.is_registered:
        for year in (today.year - 2, today.year - 1):
            result = AnnualInspection.Result.PASSED
            if twist == "failed_inspection" and year == today.year - 1:
                result = AnnualInspection.Result.FAILED
            elif i % 9 == 0:
                result = AnnualInspection.Result.BASIC
            services.inspection_record(org=org, by=staff, year=year, result=result)
        if i % 3 != 2:
            services.grade_record(
                org=org,
                by=staff,
                grade=["5A", "4A", "3A", "3A", "2A"][i % 5],
                awarded_on=today.replace(year=today.year - 1 - i % 6, day=1),
            )
    entry = {
        "abnormal": (ListEntry.Kind.ABNORMAL, today - datetime.timedelta(days=120), "未按规定报送年度工作报告"),
        "dishonest": (ListEntry.Kind.DISHONEST, today - datetime.timedelta(days=400), "弄虚作假骗取资助资金"),
        "ban": (ListEntry.Kind.BAN, today - datetime.timedelta(days=200), "上一期公益创投项目末期评估不合格"),
    }.get(twist)
    if entry:
        kind, listed_on, reason = entry
        removed = listed_on.replace(year=listed_on.year + 3) if kind == ListEntry.Kind.BAN else None
        services.list_entry_add(org=org, by=staff, kind=kind, listed_on=listed_on, removed_on=removed, reason=reason)


def _user(username, name, mobile) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, name=name, mobile=mobile, email=f"{username}@example.org")
        user.password = demo_password_hash()
        user.save()
        grant_role(user, Role.APPLICANT)
    return user


@hooks.register("register_demo_step", order=30)
def demo_step() -> dict:
    """seed_demo's step for the registry (portal.demo): organisations, members, documents."""
    accounts = seed_organisations()
    return {"summary": f"社会组织 {Organisation.objects.count()} 家", "accounts": accounts}
