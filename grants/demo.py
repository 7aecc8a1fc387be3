"""Demo grants for 鄂州市 (seed_demo's step, after incubation): calls at each level in each
stage (市级 open for applications, 凤凰街道 under the eligibility check, 澜湖社区 collecting
needs, last year's city round finished), the community needs they answered (民呼我应) and
proposals named in the seeds' style, made through the real services on their own past
days (the incubation demo's clock). Idempotent: a call that exists is left as it is."""

import datetime
import random
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from wagtail import hooks

from core.dates import chinese_date
from incubator.demo import _on as _incubator_clock

from . import rules
from .volume.base import short, walk
from .volume.calls import call_path, timeline
from .volume.words import (
    INELIGIBLE_REASONS,
    RETURN_REASONS,
    activity_rows,
    budget_lines,
    kpi_rows,
    proposal_fields,
    team_rows,
    theme,
)

# ---- the demo: four calls and their needs and proposals ---------------------------------------------


@dataclass(frozen=True)
class DemoNeed:
    community: str  # region code
    code: str  # service area
    title: str
    description: str
    people: int
    submitter: tuple  # (kind, name)
    outcome: str = "accept"  # accept | merge (into the first accepted need of its community) | reject | wait
    reason: str = ""


@dataclass(frozen=True)
class DemoProposal:
    code: str  # service area: an organisation of that field applies
    title: str
    status: str  # draft | submitted | resubmitted | returned | eligible | ineligible | withdrawn
    reason: str = ""
    org: str = ""  # the orgs demo's organisation (e-mail orgNN@example.org), else any eligible one


@dataclass(frozen=True)
class DemoCall:
    title: str
    level: int
    region: str  # region code
    organiser: str
    manager: str  # the call manager who runs it
    moderator: str  # who moderates its needs
    money: tuple  # pool, grant min, grant max
    apply_from: int  # days from today
    stage: str  # the last status it reaches
    summary: str
    needs: tuple = ()
    proposals: tuple = ()
    next_round: str = ""  # the title of the call above it (三级联动)


RESIDENT, COMMITTEE, GRID = "resident", "committee", "grid"
LANHU, JIANGCHENG, LEISHAN, YUEPANWAN, HONGLIANHU, XISHAN = (
    "420704001001",
    "420704001002",
    "420704001003",
    "420704002001",
    "420703002001",
    "420704003001",
)
CITY_NEEDS = (
    DemoNeed(
        LANHU,
        "elderly",
        "独居老人助餐",
        "小区里独居、高龄老人多，做饭不便，希望有固定的助餐点或送餐服务。",
        86,
        (COMMITTEE, "澜湖社区居委会"),
    ),
    DemoNeed(
        LANHU,
        "elderly",
        "小区老人吃饭难",
        "楼里好几位老人子女在外地，中午经常随便对付一口。",
        12,
        (RESIDENT, "刘阿姨"),
        "merge",
    ),
    DemoNeed(
        JIANGCHENG,
        "children",
        "放学后“四点半课堂”",
        "双职工家庭的孩子四点半放学后无人照看，希望社区有托管和课业辅导。",
        140,
        (GRID, "网格员张敏"),
    ),
    DemoNeed(
        HONGLIANHU,
        "new_residents",
        "新居民融入",
        "红莲湖新建小区住户大多刚搬来，彼此不认识，也不了解社区的服务和办事渠道。",
        600,
        (COMMITTEE, "红莲湖社区居委会"),
    ),
    DemoNeed(
        YUEPANWAN,
        "central_work",
        "垃圾分类督导",
        "小区垃圾分类投放不规范，希望有志愿者在投放点值守和入户宣传。",
        1200,
        (GRID, "网格员李强"),
    ),
    DemoNeed(
        XISHAN,
        "central_work",
        "广场舞噪音扰民",
        "晚上广场舞音响声音太大，影响休息。",
        30,
        (RESIDENT, "王先生"),
        "reject",
        "属于社区日常协调事项，已转西山社区居委会处理，不纳入公益创投。",
    ),
)
STREET_NEEDS = (
    DemoNeed(
        LEISHAN,
        "elderly",
        "空巢老人定期探访",
        "子女不在身边的老人缺少陪伴，希望有志愿者定期上门看望。",
        64,
        (COMMITTEE, "雷山社区居委会"),
    ),
    DemoNeed(
        JIANGCHENG,
        "children",
        "暑期儿童安全教育",
        "暑假孩子在家时间长，防溺水、防电信诈骗的安全教育不够。",
        220,
        (GRID, "网格员张敏"),
    ),
    DemoNeed(
        LANHU,
        "women",
        "待业妇女技能培训",
        "小区里带孩子的妈妈想就近就业，希望有家政、电商等技能培训。",
        45,
        (RESIDENT, "陈女士"),
    ),
)
COMMUNITY_NEEDS = (
    DemoNeed(
        LANHU,
        "elderly",
        "老年人智能手机培训",
        "老人不会用手机挂号、扫码、视频通话，希望有人手把手教。",
        70,
        (COMMITTEE, "澜湖社区居委会"),
    ),
    DemoNeed(
        LANHU,
        "central_work",
        "老旧小区停车议事",
        "老旧小区停车乱、矛盾多，希望有人组织居民协商解决。",
        300,
        (RESIDENT, "赵先生"),
        "wait",
    ),
    DemoNeed(
        LANHU,
        "children",
        "放学后“四点半课堂”",
        "希望社区党群服务中心下午开放，给放学的孩子一个写作业的地方。",
        50,
        (GRID, "网格员周洁"),
        "wait",
    ),
)
RETURNED_REASON = "预算明细中“活动物料”单价测算依据不足，请补充测算说明；实施方案请写明每场活动的时间和地点。"
CALLS = (
    DemoCall(
        "鄂州市{last}年公益创投项目征集",
        1,
        "420700",
        "鄂州市民政局",
        "shi_minzheng",
        "shi_minzheng",
        (2_000_000, 30_000, 200_000),
        -600,
        "finished",
        "上一轮市级公益创投，已完成实施和结项。",
        needs=CITY_NEEDS[:1],
        proposals=(
            DemoProposal("elderly", "老宝贝·社区长者助餐点", "eligible"),
            DemoProposal("children", "小候鸟·暑期托管班", "eligible"),
            DemoProposal("children", "海马爸比·父亲成长营", "eligible"),
            DemoProposal("new_residents", "新市民·融入茶话会", "eligible"),
            DemoProposal("poverty", "暖冬·困难家庭冬季关爱", "ineligible", INELIGIBLE_REASONS[0]),
        ),
    ),
    DemoCall(
        "鄂州市{year}年公益创投项目征集",
        1,
        "420700",
        "鄂州市民政局",
        "shi_minzheng",
        "shi_minzheng",
        (3_000_000, 30_000, 300_000),
        -10,
        "open",
        "面向全市社会组织征集为老、助残、儿童关爱、新居民融入等公益服务项目，单个项目最高资助30万元。",
        needs=CITY_NEEDS,
        proposals=(
            DemoProposal("elderly", "老宝贝·长者助餐陪伴计划", "submitted"),
            DemoProposal("children", "海马爸比·亲子成长营", "submitted"),
            DemoProposal("new_residents", "新市民·红莲湖新居民融入计划", "submitted"),
            DemoProposal("central_work", "绿水·洋澜湖巡河护湖志愿行动", "submitted"),
            DemoProposal("women", "巾帼·家政技能就业帮扶计划", "draft"),
            DemoProposal("children", "小候鸟·留守儿童四点半课堂", "draft", org="org01"),  # shenbao's
        ),
    ),
    DemoCall(
        "凤凰街道{year}年“微公益”创投项目征集",
        3,
        "420704001",
        "凤凰街道办事处",
        "echeng_minzheng",
        "fenghuang_jidi",
        (500_000, 10_000, 100_000),
        -33,
        "closed",
        "凤凰街道社区微公益项目，优先回应澜湖、江城、雷山社区居民提出的需求。",
        needs=STREET_NEEDS,
        next_round="鄂州市{year}年公益创投项目征集",
        proposals=(
            DemoProposal("elderly", "老宝贝·澜湖社区长者食堂", "eligible"),
            DemoProposal("children", "小候鸟·雷山社区暑期安全课堂", "submitted"),
            DemoProposal("women", "巾帼·澜湖妈妈就业工坊", "returned", RETURNED_REASON),
            DemoProposal("elderly", "夕阳红·空巢老人探访计划", "resubmitted", RETURN_REASONS[2]),
            DemoProposal("disabled", "同心·残障人士居家康复", "ineligible", INELIGIBLE_REASONS[2]),
            DemoProposal("central_work", "红色物业·老旧小区议事会", "withdrawn"),
        ),
    ),
    DemoCall(
        "澜湖社区{year}年社区微创投项目征集",
        4,
        LANHU,
        "澜湖社区居民委员会",
        "echeng_minzheng",
        "fenghuang_jidi",
        (100_000, 5_000, 30_000),
        16,
        "needs",
        "澜湖社区“民呼我应”微创投：先征集居民需求，再由社区社会组织申报。",
        needs=COMMUNITY_NEEDS,
        next_round="凤凰街道{year}年“微公益”创投项目征集",
    ),
)


@contextmanager
def _on(day: datetime.date):
    """The incubation demo's clock (the services run as if it were `day`, 10:00), and the
    versions written meanwhile carry that moment too (their default read the real clock)."""
    from django.db.models import Max

    from grants.models import ProposalVersion

    last = ProposalVersion.objects.aggregate(m=Max("pk"))["m"] or 0
    with _incubator_clock(day):
        yield
        moment = timezone.now()
    ProposalVersion.objects.filter(pk__gt=last).update(submitted_at=moment)


ANNOUNCEMENT = (
    "<p>{summary}</p><p>申报单位登录本平台，在征集页面点击“立即申报”在线填写申报书，组织资料自动带入，无需重复填写。"
    "申报截止日期为{until}，逾期不再受理。</p><p>咨询电话：0711-3206188（{organiser}）</p>"
)


class _Demo:
    """Walks the demo calls through the services, each act on its own day."""

    def __init__(self, today: datetime.date):
        from accounts.models import User
        from orgs.models import Organisation, OrganisationStatus

        self.today = today
        self.users = {
            u.username: u
            for u in User.objects.filter(username__in=[c.manager for c in CALLS] + [c.moderator for c in CALLS])
        }
        self.orgs = list(
            Organisation.objects.filter(email__regex=r"^org\d\d@example\.org$", status=OrganisationStatus.VERIFIED)
            .prefetch_related("service_areas", "memberships__user")
            .select_related("region")
            .order_by("email")
        )
        self.calls = {}
        self.made = {"calls": 0, "needs": 0, "proposals": 0}
        self.returned_to = None

    def day(self, offset_from: datetime.date, days: int = 0) -> datetime.date:
        return min(offset_from + datetime.timedelta(days=days), self.today)

    def run(self, spec: DemoCall):
        from grants.models import Call
        from grants.services import calls as call_services

        year = (self.today + datetime.timedelta(days=spec.apply_from)).year
        title = spec.title.format(year=self.today.year, last=year)
        existing = Call.objects.filter(title=title).first()
        if existing is not None:
            self.calls[spec.title] = existing
            return
        from accounts.models import Region

        manager = self.users[spec.manager]
        t = timeline(self.today + datetime.timedelta(days=spec.apply_from))
        upper = self.calls.get(spec.next_round) if spec.next_round else None
        data = {
            "title": title,
            "year": year,
            "level": spec.level,
            "region": Region.objects.get(code=spec.region),
            "organiser": spec.organiser,
            "summary": spec.summary,
            "pool_total": Decimal(spec.money[0]),
            "grant_min": Decimal(spec.money[1]),
            "grant_max": Decimal(spec.money[2]),
            "allow_preparing_in_incubation": spec.level == 4,
            "next_round": upper,
            **t,
        }
        with _on(t["needs_from"] - datetime.timedelta(days=7)):
            call = call_services.call_create(by=manager, data=data)
        self.calls[spec.title] = call
        self.made["calls"] += 1
        needs = []
        path = call_path(t, self.today)  # the steps its timeline has reached, each on its day
        for (name, day), (_name, _source, stage) in zip(path, walk(Call, [n for n, _d in path]), strict=True):
            with _on(day):
                call_services.call_transition(call=call, by=manager, name=name)
            if stage == "needs":
                needs = self.needs(spec, call, t)
            if stage == "open":
                self.proposals(spec, call, t, needs)
            if stage == "closed":
                self.checks(spec, call, t)
            if stage == spec.stage:
                break
        self.publish(call, manager, t)

    # ---- 民呼我应 -----------------------------------------------------------------------------

    def needs(self, spec, call, t) -> list:
        from accounts.models import Region
        from grants.services import needs as need_services
        from orgs.models import ServiceArea

        moderator, made, first = self.users[spec.moderator], [], {}
        areas = {a.code: a for a in ServiceArea.objects.all()}
        for i, n in enumerate(spec.needs):
            with _on(self.day(t["needs_from"], 2 + i)):
                need = need_services.need_submit(
                    region=Region.objects.get(code=n.community),
                    title=n.title,
                    description=n.description,
                    affected=theme(n.code).affected,
                    people_count=n.people,
                    submitter_kind=n.submitter[0],
                    submitter_name=n.submitter[1],
                    phone=f"1390711{4000 + i * 37 + spec.level:04d}",
                    call=call,
                )
            self.made["needs"] += 1
            if n.outcome == "wait":
                continue
            with _on(self.day(t["needs_from"], 12 + i)):
                if n.outcome == "reject":
                    need_services.need_reject(need=need, by=moderator, reason=n.reason)
                elif n.outcome == "merge" and n.community in first:
                    need_services.need_merge(need=need, by=moderator, into=first[n.community])
                else:
                    need_services.need_accept(need=need, by=moderator, category=areas[n.code], call=call)
                    first.setdefault(n.community, need)
                    made.append(need)
        return made

    # ---- 网上申报 ------------------------------------------------------------------------------

    def org_for(self, call, p: DemoProposal, used: set, day):
        from grants.eligibility import may_apply

        def fits(o):
            return o.pk not in used and bool(may_apply(call, o, on=day))

        if p.org:
            return next((o for o in self.orgs if o.email.startswith(f"{p.org}@") and fits(o)), None)
        local = [o for o in self.orgs if call.region.contains(o.region)]
        for pool in (local, self.orgs):  # a local organisation of the field, else any local one, …
            for o in sorted(pool, key=lambda o: not any(a.code == p.code for a in o.service_areas.all())):
                if fits(o):
                    return o
        return None

    def proposals(self, spec, call, t, needs):
        from grants.services import proposals as services

        # the organisations named in the plan are kept for their own proposal
        used = {o.pk for o in self.orgs if any(o.email.startswith(f"{p.org}@") for p in spec.proposals if p.org)}
        for i, p in enumerate(spec.proposals):
            day = self.day(t["apply_from"], 1 + i)
            with _on(day):
                org = self.org_for(
                    call, p, used - ({o.pk for o in self.orgs if p.org and o.email.startswith(f"{p.org}@")}), day
                )
                if org is None:
                    continue
                used.add(org.pk)
                leader = next(m.user for m in org.memberships.all() if m.role == "leader")
                rng = random.Random(f"demo:{p.title}")
                proposal = services.proposal_start(call=call, organisation=org, by=leader)
                self.fill(proposal, leader, p, needs, rng, partial=p.org != "" and p.status == "draft")
            self.made["proposals"] += 1
            if p.status == "draft":
                continue
            with _on(self.day(day, 2)):
                proposal.refresh_from_db()
                if p.status == "withdrawn":
                    services.proposal_withdraw(proposal=proposal, by=leader, reason="团队人手调整，本年度暂不申报。")
                    continue
                services.proposal_submit(proposal=proposal, by=leader)
            if p.status == "resubmitted":
                self.correct(proposal, p, self.users[spec.manager], self.day(day, 2))

    def fill(self, proposal, leader, p: DemoProposal, needs, rng, *, partial=False):
        from accounts.models import Region
        from grants.services import proposals as services
        from orgs.models import ServiceArea

        call, th = proposal.call, theme(p.code)
        place = call.region if call.level != 1 else Region.objects.get(pk=proposal.organisation.region_id)
        texts = proposal_fields(rng, th, short(place.name), title=p.title)
        fields = {
            **texts,
            "category": ServiceArea.objects.get(code=p.code),
            "start_month": rules.month_start(call.implement_from),
            "end_month": rules.month_start(call.implement_until),
        }
        if partial:  # still being written: the basics and the need analysis so far
            fields = {k: v for k, v in fields.items() if k not in ("objectives", "approach", "risks")}
        cited = [n for n in needs if n.category_id == fields["category"].pk]
        proposal = services.proposal_save(
            proposal=proposal, by=leader, revision=proposal.revision, fields=fields, places=[place], cited_needs=cited
        )
        if partial:
            return proposal
        return services.proposal_save(
            proposal=proposal,
            by=leader,
            revision=proposal.revision,
            budget_lines=budget_lines(rng, call),
            activities=activity_rows(rng, th, fields["start_month"], fields["end_month"]),
            team=team_rows(rng, leader, leader.name or str(leader)),
            kpis=kpi_rows(rng, th, texts["beneficiaries_direct"]),
        )

    # ---- 资格审查 -----------------------------------------------------------------------------

    def checks(self, spec, call, t):
        """After the close: each proposal checked as the plan says."""
        from grants.models import Proposal
        from grants.services import checks

        manager = self.users[spec.manager]
        for i, p in enumerate(spec.proposals):
            proposal = Proposal.objects.filter(call=call, title=p.title, status="submitted").first()
            if proposal is None or p.status in ("submitted", "resubmitted"):
                continue
            with _on(self.day(t["apply_until"], 3 + i % 3)):
                if p.status == "eligible":
                    checks.proposal_mark_eligible(proposal=proposal, by=manager)
                elif p.status == "ineligible":
                    checks.proposal_mark_ineligible(proposal=proposal, by=manager, reason=p.reason)
                else:
                    deadline = self.today + datetime.timedelta(days=5)
                    checks.proposal_return(proposal=proposal, by=manager, reason=p.reason, deadline=deadline)

    def correct(self, proposal, p: DemoProposal, manager, day):
        """Checked early, while applications are still open: returned for correction, then
        corrected as asked and submitted again (staff compare the two versions)."""
        from grants.services import checks
        from grants.services import proposals as services

        leader = proposal.created_by
        with _on(self.day(day, 2)):
            deadline = self.today + datetime.timedelta(days=5)
            checks.proposal_return(proposal=proposal, by=manager, reason=p.reason, deadline=deadline)
        with _on(self.day(day, 3)):
            proposal.refresh_from_db()
            approach = (
                f"{proposal.approach}每场活动安排在社区党群服务中心，每周三下午两点开展，活动前一周在居民群发布通知。"
            )
            kpis = [
                {"indicator": k.indicator, "target": k.target, "unit": k.unit, "method": f"{k.method}；每季度电话回访"}
                for k in proposal.kpis.all()
            ]
            proposal = services.proposal_save(
                proposal=proposal, by=leader, revision=proposal.revision, fields={"approach": approach}, kpis=kpis
            )
            services.proposal_submit(proposal=proposal, by=leader)

    def publish(self, call, manager, t):
        """The call's CMS page (made with the call), with its announcement, published."""
        from django.core.exceptions import ObjectDoesNotExist

        try:
            page = call.page
        except ObjectDoesNotExist:  # no call index on this site
            return
        page.announcement = ANNOUNCEMENT.format(
            summary=call.summary, until=chinese_date(call.apply_until), organiser=call.organiser
        )
        page.save_revision(user=manager).publish(user=manager, skip_permission_checks=True)


def seed_grants() -> dict:
    """The demo calls, their needs and proposals (those already there are left alone).
    Returns the summary line and the logins worth trying."""
    from grants.models import Need, Proposal

    demo = _Demo(timezone.localdate())
    if not all(c.manager in demo.users and c.moderator in demo.users for c in CALLS):
        return {}  # the accounts step has not run
    with transaction.atomic():
        for spec in CALLS:
            demo.run(spec)
    calls = list(demo.calls.values())
    proposals = Proposal.objects.filter(call__in=calls)
    accounts = []
    draft = proposals.filter(status="draft", created_by__username="shenbao").first()
    if draft:
        accounts.append(("shenbao", "申报单位", f"申报中：{draft.title}（{draft.call.title}）"))
    street = next((c for c in calls if c.level == 3), None)
    if street:
        waiting = proposals.filter(call=street, status="submitted").count()
        accounts.append(("echeng_minzheng", "业务主管（民政）", f"资格审查：{street.title}（待审查 {waiting} 个）"))
    returned = proposals.filter(status="returned").select_related("created_by").first()
    if returned:
        accounts.append((returned.created_by.username, "申报单位", f"退回修改：{returned.title}"))
    needs = Need.objects.filter(call__in=calls).count()
    stages = "、".join(c.get_status_display() for c in sorted(calls, key=lambda c: (c.year, -c.level)))
    summary = f"项目征集 {len(calls)} 个（{stages}），社区需求 {needs} 条，申报项目 {proposals.count()} 个"
    return {"summary": summary, "accounts": accounts}


@hooks.register("register_demo_step", order=50)
def demo_step() -> dict:
    """seed_demo's step for grants (portal.demo), after incubation's."""
    return seed_grants()
