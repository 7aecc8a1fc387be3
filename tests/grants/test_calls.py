"""Calls (项目征集): every rule's message, who may create, edit and move a call, the
timeline moving calls day by day (never past 评审), the daily task, and the staff screens
(list, add, edit with its status and actions) from the outside."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django_fsm_log.models import StateLog

from accounts.roles import Role
from core.models import Notification
from core.workflow import WorkflowError, run_transition
from grants.models import Call, CallLevel, CallStatus, ProposalStatus
from grants.models.calls import DEFAULT_CATEGORY_CODES
from grants.services import calls as services
from grants.tasks import grants_daily
from orgs.models import ServiceArea
from tests.factories import UserFactory, applicant, staff
from tests.grants.factories import make_call, proposal_at, timeline
from tests.incubator.factories import IncubationBaseFactory

pytestmark = pytest.mark.django_db
S = CallStatus
D = datetime.timedelta


def new_call(where, **overrides) -> Call:
    """An unsaved call for region `where` with every rule valid, then `overrides`."""
    values = {
        "title": "凤凰街道2026年公益创投项目征集",
        "year": 2026,
        "level": CallLevel.STREET,
        "region": where,
        "organiser": "凤凰街道办事处",
        "pool_total": Decimal("500000.00"),
        "grant_min": Decimal("10000.00"),
        "grant_max": Decimal("100000.00"),
        **timeline("draft"),
    }
    return Call(**(values | overrides))


def errors_of(call) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as e:
        call.full_clean()
    return e.value.message_dict


def assert_message(call, field, message):
    errors = errors_of(call)
    assert any(message in m for m in errors.get(field, [])), errors


# ---- every rule's message ----------------------------------------------------------------------------


RULES = [
    ("title", {"title": ""}, "请填写征集名称。"),
    ("region", {"region": None}, "请选择征集区域。"),
    ("apply_from", {"apply_from": None}, "请填写申报开始。"),
    ("pool_total", {"pool_total": Decimal("0")}, "资助总额须大于0。"),
    (
        "grant_max",
        {"grant_min": Decimal("200000"), "grant_max": Decimal("100000")},
        "单个项目最高资助不能低于最低资助。",
    ),
    ("grant_max", {"grant_max": Decimal("600000")}, "单个项目最高资助不能超过资助总额。"),
    ("max_grant_share", {"max_grant_share": Decimal("120")}, "100"),
    ("eligible_types", {"eligible_types": ["company"]}, "未知的组织类型：company。"),
    ("eligible_types", {"eligible_types": []}, "请至少选择一种可申报的组织类型。"),
    ("max_applications_per_org", {"max_applications_per_org": 0}, "1"),
    ("rubric", {"rubric": []}, "请至少设置一项评审标准。"),
    ("rubric", {"rubric": [{"name": "", "weight": 100}]}, "第1项评审标准缺少名称。"),
    ("rubric", {"rubric": [{"name": "需求调研", "weight": "二十"}]}, "评审标准“需求调研”的分值不是数字。"),
    ("rubric", {"rubric": [{"name": "需求调研", "weight": 0}, {"name": "设计", "weight": 100}]}, "分值须大于0"),
    (
        "rubric",
        {"rubric": [{"key": "a", "name": "需求调研", "weight": 50}, {"key": "a", "name": "需求调研", "weight": 50}]},
        "评审标准“需求调研”重复。",
    ),
    ("rubric", {"rubric": [{"name": "需求调研", "weight": 40}, {"name": "设计", "weight": 50}]}, "现在是90"),
    ("tranche_plan", {"tranche_plan": []}, "请至少设置一期拨付。"),
    ("tranche_plan", {"tranche_plan": ["首期"]}, "第1期拨付格式不正确。"),
    ("tranche_plan", {"tranche_plan": [{"name": "首期", "percent": "一半", "gate": "signed"}]}, "比例不是数字"),
    ("tranche_plan", {"tranche_plan": [{"name": "首期", "percent": 100, "gate": "paid"}]}, "第1期拨付的条件须为"),
    ("tranche_plan", {"tranche_plan": [{"name": "首期", "percent": 60, "gate": "signed"}]}, "现在是60%"),
    ("pitch_on", {"has_pitch": True, "pitch_weight": Decimal("30")}, "设路演答辩环节时请填写路演日期。"),
    ("pitch_weight", {"has_pitch": False, "pitch_weight": Decimal("30")}, "没有路演答辩环节时，路演得分比例应为0。"),
    ("needs_until", {"needs_until": None}, "需求征集的开始和截止日期须同时填写。"),
]


@pytest.mark.parametrize("field,overrides,message", RULES, ids=[f"{r[0]}-{i}" for i, r in enumerate(RULES)])
def test_each_rule_has_its_message_at_its_field(regions, field, overrides, message):
    assert_message(new_call(regions["fenghuang"], **overrides), field, message)


def test_a_valid_call_passes(regions):
    new_call(regions["fenghuang"]).full_clean()


def test_the_region_must_suit_the_level_and_the_base_lie_in_it(regions):
    assert_message(new_call(regions["city"]), "region", "街道（镇）级征集的区域须为街道/镇。")
    assert_message(new_call(regions["fenghuang"], level=CallLevel.CITY), "region", "市级征集的区域须为市或区/县。")
    far_base = IncubationBaseFactory(region=regions["huarong_town"])
    assert_message(new_call(regions["fenghuang"], base=far_base), "base", "承办孵化基地须位于征集区域内。")


def test_pitch_weight_must_be_between_0_and_100_with_a_pitch(regions):
    call = new_call(regions["fenghuang"], has_pitch=True, pitch_weight=Decimal("0"))
    call.pitch_on = call.review_until + D(days=1)
    assert_message(call, "pitch_weight", "路演得分比例须大于0且小于100。")


TIMELINE_ORDER = [
    ("needs_from", "needs_until", "需求征集截止不能早于开始。"),
    ("needs_until", "apply_from", "申报开始不能早于需求征集截止。"),
    ("apply_from", "apply_until", "申报截止不能早于申报开始。"),
    ("apply_until", "eligibility_until", "资格审查截止不能早于申报截止。"),
    ("eligibility_until", "review_from", "评审开始不能早于资格审查截止。"),
    ("review_from", "review_until", "评审截止不能早于评审开始。"),
    ("review_until", "pitch_on", "路演日期不能早于评审截止。"),
    ("review_until", "publicity_from", "公示开始不能早于评审截止。"),
    ("pitch_on", "publicity_from", "公示开始不能早于路演日期。"),
    ("publicity_from", "publicity_until", "公示截止不能早于公示开始。"),
    ("publicity_until", "implement_from", "项目实施开始不能早于公示截止。"),
    ("implement_from", "implement_until", "项目实施结束不能早于开始。"),
]


@pytest.mark.parametrize("first,second,message", TIMELINE_ORDER)
def test_the_timeline_runs_in_order(regions, first, second, message):
    call = new_call(regions["fenghuang"])
    call.pitch_on = call.review_until + D(days=2)
    setattr(call, second, getattr(call, first) - D(days=1))
    assert_message(call, second, message)


def test_the_next_round_is_a_higher_call_over_this_region(regions):
    street = make_call(regions["fenghuang"], status=S.DRAFT)
    other_street = make_call(regions["gulou"], status=S.DRAFT)
    community = new_call(regions["fenghuang_c"], level=CallLevel.COMMUNITY, next_round=street)
    community.full_clean()
    assert_message(new_call(regions["fenghuang"], next_round=other_street), "next_round", "只能推荐到更高一级的征集")
    assert_message(
        new_call(regions["fenghuang_c"], level=CallLevel.COMMUNITY, next_round=other_street),
        "next_round",
        "上一级征集的区域须包含本征集的区域。",
    )


def test_the_timeline_marks_today_and_eligibility_starts_after_applications_close(regions):
    call = new_call(regions["fenghuang"], **timeline("open"))
    rows = {r["label"]: r for r in call.timeline()}
    assert [r["label"] for r in call.timeline() if r["current"]] == ["网上申报"]
    assert rows["需求征集"]["past"] and not rows["专家评审"]["past"]
    assert rows["资格审查"]["since"] == call.apply_until + D(days=1)
    assert call.stage_today(call.apply_until + D(days=2)) == "资格审查"
    assert call.stage_today(call.review_until + D(days=2)) == ""  # between review and 公示


# ---- create and edit: who may --------------------------------------------------------------------


def call_data(region, **overrides) -> dict:
    call = new_call(region)
    data = {name: getattr(call, name) for name in services.EDITABLE_FIELDS}
    return data | overrides


def test_a_call_manager_creates_a_call_in_scope_with_the_6_plus_1_by_default(regions):
    manager = staff(Role.CALL_MANAGER, regions["echeng"])
    call = services.call_create(by=manager, data=call_data(regions["fenghuang"]))
    assert call.status == S.DRAFT and call.created_by == manager
    assert set(call.categories.values_list("code", flat=True)) == set(DEFAULT_CATEGORY_CODES)
    log = StateLog.objects.for_(call).get()
    assert (log.transition, log.by, log.description) == ("create", manager, "创建项目征集")

    chosen = list(ServiceArea.objects.filter(code="elderly"))
    other = services.call_create(by=manager, data=call_data(regions["gulou"]), categories=chosen)
    assert list(other.categories.all()) == chosen


@pytest.mark.parametrize(
    "who",
    ["anonymous", "applicant", "auditor", "base_operator", "manager_elsewhere"],
)
def test_only_a_call_manager_of_the_region_creates_a_call(regions, who):
    from django.contrib.auth.models import AnonymousUser

    user = {
        "anonymous": lambda: AnonymousUser(),
        "applicant": lambda: applicant(),
        "auditor": lambda: staff(Role.AUDITOR, regions["echeng"]),
        "base_operator": lambda: staff(Role.BASE_OPERATOR, regions["echeng"]),
        "manager_elsewhere": lambda: staff(Role.CALL_MANAGER, regions["huarong"]),
    }[who]()
    with pytest.raises(PermissionDenied):
        services.call_create(by=user, data=call_data(regions["fenghuang"]))
    assert not Call.objects.exists()


def test_create_says_every_broken_rule_at_once(regions):
    manager = staff(Role.CALL_MANAGER, regions["echeng"])
    data = call_data(regions["fenghuang"], grant_max=Decimal("5000"), rubric=[{"name": "设计", "weight": 80}])
    with pytest.raises(ValidationError) as e:
        services.call_create(by=manager, data=data)
    assert set(e.value.message_dict) == {"grant_max", "rubric"}
    assert not Call.objects.exists()


def test_update_keeps_the_call_in_the_managers_scope(regions):
    call = make_call(regions["fenghuang"], status=S.DRAFT)
    manager = staff(Role.CALL_MANAGER, regions["echeng"])
    services.call_update(
        call=call, by=manager, data={"title": "凤凰街道“邻里守望”公益创投", "region": regions["gulou"]}
    )
    call = Call.objects.get(pk=call.pk)
    assert (call.title, call.region) == ("凤凰街道“邻里守望”公益创投", regions["gulou"])

    with pytest.raises(ValidationError) as e:
        services.call_update(call=call, by=manager, data={"region": regions["huarong_town"]})
    assert "不在您的管辖范围内" in e.value.message_dict["region"][0]
    for user in (staff(Role.CALL_MANAGER, regions["huarong"]), staff(Role.AUDITOR, regions["city"])):
        with pytest.raises(PermissionDenied):
            services.call_update(call=Call.objects.get(pk=call.pk), by=user, data={"title": "改掉"})
    assert Call.objects.get(pk=call.pk).region == regions["gulou"]


def test_what_applicants_relied_on_is_locked_by_the_calls_stage(regions):
    manager = staff(Role.CALL_MANAGER, regions["city"])
    opened = make_call(regions["fenghuang"], status=S.OPEN)
    with pytest.raises(ValidationError) as e:
        services.call_update(call=opened, by=manager, data={"region": regions["gulou"]})
    assert e.value.message_dict["region"] == ["征集开放申报后，层级和征集区域不能再修改。"]
    services.call_update(call=opened, by=manager, data={"grant_max": Decimal("80000.00")})  # still open: allowed

    closed = make_call(regions["gulou"], status=S.CLOSED)
    with pytest.raises(ValidationError) as e:
        services.call_update(
            call=closed,
            by=manager,
            data={"grant_max": Decimal("90000.00")},
            categories=list(ServiceArea.objects.filter(code="elderly")),
        )
    assert e.value.message_dict["grant_max"][0].startswith("申报截止后，资金规则和申报资格不能再修改")
    assert "categories" in e.value.message_dict
    # unchanged values and the dates still go through: the later stages need their dates adjusted
    later = closed.review_until + D(days=3)
    closed = Call.objects.get(pk=closed.pk)
    services.call_update(call=closed, by=manager, data={"grant_max": closed.grant_max, "review_until": later})
    assert Call.objects.get(pk=closed.pk).review_until == later

    reviewing = make_call(regions["city"], status=S.REVIEWING, level=CallLevel.CITY)
    with pytest.raises(ValidationError) as e:
        services.call_update(call=reviewing, by=manager, data={"panel_size": 7})
    assert e.value.message_dict["panel_size"] == ["进入评审后，评审规则不能再修改。"]


# ---- the lifecycle ------------------------------------------------------------------------------------

PATH = [
    ("start_needs", S.DRAFT, S.NEEDS),
    ("open_applications", S.NEEDS, S.OPEN),
    ("close_applications", S.OPEN, S.CLOSED),
    ("start_review", S.CLOSED, S.REVIEWING),
    ("publicise", S.REVIEWING, S.PUBLICISING),
    ("decide", S.PUBLICISING, S.DECIDED),
    ("start_implementation", S.DECIDED, S.IMPLEMENTING),
    ("finish", S.IMPLEMENTING, S.FINISHED),
]


def call_in(region, status) -> Call:
    call = make_call(region, status=S.DRAFT)
    for name, _source, _target in PATH:
        if call.status == status:
            break
        run_transition(call, name, by=None)
    assert call.status == status
    return call


@pytest.mark.parametrize("name,source,target", PATH, ids=[p[0] for p in PATH])
def test_each_transition_by_the_regions_call_manager(regions, name, source, target):
    call = call_in(regions["fenghuang"], source)
    manager = staff(Role.CALL_MANAGER, regions["echeng"])
    colleague = staff(Role.CALL_MANAGER, regions["fenghuang"])
    services.call_transition(call=call, by=manager, name=name)
    assert Call.objects.get(pk=call.pk).status == target
    log = StateLog.objects.for_(call).filter(transition=name).get()
    assert (log.by, log.source_state, log.state) == (manager, source, target)
    # the other managers of the region hear of it; the one who acted does not
    assert Notification.objects.filter(recipient=colleague, title__contains=call.title).exists()
    assert not Notification.objects.filter(recipient=manager).exists()


@pytest.mark.parametrize("name,source,target", PATH, ids=[p[0] for p in PATH])
def test_each_transition_is_refused_to_other_roles_and_regions(regions, name, source, target):
    call = call_in(regions["fenghuang"], source)
    for user in (
        staff(Role.AUDITOR, regions["echeng"]),
        staff(Role.BASE_OPERATOR, regions["fenghuang"]),
        staff(Role.CALL_MANAGER, regions["huarong"]),
        staff(Role.CALL_MANAGER, regions["gulou"]),  # a sibling street
        applicant(),
    ):
        with pytest.raises(PermissionDenied):
            services.call_transition(call=Call.objects.get(pk=call.pk), by=user, name=name)
    assert Call.objects.get(pk=call.pk).status == source


def test_a_transition_the_state_does_not_allow_says_why(regions):
    call = make_call(regions["fenghuang"], status=S.OPEN)
    with pytest.raises(WorkflowError) as e:
        services.call_transition(call=call, by=staff(Role.CALL_MANAGER, regions["fenghuang"]), name="start_review")
    assert e.value.message == "当前状态为“申报中”，不能执行“进入评审”。"


def test_needs_collection_needs_its_dates(regions):
    call = make_call(regions["fenghuang"], status=S.DRAFT, needs_from=None, needs_until=None)
    with pytest.raises(WorkflowError):
        services.call_transition(call=call, by=staff(Role.CALL_MANAGER, regions["fenghuang"]), name="start_needs")


def test_closing_tells_organisations_with_an_unsubmitted_draft(regions):
    call = make_call(regions["fenghuang"], status=S.OPEN)
    draft = proposal_at(call, ProposalStatus.DRAFT)
    submitted = proposal_at(call, ProposalStatus.SUBMITTED)
    services.call_transition(call=call, by=staff(Role.CALL_MANAGER, regions["fenghuang"]), name="close_applications")
    drafter = draft.organisation.memberships.get().user
    submitter = submitted.organisation.memberships.get().user
    notice = Notification.objects.get(recipient=drafter, title__startswith="申报已截止")
    assert "尚未提交的申报书不能再提交" in notice.body
    assert not Notification.objects.filter(recipient=submitter, title__startswith="申报已截止").exists()


# ---- following the timeline ---------------------------------------------------------------------------


def moves(today):
    return [(c.pk, a, b) for c, a, b in services.advance_calls(today)]


def test_calls_follow_their_timeline_day_by_day(regions):
    call = make_call(regions["fenghuang"], status=S.DRAFT)  # needs collection starts in 10 days
    start = call.needs_from
    assert moves(start - D(days=1)) == []
    assert moves(start) == [(call.pk, S.DRAFT, S.NEEDS)]
    assert moves(start) == []  # once
    assert moves(call.apply_from) == [(call.pk, S.NEEDS, S.OPEN)]
    assert moves(call.apply_until) == []  # the last day is still a day to apply
    assert moves(call.apply_until + D(days=1)) == [(call.pk, S.OPEN, S.CLOSED)]
    assert moves(call.review_from - D(days=1)) == []
    assert moves(call.review_from) == [(call.pk, S.CLOSED, S.REVIEWING)]
    # 公示, 批复 and 实施 wait for the decisions of the review
    assert moves(call.implement_until + D(days=10)) == []
    assert Call.objects.get(pk=call.pk).status == S.REVIEWING

    logs = list(StateLog.objects.for_(call).exclude(transition="create").order_by("pk"))
    assert [log.by for log in logs] == [None] * 4
    assert logs[0].description.startswith("按时间表自动进入需求征集")
    assert logs[2].description.startswith("按时间表自动截止申报")


def test_a_call_left_behind_goes_through_each_stage_it_missed_but_stops_at_review(regions):
    call = make_call(regions["fenghuang"], status=S.DRAFT)
    assert moves(call.publicity_from) == [
        (call.pk, S.DRAFT, S.OPEN),
        (call.pk, S.OPEN, S.CLOSED),
        (call.pk, S.CLOSED, S.REVIEWING),
    ]


def test_a_call_without_needs_collection_opens_on_its_date(regions):
    call = make_call(regions["fenghuang"], status=S.DRAFT, needs_from=None, needs_until=None)
    assert moves(call.apply_from - D(days=1)) == []
    assert moves(call.apply_from) == [(call.pk, S.DRAFT, S.OPEN)]


def test_the_daily_task_moves_calls_and_expires_corrections(regions):
    call = make_call(regions["fenghuang"], status=S.OPEN)
    returned = proposal_at(call, ProposalStatus.RETURNED)
    day = max(call.apply_until, returned.correction_deadline) + D(days=1)

    result = grants_daily.enqueue(day.isoformat())

    done = result.return_value
    assert done["calls_moved"] == [[call.pk, S.OPEN, S.CLOSED]] and done["corrections_expired"] == 1
    assert Call.objects.get(pk=call.pk).status == S.CLOSED
    returned.refresh_from_db()
    assert returned.status == ProposalStatus.INELIGIBLE


def test_the_daily_command(regions, capsys):
    call = make_call(regions["fenghuang"], status=S.OPEN)
    call_command("grants_daily", date=(call.apply_until + D(days=1)).isoformat())
    assert "推进了 1 次项目征集状态" in capsys.readouterr().out
    assert Call.objects.get(pk=call.pk).status == S.CLOSED
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="日期格式不正确"):
        call_command("grants_daily", date="2026/13/01")


def test_applications_counted_are_submitted_or_later(regions):
    call = make_call(regions["fenghuang"], status=S.OPEN)
    proposal_at(call, ProposalStatus.DRAFT)
    proposal_at(call, ProposalStatus.SUBMITTED)
    proposal_at(call, ProposalStatus.ELIGIBLE)
    proposal_at(call, ProposalStatus.WITHDRAWN)
    assert services.applications_count(call) == 2


def test_a_superuser_manages_any_call(regions):
    call = make_call(regions["huarong_town"], status=S.OPEN)
    services.call_transition(call=call, by=UserFactory(is_superuser=True, is_staff=True), name="close_applications")
    assert Call.objects.get(pk=call.pk).status == S.CLOSED


# ---- the staff screens ----------------------------------------------------------------------------------

LIST = "/admin/grants/calls/"
ADD = "/admin/grants/calls/new/"


def edit_url(call):
    return f"/admin/grants/calls/edit/{call.pk}/"


def action_url(call, slug):
    return f"/admin/grants/calls/{call.pk}/actions/{slug}/"


def test_the_screens_are_closed_to_anonymous_users_and_applicants(client, regions):
    call = make_call(regions["fenghuang"])
    for url in (LIST, ADD, edit_url(call)):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), url
    response = client.post(action_url(call, "close-applications"))
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    client.force_login(applicant())
    for url in (LIST, edit_url(call)):
        assert client.get(url).status_code in (302, 403), url
    assert client.post(action_url(call, "close-applications")).status_code in (302, 403)
    assert Call.objects.get(pk=call.pk).status == S.OPEN


def test_the_list_shows_the_calls_in_scope_with_their_applications(client, regions):
    own = make_call(regions["fenghuang"])
    proposal_at(own, ProposalStatus.SUBMITTED)
    proposal_at(own, ProposalStatus.DRAFT)
    make_call(regions["huarong_town"], title="华容镇2026年公益创投项目征集")
    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))
    html = client.get(LIST).content.decode()
    assert own.title in html and "华容镇2026年公益创投项目征集" not in html
    assert "申报中" in html and "草稿 1" in html
    assert f'href="{edit_url(own)}"' in html and "项目征集" in html


def test_the_list_filters_by_status_level_year_and_region(client, regions):
    a = make_call(regions["fenghuang"], status=S.OPEN)
    b = make_call(regions["gulou"], status=S.DRAFT, title="古楼街道2025年公益创投", year=2025)
    c = make_call(regions["echeng"], status=S.CLOSED, title="鄂城区2026年公益创投", level=CallLevel.CITY)
    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))

    def shown(query):
        html = client.get(LIST + "results/", query).content.decode()
        return {call.title for call in (a, b, c) if call.title in html}

    assert shown({"status": S.OPEN}) == {a.title}
    assert shown({"level": CallLevel.CITY}) == {c.title}
    assert shown({"year": 2025}) == {b.title}
    assert shown({"region": regions["gulou"].pk}) == {b.title}
    assert shown({"region": regions["echeng"].pk, "status": S.CLOSED}) == {c.title}
    assert shown({"q": "古楼"}) == {b.title}
    html = client.get(LIST, {"region": regions["huarong_town"].pk}).content.decode()
    assert "筛选条件无效，已忽略" in html  # another district's region is not a choice


def test_the_list_takes_few_queries_however_many_calls(client, regions):
    from tests.queries import page_queries

    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))
    proposal_at(make_call(regions["fenghuang"]))
    few = page_queries(client, LIST)
    for region in ("gulou", "fenghuang", "gulou"):
        proposal_at(make_call(regions[region]))
    assert page_queries(client, LIST) == few <= 15


def test_a_call_manager_adds_a_call_and_lands_on_its_edit_page(client, regions, site_pages):
    from tests.html_forms import read_form

    manager = staff(Role.CALL_MANAGER, regions["fenghuang"], unit="凤凰街道办事处")
    client.force_login(manager)
    page = client.get(ADD)
    form = read_form(page.content.decode(), action=ADD)
    # what a new call starts from: the user's region and unit, the "6+1", a timeline
    assert form.data["region"] == [str(regions["fenghuang"].pk)] and form.data["organiser"] == ["凤凰街道办事处"]
    assert len(form.data["categories"]) == len(DEFAULT_CATEGORY_CODES)
    assert form.data["rubric-ROWS"] == ["6"]  # five default criteria and a blank row
    data = form.post_data() | {"title": "凤凰街道“老宝贝”助老公益创投", "pool_total": "300000.00"}

    response = client.post(ADD, data)

    call = Call.objects.get(title="凤凰街道“老宝贝”助老公益创投")
    assert response.status_code == 302 and response["Location"] == edit_url(call)
    assert call.created_by == manager and call.pool_total == Decimal("300000.00")
    assert set(call.categories.values_list("code", flat=True)) == set(DEFAULT_CATEGORY_CODES)
    assert [c["key"] for c in call.rubric] == ["needs", "design", "budget", "feasibility", "benefit"]
    assert StateLog.objects.for_(call).get().transition == "create"


def test_a_region_outside_the_scope_is_a_form_error_and_nothing_typed_is_lost(client, regions):
    from tests.html_forms import read_form

    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))
    form = read_form(client.get(ADD).content.decode(), action=ADD)
    data = form.post_data() | {"title": "越权的征集", "region": str(regions["huarong_town"].pk)}
    response = client.post(ADD, data)
    assert response.status_code == 200
    assert "所选区域不在您的管辖范围内" in response.context["form"].errors["region"][0]
    assert "越权的征集" in response.content.decode()
    assert not Call.objects.filter(title="越权的征集").exists()


def _edit_form(client, call):
    from tests.html_forms import read_form

    return read_form(client.get(edit_url(call)).content.decode(), action=edit_url(call)).post_data()


def test_the_rubric_is_edited_row_by_row_with_its_sum_checked(client, regions):
    call = make_call(regions["fenghuang"], status=S.DRAFT)
    client.force_login(staff(Role.CALL_MANAGER, regions["fenghuang"]))
    html = client.get(edit_url(call)).content.decode()
    assert 'name="rubric-0-name" value="需求调研"' in html and "data-rows-sum" in html
    data = _edit_form(client, call)

    # a weight that is not a number, and a sum that is not 100: said at the field, rows kept
    bad = data | {"rubric-1-weight": "二十五", "rubric-2-weight": "10"}
    response = client.post(edit_url(call), bad)
    errors = response.context["form"].errors["rubric"]
    assert "第2行：“项目设计”的分值须为数字（如 20）。" in errors
    assert 'value="二十五"' in response.content.decode()
    response = client.post(edit_url(call), data | {"rubric-2-weight": "10"})
    assert "评审标准的分值合计须为100（现在是90）。" in response.context["form"].errors["rubric"]
    assert Call.objects.get(pk=call.pk).rubric == call.rubric

    # drop 社会效益 (15), add 居民参与 (15) in the blank row
    changed = data | {
        "rubric-4-DELETE": "on",
        "rubric-5-name": "居民参与",
        "rubric-5-weight": "15",
        "rubric-5-guidance": "居民参与设计和实施的程度。",
    }
    assert client.post(edit_url(call), changed).status_code == 302
    rubric = Call.objects.get(pk=call.pk).rubric
    assert [c["name"] for c in rubric] == ["需求调研", "项目设计", "财务预算", "创新性与可行性", "居民参与"]
    assert rubric[-1] == {"key": "c1", "name": "居民参与", "weight": 15, "guidance": "居民参与设计和实施的程度。"}


def test_the_tranche_plan_is_edited_row_by_row(client, regions):
    call = make_call(regions["fenghuang"], status=S.DRAFT)
    client.force_login(staff(Role.CALL_MANAGER, regions["fenghuang"]))
    data = _edit_form(client, call)
    response = client.post(edit_url(call), data | {"tranche_plan-0-percent": "40", "tranche_plan-1-gate": ""})
    errors = response.context["form"].errors["tranche_plan"]
    assert errors == ["第2期：请选择拨付条件。"]
    response = client.post(edit_url(call), data | {"tranche_plan-0-percent": "40"})
    assert response.context["form"].errors["tranche_plan"] == ["各期拨付比例合计须为100%（现在是90%）。"]
    response = client.post(edit_url(call), data | {"tranche_plan-0-percent": "70", "tranche_plan-2-DELETE": "on"})
    assert response.status_code == 302
    assert Call.objects.get(pk=call.pk).tranche_plan == [
        {"name": "首期", "percent": 70, "gate": "signed"},
        {"name": "中期", "percent": 30, "gate": "mid_term"},
    ]


def test_locked_rules_are_shown_disabled_and_a_posted_change_is_ignored(client, regions):
    call = make_call(regions["fenghuang"], status=S.CLOSED)
    client.force_login(staff(Role.CALL_MANAGER, regions["fenghuang"]))
    html = client.get(edit_url(call)).content.decode()
    assert "申报截止后，资金规则和申报资格不能再修改" in html
    data = _edit_form(client, call)
    assert "grant_max" not in data  # disabled: a browser does not send it
    response = client.post(edit_url(call), data | {"grant_max": "1.00", "title": "凤凰街道公益创投（更名）"})
    assert response.status_code == 302
    call = Call.objects.get(pk=call.pk)
    assert call.grant_max == Decimal("100000.00") and call.title == "凤凰街道公益创投（更名）"


def test_the_edit_page_shows_the_status_and_the_actions_the_state_allows(client, regions):
    call = make_call(regions["fenghuang"], status=S.OPEN)
    proposal_at(call)
    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))
    html = client.get(edit_url(call)).content.decode()
    assert "征集概况" in html and "已提交 1 份" in html and "网上申报" in html
    assert f'action="{action_url(call, "close-applications")}"' in html and "截止申报" in html
    assert action_url(call, "start-review") not in html

    response = client.post(action_url(call, "close-applications"))
    assert response.status_code == 302 and response["Location"] == edit_url(call)
    assert Call.objects.get(pk=call.pk).status == S.CLOSED
    html = client.get(edit_url(call)).content.decode()
    assert "已截止申报，进入资格审查" in html and action_url(call, "start-review") in html

    # a step the state no longer allows: the page again, saying why
    response = client.post(action_url(call, "close-applications"))
    assert response.status_code == 400
    assert "当前状态为“申报截止（资格审查）”，不能执行“截止申报”。" in response.content.decode()


def test_an_auditor_reads_the_list_but_neither_edits_nor_acts(client, regions):
    call = make_call(regions["fenghuang"], status=S.OPEN)
    client.force_login(staff(Role.AUDITOR, regions["echeng"]))
    html = client.get(LIST).content.decode()
    assert call.title in html and edit_url(call) not in html and ADD not in html
    assert client.get(edit_url(call)).status_code in (302, 403)
    response = client.post(action_url(call, "close-applications"))
    assert response.status_code == 403 and "只有征集所在区域的业务主管（民政）可以办理" in response.content.decode()
    assert Call.objects.get(pk=call.pk).status == S.OPEN


def test_another_regions_call_is_not_found(client, regions):
    call = make_call(regions["huarong_town"], status=S.OPEN)
    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))
    assert client.get(edit_url(call)).status_code == 404
    assert client.post(action_url(call, "close-applications")).status_code == 404
    assert Call.objects.get(pk=call.pk).status == S.OPEN


def test_the_suggested_timeline_of_a_new_call_is_valid_whatever_day_it_starts():
    """The suggested dates pass the call's own timeline checks on every day of a leap year
    and the next (implementation from the first of the month after the 公示 closes)."""
    from grants.forms.calls import default_timeline

    day = datetime.date(2027, 12, 1)
    for _ in range(2 * 366):
        t = default_timeline(day)
        errors = {}
        Call(**t)._clean_timeline(errors.setdefault)
        assert not errors, (day, errors)
        assert t["implement_from"].day == 1 and t["implement_from"] > t["publicity_until"], day
        assert (t["implement_from"] - t["publicity_until"]).days <= 31, day
        assert t["implement_until"] == t["implement_from"].replace(
            year=t["implement_from"].year + 1
        ) - datetime.timedelta(days=1)
        day += datetime.timedelta(days=1)
