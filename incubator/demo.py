"""Demo incubation for 鄂州市: the three levels of bases and about forty incubations in
every state, with service logs, capacity assessments and 三级联动 promotions. Idempotent.

The history is made by the real services, run by the demo operators on past days: a demo
clock (`_on(day)`) sets Django's `timezone.now` to that day, so every date, agreement
and certificate number, notification and audit row is what the action on that day would
have left. 凤凰街道's bases are run by `fenghuang_jidi`, the others by `gongyiyuan`, the
city base's operator, whose scope covers the whole city."""

import datetime
import random
import re
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from unittest import mock

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django_fsm_log.models import StateLog
from wagtail import hooks

from accounts.models import Region, User
from core.workdays import is_workday
from orgs.demo import make_uscc
from orgs.models import Membership, Organisation, OrgType

from . import services
from .models import BaseLevel, BaseService, Incubation, IncubationBase, IncubationStatus, Residence, ServiceKind

S = IncubationStatus
CITY_BASE = "鄂州市共益园（市级孵化基地）"
CITY_OPERATOR = "gongyiyuan"
STREET_OPERATORS = {"420704001": "fenghuang_jidi"}  # street code -> operator username

# ---- the bases -------------------------------------------------------------------------


def _short(name: str) -> str:
    return re.sub(r"（.*?）", "", name)


def _street_name(street: Region) -> str:
    return f"{_short(street.name)}社会组织共享工作站"


def _studio_name(community: Region) -> str:
    return f"{community.name}社会组织共享工作室"


def _studio_communities(streets: list[Region], children: dict[str, list[Region]]) -> list[Region]:
    """About half of the communities: the first of every street, and all of 凤凰街道's
    (the showcase street of the demo operator)."""
    chosen = []
    for street in streets:
        kids = children.get(street.path, [])
        chosen += kids if street.code in STREET_OPERATORS else kids[:1]
    return chosen


def _base(name, **fields) -> IncubationBase:
    existing = IncubationBase.objects.filter(name=name).first()
    if existing:
        return existing
    base = IncubationBase(name=name, **fields)
    base.full_clean()
    base.save()
    return base


def seed_bases() -> dict[str, IncubationBase]:
    """Bases by region code: the city base, a workstation per street/town, studios."""
    regions = list(Region.objects.order_by("path"))
    by_path = {r.path: r for r in regions}
    children: dict[str, list[Region]] = {}
    for r in regions:
        if r.depth > 1:
            children.setdefault(r.path[: -Region.steplen], []).append(r)
    city = next(r for r in regions if r.level == Region.Level.CITY)
    streets = [r for r in regions if r.level == Region.Level.STREET]
    all_services = list(BaseService.values)
    bases = {
        city.code: _base(
            CITY_BASE,
            level=BaseLevel.CITY,
            region=city,
            address="湖北省鄂州市鄂城区滨湖南路18号共益园",
            operator_unit="鄂州市民政局（委托鄂州市社会组织服务中心运营）",
            contact_name="陈志强",
            contact_phone="0711-3206188",
            opening_hours="周一至周五 8:30–12:00，14:30–17:30；周六上午开放路演厅",
            desks=20,
            virtual_places=30,
            services=all_services,
            introduction=(
                "共益园是鄂州市级社会组织孵化基地，设开放办公区、路演厅、培训室和洽谈室，"
                "为初创期社会组织提供场地、能力建设、导师督导、注册指导、财务托管和资源对接服务。"
                "街道（镇）共享工作站和社区共享工作室孵化成熟的组织可推荐至共益园继续孵化，"
                "形成市、街道（镇）、社区三级联动的孵化体系。"
            ),
        )
    }
    for n, street in enumerate(streets):
        district = by_path[street.path[: -Region.steplen]]
        town = street.name.endswith("镇") or "镇（" in street.name
        bases[street.code] = _base(
            _street_name(street),
            level=BaseLevel.STREET,
            region=street,
            parent=bases[city.code],
            address=f"湖北省鄂州市{district.name}{_short(street.name)}党群服务中心三楼",
            operator_unit=f"{_short(street.name)}{'人民政府' if town else '办事处'}社会事务办公室",
            contact_name=["张晓燕", "李静", "王磊", "刘洋", "陈敏", "杨帆", "赵倩"][n % 7],
            contact_phone=f"0711-32{n + 11:02d}{n * 37 % 100:02d}8",
            desks=6 if street.code in STREET_OPERATORS else 4 + n % 3,
            virtual_places=10,
            services=[BaseService.SPACE, BaseService.TRAINING, BaseService.MENTORING, BaseService.REGISTRATION]
            + ([BaseService.FINANCE] if n % 2 == 0 else [])
            + [BaseService.ASSESSMENT],
            introduction=(
                f"{_street_name(street)}面向{_short(street.name)}辖区的社区社会组织和公益团队，"
                "提供共享办公工位、业务培训、登记备案指导和项目督导，"
                "每季度开展一次能力评估，优秀组织推荐至市共益园。"
            ),
        )
        for m, community in enumerate(_studio_communities([street], children)):
            village = community.name.endswith("村")
            bases[community.code] = _base(
                _studio_name(community),
                level=BaseLevel.COMMUNITY,
                region=community,
                parent=bases[street.code],
                address=f"湖北省鄂州市{district.name}{_short(street.name)}{community.name}党群服务中心一楼",
                operator_unit=f"{community.name}{'村民委员会' if village else '居民委员会'}",
                contact_name=["周丽", "吴刚", "郑芳", "孙梅"][(n + m) % 4],
                contact_phone=f"0711-33{n + 11:02d}{m}{n % 10}6",
                desks=2,
                virtual_places=4,
                services=[BaseService.SPACE, BaseService.TRAINING, BaseService.RESOURCES],
                introduction=(
                    f"设在{community.name}党群服务中心的共享工作室，为居民自发成立的兴趣团队、"
                    "志愿服务队和互助小组提供活动场地、备案指导和小额公益项目孵化。"
                ),
            )
    return bases


# ---- the incubations ----------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One demo incubation: the orgs demo's organisation number (its e-mail is
    orgNN@example.org), where it goes, the state it reaches and how long ago it started."""

    org: int
    where: str  # "local" (its community's studio, else its street's workstation), "street", "city"
    status: str
    months_ago: int = 0
    residence: str = Residence.DESK
    promote: str = ""  # once graduated (or a year in): "accepted" or "pending" recommendation upward
    registers: bool = False  # a 筹备 group that registers during incubation
    days_ago: int = 0  # when an application still waiting for screening was made


PLAN = [
    # 出壳 (graduated): started two to three years ago
    Line(1, "local", S.GRADUATED, 34),
    Line(3, "street", S.GRADUATED, 38),
    Line(15, "street", S.GRADUATED, 30),
    Line(21, "city", S.GRADUATED, 40),
    Line(27, "city", S.GRADUATED, 32),
    Line(23, "local", S.GRADUATED, 27, Residence.VIRTUAL),
    Line(45, "local", S.GRADUATED, 28, registers=True),
    Line(9, "local", S.GRADUATED, 36, promote="accepted"),
    Line(26, "local", S.GRADUATED, 29, promote="pending"),
    # 晋级出壳: recommended while resident, taken in by the base above; the lower stay closes
    Line(50, "local", S.IN_INCUBATION, 15, promote="accepted"),
    # 孵化中 (in incubation); those past a year have passed the mid-term review
    Line(31, "street", S.IN_INCUBATION, 14),
    Line(2, "street", S.IN_INCUBATION, 9),
    Line(4, "street", S.IN_INCUBATION, 16),
    Line(7, "street", S.IN_INCUBATION, 5),
    Line(12, "local", S.IN_INCUBATION, 7),
    Line(17, "street", S.IN_INCUBATION, 11, Residence.VIRTUAL),
    Line(19, "city", S.IN_INCUBATION, 18),
    Line(30, "city", S.IN_INCUBATION, 10),
    Line(42, "city", S.IN_INCUBATION, 6, Residence.VIRTUAL),
    Line(32, "local", S.IN_INCUBATION, 3),
    Line(47, "street", S.IN_INCUBATION, 4, Residence.VIRTUAL),
    Line(57, "street", S.IN_INCUBATION, 2, Residence.VIRTUAL),
    # 中期评估中 (mid-term review under way)
    Line(5, "local", S.MID_REVIEW, 12),
    Line(10, "street", S.MID_REVIEW, 13),
    Line(22, "city", S.MID_REVIEW, 12, Residence.VIRTUAL),
    Line(28, "street", S.MID_REVIEW, 13),
    # 续驻 (extended once)
    Line(11, "street", S.EXTENDED, 25),
    Line(16, "local", S.EXTENDED, 24),
    Line(24, "street", S.EXTENDED, 23, Residence.VIRTUAL),
    # 已入壳, not yet begun
    Line(6, "street", S.ADMITTED),
    Line(33, "street", S.ADMITTED, residence=Residence.VIRTUAL),
    Line(38, "local", S.ADMITTED),
    # 退驻 (withdrawn)
    Line(8, "local", S.WITHDRAWN, 20),
    Line(13, "street", S.WITHDRAWN, 15),
    Line(29, "street", S.WITHDRAWN, 30, Residence.VIRTUAL),
    # 初审通过, waiting for admission
    Line(14, "street", S.SCREENED),
    Line(34, "local", S.SCREENED),
    Line(36, "street", S.SCREENED),
    # 初审未通过
    Line(18, "street", S.REJECTED, 8),
    Line(40, "street", S.REJECTED, 3),
    Line(58, "city", S.REJECTED, 5),
    # 已申请: two of them past the screening deadline
    Line(20, "street", S.APPLIED, days_ago=15),
    Line(25, "street", S.APPLIED, days_ago=20),
    Line(35, "street", S.APPLIED, days_ago=2),
    Line(37, "local", S.APPLIED, days_ago=1),
    Line(49, "local", S.APPLIED),
    Line(43, "street", S.APPLIED, days_ago=3),
    Line(39, "city", S.APPLIED, days_ago=4),
]

REJECT_REASONS = {
    18: "申请的服务内容与本站辖区需求重合度较低，建议先在社区共享工作室开展活动、积累经验后再申请。",
    40: "组织登记信息尚在退回补正中，请先完成信息补正后再提出入驻申请。",
    58: "筹备中的团队请先入驻所在街道（镇）共享工作站，由工作站孵化成熟后推荐至共益园。",
}
PLANS = [
    "为辖区独居、空巢老人提供每周上门探访、助餐配送和健康监测服务，培育30名低龄老人志愿者结对帮扶。",
    "开展留守儿童周末课堂和暑期托管，链接高校志愿者提供课业辅导与心理陪伴。",
    "组织亲子阅读、自然观察和家庭教育讲座，每月不少于4场活动，建立家长互助社群。",
    "围绕小区治理开展居民议事会，协助业委会和物业建立协商机制，解决停车、垃圾分类等难题。",
    "组建巡河护湖志愿队，定期开展湖岸垃圾清理、水质观测和环保宣传进校园活动。",
    "为残障人士及其家庭提供康复陪伴、就业技能培训和喘息服务。",
]
NEEDS = [
    "希望获得财务管理和项目申报方面的培训，以及固定的活动场地。",
    "需要导师指导完成登记注册材料，并对接社区公益基金。",
    "希望基地协助链接爱心企业和志愿者资源。",
]
SERVICE_SESSIONS = [
    (ServiceKind.TRAINING, "社会组织财务管理实务培训", "王芳（注册会计师）", 3),
    (ServiceKind.MENTORING, "一对一督导：理事会议事规则与章程修订", "刘文华（湖北某高校社会工作系）", 2),
    (ServiceKind.CONSULTATION, "登记备案与年检事项咨询", "", 1),
    (ServiceKind.TRAINING, "公益项目设计与申报书撰写", "周敏（社会组织评估专家）", 3),
    (ServiceKind.EVENT, "公益集市项目展示", "", 4),
    (ServiceKind.RESOURCE_MATCH, "对接爱心企业物资捐赠", "", 1.5),
    (ServiceKind.MENTORING, "导师辅导：项目成效评估与案例撰写", "刘文华（湖北某高校社会工作系）", 2),
    (ServiceKind.REGISTRATION, "协助准备登记材料并预审章程", "", 2),
]
DIMENSIONS = ("governance", "finance", "projects", "team", "resources")


@contextmanager
def _on(day: datetime.date):
    """The demo clock: the services run as if it were `day`, 10:00 Beijing time. Audit rows
    (django-fsm-log reads the clock through its own reference) are stamped afterwards."""
    moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))
    last = StateLog.objects.aggregate(m=Max("pk"))["m"] or 0
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield
    StateLog.objects.filter(pk__gt=last).update(timestamp=moment)


def _workday(day: datetime.date, today: datetime.date) -> datetime.date:
    """The first working day from `day` on (or the last one before, not to pass today)."""
    d = day
    while not is_workday(d) and d < today:
        d += datetime.timedelta(days=1)
    while not is_workday(d) and d > day - datetime.timedelta(days=7):
        d -= datetime.timedelta(days=1)
    return min(d, today)


def _scores(rng: random.Random, level: int) -> dict:
    return {k: min(100, level + rng.randrange(-6, 9)) for k in DIMENSIONS}


class _Walker:
    """Walks one Line through the services on its own past days."""

    def __init__(self, line: Line, org: Organisation, base: IncubationBase, operator: User, today):
        self.line, self.org, self.base, self.by, self.today = line, org, base, operator, today
        self.rng = random.Random(line.org)
        self.leader = (
            Membership.objects.filter(organisation=org, role=Membership.Role.LEADER).select_related("user").first().user
        )

    def day(self, d: datetime.date) -> datetime.date:
        return _workday(d, self.today)

    def run(self) -> Incubation:
        line, today = self.line, self.today
        if line.status == S.APPLIED:
            applied, start = self.day(today - datetime.timedelta(days=line.days_ago)), None
        else:
            start = self.day(today - relativedelta(months=line.months_ago, days=line.org % 9))
            applied = self.day(start - datetime.timedelta(days=18 + line.org % 7))
        if line.status == S.ADMITTED:
            applied, start = self.day(today - datetime.timedelta(days=24)), self.day(today - datetime.timedelta(days=3))
        if line.status == S.SCREENED:
            applied = self.day(today - datetime.timedelta(days=12 + line.org % 5))
        with _on(applied):
            inc = services.incubation_apply(
                base=self.base,
                organisation=self.org,
                by=self.leader,
                plan=PLANS[line.org % len(PLANS)],
                member_count=5 + line.org % 12,
                needs=NEEDS[line.org % len(NEEDS)],
                requested_services=[s for s in self.base.services if s != BaseService.FINANCE][:4],
                wants_desk=line.residence == Residence.DESK,
            )
        if line.status == S.APPLIED:
            return inc
        screened = self.day(applied + datetime.timedelta(days=3))
        with _on(screened):
            if line.status == S.REJECTED:
                return services.incubation_screen(
                    incubation=inc, by=self.by, accept=False, reason=REJECT_REASONS[line.org]
                )
            services.incubation_screen(
                incubation=inc, by=self.by, accept=True, reason="材料齐全，服务方向符合基地定位。"
            )
        if line.status == S.SCREENED:
            return inc
        self.admit(inc, start)
        if line.status == S.ADMITTED:
            return inc
        return self.incubate(inc, start)

    def admit(self, inc, start):
        base = IncubationBase.objects.get(pk=self.base.pk)
        desk = ""
        if self.line.residence == Residence.DESK:
            n = base.incubations.exclude(desk_label="").count() + 1
            desk = f"A区{n:02d}号工位" if base.level == BaseLevel.CITY else f"{n:02d}号工位"
        with _on(start):
            services.incubation_admit(
                incubation=inc, by=self.by, residence=self.line.residence, desk_label=desk, starts_on=start
            )

    def assess(self, inc, stage, d, level, comment=""):
        with _on(d):
            services.assessment_record(
                incubation=inc, by=self.by, stage=stage, scores=_scores(self.rng, level), assessed_on=d, comment=comment
            )

    def log_services(self, inc, start, end):
        d, i = start + datetime.timedelta(days=12), self.line.org
        while d < end and i < self.line.org + 6:
            kind, title, mentor, hours = SERVICE_SESSIONS[i % len(SERVICE_SESSIONS)]
            day = self.day(d)
            with _on(day):
                services.service_log_add(
                    incubation=inc,
                    by=self.by,
                    kind=kind,
                    title=title,
                    date=day,
                    hours=Decimal(str(hours)),
                    mentor=mentor,
                    participants=2 + i % 5,
                    notes=f"{self.org.name}负责人及骨干参加，完成{title}相关内容并形成改进清单。",
                )
            d += datetime.timedelta(days=40 + i % 20)
            i += 1

    def incubate(self, inc, start):
        line, today = self.line, self.today
        with _on(self.day(start + datetime.timedelta(days=2))):
            services.incubation_begin(incubation=inc, by=self.by)
        self.assess(
            inc, "admission", self.day(start + datetime.timedelta(days=14)), 48 + line.org % 10, "入壳基线评估。"
        )
        end = {
            S.GRADUATED: start + relativedelta(months=22 + line.org % 3),
            S.WITHDRAWN: start + relativedelta(months=5 + line.org % 6),
        }.get(line.status, today)
        end = min(end, today - datetime.timedelta(days=20))
        self.log_services(inc, start, end)
        mid = start + relativedelta(months=12)
        if mid <= today and line.status != S.WITHDRAWN:
            with _on(self.day(mid)):
                services.incubation_mid_review_start(incubation=inc, by=self.by)
            self.assess(
                inc,
                "mid",
                self.day(mid + datetime.timedelta(days=7)),
                64 + line.org % 8,
                "中期评估：治理与项目管理明显改善。",
            )
            if line.status == S.MID_REVIEW:
                return inc
            with _on(self.day(mid + datetime.timedelta(days=14))):
                services.incubation_mid_review_pass(incubation=inc, by=self.by, reason="中期评估合格，继续孵化。")
        if line.status == S.EXTENDED:
            inc.refresh_from_db()
            with _on(self.day(start + relativedelta(months=22))):
                services.incubation_extend(
                    incubation=inc,
                    by=self.by,
                    new_end=inc.ends_on + relativedelta(months=12),
                    reason="项目进入关键阶段，尚需一年完成登记和团队建设。",
                )
        elif line.status == S.WITHDRAWN:
            with _on(self.day(end)):
                services.incubation_withdraw(
                    incubation=inc, by=self.by, reason="组织负责人工作变动，团队暂停活动，主动申请退驻。"
                )
        elif line.status == S.GRADUATED:
            self.graduate(inc, self.day(end))
        return inc

    def graduate(self, inc, day):
        self.assess(
            inc, "graduation", self.day(day - datetime.timedelta(days=7)), 76 + self.line.org % 10, "达到出壳标准。"
        )
        extra = {}
        if self.line.registers:
            extra = {
                "new_org_type": OrgType.SERVICE_ORG,
                "new_uscc": make_uscc("2", self.org.region.code[:6], 4207900 + self.line.org),
            }
        with _on(day):
            services.incubation_graduate(
                incubation=inc,
                by=self.by,
                registered=True,
                governance=True,
                project=True,
                reason="出壳清单全部满足，准予出壳。",
                **extra,
            )


def seed_incubation() -> dict[str, int]:
    """Bases and demo incubations (skipped where the organisation already has a stay at
    that base). Returns counts for the summary line."""
    with transaction.atomic():
        bases = seed_bases()
        _seed_incubations(bases)
    return {"bases": IncubationBase.objects.count(), "incubations": Incubation.objects.count()}


def _seed_incubations(bases: dict[str, IncubationBase]) -> None:
    today = timezone.localdate()
    orgs = {}
    for org in Organisation.objects.filter(email__regex=r"^org\d\d@example\.org$").select_related("region"):
        orgs[int(org.email[3:5])] = org
    users = {u.username: u for u in User.objects.filter(username__in=[CITY_OPERATOR, *STREET_OPERATORS.values()])}
    if CITY_OPERATOR not in users:
        return
    existing = set(Incubation.objects.values_list("base_id", "organisation_id"))
    city_code = next(code for code, b in bases.items() if b.level == BaseLevel.CITY)
    for line in PLAN:
        org = orgs.get(line.org)
        if org is None:
            continue
        base = _base_for(line.where, org.region, bases, city_code)
        if (base.pk, org.pk) in existing:
            continue
        street_code = org.region.code[:9] if base.level != BaseLevel.CITY else ""
        operator = users.get(STREET_OPERATORS.get(street_code, ""), users[CITY_OPERATOR])
        inc = _Walker(line, org, base, operator, today).run()
        if line.promote:
            _promote(inc, line, operator, users, today)


def _base_for(where, region, bases, city_code) -> IncubationBase:
    if where == "city":
        return bases[city_code]
    if where == "local" and region.code in bases:
        return bases[region.code]
    return bases[region.code[:9]]


def _promote(inc: Incubation, line: Line, operator: User, users: dict, today) -> None:
    """三级联动: the base recommends its graduate, or a resident a year in, one level up."""
    inc.refresh_from_db()
    since = inc.graduated_on or (inc.starts_on + datetime.timedelta(days=365))
    day = _workday(since + datetime.timedelta(days=5), today)
    with _on(day):
        promo = services.promotion_recommend(
            incubation=inc,
            by=operator,
            reason="在社区孵化期间表现突出，已独立运作项目，建议到街道工作站继续孵化、扩大服务范围。",
        )
    if line.promote != "accepted":
        return
    upper = inc.base.parent
    upper_operator = users.get(STREET_OPERATORS.get(upper.region.code, ""), users[CITY_OPERATOR])
    start = _workday(day + datetime.timedelta(days=10), today)
    with _on(start):
        new = services.promotion_accept(
            promotion=promo, by=upper_operator, residence=Residence.VIRTUAL, starts_on=start
        )
    with _on(_workday(start + datetime.timedelta(days=2), today)):
        services.incubation_begin(incubation=new, by=upper_operator)
    with _on(_workday(start + datetime.timedelta(days=14), today)):
        services.assessment_record(
            incubation=new,
            by=upper_operator,
            stage="admission",
            scores=dict.fromkeys(DIMENSIONS, 70),
            assessed_on=_workday(start + datetime.timedelta(days=14), today),
            comment="由社区工作室推荐，沿用出壳评估结论，入站基线评估。",
        )


@hooks.register("register_demo_step", order=40)
def demo_step() -> dict:
    """seed_demo's step for incubation (portal.demo): the bases and the demo stays."""
    counts = seed_incubation()
    return {"summary": f"孵化基地 {counts['bases']} 个，入驻孵化记录 {counts['incubations']} 条"}
