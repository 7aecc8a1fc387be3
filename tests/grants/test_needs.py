"""需求征集 end to end: the public form (every rule's message, the per-address limit, the
call it answers), moderation through the services and the staff screens (right and
wrong role, region, anonymous), merging, publication (never a phone), the selectors a
call page and an applicant use, and the list pages' query counts."""

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django_fsm_log.models import StateLog

from accounts.roles import Role
from core.models import Notification
from core.workflow import WorkflowError, available_actions
from grants.models import CallStatus, Need, NeedStatus, ProposalStatus
from grants.selectors.needs import needs_for_citation, published_needs_for_call
from grants.services import needs as svc
from orgs.models import ServiceArea
from tests.factories import applicant, staff
from tests.grants.factories import make_call, proposal_at
from tests.queries import page_queries

pytestmark = pytest.mark.django_db
PHONE = "13912345678"


def community(regions, key="fenghuang"):
    return regions[key].get_children().get()


def submit(region, **overrides) -> Need:
    data = {
        "region": region,
        "title": "独居老人午餐没人做",
        "description": "小区里有二十多位独居老人，子女不在身边，午饭常常凑合。",
        "affected": "独居老人",
        "people_count": 25,
        "submitter_kind": "resident",
        "submitter_name": "张阿姨",
        "phone": PHONE,
    }
    return svc.need_submit(**(data | overrides))


def form_data(place, **overrides) -> dict:
    data = {
        "region": str(place.pk),
        "place": "澜湖小区3栋",
        "title": "放学后孩子没人照看",
        "affected": "双职工家庭的小学生",
        "people_count": "40",
        "description": "下午四点放学到家长下班有两个多小时，孩子在小区里乱跑。",
        "submitter_kind": "grid",
        "submitter_name": "李网格",
        "phone": "+86 139-1234-5678",
    }
    return data | overrides


@pytest.fixture
def manager(regions):
    return staff(Role.CALL_MANAGER, regions["fenghuang"])


@pytest.fixture
def area():
    return ServiceArea.objects.get(code="elderly")


# ---- the public form ------------------------------------------------------------------------------


def test_anyone_submits_a_need_and_the_phone_is_kept_as_eleven_digits(client, regions):
    place = community(regions)
    page = client.get("/needs/new/").content.decode()
    assert '<optgroup label="凤凰街道（鄂城区）">' in page and "凤凰社区" in page  # grouped, no script needed

    response = client.post("/needs/new/", form_data(place))
    assert response.status_code == 302 and response["Location"] == "/needs/thanks/"
    need = Need.objects.get()
    assert (need.status, need.region, need.phone, need.submitted_by) == (NeedStatus.SUBMITTED, place, PHONE, None)
    assert need.submitted_ip == "127.0.0.1"
    assert StateLog.objects.for_(need).get().description == "提交需求"
    thanks = client.get("/needs/thanks/").content.decode()
    assert "谢谢您，需求已提交" in thanks and "放学后孩子没人照看" in thanks
    assert not Notification.objects.exists()  # nobody is told anything outside the system


def test_a_logged_in_submitter_is_recorded(client, regions):
    user = applicant()
    client.force_login(user)
    client.post("/needs/new/", form_data(community(regions)))
    assert Need.objects.get().submitted_by == user


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("region", "", "请选择需求所在的社区（村）。"),
        ("title", "", "请用一句话写下需求"),
        ("affected", "", "请填写受影响的人群。"),
        ("people_count", "", "请填写大约涉及多少人。"),
        ("people_count", "很多", "涉及人数请填写数字"),
        ("people_count", "0", "1"),
        ("description", "", "请写一写具体需要什么"),
        ("submitter_kind", "", "请选择您的身份。"),
        ("submitter_name", "", "请填写您的称呼"),
        ("phone", "", "请留下手机号码"),
        ("phone", "0711-3200000", "请输入11位中国大陆手机号码"),
        ("description", "长" * 1001, "不能超过 1000 个字"),
    ],
)
def test_each_rule_has_its_message_at_the_field_and_keeps_what_was_typed(client, regions, field, value, message):
    data = form_data(community(regions), **{field: value})
    response = client.post("/needs/new/", data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field])
    html = response.content.decode()
    assert "下午四点放学到家长下班" in html or field == "description"
    assert 'value="李网格"' in html or field == "submitter_name"
    assert not Need.objects.exists()


def test_a_street_is_not_a_community(regions):
    with pytest.raises(ValidationError) as exc:
        submit(regions["fenghuang"])
    assert "请选择需求所在的社区（村）" in exc.value.message_dict["region"][0]


def test_a_need_for_a_call_collecting_needs_is_tagged_with_it(client, regions):
    call = make_call(regions["fenghuang"], status=CallStatus.NEEDS)
    page = client.get(f"/needs/new/?call={call.pk}").content.decode()
    assert call.title in page
    assert "凤凰社区" in page and "古楼社区" not in page  # only the call's communities
    client.post(f"/needs/new/?call={call.pk}", form_data(community(regions)))
    assert Need.objects.get().call == call

    # another street's community is not a choice for this call
    response = client.post(f"/needs/new/?call={call.pk}", form_data(community(regions, "gulou")))
    assert response.status_code == 400 and "region" in response.context["form"].errors


def test_a_call_not_collecting_needs_is_said_and_not_used(client, regions):
    call = make_call(regions["fenghuang"], status=CallStatus.OPEN)
    page = client.get(f"/needs/new/?call={call.pk}").content.decode()
    assert "当前不在需求征集期" in page
    client.post(f"/needs/new/?call={call.pk}", form_data(community(regions)))
    assert Need.objects.get().call is None
    with pytest.raises(ValidationError) as exc:
        submit(community(regions), call=call)
    assert "不在需求征集期" in exc.value.message_dict["call"][0]


def test_the_hourly_limit_per_address_says_so_creates_nothing_and_keeps_what_was_typed(client, regions, settings):
    settings.NEEDS_SUBMIT_IP_LIMIT = 2
    place = community(regions)
    client.post("/needs/new/", form_data(place, title="第一条"))
    client.post("/needs/new/", form_data(place, phone="oops"))  # refused at the field: not counted
    client.post("/needs/new/", form_data(place, title="第二条"))
    assert Need.objects.count() == 2

    response = client.post("/needs/new/", form_data(place, title="第三条需求"))
    assert response.status_code == 429
    html = response.content.decode()
    assert "提交过于频繁：同一网络每小时最多提交2条需求" in html and "您填写的内容仍保留在下方" in html
    assert 'value="第三条需求"' in html and "下午四点放学到家长下班" in html and 'value="+86 139-1234-5678"' in html
    assert Need.objects.count() == 2

    other = client.post("/needs/new/", form_data(place, title="另一个网络"), REMOTE_ADDR="10.1.2.3")
    assert other.status_code == 302 and Need.objects.count() == 3


# ---- moderation through the services ---------------------------------------------------------------


def test_accept_tags_the_call_and_category_and_tells_a_submitter_with_an_account(regions, manager, area):
    call = make_call(regions["fenghuang"], status=CallStatus.NEEDS)
    user = applicant()
    need = submit(community(regions), by=user)
    svc.need_accept(need=need, by=manager, category=area, call=call, reason="情况属实。")
    need.refresh_from_db()
    assert (need.status, need.call, need.category, need.status_reason) == (
        NeedStatus.ACCEPTED,
        call,
        area,
        "情况属实。",
    )
    assert need.moderated_at is not None
    assert StateLog.objects.for_(need).last().by == manager
    notice = Notification.objects.get(recipient=user)
    assert "已采纳" in notice.title and notice.url == f"/needs/{need.pk}/"


def test_an_anonymous_submitter_is_told_nothing(regions, manager, area):
    need = submit(community(regions))
    svc.need_accept(need=need, by=manager, category=area)
    assert not Notification.objects.exists()


@pytest.mark.parametrize("who", ["far", "applicant", "anonymous", "auditor", "finance"])
def test_moderation_is_refused_outside_the_role_or_region(regions, area, who):
    users = {
        "far": lambda: staff(Role.CALL_MANAGER, regions["huarong"]),
        "applicant": applicant,
        "anonymous": AnonymousUser,
        "auditor": lambda: staff(Role.AUDITOR, regions["city"]),
        "finance": lambda: staff(Role.FINANCE, regions["city"]),
    }
    user = users[who]()
    need = submit(community(regions))
    for run in (
        lambda: svc.need_accept(need=need, by=user, category=area),
        lambda: svc.need_reject(need=need, by=user, reason="重复"),
        lambda: svc.need_merge(need=need, by=user, into=need),
    ):
        with pytest.raises(PermissionDenied):
            run()
    need.refresh_from_db()
    assert need.status == NeedStatus.SUBMITTED
    assert available_actions(need, user) == []


def test_a_base_operator_of_the_area_moderates_too(regions, area):
    operator = staff(Role.BASE_OPERATOR, regions["fenghuang"])
    need = submit(community(regions))
    svc.need_accept(need=need, by=operator, category=area)
    assert Need.objects.get().status == NeedStatus.ACCEPTED


def test_the_call_must_be_in_scope_contain_the_need_not_be_closed_and_own_the_category(regions, area):
    manager = staff(Role.CALL_MANAGER, regions["echeng"])
    need = submit(community(regions))
    cases = [
        (make_call(regions["city"], status=CallStatus.NEEDS), "call", "不在您负责的区域内"),
        (make_call(regions["gulou"], status=CallStatus.NEEDS), "call", "不在“"),
        (make_call(regions["fenghuang"], status=CallStatus.CLOSED), "call", "已截止申报"),
        (make_call(regions["fenghuang"], status=CallStatus.NEEDS, categories=["women"]), "category", "不在“"),
    ]
    for call, field, message in cases:
        with pytest.raises(ValidationError) as exc:
            svc.need_accept(need=need, by=manager, category=area, call=call)
        assert message in exc.value.message_dict[field][0], call
    with pytest.raises(ValidationError) as exc:
        svc.need_accept(need=need, by=manager, category=None)
    assert exc.value.message_dict["category"] == ["请选择服务领域。"]
    need.refresh_from_db()
    assert need.status == NeedStatus.SUBMITTED


def test_merging_duplicates_counts_them_on_the_accepted_need(regions, manager, area):
    call = make_call(regions["fenghuang"], status=CallStatus.NEEDS)
    first = submit(community(regions))
    svc.need_accept(need=first, by=manager, category=area, call=call)
    user = applicant()
    for by in (user, None):
        dup = submit(community(regions), title="独居老人午饭没人做", by=by)
        svc.need_merge(need=dup, by=manager, into=first)
        dup.refresh_from_db()
        assert (dup.status, dup.merged_into, dup.call, dup.category) == (NeedStatus.MERGED, first, call, area)
    first.refresh_from_db()
    assert first.supporters == 3
    assert "已合并" in Notification.objects.get(recipient=user).title


def test_merge_is_refused_into_itself_a_need_not_accepted_or_another_region(regions, manager, area):
    need = submit(community(regions))
    waiting = submit(community(regions), title="另一条")
    far_manager = staff(Role.CALL_MANAGER, regions["huarong"])
    far = submit(community(regions, "huarong_town"))
    svc.need_accept(need=far, by=far_manager, category=area)
    for into, message in [
        (need, "不能合并到需求本身"),
        (waiting, "只能合并到已采纳的需求"),
        (far, "不在您负责的区域内"),
    ]:
        with pytest.raises(ValidationError) as exc:
            svc.need_merge(need=need, by=manager, into=into)
        assert message in exc.value.message_dict["into"][0]
    assert Need.objects.get(pk=far.pk).supporters == 1


def test_reject_needs_a_reason_and_the_submitter_reads_it(regions, manager):
    user = applicant()
    need = submit(community(regions), by=user)
    with pytest.raises(ValidationError) as exc:
        svc.need_reject(need=need, by=manager, reason="  ")
    assert exc.value.message_dict["reason"] == ["请填写不采纳的理由。"]
    svc.need_reject(need=need, by=manager, reason="属于物业维修范围，已转物业。")
    need.refresh_from_db()
    assert (need.status, need.status_reason) == (NeedStatus.REJECTED, "属于物业维修范围，已转物业。")
    assert "属于物业维修范围" in Notification.objects.get(recipient=user).body
    with pytest.raises(WorkflowError):
        svc.need_reject(need=need, by=manager, reason="再来一次")


# ---- the staff screens ---------------------------------------------------------------------------


def test_the_staff_list_shows_the_region_waiting_first_with_filters_and_search(client, regions, area):
    manager = staff(Role.CALL_MANAGER, regions["echeng"])
    old = submit(community(regions), title="路灯不亮")
    svc.need_accept(need=old, by=manager, category=area)
    submit(community(regions), title="老人午餐没人做")
    submit(community(regions, "huarong_town"), title="华容镇的需求")
    client.force_login(manager)
    html = client.get("/admin/grants/needs/").content.decode()
    assert "华容镇的需求" not in html
    assert html.index("老人午餐没人做") < html.index("路灯不亮")  # waiting first
    assert "社区需求" in html

    def titles(query):
        body = client.get(f"/admin/grants/needs/{query}").content.decode()
        return {t for t in ("路灯不亮", "老人午餐没人做") if t in body}

    assert titles("?status=accepted") == {"路灯不亮"}
    assert titles(f"?category={area.pk}") == {"路灯不亮"}
    assert titles("?q=午餐") == {"老人午餐没人做"}
    assert titles(f"?place={regions['fenghuang'].pk}") == {"路灯不亮", "老人午餐没人做"}
    assert titles(f"?place={community(regions, 'gulou').pk}") == set()
    far = client.get(f"/admin/grants/needs/?place={regions['huarong_town'].pk}").content.decode()
    assert "华容镇的需求" not in far and "街道/社区：" in far  # another region is refused, not a way in


def test_the_staff_list_flags_possible_duplicates(client, regions, manager):
    submit(community(regions), title="独居老人午餐没人做")
    submit(community(regions), title="独居老人的午餐没人做")
    client.force_login(manager)
    assert "疑似重复" in client.get("/admin/grants/needs/").content.decode()


def test_the_staff_need_page_shows_everything_and_the_duplicates(client, regions, manager):
    first = submit(community(regions), title="独居老人午餐没人做")
    need = submit(community(regions), title="独居老人午饭没人做", place="澜湖小区3栋")
    client.force_login(manager)
    html = client.get(f"/admin/grants/needs/{need.pk}/").content.decode()
    assert PHONE in html and "张阿姨" in html and "澜湖小区3栋" in html
    assert f"/admin/grants/needs/{first.pk}/" in html  # in the duplicates panel
    for label in ("采纳并公开", "合并到已有需求", "不采纳"):
        assert label in html


def test_accept_and_merge_from_the_staff_page(client, regions, manager, area):
    call = make_call(regions["fenghuang"], status=CallStatus.NEEDS)
    city = make_call(regions["city"], status=CallStatus.NEEDS, title="鄂州市市级公益创投")
    target = submit(community(regions), title="独居老人午餐没人做")
    client.force_login(manager)
    page = client.get(f"/admin/grants/needs/{target.pk}/").content.decode()
    assert call.title in page and f'value="{call.pk}"' in page  # the call is a choice
    assert city.title not in page  # above the moderator's scope: not offered
    response = client.post(
        f"/admin/grants/needs/{target.pk}/accept/",
        {"accept-call": call.pk, "accept-category": area.pk, "accept-reason": ""},
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.status, target.call, target.category) == (NeedStatus.ACCEPTED, call, area)

    dup = submit(community(regions), title="独居老人午饭没人做")
    page = client.get(f"/admin/grants/needs/{dup.pk}/").content.decode()
    assert re.search(r"独居老人午餐没人做（凤凰社区，同类1条，疑似重复\d+%）", page)
    assert client.post(f"/admin/grants/needs/{dup.pk}/merge/", {"merge-into": target.pk}).status_code == 302
    target.refresh_from_db()
    assert target.supporters == 2


def test_a_category_outside_the_call_is_said_at_the_field_on_the_staff_page(client, regions, manager):
    call = make_call(regions["fenghuang"], status=CallStatus.NEEDS, categories=["elderly"])
    need = submit(community(regions))
    client.force_login(manager)
    women = ServiceArea.objects.get(code="women")
    response = client.post(
        f"/admin/grants/needs/{need.pk}/accept/",
        {"accept-call": call.pk, "accept-category": women.pk, "accept-reason": "已核实"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert f"服务领域“{women.name}”不在" in html and "已核实" in html
    assert Need.objects.get(pk=need.pk).status == NeedStatus.SUBMITTED


def test_reject_without_a_reason_on_the_staff_page_is_refused(client, regions, manager):
    need = submit(community(regions))
    client.force_login(manager)
    response = client.post(f"/admin/grants/needs/{need.pk}/reject/", {"reject-reason": ""})
    assert response.status_code == 400 and "请填写不采纳的理由" in response.content.decode()


def test_staff_page_wrong_region_is_404_auditor_reads_only_anonymous_logs_in(client, regions):
    need = submit(community(regions))
    client.force_login(staff(Role.CALL_MANAGER, regions["huarong"]))
    assert client.get(f"/admin/grants/needs/{need.pk}/").status_code == 404
    assert client.post(f"/admin/grants/needs/{need.pk}/reject/", {"reject-reason": "x"}).status_code == 404

    client.force_login(staff(Role.AUDITOR, regions["city"]))
    html = client.get(f"/admin/grants/needs/{need.pk}/").content.decode()
    assert "只读" in html and "采纳并公开" not in html
    assert client.post(f"/admin/grants/needs/{need.pk}/reject/", {"reject-reason": "x"}).status_code == 403

    client.logout()
    response = client.get(f"/admin/grants/needs/{need.pk}/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert Need.objects.get(pk=need.pk).status == NeedStatus.SUBMITTED


def test_the_dashboard_counts_the_needs_waiting(client, regions, manager):
    submit(community(regions))
    submit(community(regions))
    submit(community(regions, "huarong_town"))
    client.force_login(manager)
    html = client.get("/admin/").content.decode()
    assert "社区需求待审核" in html
    found = re.search(r"社区需求待审核.{0,400}?(\d+)", html, re.S)
    assert found and found.group(1) == "2"


def test_the_staff_list_costs_the_same_few_queries_for_3_or_33_needs(client, regions, manager):
    for i in range(3):
        submit(community(regions), title=f"需求{i}")
    client.force_login(manager)
    few = page_queries(client, "/admin/grants/needs/")
    for i in range(30):
        submit(community(regions, "gulou" if i % 2 else "fenghuang"), title=f"更多需求{i}")
    many = page_queries(client, "/admin/grants/needs/")
    assert many == few and many <= 15, (few, many)


# ---- publication ----------------------------------------------------------------------------------


def test_only_accepted_needs_are_public_and_never_a_phone(client, regions, manager, area):
    accepted = submit(community(regions), title="公开的需求", place="澜湖小区3栋")
    svc.need_accept(need=accepted, by=manager, category=area)
    waiting = submit(community(regions), title="等待审核的需求")
    rejected = submit(community(regions), title="没有采纳的需求")
    svc.need_reject(need=rejected, by=manager, reason="不属实")

    listing = client.get("/needs/").content.decode()
    assert "公开的需求" in listing and "等待审核的需求" not in listing and "没有采纳的需求" not in listing
    detail = client.get(f"/needs/{accepted.pk}/").content.decode()
    for html in (listing, detail):
        assert PHONE not in html and "张阿姨" not in html and "澜湖小区3栋" not in html
    assert "居民 张*" in detail and "凤凰街道" in detail and "凤凰社区" in detail
    for other in (waiting, rejected):
        assert client.get(f"/needs/{other.pk}/").status_code == 404


def test_a_committee_is_named_and_a_merged_need_leads_to_the_accepted_one(client, regions, manager, area):
    need = submit(community(regions), submitter_kind="committee", submitter_name="凤凰社区居委会")
    svc.need_accept(need=need, by=manager, category=area)
    assert "社区（村）居委会 凤凰社区居委会" in client.get(f"/needs/{need.pk}/").content.decode()
    dup = submit(community(regions))
    svc.need_merge(need=dup, by=manager, into=need)
    response = client.get(f"/needs/{dup.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/needs/{need.pk}/"


def test_the_public_list_filters_by_street_community_and_category(client, regions, manager, area):
    women = ServiceArea.objects.get(code="women")
    gulou_manager = staff(Role.CALL_MANAGER, regions["gulou"])
    a = submit(community(regions), title="凤凰的需求")
    svc.need_accept(need=a, by=manager, category=area)
    b = submit(community(regions, "gulou"), title="古楼的需求")
    svc.need_accept(need=b, by=gulou_manager, category=women)

    def shown(query):
        html = client.get(f"/needs/{query}").content.decode()
        return {t for t in ("凤凰的需求", "古楼的需求") if t in html}

    assert shown("") == {"凤凰的需求", "古楼的需求"}
    assert shown(f"?street={regions['gulou'].pk}") == {"古楼的需求"}
    assert shown(f"?community={community(regions).pk}") == {"凤凰的需求"}
    assert shown(f"?category={women.pk}") == {"古楼的需求"}
    assert shown("?q=凤凰") == {"凤凰的需求"}


def test_the_public_need_page_shows_the_submitted_proposals_citing_it(client, regions, manager, area):
    call = make_call(regions["fenghuang"])
    need = submit(community(regions))
    svc.need_accept(need=need, by=manager, category=area)
    submitted = proposal_at(call, ProposalStatus.SUBMITTED, title="老宝贝助餐计划")
    draft = proposal_at(call, ProposalStatus.DRAFT, title="海马爸比草稿")
    for p in (submitted, draft):
        p.cited_needs.add(need)
    html = client.get(f"/needs/{need.pk}/").content.decode()
    assert "老宝贝助餐计划" in html and submitted.organisation.name in html and "海马爸比草稿" not in html
    assert "1 个项目回应" in client.get("/needs/").content.decode()

    blind = make_call(regions["fenghuang"], blind_review=True)
    hidden = proposal_at(blind, ProposalStatus.SUBMITTED, title="小候鸟陪伴计划")
    hidden.cited_needs.add(need)
    html = client.get(f"/needs/{need.pk}/").content.decode()
    assert "小候鸟陪伴计划" in html and hidden.organisation.name not in html and "匿名评审期间" in html


def test_the_public_list_costs_the_same_queries_for_3_or_30_needs(client, regions, manager, area):
    def accepted(n):
        for i in range(n):
            svc.need_accept(need=submit(community(regions), title=f"公开需求{i}"), by=manager, category=area)

    accepted(3)
    few = page_queries(client, "/needs/")
    accepted(27)
    assert page_queries(client, "/needs/") == few <= 10


# ---- what a call page and an applicant are offered -------------------------------------------------


def test_published_needs_for_call_and_needs_for_citation(regions, manager, area):
    call = make_call(regions["fenghuang"], status=CallStatus.NEEDS)
    own = submit(community(regions), title="征集的需求")
    svc.need_accept(need=own, by=manager, category=area, call=call)
    popular = submit(community(regions), title="提的人多的需求")
    svc.need_accept(need=popular, by=manager, category=area, call=call)
    svc.need_merge(need=submit(community(regions)), by=manager, into=popular)
    nearby = submit(community(regions), title="区域内其他需求")
    svc.need_accept(need=nearby, by=manager, category=area)
    waiting = submit(community(regions), title="未审核")
    far_manager = staff(Role.CALL_MANAGER, regions["huarong"])
    far = submit(community(regions, "huarong_town"))
    svc.need_accept(need=far, by=far_manager, category=area)

    assert list(published_needs_for_call(call)) == [popular, own]
    cited = list(needs_for_citation(call))
    assert cited[:2] == [popular, own] and nearby in cited
    assert waiting not in cited and far not in cited


def test_a_needs_staff_page_runs_at_most_15_queries(client, regions, manager):
    need = submit(community(regions), title="独居老人助餐")
    client.force_login(manager)
    queries = page_queries(client, need.get_admin_url())
    assert queries <= 15, queries
