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

from dateutil.relativedelta import relativedelta
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
    PITCH_COMMENTS,
    RETURN_REASONS,
    REVIEW_COMMENTS,
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
    quality: int = 75  # in a reviewed call: the share of full marks its reviewers see in it (%)
    disputed: bool = False  # in a reviewed call: one reviewer scores it far below the others


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
    rules: tuple = ()  # (field, value) of the call's review rules beyond the defaults
    dates: tuple = ()  # (timeline field, days from today) beyond the standard timeline
    review: object = None  # DemoReview: how far its review has gone (grants.demo, 专家评审)

    def title_on(self, today: datetime.date) -> str:
        """The call's title for a demo made `today`: {year} this year, {last} the year its
        applications opened."""
        return self.title.format(year=today.year, last=(today + datetime.timedelta(days=self.apply_from)).year)


RESIDENT, COMMITTEE, GRID = "resident", "committee", "grid"
# the decided call's applications opened 13 months ago: its projects have had a year to run
# (signed, reported on, evaluated mid-term and at the end, one closed 优秀)
FUNDED_APPLY_FROM = -400
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
LIANGZIHU_NEEDS = (
    DemoNeed(
        "420702003001",
        "children",
        "留守儿童周末没人管",
        "梁子社区不少孩子的父母在外务工，周末跟着爷爷奶奶，作业没人辅导，常到湖边玩水。",
        96,
        (COMMITTEE, "梁子社区居委会"),
    ),
    DemoNeed(
        "420702002001",
        "elderly",
        "慢病老人缺少健康指导",
        "东沟社区高血压、糖尿病老人多，平时不按时吃药、不测血压，希望有人定期上门随访。",
        130,
        (GRID, "网格员胡芳"),
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

    def __init__(self, today: datetime.date, calls=CALLS):
        from accounts.models import User
        from orgs.models import Organisation, OrganisationStatus

        self.today = today
        self.specs = calls
        self.users = {
            u.username: u
            for u in User.objects.filter(username__in=[c.manager for c in calls] + [c.moderator for c in calls])
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
        title = spec.title_on(self.today)
        existing = Call.objects.filter(title=title).first()
        if existing is not None:
            self.calls[spec.title] = existing
            return
        from accounts.models import Region

        manager = self.users[spec.manager]
        t = timeline(self.today + datetime.timedelta(days=spec.apply_from))
        t.update({name: self.today + datetime.timedelta(days=days) for name, days in spec.dates})
        if spec.review is not None and spec.review.stage != "decided" and t["implement_from"] <= self.today:
            t["implement_from"] = (self.today + relativedelta(months=1)).replace(day=1)  # not yet under way
            t["implement_until"] = t["implement_from"] + relativedelta(months=12) - datetime.timedelta(days=1)
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
            **dict(spec.rules),
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
        if spec.review is not None:
            self.review(spec, call, t)

    def review(self, spec, call, t):
        """The review stage (the 专家评审 demo, `_ReviewDemo`)."""

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


# ---- 专家评审: the expert pool and four calls from scoring to the decision ------------------------------


@dataclass(frozen=True)
class DemoExpert:
    name: str
    mobile: str  # the login name of a new account
    employer: str
    title: str
    region: str  # region code
    expertise: tuple  # service area codes
    leniency: float = 0.0  # how much above (below) the others this expert scores, as a share of full marks
    username: str = ""  # a demo staff account (accounts.demo) made an expert, else a new account
    affiliations: tuple = ()  # (organisation as orgNN, kind, note)
    paused: str = ""  # why the expert is not drawn for now
    email: str = ""


SIX_ONE = ("elderly", "women", "children", "new_residents", "disabled", "poverty", "central_work")
DEMO_REVIEWER = "zhuanjia_liu"  # the reviewer login the demo prints: work waiting in the blind call
CONFLICT_EXPERT = "13907110104"  # declares a conflict on opening one of hers in the blind call
EXPERTS = (
    DemoExpert("刘文华", "13900000005", "湖北大学社会学院", "副教授", "420700", SIX_ONE, username="zhuanjia_liu"),
    DemoExpert(
        "周敏",
        "13900000006",
        "鄂州市社会工作协会",
        "秘书长",
        "420700",
        ("elderly", "disabled", "central_work", "women"),
        username="zhuanjia_zhou",
    ),
    DemoExpert(
        "陈立新",
        "13907110101",
        "鄂州市社会工作协会",
        "副会长",
        "420700",
        ("elderly", "poverty", "central_work"),
        affiliations=(("org15", "board", "任该协会理事（2023年起）"),),
        email="chenlixin@example.org",
    ),
    DemoExpert(
        "王秀兰",
        "13907110102",
        "鄂州职业大学医护学院",
        "教授",
        "420700",
        ("elderly", "disabled", "children"),
        leniency=-0.13,  # the harsh scorer: her calibration shows it
        email="wangxiulan@example.org",
    ),
    DemoExpert(
        "张志强",
        "13907110103",
        "湖北鄂东律师事务所",
        "合伙人、律师",
        "420704",
        ("central_work", "poverty", "women", "new_residents"),
        affiliations=(("org21", "consultant", "担任该基金会常年法律顾问"),),
    ),
    DemoExpert(
        "李娟",
        "13907110104",
        "鄂州天衡会计师事务所",
        "注册会计师",
        "420700",
        SIX_ONE,
        email="lijuan@example.org",
    ),
    DemoExpert(
        "杨帆",
        "13907110105",
        "鄂州市凤凰街道夕阳红居家养老服务中心",  # the employer is a demo organisation (org03)
        "社工督导",
        "420704001",
        ("elderly", "disabled", "children"),
    ),
    DemoExpert(
        "赵红梅",
        "13907110106",
        "鄂州市妇女儿童活动中心",
        "副主任",
        "420700",
        ("women", "children", "new_residents"),
    ),
    DemoExpert(
        "孙浩",
        "13907110107",
        "共青团鄂州市委青少年发展服务中心",
        "主任",
        "420700",
        ("children", "new_residents", "central_work"),
        leniency=0.10,  # the lenient scorer
    ),
    DemoExpert(
        "吴静",
        "13907110108",
        "湖北大学社会学院",
        "讲师",
        "420700",
        ("new_residents", "central_work", "women", "poverty"),
    ),
    DemoExpert(
        "郑国平",
        "13907110109",
        "鄂州职业大学",
        "副教授",
        "420703",
        ("poverty", "disabled", "elderly"),
        paused="2026年赴恩施挂职一年，暂停参加评审。",
    ),
    DemoExpert(
        "何丽",
        "13907110110",
        "鄂州市残疾人康复中心",
        "康复治疗师",
        "420700",
        ("disabled", "children", "elderly"),
    ),
)


@dataclass(frozen=True)
class DemoObjection:
    name: str
    contact: str
    reason: str
    proposal: str = ""  # the title of the project it concerns (else the lowest-ranked one on the list)
    filed: int = 1  # days after the window opened
    outcome: str = ""  # "" (待处理) | dismiss | uphold
    handling: str = ""
    handled: int = 2  # days after the window opened


@dataclass(frozen=True)
class DemoReview:
    stage: str  # scoring (评分进行中) | pitch (路演答辩当天) | publicity (公示期内) | decided (已批复)
    seed: str  # the draws' seed: the same panels on every fresh demo
    objections: tuple = ()
    pitch_place: str = ""


REVIEW_CALLS = (
    DemoCall(
        "鄂城区{year}年“幸福家园”社区公益创投",
        1,
        "420704",
        "鄂州市鄂城区民政局",
        "echeng_minzheng",
        "echeng_minzheng",
        (600_000, 20_000, 100_000),
        -48,
        "reviewing",
        "鄂城区“幸福家园”社区公益创投，匿名评审：专家看不到申报组织的名称和成员，本地专家回避。",
        rules=(("blind_review", True), ("exclude_local_experts", True), ("panel_size", 5)),
        review=DemoReview("scoring", "幸福家园"),
        proposals=(
            DemoProposal("elderly", "老宝贝·古楼街道长者助餐点", "eligible", org="org15", quality=86),
            DemoProposal("elderly", "夕阳红·凤凰街道居家养老互助", "eligible", org="org03", quality=78),
            DemoProposal("children", "书香·澜湖社区亲子共读", "eligible", org="org26", quality=72),
            DemoProposal("children", "小候鸟·樊口社区四点半课堂", "eligible", org="org16", quality=81),
            DemoProposal("disabled", "同心·泽林镇残障人士康复驿站", "eligible", org="org22", quality=75),
            DemoProposal("new_residents", "新市民·古楼社区邻里融入计划", "eligible", org="org21", quality=69),
        ),
    ),
    DemoCall(
        "鄂州市{year}年“出彩青春”青年公益创投大赛",
        1,
        "420700",
        "共青团鄂州市委、鄂州市民政局",
        "shi_minzheng",
        "shi_minzheng",
        (400_000, 20_000, 80_000),
        -62,
        "reviewing",
        "面向青年社会组织和青年志愿者团队的公益创投大赛：专家评审后，入围项目参加路演答辩，路演得分占30%。",
        rules=(("has_pitch", True), ("pitch_weight", Decimal("30")), ("panel_size", 3)),
        dates=(("pitch_on", 0),),
        review=DemoReview("pitch", "出彩青春", pitch_place="鄂州市青少年宫多功能厅"),
        proposals=(
            DemoProposal("children", "向日葵·青春同行朋辈互助计划", "eligible", org="org04", quality=84),
            DemoProposal("central_work", "青春志愿·红莲湖青年志愿者培育", "eligible", org="org19", quality=79),
            DemoProposal("children", "海马爸比·青年父亲成长营", "eligible", org="org17", quality=73),
            DemoProposal("central_work", "绿水·青年河湖守护志愿行动", "eligible", org="org09", quality=81),
            DemoProposal("central_work", "邻里·寿山社区青年议事会", "eligible", org="org10", quality=64),
        ),
    ),
    DemoCall(
        "华容区{year}年“暖心华容”公益创投项目",
        1,
        "420703",
        "鄂州市华容区民政局",
        "shi_minzheng",
        "shi_minzheng",
        (260_000, 20_000, 80_000),
        -67,
        "reviewing",
        "华容区“暖心华容”公益创投，重点资助为老、助残、困难家庭帮扶和社区治理项目。",
        rules=(("panel_size", 5),),
        review=DemoReview(
            "publicity",
            "暖心华容",
            objections=(
                DemoObjection(
                    "李先生",
                    "13907112468",
                    "该项目申报材料中的志愿者名单与本区另一个项目有多人重复，请核实是否存在同一批人员重复申报的情况。",
                    proposal="银龄·庙岭镇长者食堂",
                    filed=1,
                    outcome="dismiss",
                    handling="经核查，两个项目的志愿者名单中有3人重复，均为社区常驻志愿者，分别参与不同时段的服务，"
                    "不影响项目实施，异议不成立。已电话告知异议人。",
                    handled=2,
                ),
                DemoObjection(
                    "王女士",
                    "wang.nvshi@example.com",
                    "项目写明在高洪村开展，但据我了解该组织此前没有在高洪村开展过活动，请核实项目的可行性和实施地点。",
                    proposal="巾帼·高洪村留守妇女互助小组",
                    filed=2,
                ),
            ),
        ),
        proposals=(
            DemoProposal("elderly", "银龄·庙岭镇长者食堂", "eligible", org="org14", quality=88),
            DemoProposal("disabled", "同心·华容镇残障儿童康复陪伴", "eligible", org="org07", quality=83),
            DemoProposal("poverty", "暖冬·段店社区困难家庭微心愿", "eligible", org="org08", quality=78, disputed=True),
            DemoProposal("women", "巾帼·高洪村留守妇女互助小组", "eligible", org="org20", quality=80),
            DemoProposal("children", "海马爸比·葛店亲子阅读角", "eligible", org="org02", quality=70),
            DemoProposal("central_work", "红色物业·龙王村老旧小区议事会", "eligible", org="org13", quality=65),
            DemoProposal("new_residents", "邻里·段店镇新居民融入计划", "eligible", org="org25", quality=54),
        ),
    ),
    DemoCall(
        "梁子湖区{last}年“生态梁子湖”公益创投项目",
        1,
        "420702",
        "鄂州市梁子湖区民政局",
        "shi_minzheng",
        "shi_minzheng",
        (400_000, 20_000, 80_000),
        FUNDED_APPLY_FROM,
        "reviewing",
        "梁子湖区公益创投：为老服务、留守儿童关爱、困难家庭帮扶和护湖志愿服务。",
        rules=(("panel_size", 3), ("aggregation", "mean")),
        needs=LIANGZIHU_NEEDS,
        review=DemoReview(
            "decided",
            "生态梁子湖",
            objections=(
                DemoObjection(
                    "张先生",
                    "13907113579",
                    "该项目与区残联今年已经资助的同类项目服务内容、服务对象基本相同，存在重复申请财政资金的情况。",
                    filed=2,
                    outcome="uphold",
                    handling="经向区残联核实，该项目与其2026年已立项的“助残康复进家庭”项目服务对象和内容基本一致，"
                    "属重复申报，异议成立，该项目不予立项。已书面告知异议人和申报组织。",
                    handled=4,
                ),
            ),
        ),
        proposals=(
            DemoProposal("elderly", "夕阳红·梁子镇空巢老人探访", "eligible", org="org18", quality=85),
            DemoProposal("children", "小候鸟·梁子社区留守儿童周末课堂", "eligible", org="org01", quality=82),
            DemoProposal("poverty", "暖冬·太和社区困难家庭帮扶", "eligible", org="org23", quality=71),
            DemoProposal("elderly", "健康·东沟社区慢病老人健康管理", "eligible", org="org12", quality=76),
            DemoProposal("new_residents", "新市民·上李村务工家庭融入", "eligible", org="org06", quality=68),
            DemoProposal("central_work", "绿水·毛塘村护湖志愿行动", "eligible", org="org24", quality=57),
        ),
    ),
)
POOL_MANAGER = "shi_minzheng"  # who keeps the expert pool


def _grouped(acts):
    """(day, act) pairs in day order, grouped: one demo clock per day."""
    days: dict = {}
    for day, act in acts:
        days.setdefault(day, []).append(act)
    return sorted(days.items())


class _ReviewDemo(_Demo):
    """The expert pool made through grants.services.experts, then the review calls walked
    through the review, pitch, 公示 and approval services, each act on its own day."""

    def __init__(self, today: datetime.date):
        super().__init__(today, REVIEW_CALLS)
        from accounts.models import User

        self.users.update({u.username: u for u in User.objects.filter(username=POOL_MANAGER)})
        self.made.update({"experts": 0, "scores": 0, "objections": 0})
        self.experts: dict[int, DemoExpert] = {}  # profile id → its plan

    # ---- 专家库 ---------------------------------------------------------------------------------

    def pool(self):
        from accounts.demo import demo_password_hash
        from accounts.models import Region, User
        from grants.models import ExpertProfile
        from grants.services import experts as services
        from orgs.models import ServiceArea

        by = self.users[POOL_MANAGER]
        areas = {a.code: a for a in ServiceArea.objects.filter(code__in=SIX_ONE)}
        orgs = {o.email.split("@")[0]: o for o in self.orgs}
        regions = {r.code: r for r in Region.objects.filter(code__in={e.region for e in EXPERTS})}
        joined = self.today - datetime.timedelta(days=150)
        for i, e in enumerate(EXPERTS):
            account = User.objects.filter(username=e.username or e.mobile).first()
            profile = ExpertProfile.objects.filter(user=account).first() if account else None
            if profile is None:
                if account is None:  # made with the demo password's one hash (expert_create would hash it again)
                    account = User.objects.create(
                        username=e.mobile, mobile=e.mobile, name=e.name, email=e.email, password=demo_password_hash()
                    )
                with _on(joined + datetime.timedelta(days=i)):
                    profile = services.expert_create(
                        by=by,
                        name=e.name,
                        mobile=account.mobile or e.mobile,
                        email=e.email,
                        region=regions[e.region],
                        expertise=[areas[c] for c in e.expertise],
                        affiliations=[
                            {"organisation": orgs[o], "kind": kind, "note": note}
                            for o, kind, note in e.affiliations
                            if o in orgs
                        ],
                        employer=e.employer,
                        title=e.title,
                    )
                if e.paused:
                    with _on(self.today - datetime.timedelta(days=100)):
                        services.expert_pause(expert=profile, by=by, reason=e.paused)
                self.made["experts"] += 1
            self.experts[profile.pk] = e

    # ---- one call's review ------------------------------------------------------------------------

    def review(self, spec, call, t):
        from grants.services import review as services

        manager, plan = self.users[spec.manager], spec.review
        with _on(self.day(t["review_from"])):
            rnd = services.draw_panels(call=call, by=manager, seed=f"demo:{plan.seed}")
        rng = random.Random(f"demo-review:{plan.seed}")
        quality = {p.title: p for p in spec.proposals}
        if plan.stage == "scoring":
            self.scoring(rnd, quality, rng, t)
            return
        self.score_all(rnd, quality, rng, t)
        with _on(self.day(t["review_until"], 1)):
            services.close_round(round=rnd, by=manager)
        if plan.stage == "pitch":
            self.pitch(call, manager, plan, quality, rng, self.day(t["review_until"], 1))
        elif plan.stage in ("publicity", "decided"):
            self.publicity(call, manager, plan, t)

    def _assignments(self, rnd):
        return list(
            rnd.assignments.select_related("expert__user", "proposal", "round__call").order_by(
                "proposal__number", "expert_id"
            )
        )

    def _day(self, t, i: int) -> datetime.date:
        """The i-th reviewer's working day in the review window (never today or later)."""
        first = t["review_from"] + datetime.timedelta(days=1)
        last = min(t["review_until"], self.today - datetime.timedelta(days=1))
        span = max(1, (last - first).days + 1)
        return min(first + datetime.timedelta(days=i % span), last)

    def scoring(self, rnd, plans, rng, t):
        """评分进行中: about half submitted, some drafts, some not yet opened; the demo
        reviewer's first one a draft and the rest waiting; one expert recuses herself (a
        conflict she declares on opening it) and a replacement is drawn."""
        from grants.services import review as services

        # submit, submit, draft, submit, declared only, submit, draft, not yet opened
        pattern = ("submit", "submit", "draft", "submit", "open", "submit", "draft", "wait")
        acts, conflict, reviewer_started = [], False, False
        for i, a in enumerate(self._assignments(rnd)):
            e = self.experts.get(a.expert_id)
            if e is not None and e.username == DEMO_REVIEWER:
                act, reviewer_started = ("wait" if reviewer_started else "draft"), True
            elif e is not None and e.mobile == CONFLICT_EXPERT and not conflict:
                act, conflict = "conflict", True
            else:
                act = pattern[i % len(pattern)]
            acts.append((self._day(t, i), (a, act)))
        for day, items in _grouped(acts):
            with _on(day):
                for a, act in items:
                    user = a.expert.user
                    if act == "wait":
                        continue
                    if act == "conflict":
                        services.declare(
                            assignment=a,
                            by=user,
                            conflict=True,
                            kind="other",
                            note="曾为该项目的前期需求调研提供过指导，申请回避。",
                        )
                        continue
                    services.declare(assignment=a, by=user, conflict=False)
                    plan = plans.get(a.proposal.title)
                    if act == "draft":
                        points, comments, comment = self.points(a, plan, rng)
                        first = dict(list(points.items())[:2])
                        services.save_draft(assignment=a, by=user, points=first, comments={}, comment="")
                    elif act == "submit":
                        self.submit(a, plan, rng)

    def score_all(self, rnd, plans, rng, t):
        """A round every reviewer finished: each declares no conflict and submits; on a
        disputed proposal its first reviewer scores it far below the others."""
        acts, disputed = [], set()
        for i, a in enumerate(self._assignments(rnd)):
            plan = plans.get(a.proposal.title)
            dissent = 0.0
            if plan is not None and plan.disputed and a.proposal_id not in disputed:
                disputed.add(a.proposal_id)
                dissent = -0.3
            acts.append((self._day(t, i), (a, plan, dissent)))
        from grants.services import review as services

        for day, items in _grouped(acts):
            with _on(day):
                for a, plan, dissent in items:
                    services.declare(assignment=a, by=a.expert.user, conflict=False)
                    self.submit(a, plan, rng, dissent=dissent)

    def points(self, a, plan, rng, *, dissent: float = 0.0):
        """The points (criterion → Decimal within its weight) this expert gives this proposal,
        the per-criterion comments and the overall comment."""
        e = self.experts.get(a.expert_id)
        share = (plan.quality if plan else 75) / 100 + (e.leniency if e else 0.0) + dissent
        points = {}
        for c in a.round.rubric():
            x = min(1.0, max(0.25, share + rng.gauss(0, 0.035)))
            points[c["key"]] = (Decimal(str(c["weight"])) * Decimal(f"{x:.3f}")).quantize(Decimal("0.1"))
        bank = "high" if share >= 0.83 else "mid" if share >= 0.66 else "low"
        comments = {}
        if a.round.stage == "pitch":
            comment = rng.choice(PITCH_COMMENTS)
        else:
            comment = rng.choice(REVIEW_COMMENTS[bank])
            if bank != "high" and "budget" in points and rng.random() < 0.5:
                comments["budget"] = "部分单价缺少测算依据，建议按实际采购询价调整。"
        return points, comments, comment

    def submit(self, a, plan, rng, *, dissent: float = 0.0):
        from grants.services import review as services

        points, comments, comment = self.points(a, plan, rng, dissent=dissent)
        services.submit_scores(assignment=a, by=a.expert.user, points=points, comments=comments, comment=comment)
        self.made["scores"] += 1

    # ---- 路演答辩 ----------------------------------------------------------------------------------

    def pitch(self, call, manager, plan, plans, rng, scheduled: datetime.date):
        """The shortlist pitches today: the first two finished and scored by every judge, the
        third being scored, the fourth still to come."""
        from grants.models import Proposal
        from grants.services import review as services

        top = list(
            Proposal.objects.filter(call=call, status="reviewed", review_score__gte=call.min_fundable_score).order_by(
                "rank", "pk"
            )[:4]
        )
        start = timezone.make_aware(datetime.datetime.combine(self.today, datetime.time(8, 30)))
        slots = {p.pk: (start + datetime.timedelta(minutes=40 * i), plan.pitch_place) for i, p in enumerate(top)}
        with _on(scheduled):
            rnd = services.schedule_pitch(
                call=call, by=manager, slots=slots, panel_size=5, seed=f"demo:{plan.seed}:路演"
            )
        order = {p.pk: i for i, p in enumerate(top)}
        judged: dict[int, int] = {}
        with _on(self.today):
            for a in sorted(self._assignments(rnd), key=lambda a: (order[a.proposal_id], a.expert_id)):
                slot = order[a.proposal_id]
                if slot >= 3:  # still to come
                    continue
                services.declare(assignment=a, by=a.expert.user, conflict=False)
                n = judged.get(a.proposal_id, 0)
                judged[a.proposal_id] = n + 1
                if slot < 2 or n < 2:
                    self.submit(a, plans.get(a.proposal.title), rng)
                elif n == 2:  # being scored
                    points, _comments, _comment = self.points(a, plans.get(a.proposal.title), rng)
                    services.save_draft(assignment=a, by=a.expert.user, points=dict(list(points.items())[:1]))

    # ---- 立项公示, 异议 and 批复 -----------------------------------------------------------------------

    def publicity(self, call, manager, plan, t):
        """The award list published for 公示 on the timeline's first day of it (7 days), the
        objections filed and handled on their days, and for a decided call the approval the
        day after the window closed."""
        from grants.services import award
        from grants.services import publicity as services

        opens = t["publicity_from"]
        with _on(opens):
            shortlist = award.publish_shortlist(call=call, by=manager, opens_on=opens, days=7)
        listed = {r["title"]: r["proposal"] for r in shortlist.rows}
        last = max(shortlist.rows, key=lambda r: r["rank"])["proposal"]
        for n, o in enumerate(plan.objections, start=1):
            with _on(self.day(opens, o.filed)):
                objection = services.file_objection(
                    publicity=shortlist,
                    name=o.name,
                    contact=o.contact,
                    reason=o.reason,
                    proposal=listed.get(o.proposal, last),
                    client=services.client_hash(f"demo:{plan.seed}:{n}"),
                )
            self.made["objections"] += 1
            if o.outcome:
                with _on(self.day(opens, o.handled)):
                    handle = services.objection_uphold if o.outcome == "uphold" else services.objection_dismiss
                    handle(objection=objection, by=manager, reason=o.handling)
        if plan.stage == "decided":
            with _on(self.day(shortlist.closes_on, 1)):
                award.approve_call(call=call, by=manager)


def seed_review() -> dict:
    """The expert pool and the review calls (those already there are left alone): one being
    scored (blind), one pitching today, one in 公示 with objections, one decided. Returns
    the summary line and the logins worth trying."""
    from grants.models import Assignment, AssignmentStatus, ExpertProfile, Objection

    demo = _ReviewDemo(timezone.localdate())
    needed = {c.manager for c in REVIEW_CALLS} | {POOL_MANAGER}
    if not needed <= set(demo.users) or not demo.orgs:
        return {}  # the accounts or organisations step has not run
    with transaction.atomic():
        demo.pool()
        for spec in REVIEW_CALLS:
            demo.run(spec)
    calls = list(demo.calls.values())
    scores = Assignment.objects.filter(round__call__in=calls, status=AssignmentStatus.SUBMITTED).count()
    objections = Objection.objects.filter(publicity__call__in=calls).count()
    paused = ExpertProfile.objects.filter(available=False).count()
    stages = "、".join(
        "路演答辩" if c.has_pitch and c.status == "reviewing" else c.get_status_display()
        for c in sorted(calls, key=lambda c: c.apply_from, reverse=True)
    )
    summary = (
        f"专家评审：征集 {len(calls)} 个（{stages}），评审专家 {ExpertProfile.objects.count()} 位"
        f"（暂停 {paused} 位），已提交评分 {scores} 份，公示异议 {objections} 件"
    )
    accounts = []
    blind = next((c for c in calls if c.blind_review), None)
    if blind:
        waiting = Assignment.objects.filter(
            round__call=blind, expert__user__username=DEMO_REVIEWER, status__in=("assigned", "scoring")
        ).count()
        accounts.append((DEMO_REVIEWER, "评审专家", f"待评分 {waiting} 个：{blind.title}（匿名评审）"))
        accounts.append(("echeng_minzheng", "业务主管（民政）", f"评审进度、催办：{blind.title}"))
    for c in calls:
        if c.has_pitch and c.status == "reviewing":
            accounts.append(("shi_minzheng", "业务主管（民政）", f"路演答辩、排名：{c.title}"))
        elif c.status == "publicising":
            accounts.append(("shi_minzheng", "业务主管（民政）", f"立项公示、处理异议：{c.title}"))
    return {"summary": summary, "accounts": accounts}


@hooks.register("register_demo_step", order=55)
def review_demo_step() -> dict:
    """seed_demo's step for the review stage, after the grants step."""
    return seed_review()


# ---- 项目实施: the decided call's projects signed, paid, reported on and evaluated -------------------


def funded_call_title(today: datetime.date) -> str:
    """The title of the decided review call, whose projects the funding demo carries
    through (its applications opened FUNDED_APPLY_FROM days before `today`)."""
    return next(c for c in REVIEW_CALLS if c.review.stage == "decided").title_on(today)


FINANCE_USER = "caiwu"  # accounts.demo: 市民政局财务科
DEMO_BANK_ACCOUNT = "6222 0211 0203 4567 {n:03d}"
# the stages, best ranked first; the approved projects beyond them stay waiting for their agreement
FUNDING_STAGES = ("closed", "signed", "suspended", "terminated")


class _FundingDemo:
    """The decided call's approved projects taken through the agreement, tranche, report and
    evaluation services, each act on its own day between the approval and today."""

    def __init__(self, today: datetime.date):
        from accounts.models import User

        self.today = today
        self.users = {u.username: u for u in User.objects.filter(username__in=(POOL_MANAGER, FINANCE_USER))}
        self.made = {"projects": 0}

    def at(self, share: float) -> datetime.date:
        """The day `share` of the way from the approval to today (never after today)."""
        return min(self.start + datetime.timedelta(days=round(self.span * share)), self.today)

    def fresh(self, proposal):
        from grants.models import Proposal

        return Proposal.objects.select_related("call__region", "organisation").get(pk=proposal.pk)

    def leader(self, proposal):
        return proposal.organisation.memberships.select_related("user").get(role="leader").user

    def evaluate(self, proposal, kind, total, comment, **submit):
        from grants.models import Evaluation
        from grants.services import evaluations

        manager = self.users[POOL_MANAGER]
        ev = evaluations.evaluation_start(proposal=self.fresh(proposal), kind=kind, by=manager)
        ev = Evaluation.objects.select_related("proposal__call__region", "proposal__organisation").get(pk=ev.pk)
        return evaluations.evaluation_submit(
            evaluation=ev,
            by=manager,
            points=evaluations.points_for_total(proposal.call, total),
            comment=comment,
            **submit,
        )

    def pay(self, proposal, gate, n):
        from grants.models import Tranche
        from grants.services.tranches import tranche_release

        t = Tranche.objects.get(proposal=proposal, gate=gate)
        tranche_release(
            tranche=t,
            by=self.users[FINANCE_USER],
            paid_on=timezone.localdate(),
            voucher_no=f"记-{timezone.localdate():%Y%m}-{t.pk:04d}",
            bank_account=DEMO_BANK_ACCOUNT.format(n=n),
        )

    def report(self, proposal, period, start, end, share, *, review="", public="", photos=(), reached="0"):
        """A progress report spending `share` of the money released so far on the grant lines,
        with `public` (the text for the project's public page), `photos` ((caption, public)
        pairs, drawn scenes) and each KPI at `reached` of its target so far."""
        from grants.demo_photos import activity_photo
        from grants.models import FundingSource, ProgressReport
        from grants.services import reports
        from grants.services.evaluations import released_total

        p = self.fresh(proposal)
        leader = self.leader(p)
        line = p.budget_lines.filter(source=FundingSource.GRANT).order_by("position", "pk").first()
        spent = (released_total(p) * Decimal(str(share))).quantize(Decimal("1"))
        r = reports.report_start(proposal=p, by=leader, period=period, period_start=start, period_end=end)
        r = ProgressReport.objects.get(pk=r.pk)
        reports.report_save(
            report=r,
            by=leader,
            fields={
                "narrative": f"{period}按实施方案开展服务活动，服务对象反馈良好，活动照片和签到表已归档。",
                "beneficiaries": round(p.beneficiaries_direct * float(share)),  # served in the period, for 数据统计
                "public_text": public,
                "activities_held": max(1, round(12 * float(share))),
                "participants": round(p.beneficiaries_direct * float(share) * 1.5),
            },
            spending={str(line.pk): str(spent)} if line else {},
            kpi_progress={str(k.pk): str(round(k.target * Decimal(reached))) for k in p.kpis.all()},
            new_photos=[
                {"upload": activity_photo(r.pk * 7 + i, f"activity-{r.pk}-{i}.jpg"), "caption": c, "public": pub}
                for i, (c, pub) in enumerate(photos)
            ],
        )
        reports.report_submit(report=ProgressReport.objects.get(pk=r.pk), by=leader)
        if review:
            reports.report_review(
                report=ProgressReport.objects.get(pk=r.pk), by=self.users[POOL_MANAGER], comment=review
            )

    def sign(self, proposal, n):
        """The agreement drawn up, confirmed by the organisation's 负责人 and by the call manager,
        and the first tranche paid: the project under way."""
        from grants.models import Agreement
        from grants.services import agreements

        manager, p = self.users[POOL_MANAGER], self.fresh(proposal)
        with _on(self.at(0.03)):
            agreement = agreements.agreement_draw_up(proposal=p, by=manager)
        with _on(self.at(0.06)):
            agreements.agreement_confirm_by_org(agreement=Agreement.objects.get(pk=agreement.pk), by=self.leader(p))
        with _on(self.at(0.09)):
            agreements.agreement_confirm_by_funder(agreement=Agreement.objects.get(pk=agreement.pk), by=manager)
        with _on(self.at(0.12)):
            self.pay(p, "signed", n)

    def run(self, call) -> None:
        from grants.models import Agreement, Proposal
        from grants.services import evaluations

        approved = list(Proposal.objects.filter(call=call, status="approved").order_by("rank", "pk"))
        if Agreement.objects.filter(proposal__call=call).exists() or len(approved) < len(FUNDING_STAGES):
            return  # done before (or too few projects to show the stages)
        self.start = timezone.localtime(max(p.decided_at for p in approved if p.decided_at)).date()
        self.span = max(1, (self.today - self.start).days)
        at = self.at
        for n, (stage, p) in enumerate(zip(FUNDING_STAGES, approved, strict=False), start=1):
            self.sign(p, n)
            first = at(0.12)
            if stage == "signed":  # just under way: the first report in, not yet read
                with _on(self.today):
                    self.report(
                        p,
                        "第一阶段",
                        first,
                        self.today,
                        "0.3",
                        public=f"“{p.title}”启动以来，已完成服务对象走访建档，首批活动陆续开展。",
                        photos=[("项目启动仪式", True)],
                        reached="0.15",
                    )
            elif stage == "suspended":  # the mid-term failed today: rectification within 30 days
                with _on(at(0.5)):
                    self.report(p, "第一阶段", first, at(0.5), "0.5", review="已阅，请按计划推进。")
                with _on(self.today):
                    self.evaluate(p, "mid_term", 52, "活动开展次数不足计划的一半，服务对象签到资料不全，请限期整改。")
            elif stage == "terminated":  # failed, failed again: terminated, money clawed back, banned
                with _on(at(0.2)):
                    self.report(p, "第一阶段", first, at(0.2), "0.25")
                with _on(at(0.3)):
                    self.evaluate(p, "mid_term", 48, "活动大多未按计划开展，资金使用缺少凭证，请限期整改。")
                with _on(at(0.7)):
                    self.evaluate(
                        p,
                        "mid_term",
                        40,
                        "整改期满仍未开展活动，部分支出无法提供合规凭证。",
                        serious_breach=True,
                        reason="整改期满复评仍不合格，且存在虚报活动、资金挪作他用的严重违约行为",
                    )
            else:  # closed: mid-term passed, all three tranches paid, graded 优秀, unspent money returned
                with _on(at(0.3)):
                    self.report(
                        p,
                        "第一阶段",
                        first,
                        at(0.3),
                        "0.9",
                        review="进展顺利。",
                        public="第一阶段共开展集中活动12场、入户走访86户次，志愿者队伍扩大到30人。",
                        photos=[("社区集中活动现场", True), ("入户走访（服务对象未授权公开）", False)],
                        reached="0.55",
                    )
                with _on(at(0.35)):
                    self.evaluate(p, "mid_term", 86, "活动按计划开展，资料齐全，服务对象满意度高。")
                with _on(at(0.4)):
                    self.pay(p, "mid_term", n)
                with _on(at(0.75)):
                    self.report(
                        p,
                        "第二阶段",
                        at(0.4),
                        at(0.75),
                        "0.6",
                        review="已阅。",
                        public="第二阶段形成了志愿者轮值和居民议事两项常态机制，服务对象满意度96%。",
                        photos=[("志愿者服务队合影", True)],
                        reached="1.04",
                    )
                with _on(at(0.8)):
                    self.evaluate(p, "final", 93, "项目目标全部达成，社区反响好，形成了可复制的服务模式。")
                with _on(at(0.85)):
                    self.pay(p, "final", n)
                with _on(at(0.9)):
                    self.close(p)
            self.made["projects"] += 1
        with _on(self.today):  # the closed project's grade goes public (评估结果公示)
            evaluations.publish_evaluation_results(call=call, by=self.users[POOL_MANAGER])

    def close(self, proposal):
        from grants.selectors.reports import reported_spending
        from grants.services import evaluations

        p = self.fresh(proposal)
        released = evaluations.released_total(p)
        unspent = released - min(reported_spending(p), released)
        evaluations.project_close(proposal=p, by=self.users[POOL_MANAGER], returned_amount=str(unspent))


def seed_funding() -> dict:
    """The decided review call's approved projects at every stage of funding and evaluation
    (left alone once any of them has an agreement). Returns the summary line and logins."""
    from grants.models import Call, Proposal

    demo = _FundingDemo(timezone.localdate())
    call = Call.objects.filter(title=funded_call_title(demo.today), status="decided").first()
    if call is None or set(demo.users) != {POOL_MANAGER, FINANCE_USER}:
        return {}  # the review step (or the accounts step) has not run
    with transaction.atomic():
        demo.run(call)
    funded = ("approved", "agreement_signed", "in_progress", "suspended", "mid_term_passed", "final_evaluated")
    projects = Proposal.objects.filter(call=call, status__in=(*funded, "closed", "terminated")).order_by("rank", "pk")
    counts: dict = {}
    for p in projects:
        counts[p.get_status_display()] = counts.get(p.get_status_display(), 0) + 1
    stages = "、".join(f"{k} {v} 个" for k, v in counts.items())
    return {
        "summary": f"项目实施：{call.title}（{stages}）",
        "accounts": [
            (FINANCE_USER, "财务", f"拨付资金：{call.title}"),
            (POOL_MANAGER, "业务主管（民政）", f"协议、进度报告、中期/末期评估、结项：{call.title}"),
        ],
    }


@hooks.register("register_demo_step", order=60)
def funding_demo_step() -> dict:
    """seed_demo's step for funding and evaluation, after the review step."""
    return seed_funding()
