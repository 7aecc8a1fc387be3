"""Demo data for the foundation: 鄂州市 (seed 000) and its regions, and one user per role."""

from functools import cache

from django.contrib.auth.hashers import make_password
from django.db import transaction
from wagtail import hooks

from .models import Region, User
from .roles import Role, grant_role, sync_roles

DEMO_PASSWORD = "Demo@2026"


@cache
def demo_password_hash() -> str:
    """Hash once: PBKDF2 is slow on purpose, and every demo account shares the password."""
    return make_password(DEMO_PASSWORD)


CITY = ("420700", "鄂州市")
DISTRICTS = [("420704", "鄂城区"), ("420703", "华容区"), ("420702", "梁子湖区")]
# street/town name -> communities/villages (names from seed 000 where it gives them)
STREETS = {
    "420704": [
        ("凤凰街道", ["澜湖社区", "江城社区", "雷山社区"]),
        ("古楼街道", ["月畔湾社区", "古楼社区"]),
        ("西山街道", ["西山社区", "寿山社区"]),
        ("樊口街道", ["樊口社区", "莲花社区"]),
        ("泽林镇", ["泽林村", "旭光村"]),
        ("汀祖镇", ["汀祖社区", "石山村"]),
    ],
    "420703": [
        ("华容镇", ["华容社区", "龙王村"]),
        ("葛店镇（葛店开发区）", ["红莲湖社区", "葛店社区"]),
        ("段店镇", ["段店社区", "周湾村"]),
        ("庙岭镇", ["庙岭社区", "高洪村"]),
    ],
    "420702": [
        ("太和镇", ["太和社区", "上李村"]),
        ("东沟镇", ["东沟社区", "新桥村"]),
        ("梁子镇", ["梁子社区", "毛塘村"]),
    ],
}

# username, name, role, region code (None = superuser), mobile, unit
DEMO_STAFF = [
    ("admin", "系统管理员", None, None, "13900000000", "鄂州市民政局"),
    ("shi_minzheng", "王建国", Role.CALL_MANAGER, "420700", "13900000001", "鄂州市民政局社会组织管理科"),
    ("echeng_minzheng", "李红梅", Role.CALL_MANAGER, "420704", "13900000002", "鄂城区民政局"),
    ("fenghuang_jidi", "张晓燕", Role.BASE_OPERATOR, "420704001", "13900000003", "凤凰街道社会组织共享工作站"),
    ("gongyiyuan", "陈志强", Role.BASE_OPERATOR, "420700", "13900000004", "鄂州市共益园（市级孵化基地）"),
    ("zhuanjia_liu", "刘文华", Role.REVIEWER, "420700", "13900000005", "湖北某高校社会工作系"),
    ("zhuanjia_zhou", "周敏", Role.REVIEWER, "420700", "13900000006", "社会组织评估专家"),
    ("caiwu", "赵丽", Role.FINANCE, "420700", "13900000007", "鄂州市民政局财务科"),
    ("shenji", "孙伟", Role.AUDITOR, "420700", "13900000008", "鄂州市审计局"),
]


@transaction.atomic
def seed_regions() -> dict[str, Region]:
    by_code = {r.code: r for r in Region.objects.all()}

    def node(parent, code, name, level):
        if code in by_code:
            return by_code[code]
        n = (parent.add_child if parent else Region.add_root)(code=code, name=name, level=level)
        by_code[code] = n
        return n

    city = node(None, CITY[0], CITY[1], Region.Level.CITY)
    for dcode, dname in DISTRICTS:
        district = node(Region.objects.get(pk=city.pk), dcode, dname, Region.Level.DISTRICT)
        for i, (sname, communities) in enumerate(STREETS[dcode], start=1):
            scode = f"{dcode}{i:03d}"
            street = node(Region.objects.get(pk=district.pk), scode, sname, Region.Level.STREET)
            for j, cname in enumerate(communities, start=1):
                node(Region.objects.get(pk=street.pk), f"{scode}{j:03d}", cname, Region.Level.COMMUNITY)
    return by_code


@transaction.atomic
def seed_staff() -> list[tuple[str, str, str]]:
    """Create the demo staff users once; returns (username, role label, region) rows to print."""
    sync_roles()
    rows = []
    for username, name, role, region_code, mobile, unit in DEMO_STAFF:
        region = Region.objects.get(code=region_code) if region_code else None
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username,
                name=name,
                mobile=mobile,
                unit=unit,
                region=region,
                email=f"{username}@example.org",
                is_staff=role is None,
                is_superuser=role is None,
            )
            user.password = demo_password_hash()
            user.save()
        if role is not None:
            grant_role(user, role)
        rows.append((username, role.label if role else "超级管理员", region.full_name if region else "全部"))
    return rows


@hooks.register("register_demo_step", order=10)
def demo_step() -> dict:
    """seed_demo's first step (portal.demo): the region tree, the roles and the staff."""
    regions = seed_regions()
    return {"summary": f"{len(regions)} 个行政区域", "accounts": seed_staff()}
