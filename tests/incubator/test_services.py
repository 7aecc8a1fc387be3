"""The incubation lifecycle, driven through incubator.services as the operator's admin and
the organisation's screens do.

Each action: who may run it (an operator whose region holds the base, never an auditor, a
业务主管 without the operating permission, the organisation itself, an operator of another
street, or a street operator on the city base), what the database holds afterwards (the
status, one audit row with who/from/to/why, the base's counters) and who hears about it.
Refusals change nothing."""

import datetime
import threading
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django_fsm_log.models import StateLog

from accounts.roles import Role
from core.models import Notification
from core.workdays import add_workdays
from core.workflow import CREATED, WorkflowError
from incubator import services
from incubator.models import (
    BaseLevel,
    CapacityAssessment,
    Incubation,
    IncubationBase,
    IncubationStatus,
    Promotion,
    PromotionState,
    Residence,
    ServiceLog,
)
from orgs.models import LegalChangeRequest, Membership, Organisation, OrgType
from tests.factories import applicant, make_uscc, organisation_with_leader, staff
from tests.incubator.factories import IncubationBaseFactory, incubation_at

S = IncubationStatus
REJECT_REASON = "服务方向与本基地不符。"
WITHDRAW_REASON = "组织迁往外地。"
GOOD_SCORES = {"governance": 80, "finance": 75, "projects": 85, "team": 70, "resources": 72}


# ---- the world: 市级基地 → 凤凰街道工作站 → 凤凰社区工作室 --------------------------------------------


@pytest.fixture
def world(regions):
    city = IncubationBaseFactory(
        name="鄂州市共益园", level=BaseLevel.CITY, region=regions["city"], desks=10, virtual_places=10
    )
    street = IncubationBaseFactory(
        name="凤凰街道共享工作站", level=BaseLevel.STREET, region=regions["fenghuang"], parent=city
    )
    studio = IncubationBaseFactory(
        name="凤凰社区共享工作室", level=BaseLevel.COMMUNITY, region=regions["fenghuang_c"], parent=street
    )
    return SimpleNamespace(
        city=city,
        street=street,
        studio=studio,
        city_operator=staff(Role.BASE_OPERATOR, regions["city"], name="共益园运营"),
        operator=staff(Role.BASE_OPERATOR, regions["fenghuang"], name="凤凰站运营"),
        studio_operator=staff(Role.BASE_OPERATOR, regions["fenghuang_c"], name="凤凰社区运营"),
        regions=regions,
    )


@pytest.fixture
def org():
    """A registered organisation with a 负责人 and a 项目联系人."""
    org, _leader = organisation_with_leader()
    Membership.objects.create(organisation=org, user=applicant(), role=Membership.Role.CONTACT)
    return org


def member(org, role):
    return org.memberships.get(role=role).user


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def logs_for(obj):
    """The transitions' rows of an object's history (its creation row aside)."""
    logs = StateLog.objects.for_(obj).exclude(transition=CREATED).order_by("pk")
    return [(log.by, log.source_state, log.state, log.description) for log in logs]


def inbox(user):
    return list(Notification.objects.filter(recipient=user).order_by("pk").values_list("title", flat=True))


def snapshot(inc):
    """Everything an action on `inc` could change."""
    inc = fresh(inc)
    base = fresh(inc.base)
    org = fresh(inc.organisation)
    return {
        "incubation": (inc.status, inc.status_reason, inc.screened_on, inc.ends_on, inc.extension_count),
        "incubation_more": (inc.residence, inc.graduated_on, inc.withdrawn_on, inc.handback_due),
        "base": (base.desks_used, base.virtual_used),
        "org": (org.org_type, org.uscc),
        "logs": StateLog.objects.count(),
        "notifications": Notification.objects.count(),
        "service_logs": ServiceLog.objects.count(),
        "assessments": list(CapacityAssessment.objects.values_list("pk", "total")),
        "promotions": list(Promotion.objects.values_list("pk", "state", "result")),
        "incubations": Incubation.objects.count(),
        "change_requests": LegalChangeRequest.objects.count(),
    }


# ---- every action, as a table: (status it starts from, status it leads to, call, logged reason) ---


def _screen_accept(inc, by):
    services.incubation_screen(incubation=inc, by=by, accept=True)


def _screen_reject(inc, by):
    services.incubation_screen(incubation=inc, by=by, accept=False, reason=REJECT_REASON)


def _admit(inc, by):
    services.incubation_admit(incubation=inc, by=by, residence=Residence.DESK, desk_label="A-01")


def _begin(inc, by):
    services.incubation_begin(incubation=inc, by=by)


def _mid_start(inc, by):
    services.incubation_mid_review_start(incubation=inc, by=by)


def _mid_pass(inc, by):
    services.incubation_mid_review_pass(incubation=inc, by=by, reason="中期评估达标。")


def _extend(inc, by):
    services.incubation_extend(incubation=inc, by=by, new_end=datetime.date(2099, 12, 31), reason="项目尚在进行中。")


def _graduate(inc, by, **registration):
    """出壳 with the checklist ticked; `registration` may untick it or add new_org_type/new_uscc."""
    checklist = {"registered": True, "governance": True, "project": True} | registration
    services.incubation_graduate(incubation=inc, by=by, **checklist)


def _withdraw(inc, by):
    services.incubation_withdraw(incubation=inc, by=by, reason=WITHDRAW_REASON)


TRANSITIONS = [
    pytest.param(S.APPLIED, S.SCREENED, _screen_accept, None, id="screen_accept"),
    pytest.param(S.APPLIED, S.REJECTED, _screen_reject, REJECT_REASON, id="screen_reject"),
    pytest.param(S.SCREENED, S.ADMITTED, _admit, "签订入驻协议，实体入驻（工位）", id="admit"),
    pytest.param(S.ADMITTED, S.IN_INCUBATION, _begin, None, id="begin"),
    pytest.param(S.IN_INCUBATION, S.MID_REVIEW, _mid_start, None, id="mid_review_start"),
    pytest.param(S.MID_REVIEW, S.IN_INCUBATION, _mid_pass, "中期评估达标。", id="mid_review_pass"),
    pytest.param(S.IN_INCUBATION, S.EXTENDED, _extend, "项目尚在进行中。（续驻至2099年12月31日）", id="extend"),
    pytest.param(S.IN_INCUBATION, S.GRADUATED, _graduate, "出壳清单全部满足", id="graduate"),
    pytest.param(S.IN_INCUBATION, S.WITHDRAWN, _withdraw, WITHDRAW_REASON, id="withdraw"),
]


def incubation_for(base, org, status, operator, call=None):
    """`org` at `base` in `status`, walked there by `operator`; a graduation gets the
    assessment it needs first."""
    inc = incubation_at(base, org, status, by=operator)
    if call is _graduate:
        services.assessment_record(incubation=inc, by=operator, stage="graduation", scores=GOOD_SCORES)
    return fresh(inc)


@pytest.mark.django_db
@pytest.mark.parametrize("where", ["street", "studio"])
@pytest.mark.parametrize(("source", "target", "call", "reason"), TRANSITIONS)
def test_transition_by_an_operator_in_scope_is_logged_once_and_told_to_the_organisation(
    world, org, where, source, target, call, reason
):
    """The street's operator acts on the street workstation and on the studio below it."""
    base = getattr(world, where)
    inc = incubation_for(base, org, source, world.operator, call)
    logs_before = logs_for(inc)
    inboxes_before = {m.user: inbox(m.user) for m in org.memberships.all()}

    call(inc, world.operator)

    assert fresh(inc).status == target
    assert logs_for(inc) == [*logs_before, (world.operator, source, target, reason)]
    for user, before in inboxes_before.items():
        assert len(inbox(user)) == len(before) + 1, user


@pytest.mark.django_db
@pytest.mark.parametrize(("source", "target", "call", "reason"), TRANSITIONS)
def test_a_transition_from_the_wrong_status_says_which_and_changes_nothing(world, org, source, target, call, reason):
    wrong = S.GRADUATED if source == S.APPLIED else S.APPLIED
    inc = incubation_for(world.street, org, wrong, world.operator)
    before = snapshot(inc)
    with pytest.raises(WorkflowError, match=f"当前状态为“{wrong.label}”，不能执行“"):
        call(inc, world.operator)
    assert snapshot(inc) == before


def _service_log(inc, by):
    services.service_log_add(
        incubation=inc, by=by, kind="training", title="财务制度培训", date=datetime.date(2026, 3, 10), hours="2.5"
    )


def _assess(inc, by):
    services.assessment_record(incubation=inc, by=by, stage="mid", scores=GOOD_SCORES)


def _recommend(inc, by):
    services.promotion_recommend(incubation=inc, by=by, reason="项目成效突出，建议街道层面扶持。")


ACTIONS = [
    *TRANSITIONS,
    pytest.param(S.IN_INCUBATION, S.IN_INCUBATION, _service_log, None, id="service_log_add"),
    pytest.param(S.IN_INCUBATION, S.IN_INCUBATION, _assess, None, id="assessment_record"),
    pytest.param(S.IN_INCUBATION, S.IN_INCUBATION, _recommend, None, id="promotion_recommend"),
]
WRONG_ACTORS = ["auditor", "call_manager", "contact", "leader", "other_street_operator", "anonymous"]


def wrong_actor(kind, world, org):
    return {
        "auditor": lambda: staff(Role.AUDITOR, world.regions["fenghuang"]),
        "call_manager": lambda: staff(Role.CALL_MANAGER, world.regions["fenghuang"]),
        "contact": lambda: member(org, Membership.Role.CONTACT),
        "leader": lambda: member(org, Membership.Role.LEADER),
        "other_street_operator": lambda: staff(Role.BASE_OPERATOR, world.regions["gulou"]),
        "anonymous": AnonymousUser,
    }[kind]()


# the 负责人 may withdraw the organisation (tested below); nobody else on this list may act
REFUSALS = [
    pytest.param(actor, action.values[0], action.values[2], id=f"{action.id}-{actor}")
    for action in ACTIONS
    for actor in WRONG_ACTORS
    if not (action.values[2] is _withdraw and actor == "leader")
]


@pytest.mark.django_db
@pytest.mark.parametrize(("actor", "source", "call"), REFUSALS)
def test_action_by_the_wrong_role_or_region_is_refused_and_changes_nothing(world, org, actor, source, call):
    inc = incubation_for(world.street, org, source, world.operator, call)
    before = snapshot(inc)
    with pytest.raises(PermissionDenied):
        call(inc, wrong_actor(actor, world, org))
    assert snapshot(inc) == before


@pytest.mark.django_db
@pytest.mark.parametrize(("source", "target", "call", "reason"), ACTIONS)
def test_a_street_operator_may_not_act_on_the_city_base(world, org, source, target, call, reason):
    inc = incubation_for(world.city, org, source, world.city_operator, call)
    before = snapshot(inc)
    with pytest.raises(PermissionDenied):
        call(inc, world.operator)
    assert snapshot(inc) == before


# ---- application ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_preparing_group_applies_with_the_profile_it_already_has(world):
    group, leader = organisation_with_leader(name="澜湖社区老宝贝互助队（筹）", org_type=OrgType.PREPARING, uscc=None)

    inc = services.incubation_apply(
        base=world.studio,
        organisation=group,
        by=leader,
        plan="  为独居老人组织每周两次上门陪伴。  ",
        member_count=6,
        needs="需要活动场地和财务指导",
        requested_services=["space", "registration"],
        wants_desk=False,
    )

    inc = fresh(inc)
    today = services._today()
    assert (inc.status, inc.organisation, inc.applied_by, inc.applied_on) == (S.APPLIED, group, leader, today)
    assert inc.screening_due == add_workdays(today, 5)
    assert (inc.plan, inc.member_count, inc.requested_services) == (
        "为独居老人组织每周两次上门陪伴。",
        6,
        ["space", "registration"],
    )
    # the profile is not copied: the application reads it from the organisation
    profile = {"name", "org_type", "uscc", "address", "legal_representative", "contact_name", "contact_phone"}
    assert not profile & {f.name for f in Incubation._meta.get_fields()}
    Organisation.objects.filter(pk=group.pk).update(contact_phone="13900000001")
    assert fresh(inc).organisation.contact_phone == "13900000001"
    # the operators of the studio and of every level above hear of it; so does the group
    for operator in (world.studio_operator, world.operator, world.city_operator):
        assert inbox(operator) == ["新的入驻申请：澜湖社区老宝贝互助队（筹）"]
    assert inbox(leader) == ["入驻申请已提交：凤凰社区共享工作室"]


@pytest.mark.django_db
def test_the_contact_may_apply_but_a_finance_member_an_operator_and_an_anonymous_user_may_not(world, org):
    finance = applicant()
    Membership.objects.create(organisation=org, user=finance, role=Membership.Role.FINANCE)
    for user in (finance, world.operator, AnonymousUser()):
        with pytest.raises(PermissionDenied):
            services.incubation_apply(base=world.street, organisation=org, by=user, plan="助老服务")
    assert not Incubation.objects.exists()
    inc = services.incubation_apply(
        base=world.street, organisation=org, by=member(org, Membership.Role.CONTACT), plan="助老服务"
    )
    assert inc.status == S.APPLIED


@pytest.mark.django_db
def test_a_second_open_application_to_the_same_base_is_refused_until_the_first_is_closed(world, org):
    leader = member(org, Membership.Role.LEADER)
    first = services.incubation_apply(base=world.street, organisation=org, by=leader, plan="助老服务")
    with pytest.raises(ValidationError, match="已有进行中的入驻申请或入驻记录，不能重复申请"):
        services.incubation_apply(base=world.street, organisation=org, by=leader, plan="再申请一次")
    assert Incubation.objects.count() == 1
    # another base is another matter
    services.incubation_apply(base=world.studio, organisation=org, by=leader, plan="社区层面的助老服务")
    # once the first is rejected, the organisation may apply again
    services.incubation_screen(incubation=first, by=world.operator, accept=False, reason=REJECT_REASON)
    again = services.incubation_apply(base=world.street, organisation=org, by=leader, plan="调整后的服务方案")
    assert again.status == S.APPLIED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"plan": "   "}, "plan", "请说明入驻后打算开展的服务"),
        ({"requested_services": ["space", "catering"]}, "requested_services", "申请的服务项目无效"),
        ({"member_count": 0}, "member_count", "成员人数至少为1人"),
    ],
)
def test_an_incomplete_application_is_refused_with_the_field_named(world, org, kwargs, field, message):
    data = {"plan": "助老服务"} | kwargs
    with pytest.raises(ValidationError) as exc:
        services.incubation_apply(base=world.street, organisation=org, by=member(org, "leader"), **data)
    assert message in exc.value.message_dict[field][0]
    assert not Incubation.objects.exists()


@pytest.mark.django_db
def test_a_closed_base_takes_no_applications(world, org):
    IncubationBase.objects.filter(pk=world.street.pk).update(is_active=False)
    with pytest.raises(ValidationError, match="暂不接受入驻申请"):
        services.incubation_apply(base=fresh(world.street), organisation=org, by=member(org, "leader"), plan="助老")


# ---- screening -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_rejection_without_a_reason_is_refused_and_changes_nothing(world, org):
    inc = incubation_at(world.street, org, S.APPLIED, by=world.operator)
    before = snapshot(inc)
    with pytest.raises(WorkflowError, match="初审不通过时请填写理由"):
        services.incubation_screen(incubation=inc, by=world.operator, accept=False, reason="  ")
    assert snapshot(inc) == before


@pytest.mark.django_db
def test_the_rejection_reason_reaches_the_organisation(world, org):
    inc = incubation_at(world.street, org, S.APPLIED, by=world.operator)
    services.incubation_screen(incubation=inc, by=world.operator, accept=False, reason=REJECT_REASON)
    inc = fresh(inc)
    assert (inc.status, inc.status_reason, inc.screened_on) == (S.REJECTED, REJECT_REASON, services._today())
    notice = Notification.objects.filter(recipient=member(org, "leader")).order_by("-pk").first()
    assert notice.title == "入驻申请未通过初审：凤凰街道共享工作站"
    assert REJECT_REASON in notice.body


@pytest.mark.django_db
def test_screening_twice_is_refused_with_the_current_status(world, org):
    inc = incubation_at(world.street, org, S.SCREENED, by=world.operator)
    before = snapshot(inc)
    with pytest.raises(WorkflowError, match="当前状态为“初审通过”，不能执行“初审不通过”"):
        services.incubation_screen(incubation=inc, by=world.operator, accept=False, reason=REJECT_REASON)
    assert snapshot(inc) == before


@pytest.mark.django_db
def test_columns_written_by_one_step_survive_the_next_step_on_the_same_instance(world, org):
    """A transition saves the whole row: what screening wrote must not be reset by admission."""
    inc = incubation_at(world.street, org, S.APPLIED, by=world.operator)
    services.incubation_screen(incubation=inc, by=world.operator, accept=True)
    services.incubation_admit(incubation=inc, by=world.operator, residence=Residence.DESK, desk_label="A-01")
    services.incubation_begin(incubation=inc, by=world.operator)
    inc = fresh(inc)
    assert inc.screened_on == services._today()
    assert (inc.residence, inc.desk_label, inc.starts_on) == (Residence.DESK, "A-01", services._today())


# ---- admission and capacity -----------------------------------------------------------------------


@pytest.mark.django_db
def test_admission_signs_the_agreement_and_takes_a_desk(world, org):
    inc = incubation_at(world.street, org, S.SCREENED, by=world.operator)
    start = datetime.date(2026, 3, 2)
    services.incubation_admit(
        incubation=inc, by=world.operator, residence=Residence.DESK, desk_label=" B-203 ", starts_on=start
    )
    inc = fresh(inc)
    assert (inc.status, inc.residence, inc.desk_label) == (S.ADMITTED, Residence.DESK, "B-203")
    assert (inc.starts_on, inc.ends_on) == (start, datetime.date(2028, 3, 2))  # 24 months by default
    assert inc.agreement_no == f"RZ2026-{world.street.pk:03d}-001"
    assert (fresh(world.street).desks_used, fresh(world.street).virtual_used) == (1, 0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"residence": ""}, "请选择入驻方式"), ({"residence": Residence.DESK, "desk_label": " "}, "请填写工位或房间号")],
)
def test_admission_without_residence_or_desk_is_refused(world, org, kwargs, message):
    inc = incubation_at(world.street, org, S.SCREENED, by=world.operator)
    before = snapshot(inc)
    with pytest.raises(ValidationError, match=message):
        services.incubation_admit(incubation=inc, by=world.operator, **kwargs)
    assert snapshot(inc) == before


@pytest.fixture
def small_base(world):
    """A studio with 2 desks and 1 virtual place, 2 desks already taken."""
    base = IncubationBaseFactory(
        name="雷山社区共享工作室", level=BaseLevel.COMMUNITY, region=world.regions["fenghuang_c"], parent=world.street
    )
    IncubationBase.objects.filter(pk=base.pk).update(desks=2, virtual_places=1)
    base = fresh(base)
    for _ in range(2):
        incubation_at(base, status=S.ADMITTED, by=world.operator)
    assert fresh(base).desks_used == 2
    return base


@pytest.mark.django_db
def test_admitting_a_third_to_two_desks_is_refused_and_changes_nothing(world, small_base):
    third = incubation_at(small_base, status=S.SCREENED, by=world.operator)
    before = snapshot(third)
    with pytest.raises(WorkflowError, match="雷山社区共享工作室的实体工位已满，无法入驻"):
        services.incubation_admit(incubation=third, by=world.operator, residence=Residence.DESK, desk_label="A-03")
    assert snapshot(third) == before
    assert fresh(third).status == S.SCREENED
    assert fresh(small_base).desks_used == 2
    assert [log[2] for log in logs_for(third)] == [S.SCREENED]  # no 入壳 row

    # virtual places are counted apart: the same organisation can still be admitted virtually
    services.incubation_admit(incubation=fresh(third), by=world.operator, residence=Residence.VIRTUAL)
    assert (fresh(small_base).desks_used, fresh(small_base).virtual_used) == (2, 1)
    fourth = incubation_at(small_base, status=S.SCREENED, by=world.operator)
    with pytest.raises(WorkflowError, match="虚拟入驻名额已满"):
        services.incubation_admit(incubation=fourth, by=world.operator, residence=Residence.VIRTUAL)


@pytest.mark.django_db
def test_leaving_frees_the_place_for_the_next(world, small_base):
    resident = Incubation.objects.filter(base=small_base, status=S.ADMITTED).first()
    waiting = incubation_at(small_base, status=S.SCREENED, by=world.operator)
    services.incubation_withdraw(incubation=resident, by=world.operator, reason=WITHDRAW_REASON)
    assert fresh(small_base).desks_used == 1
    services.incubation_admit(incubation=waiting, by=world.operator, residence=Residence.DESK, desk_label="A-01")
    assert fresh(small_base).desks_used == 2


@pytest.mark.django_db
def test_admitting_an_application_not_yet_screened_says_so_before_counting_places(world, small_base):
    inc = incubation_at(small_base, status=S.APPLIED, by=world.operator)
    with pytest.raises(WorkflowError, match="当前状态为“已申请”，不能执行“入壳”"):
        services.incubation_admit(incubation=inc, by=world.operator, residence=Residence.DESK, desk_label="A-09")


@pytest.mark.django_db
def test_two_operators_with_copies_read_before_either_acted(world, org):
    """Sequential stand-in for the race: each operator loaded the page when one desk was free."""
    base = world.studio
    IncubationBase.objects.filter(pk=base.pk).update(desks=1)
    first = incubation_at(base, org, S.SCREENED, by=world.operator)
    second = incubation_at(base, status=S.SCREENED, by=world.operator)
    other_operator = staff(Role.BASE_OPERATOR, world.regions["fenghuang_c"])
    copy_a, copy_b, late_copy_of_first = fresh(first), fresh(second), fresh(first)
    assert fresh(base).desks_free == 1

    services.incubation_admit(incubation=copy_a, by=world.operator, residence=Residence.DESK, desk_label="A-01")
    with pytest.raises(WorkflowError, match="实体工位已满"):
        services.incubation_admit(incubation=copy_b, by=other_operator, residence=Residence.DESK, desk_label="A-01")
    # the same application admitted twice: the second is told, and its claim is given back
    IncubationBase.objects.filter(pk=base.pk).update(desks=2)
    with pytest.raises(WorkflowError, match="该记录刚被其他人处理，当前状态为“已入壳”"):
        services.incubation_admit(
            incubation=late_copy_of_first, by=other_operator, residence=Residence.DESK, desk_label="A-02"
        )
    assert fresh(base).desks_used == 1
    assert [fresh(first).status, fresh(second).status] == [S.ADMITTED, S.SCREENED]
    assert [log[2] for log in logs_for(first)] == [S.SCREENED, S.ADMITTED]


@pytest.mark.django_db
def test_the_database_itself_never_holds_more_residents_than_desks(world):
    base = world.studio
    with pytest.raises(IntegrityError), transaction.atomic():
        IncubationBase.objects.filter(pk=base.pk).update(desks_used=F("desks") + 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        IncubationBase.objects.filter(pk=base.pk).update(virtual_used=F("virtual_places") + 1)


@pytest.mark.django_db
def test_a_base_cannot_be_edited_down_below_its_residents(world, org):
    incubation_at(world.studio, org, S.ADMITTED, by=world.operator)
    base = fresh(world.studio)
    base.desks = 0
    with pytest.raises(ValidationError) as exc:
        base.full_clean()
    assert exc.value.message_dict["desks"] == ["实体入驻工位数不能少于已占用的工位数（1个）。"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL)")
def test_concurrent_admissions_admit_exactly_the_free_desks(regions):
    base = IncubationBaseFactory(name="华容镇共享工作站", region=regions["huarong_town"], desks=3, virtual_places=0)
    operator = staff(Role.BASE_OPERATOR, regions["huarong"])
    pks = [incubation_at(base, status=S.SCREENED, by=operator).pk for _ in range(6)]
    barrier = threading.Barrier(len(pks))
    outcomes, lock = [], threading.Lock()

    def admit(pk):
        try:
            inc = Incubation.objects.get(pk=pk)
            barrier.wait(timeout=10)
            try:
                services.incubation_admit(incubation=inc, by=operator, residence=Residence.DESK, desk_label=f"A-{pk}")
                result = "admitted"
            except WorkflowError as exc:
                result = exc.message
            except Exception as exc:  # anything else is a failure the assertion below shows
                result = repr(exc)
            with lock:
                outcomes.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=admit, args=(pk,)) for pk in pks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert (
        sorted(outcomes)
        == ["admitted"] * 3
        + ["华容镇共享工作站的实体工位已满，无法入驻。可选择其他入驻方式，或等有组织出壳、退驻后再办理。"] * 3
    )
    assert fresh(base).desks_used == 3
    admitted = Incubation.objects.filter(base=base, status=S.ADMITTED)
    assert admitted.count() == 3
    assert Incubation.objects.filter(base=base, status=S.SCREENED).count() == 3
    assert StateLog.objects.filter(state=S.ADMITTED).count() == 3
    assert len(set(admitted.values_list("agreement_no", flat=True))) == 3


# ---- extension --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_extension_moves_the_end_date_once(world, org):
    inc = incubation_for(world.street, org, S.IN_INCUBATION, world.operator)
    stale = fresh(inc)  # read before the extension
    new_end = inc.ends_on + datetime.timedelta(days=365)
    services.incubation_extend(incubation=inc, by=world.operator, new_end=new_end, reason="项目尚在进行中。")
    inc = fresh(inc)
    assert (inc.status, inc.ends_on, inc.extension_count) == (S.EXTENDED, new_end, 1)

    # after a mid-term review the stay is 孵化中 again, but a second extension is refused
    services.incubation_mid_review_start(incubation=inc, by=world.operator)
    services.incubation_mid_review_pass(incubation=inc, by=world.operator)
    for copy in (fresh(inc), stale):
        before = snapshot(inc)
        with pytest.raises(WorkflowError, match="每个组织只能续驻一次"):
            services.incubation_extend(
                incubation=copy, by=world.operator, new_end=new_end + datetime.timedelta(days=90), reason="再延"
            )
        assert snapshot(inc) == before
    assert fresh(inc).ends_on == new_end


@pytest.mark.django_db
@pytest.mark.parametrize("days", [0, -30])
def test_extension_must_end_later_than_now_planned(world, org, days):
    inc = incubation_for(world.street, org, S.IN_INCUBATION, world.operator)
    before = snapshot(inc)
    with pytest.raises(ValidationError) as exc:
        services.incubation_extend(
            incubation=inc, by=world.operator, new_end=inc.ends_on + datetime.timedelta(days=days), reason="延期"
        )
    assert "须晚于原孵化期满日期" in exc.value.message_dict["new_end"][0]
    assert snapshot(inc) == before


@pytest.mark.django_db
def test_extension_needs_a_reason(world, org):
    inc = incubation_for(world.street, org, S.IN_INCUBATION, world.operator)
    before = snapshot(inc)
    with pytest.raises(WorkflowError, match="请填写续驻理由"):
        services.incubation_extend(incubation=inc, by=world.operator, new_end=datetime.date(2099, 1, 1), reason="")
    assert snapshot(inc) == before


# ---- graduation ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_graduation_lists_every_unmet_item_and_changes_nothing(world, org):
    inc = incubation_for(world.street, org, S.IN_INCUBATION, world.operator)
    Organisation.objects.filter(pk=org.pk).update(org_type=OrgType.PREPARING, uscc=None)
    inc = fresh(inc)
    before = snapshot(inc)
    with pytest.raises(WorkflowError) as exc:
        services.incubation_graduate(
            incubation=inc, by=world.operator, registered=False, governance=False, project=False
        )
    assert exc.value.message == (
        "不能出壳：尚未完成登记或备案。治理结构尚不健全（章程、理事会、财务制度）。"
        "尚未独立运作至少一个项目。没有能力评估记录。"
    )
    assert snapshot(inc) == before


@pytest.mark.django_db
def test_graduation_below_the_base_threshold_is_refused(world, org):
    IncubationBase.objects.filter(pk=world.street.pk).update(graduation_min_score=Decimal("75"))
    inc = incubation_for(world.street, org, S.IN_INCUBATION, world.operator)
    services.assessment_record(incubation=inc, by=world.operator, stage="mid", scores=dict.fromkeys(GOOD_SCORES, 74.99))
    before = snapshot(inc)
    with pytest.raises(WorkflowError, match="最近一次能力评估 74.99 分，低于出壳要求的 75.00 分"):
        _graduate(inc, world.operator)
    assert snapshot(inc) == before
    # the latest assessment counts
    services.assessment_record(incubation=inc, by=world.operator, stage="graduation", scores=GOOD_SCORES)
    _graduate(inc, world.operator)
    assert fresh(inc).status == S.GRADUATED


@pytest.fixture
def preparing_resident(world):
    """A 筹备 group at the street workstation, in incubation at a desk, assessed well."""
    group, _ = organisation_with_leader(name="凤凰街道海马爸比志愿服务队", org_type=OrgType.PREPARING, uscc=None)
    inc = incubation_for(world.street, group, S.IN_INCUBATION, world.operator, _graduate)
    assert fresh(world.street).desks_used == 1
    return inc


@pytest.mark.django_db
def test_graduation_of_a_group_registered_meanwhile_records_its_uscc_through_the_registry(world, preparing_resident):
    inc, group = preparing_resident, preparing_resident.organisation
    uscc = make_uscc(900001)
    _graduate(inc, world.operator, registered=False, new_org_type=OrgType.SERVICE_ORG, new_uscc=uscc.lower())

    group = fresh(group)
    assert (group.org_type, group.uscc) == (OrgType.SERVICE_ORG, uscc)
    change = LegalChangeRequest.objects.get(organisation=group)
    assert (change.state, change.org_type, change.uscc, change.decided_by) == (
        LegalChangeRequest.State.APPROVED,
        OrgType.SERVICE_ORG,
        uscc,
        world.operator,
    )
    assert [log[:3] for log in logs_for(change)] == [(world.operator, "pending", "approved")]
    inc = fresh(inc)
    assert (inc.status, inc.registered_during, inc.check_registered) == (S.GRADUATED, True, True)
    assert inc.graduated_on == services._today()
    assert inc.certificate_no == f"CK{inc.graduated_on.year}-{world.street.pk:03d}-{inc.pk:05d}"
    assert fresh(world.street).desks_used == 0  # the desk is free again


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"new_org_type": OrgType.SERVICE_ORG, "new_uscc": "91350100M000100Y44"}, "uscc"),  # bad check character
        ({"new_org_type": "", "new_uscc": make_uscc(900002)}, "new_org_type"),
        ({"new_org_type": OrgType.COMMUNITY_FILED, "new_uscc": make_uscc(900003)}, "new_org_type"),
    ],
)
def test_graduation_with_a_bad_registration_changes_nothing(world, preparing_resident, kwargs, field):
    before = snapshot(preparing_resident)
    with pytest.raises(ValidationError) as exc:
        _graduate(preparing_resident, world.operator, registered=False, **kwargs)
    assert field in exc.value.message_dict
    assert snapshot(preparing_resident) == before


@pytest.mark.django_db
def test_graduation_will_not_overwrite_the_uscc_of_a_registered_organisation(world, org):
    inc = incubation_for(world.street, org, S.IN_INCUBATION, world.operator, _graduate)
    before = snapshot(inc)
    with pytest.raises(ValidationError, match="变更登记事项请由负责人提出变更申请"):
        _graduate(inc, world.operator, new_org_type=OrgType.SERVICE_ORG, new_uscc=make_uscc(900004))
    assert snapshot(inc) == before
    # its own code again is no change at all
    _graduate(inc, world.operator, new_org_type=org.org_type, new_uscc=org.uscc)
    assert fresh(inc).registered_during is False
    assert not LegalChangeRequest.objects.exists()


# ---- withdrawal ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_leader_withdraws_the_organisation_and_the_desk_is_due_back_in_15_working_days(world, org, monkeypatch):
    inc = incubation_for(world.street, org, S.IN_INCUBATION, world.operator)
    monkeypatch.setattr(services, "_today", lambda: datetime.date(2026, 9, 29))
    leader = member(org, "leader")

    services.incubation_withdraw(incubation=inc, by=leader, reason=WITHDRAW_REASON)

    inc = fresh(inc)
    assert (inc.status, inc.withdrawn_on, inc.status_reason) == (
        S.WITHDRAWN,
        datetime.date(2026, 9, 29),
        WITHDRAW_REASON,
    )
    # 9-30; National Day off 10-1…10-7; 10-8, 10-9, Saturday 10-10 (调休), 10-12 … → 10-26
    assert inc.handback_due == datetime.date(2026, 10, 26)
    assert fresh(world.street).desks_used == 0
    assert logs_for(inc)[-1] == (leader, S.IN_INCUBATION, S.WITHDRAWN, WITHDRAW_REASON)
    assert "请于 2026年10月26日 前交还场地" in Notification.objects.filter(recipient=leader).latest("pk").body
    assert inbox(world.operator)[-1] == f"{org.name} 申请退驻"


@pytest.mark.django_db
def test_a_virtual_resident_has_no_space_to_hand_back(world, org):
    inc = incubation_at(world.street, org, S.IN_INCUBATION, by=world.operator, residence=Residence.VIRTUAL)
    assert fresh(world.street).virtual_used == 1
    services.incubation_withdraw(incubation=inc, by=world.operator, reason=WITHDRAW_REASON)
    assert fresh(inc).handback_due is None
    assert (fresh(world.street).desks_used, fresh(world.street).virtual_used) == (0, 0)


@pytest.mark.django_db
def test_withdrawing_twice_is_refused_and_changes_nothing(world, org):
    inc = incubation_for(world.street, org, S.IN_INCUBATION, world.operator)
    stale = fresh(inc)
    services.incubation_withdraw(incubation=inc, by=world.operator, reason=WITHDRAW_REASON)
    before = snapshot(inc)
    with pytest.raises(WorkflowError, match="该组织已经退驻，无需重复办理"):
        services.incubation_withdraw(incubation=fresh(inc), by=member(org, "leader"), reason="再退一次")
    with pytest.raises(WorkflowError, match="刚被其他人处理，当前状态为“已退驻”"):
        services.incubation_withdraw(incubation=stale, by=world.operator, reason="再退一次")
    assert snapshot(inc) == before


@pytest.mark.django_db
def test_withdrawal_needs_a_reason_and_a_resident(world, org):
    inc = incubation_for(world.street, org, S.APPLIED, world.operator)
    with pytest.raises(WorkflowError, match="请填写退驻原因"):
        services.incubation_withdraw(incubation=inc, by=world.operator, reason=" ")
    with pytest.raises(WorkflowError, match="当前状态为“已申请”，不能执行“退驻”"):
        services.incubation_withdraw(incubation=inc, by=world.operator, reason=WITHDRAW_REASON)


# ---- service log and assessments ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_service_is_logged_for_a_resident_only(world, org):
    inc = incubation_for(world.street, org, S.IN_INCUBATION, world.operator)
    log = services.service_log_add(
        incubation=inc,
        by=world.operator,
        kind="mentoring",
        title="项目设计督导",
        date=datetime.date(2026, 3, 10),
        hours=Decimal("1.5"),
        mentor="王督导",
        participants=4,
    )
    assert (log.incubation, log.recorded_by, log.hours) == (inc, world.operator, Decimal("1.5"))
    with pytest.raises(ValidationError) as exc:
        services.service_log_add(
            incubation=inc, by=world.operator, kind="training", title="培训", date=datetime.date(2026, 3, 11), hours=0
        )
    assert "hours" in exc.value.message_dict
    applied = incubation_for(world.studio, org, S.APPLIED, world.operator)
    with pytest.raises(ValidationError, match="当前状态为“已申请”，不能记录孵化服务"):
        _service_log(applied, world.operator)
    assert ServiceLog.objects.count() == 1


@pytest.mark.django_db
def test_the_assessment_total_is_weighted_by_the_bases_weights_and_rounded_to_cents(world, org):
    weights = {"governance": 30, "finance": 20, "projects": 20, "team": 15, "resources": 15}
    IncubationBase.objects.filter(pk=world.street.pk).update(assessment_weights=weights)
    inc = incubation_for(world.street, org, S.IN_INCUBATION, world.operator)
    scores = {"governance": "88.5", "finance": 72, "projects": 90, "team": 65.25, "resources": "77"}

    a = services.assessment_record(incubation=inc, by=world.operator, stage="admission", scores=scores)

    # (88.5×30 + 72×20 + 90×20 + 65.25×15 + 77×15) / 100 = 80.2875
    assert a.total == Decimal("80.29") and isinstance(a.total, Decimal)
    a = fresh(a)
    assert (a.total, a.weights, a.assessor) == (Decimal("80.29"), weights, world.operator)
    # the weights of the day are kept with it
    IncubationBase.objects.filter(pk=world.street.pk).update(assessment_weights=dict.fromkeys(weights, 20))
    assert fresh(a).total == Decimal("80.29")


@pytest.mark.django_db
def test_half_a_cent_rounds_up_and_a_stage_is_assessed_once(world, org):
    inc = incubation_for(world.street, org, S.IN_INCUBATION, world.operator)
    scores = dict.fromkeys(GOOD_SCORES, 0) | {"governance": "0.02"}  # 0.02 × 25 / 100 = 0.005
    assert services.assessment_record(incubation=inc, by=world.operator, stage="mid", scores=scores).total == Decimal(
        "0.01"
    )
    services.assessment_record(incubation=inc, by=world.operator, stage="mid", scores=GOOD_SCORES)
    assert list(CapacityAssessment.objects.values_list("stage", "total")) == [("mid", Decimal("77.55"))]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "message"),
    [
        (100.5, "“项目管理”得分须在0到100之间。"),
        (-1, "“项目管理”得分须在0到100之间。"),
        ("Infinity", "“项目管理”得分须为0–100的数字。"),
        ("NaN", "“项目管理”得分须为0–100的数字。"),
        ("八十", "“项目管理”得分须为0–100的数字。"),
        ("", "“项目管理”得分须为0–100的数字。"),
        (None, "“项目管理”得分须为0–100的数字。"),
        (True, "“项目管理”得分须为0–100的数字。"),
    ],
)
def test_a_score_out_of_range_or_not_a_number_is_refused_with_the_dimension_named(world, org, value, message):
    inc = incubation_for(world.street, org, S.IN_INCUBATION, world.operator)
    with pytest.raises(ValidationError) as exc:
        services.assessment_record(
            incubation=inc, by=world.operator, stage="mid", scores=GOOD_SCORES | {"projects": value}
        )
    assert exc.value.message_dict == {"projects": [message]}
    assert not CapacityAssessment.objects.exists()


@pytest.mark.django_db
def test_a_missing_dimension_is_named(world, org):
    inc = incubation_for(world.street, org, S.IN_INCUBATION, world.operator)
    scores = {k: v for k, v in GOOD_SCORES.items() if k != "team"}
    with pytest.raises(ValidationError, match="团队建设"):
        services.assessment_record(incubation=inc, by=world.operator, stage="mid", scores=scores)


# ---- 三级联动 promotion ---------------------------------------------------------------------------------


@pytest.fixture
def promotion(world, org):
    """The studio recommends its resident to the street workstation."""
    inc = incubation_for(world.studio, org, S.IN_INCUBATION, world.studio_operator)
    return services.promotion_recommend(
        incubation=inc, by=world.studio_operator, reason="社区助老项目成效突出，建议街道层面扶持。"
    )


@pytest.mark.django_db
def test_a_recommendation_goes_to_the_base_one_level_up(world, org, promotion):
    assert (promotion.to_base, promotion.state, promotion.recommended_by) == (
        world.street,
        PromotionState.PENDING,
        world.studio_operator,
    )
    assert inbox(world.operator)[-1] == f"下级基地推荐：{org.name}"
    assert inbox(member(org, "leader"))[-1] == "已被推荐至凤凰街道共享工作站"
    with pytest.raises(ValidationError, match="正在等待处理"):
        services.promotion_recommend(incubation=promotion.incubation, by=world.studio_operator, reason="再推荐")
    assert Promotion.objects.count() == 1


@pytest.mark.django_db
def test_a_recommendation_needs_a_reason_an_upper_base_and_a_resident_or_graduate(world, org):
    at_city = incubation_for(world.city, org, S.IN_INCUBATION, world.city_operator)
    with pytest.raises(ValidationError, match="市级基地没有上级基地"):
        services.promotion_recommend(incubation=at_city, by=world.city_operator, reason="推荐")
    applied = incubation_for(world.studio, org, S.APPLIED, world.operator)
    with pytest.raises(ValidationError, match="只能推荐在孵或已出壳的组织"):
        services.promotion_recommend(incubation=applied, by=world.operator, reason="推荐")
    graduate = incubation_for(world.street, org, S.GRADUATED, world.operator)
    with pytest.raises(ValidationError, match="请填写推荐理由"):
        services.promotion_recommend(incubation=graduate, by=world.operator, reason=" ")
    assert services.promotion_recommend(
        incubation=graduate, by=world.operator, reason="已出壳，推荐至市级"
    ).to_base == (world.city)


@pytest.mark.django_db
def test_the_upper_base_admits_a_recommended_organisation_without_a_new_application(world, org, promotion):
    source = promotion.incubation
    new = services.promotion_accept(promotion=promotion, by=world.operator, residence=Residence.DESK, desk_label="Z-01")

    new = fresh(new)
    assert (new.base, new.organisation, new.status, new.promoted_from) == (world.street, org, S.ADMITTED, source)
    assert (new.plan, new.requested_services) == (source.plan, source.requested_services)
    assert new.screened_on == services._today() and new.desk_label == "Z-01"
    note = "由凤凰社区共享工作室推荐，直接入驻"
    assert logs_for(new) == [
        (world.operator, S.APPLIED, S.SCREENED, note),
        (world.operator, S.SCREENED, S.ADMITTED, note),
    ]
    promotion = fresh(promotion)
    assert (promotion.state, promotion.result) == (PromotionState.ACCEPTED, new)
    assert logs_for(promotion) == [(world.operator, PromotionState.PENDING, PromotionState.ACCEPTED, note)]
    assert fresh(world.street).desks_used == 1
    # the studio stay ends as 晋级出壳 (issue 8, defect 12: it no longer holds its place)
    assert fresh(source).status == S.PROMOTED
    assert inbox(member(org, "leader"))[-1] == "已入驻凤凰街道共享工作站"
    assert inbox(world.studio_operator)[-1] == f"推荐已被接收：{org.name}"

    before = snapshot(new)
    with pytest.raises(WorkflowError, match="当前状态为“已接收入驻”，不能执行“接收入驻”"):
        services.promotion_accept(promotion=promotion, by=world.operator, residence=Residence.VIRTUAL)
    assert snapshot(new) == before


@pytest.mark.django_db
def test_accepting_into_a_full_upper_base_changes_nothing(world, org, promotion):
    IncubationBase.objects.filter(pk=world.street.pk).update(desks=0)
    before = snapshot(promotion.incubation)
    with pytest.raises(WorkflowError, match="凤凰街道共享工作站的实体工位已满"):
        services.promotion_accept(promotion=promotion, by=world.operator, residence=Residence.DESK, desk_label="Z-1")
    assert snapshot(promotion.incubation) == before


@pytest.mark.django_db
def test_declining_a_recommendation_needs_a_reason(world, org, promotion):
    before = snapshot(promotion.incubation)
    with pytest.raises(WorkflowError, match="请填写不接收的理由"):
        services.promotion_decline(promotion=promotion, by=world.operator, reason="")
    assert snapshot(promotion.incubation) == before

    services.promotion_decline(promotion=promotion, by=world.operator, reason="本年度工位已排满。")
    assert fresh(promotion).state == PromotionState.DECLINED
    assert logs_for(promotion) == [
        (world.operator, PromotionState.PENDING, PromotionState.DECLINED, "本年度工位已排满。")
    ]
    assert inbox(world.studio_operator)[-1] == f"推荐未被接收：{org.name}"
    assert inbox(member(org, "leader"))[-1] == "凤凰街道共享工作站暂未接收推荐"


def _accept(promotion, by):
    services.promotion_accept(promotion=promotion, by=by, residence=Residence.VIRTUAL)


def _decline(promotion, by):
    services.promotion_decline(promotion=promotion, by=by, reason="暂不接收。")


@pytest.mark.django_db
@pytest.mark.parametrize("call", [_accept, _decline], ids=["promotion_accept", "promotion_decline"])
@pytest.mark.parametrize("actor", [*WRONG_ACTORS, "recommending_studio_operator"])
def test_only_the_upper_base_decides_on_a_recommendation(world, org, promotion, call, actor):
    by = world.studio_operator if actor == "recommending_studio_operator" else wrong_actor(actor, world, org)
    before = snapshot(promotion.incubation)
    with pytest.raises(PermissionDenied):
        call(promotion, by)
    assert snapshot(promotion.incubation) == before


@pytest.mark.django_db
@pytest.mark.parametrize("call", [_accept, _decline], ids=["promotion_accept", "promotion_decline"])
def test_a_street_operator_may_not_decide_for_the_city_base(world, org, call):
    inc = incubation_for(world.street, org, S.IN_INCUBATION, world.operator)
    promotion = services.promotion_recommend(incubation=inc, by=world.operator, reason="推荐至市级。")
    before = snapshot(inc)
    with pytest.raises(PermissionDenied):
        call(promotion, world.operator)
    assert snapshot(inc) == before
    call(promotion, world.city_operator)
    assert fresh(promotion).state != PromotionState.PENDING


@pytest.mark.django_db
@pytest.mark.parametrize("sanction", ["suspend", "revoke"])
def test_a_suspended_or_revoked_organisation_cannot_apply(regions, sanction):
    from core.workflow import run_transition
    from orgs import services as org_services

    org, leader = organisation_with_leader()
    manager = staff(Role.CALL_MANAGER, regions["city"])
    run_transition(org, "submit", by=leader)
    run_transition(org, "verify", by=manager)
    getattr(org_services, f"organisation_{sanction}")(
        org=Organisation.objects.get(pk=org.pk), by=manager, reason="违规"
    )
    base = IncubationBaseFactory(region=regions["fenghuang"])
    with pytest.raises(ValidationError, match="暂不能申请入驻"):
        services.incubation_apply(base=base, organisation=Organisation.objects.get(pk=org.pk), by=leader, plan="助老")
    assert not Incubation.objects.filter(organisation=org).exists()
