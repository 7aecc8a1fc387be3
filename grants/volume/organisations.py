"""Volume rows of the layers below grants: the region tree (the demo's, when there is
none), the checking staff member, applicants, and organisations over every street and
community with their 负责人, service area, 年检, grades and registration history."""

import datetime
from decimal import Decimal

from django.db.models import OuterRef

from accounts.demo import demo_password_hash
from accounts.models import Region, User
from accounts.roles import Role, grant_role, role_group
from core.workflow import CREATED
from orgs.demo import make_uscc
from orgs.models import AnnualInspection, EvaluationGrade, Membership, Organisation, OrgType, ServiceArea

from ..models.calls import DEFAULT_CATEGORY_CODES
from .base import VOLUME_DOMAIN, Ctx, insert_many, keep_dates, log, pick, short, stamp, walk
from .words import ORG_WORDS, person, theme


def ensure_regions() -> list[Region]:
    if not Region.objects.exists():
        from accounts.demo import seed_regions

        seed_regions()
    return list(Region.objects.order_by("path"))


def ensure_staff(city: Region, role: str, username: str, name: str) -> User:
    """The city's first active staff member with `role` (the demo's when there is one),
    else a volume account `username` made for it."""
    user = User.objects.filter(region=city, groups=role_group(role), is_active=True).order_by("pk").first()
    if user is None:
        user = User.objects.create(
            username=username,
            name=name,
            region=city,
            unit=f"{city.name}民政局",
            email=f"{username}@{VOLUME_DOMAIN}",
            password=demo_password_hash(),
        )
        grant_role(user, role)
    return user


def ensure_checker(city: Region) -> User:
    """The city's call manager who checks eligibility."""
    return ensure_staff(city, Role.CALL_MANAGER, "vol_minzheng", "王建民")


def make_users(ctx: Ctx, n: int) -> list[User]:
    """`n` applicants (vol0000000…, mobiles 19000000000…), the demo's password."""
    last = (
        User.objects.filter(username__regex=r"^vol\d{7}$").order_by("-username").values_list("username", flat=True)
    ).first()
    start = int(last[3:]) + 1 if last else 0
    users = User.objects.bulk_create(
        [
            User(
                username=f"vol{i:07d}",
                name=person(ctx.rng),
                mobile=f"19{i:09d}",
                email=f"vol{i:07d}@{VOLUME_DOMAIN}",
                password=demo_password_hash(),
            )
            for i in range(start, start + n)
        ],
        batch_size=1000,
    )
    group = role_group(Role.APPLICANT)
    insert_many(User.groups.through, [{"user_id": u.pk, "group_id": group.pk} for u in users])
    return users


TYPES = {OrgType.SERVICE_ORG: 55, OrgType.SOCIAL_GROUP: 25, OrgType.COMMUNITY_FILED: 15, OrgType.FOUNDATION: 5}
SUFFIX = {OrgType.SERVICE_ORG: "服务中心", OrgType.SOCIAL_GROUP: "协会", OrgType.FOUNDATION: "公益基金会"}
SUFFIX[OrgType.COMMUNITY_FILED] = "志愿服务队"
TYPE_CODE = {OrgType.SOCIAL_GROUP: "1", OrgType.SERVICE_ORG: "2", OrgType.FOUNDATION: "3"}
ORG_STATES = {"verified": 92, "submitted": 4, "returned": 2, "draft": 2}
ORG_PATHS = {"draft": (), "submitted": ("submit",), "returned": ("submit", "return_for_correction")}
ORG_PATHS["verified"] = ("submit", "verify")


def ensure_organisations(ctx: Ctx, target: int) -> list[Organisation]:
    """Volume organisations up to `target`; returns the verified ones (who apply), each
    with `leader_id` and `area_code` (its service area)."""
    mine = Organisation.objects.filter(email__endswith=f"@{VOLUME_DOMAIN}")
    missing = target - mine.count()
    if missing > 0:
        make_organisations(ctx, missing)
    leaders = dict(
        Membership.objects.filter(organisation__in=mine, role=Membership.Role.LEADER).values_list(
            "organisation_id", "user_id"
        )
    )
    areas = dict(
        Organisation.service_areas.through.objects.filter(organisation__in=mine).values_list(
            "organisation_id", "servicearea__code"
        )
    )
    orgs = list(mine.filter(status="verified").select_related("region").order_by("pk"))
    for org in orgs:
        org.leader_id, org.area_code = leaders[org.pk], areas.get(org.pk)
    return orgs


def make_organisations(ctx: Ctx, n: int) -> None:
    """`n` organisations round-robin over every street and community, each with its
    负责人, a service area, two years of 年检, a grade for about half, and history."""
    rng, today = ctx.rng, ctx.today
    nodes = [r for r in ctx.regions if r.level >= Region.Level.STREET] or ctx.regions
    names = set(Organisation.objects.values_list("name", flat=True))
    usccs = set(Organisation.objects.exclude(uscc=None).values_list("uscc", flat=True))
    offset = Organisation.objects.filter(email__endswith=f"@{VOLUME_DOMAIN}").count()
    areas = {a.code: a.pk for a in ServiceArea.objects.filter(code__in=DEFAULT_CATEGORY_CODES)}
    orgs, inspections, grades, seq = [], [], [], 300000 + offset
    for i, leader in enumerate(make_users(ctx, n)):
        region, org_type, code = nodes[(offset + i) % len(nodes)], pick(rng, TYPES), rng.choice(sorted(areas))
        place, registered, status = short(region.name), org_type in TYPE_CODE, pick(rng, ORG_STATES)
        stem, suffix = f"{ctx.city.name}{place}", f"{theme(code).org}{SUFFIX[org_type]}"
        tries = (f"{stem}{w}{suffix}" for w in rng.sample(ORG_WORDS, len(ORG_WORDS)))
        name = next((t for t in tries if t not in names), f"{stem}{rng.choice(ORG_WORDS)}{offset + i}{suffix}")
        names.add(name)
        uscc = None
        while registered and (uscc is None or uscc in usccs):
            seq += 1
            uscc = make_uscc(TYPE_CODE[org_type], region.code[:6], seq)
        usccs.add(uscc)
        founded = today - datetime.timedelta(days=rng.randrange(800, 5000))
        created = ctx.at(founded + datetime.timedelta(days=rng.randrange(30, 300)))
        org = Organisation(
            name=name,
            org_type=org_type,
            uscc=uscc,
            filing_number=f"鄂备{founded.year}{offset + i:06d}" if org_type == OrgType.COMMUNITY_FILED else "",
            sponsor_name=f"{place}办事处" if org_type == OrgType.COMMUNITY_FILED else "",
            registration_authority=f"{ctx.city.name}民政局" if registered else "",
            legal_representative=leader.name,
            founded_on=founded,
            registered_capital=Decimal(rng.randrange(3, 20) * 10000) if registered else None,
            address=f"{ctx.full_name(region)}{rng.randrange(1, 300)}号",
            region=region,
            contact_name=leader.name,
            contact_phone=leader.mobile,
            email=leader.email,
            bank_name="湖北银行鄂州分行" if registered else "",
            bank_account_name=name if registered else "",
            bank_account=f"6221{rng.randrange(10**13, 10**14)}" if registered else "",
            introduction=f"扎根{place}，从事{theme(code).service}，累计服务居民{rng.randrange(300, 8000)}人次。",
            status=status,
            status_reason="登记证书扫描件不清晰，请重新上传。" if status == "returned" else "",
            submitted_at=created + datetime.timedelta(days=2) if status != "draft" else None,
            verified_at=created + datetime.timedelta(days=6) if status == "verified" else None,
            created_by=leader,
            created_at=created,
            updated_at=created + datetime.timedelta(days=6),
        )
        org.area, org.leader = areas[code], leader
        if registered and status == "verified":
            for year in (today.year - 2, today.year - 1):
                result = "basic" if rng.random() < 0.08 else "passed"
                inspections.append(AnnualInspection(organisation=org, year=year, result=result))
            org.latest_inspection_year, org.latest_inspection_result = today.year - 1, result
            if rng.random() < 0.55:
                org.latest_grade = pick(rng, {"5A": 5, "4A": 20, "3A": 50, "2A": 20, "1A": 5})
                awarded = today - datetime.timedelta(days=rng.randrange(60, 1700))
                grades.append(EvaluationGrade(organisation=org, grade=org.latest_grade, awarded_on=awarded))
        orgs.append(org)
    with keep_dates(Organisation, "created_at", "updated_at"):
        Organisation.objects.bulk_create(orgs, batch_size=1000)
    insert_many(
        Membership,
        [{"organisation_id": o.pk, "user_id": o.leader.pk, "role": "leader", "joined_at": o.created_at} for o in orgs],
    )
    insert_many(Organisation.service_areas.through, [{"organisation_id": o.pk, "servicearea_id": o.area} for o in orgs])
    insert_many(
        AnnualInspection,
        [{"organisation_id": i.organisation.pk, "year": i.year, "result": i.result} for i in inspections],
    )
    insert_many(
        EvaluationGrade,
        [{"organisation_id": g.organisation.pk, "grade": g.grade, "awarded_on": g.awarded_on} for g in grades],
    )
    entries = []
    for o in orgs:
        entries.append((o.pk, (CREATED, "draft", "draft"), None, None, "创建"))
        for step in walk(Organisation, ORG_PATHS[o.status]):
            if step[0] != "submit":  # a verifier's act, on the day the organisation was verified
                day = o.verified_at or o.submitted_at + datetime.timedelta(days=3)
                entries.append(
                    (o.pk, step, ctx.at(day.date(), 15, 0), ctx.checker, o.status_reason or "材料齐全，信息属实。")
                )
            else:
                entries.append((o.pk, step, None, None, ""))
    since = log(Organisation, entries)
    own = Organisation.objects.filter(pk=OuterRef("object_id"))
    stamp(Organisation, since, CREATED, own, "created_at", "created_by_id")
    stamp(Organisation, since, "submit", own, "submitted_at", "created_by_id")
    ctx.counts["organisations"] += len(orgs)
