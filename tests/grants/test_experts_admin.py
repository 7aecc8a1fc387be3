"""专家库 in the Wagtail admin (grants/staff/experts.py, grants/services/experts.py), from the
outside: who sees which experts (region scope, wrong role, anonymous), adding an expert
creates or links the login account with the reviewer role, bad input is said in Chinese
and nothing typed is lost, affiliations are saved, an edit saved unchanged changes
nothing, pausing and resuming, the organisation chooser's scope, and the list's queries."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from wagtail.models import ModelLogEntry

from accounts.models import User
from accounts.roles import GROUP_NAMES, Role
from grants.models import Affiliation, Assignment, ExpertProfile, ReviewRound
from orgs.models import OrganisationStatus, ServiceArea
from tests.factories import PASSWORD, OrganisationFactory, applicant, staff
from tests.grants.factories import call_in_review, make_expert
from tests.html_forms import read_form
from tests.queries import page_queries

pytestmark = pytest.mark.django_db

LIST = "/admin/grants/experts/"
ADD = "/admin/grants/experts/new/"
REVIEWERS = GROUP_NAMES[Role.REVIEWER]


def edit(expert) -> str:
    return f"/admin/grants/experts/edit/{expert.pk}/"


def action(expert, slug) -> str:
    return f"/admin/grants/experts/{expert.pk}/actions/{slug}/"


def expert(name, region, **fields) -> ExpertProfile:
    """make_expert with the name where the account keeps it (User.name)."""
    profile = make_expert(name, region=region, **fields)
    User.objects.filter(pk=profile.user_id).update(name=name)
    return ExpertProfile.objects.select_related("user").get(pk=profile.pk)


def html_of(response) -> str:
    return response.content.decode()


def new_expert_data(client, **overrides) -> dict:
    """The add form as the page offers it, filled in as a manager would."""
    form = read_form(html_of(client.get(ADD)), action=ADD)
    data = form.post_data() | {
        "name": "周敏",
        "mobile": "139 7100 1234",
        "email": "zhoumin@example.org",
        "password": "Pingshen#2026",
        "employer": "鄂州职业大学",
        "title": "副教授",
        "expertise": [
            str(pk) for pk in ServiceArea.objects.filter(code__in=["elderly", "children"]).values_list("pk", flat=True)
        ],
        "max_per_call": "12",
    }
    return data | overrides


def with_affiliations(data: dict, rows: list[tuple]) -> dict:
    data = {k: v for k, v in data.items() if not k.startswith("affiliations-")}
    data |= {
        "affiliations-TOTAL_FORMS": str(len(rows)),
        "affiliations-INITIAL_FORMS": "0",
        "affiliations-MIN_NUM_FORMS": "0",
        "affiliations-MAX_NUM_FORMS": "1000",
    }
    for i, (org, kind, note) in enumerate(rows):
        data |= {
            f"affiliations-{i}-organisation": str(org.pk),
            f"affiliations-{i}-kind": kind,
            f"affiliations-{i}-note": note,
            f"affiliations-{i}-id": "",
            f"affiliations-{i}-DELETE": "",
        }
    return data


# ---- who sees what ---------------------------------------------------------------------------------


def test_the_pool_is_scoped_by_region(client, regions):
    own = expert("王建国", regions["huarong_town"], employer="华容区社会工作协会")
    far = expert("李秀英", regions["fenghuang"], employer="鄂城区老年大学")

    client.force_login(staff(Role.CALL_MANAGER, regions["huarong"]))
    html = html_of(client.get(LIST))
    assert "王建国" in html and "华容区社会工作协会" in html
    assert "李秀英" not in html and "鄂城区老年大学" not in html
    assert not client.get(LIST, {"q": "李秀英"}).context["object_list"]
    assert client.get(edit(far)).status_code == 404
    assert client.get(f"/admin/grants/experts/history/{far.pk}/").status_code == 404
    assert client.get(edit(own)).status_code == 200
    # another district's region is not a filter choice either
    assert "筛选条件无效" in html_of(client.get(LIST, {"region": regions["fenghuang"].pk}))

    client.force_login(staff(Role.CALL_MANAGER, regions["city"]))
    html = html_of(client.get(LIST))
    assert "王建国" in html and "李秀英" in html


def test_the_list_shows_each_experts_columns_and_filters(client, regions):
    call, proposals, _, _ = call_in_review(n_proposals=2, n_experts=0, region=regions["fenghuang"])
    busy = expert(
        "张卫东", regions["fenghuang"], employer="鄂州市社会工作协会", title="高级社工师", expertise=["elderly"]
    )
    paused = expert("赵丽", regions["gulou"], available=False, unavailable_note="出国访学")
    rnd = ReviewRound.objects.create(call=call, deadline=timezone.localdate() + datetime.timedelta(days=10))
    for p in proposals:
        Assignment.objects.create(round=rnd, proposal=p, expert=busy)
    last_year = Assignment.objects.create(round=rnd, proposal=proposals[0], expert=paused)
    Assignment.objects.filter(pk=last_year.pk).update(created_at=timezone.now() - datetime.timedelta(days=400))
    org_a, org_b = OrganisationFactory(region=regions["fenghuang"]), OrganisationFactory(region=regions["gulou"])
    Affiliation.objects.create(expert=busy, organisation=org_a, kind="member")
    Affiliation.objects.create(expert=busy, organisation=org_a, kind="board")
    Affiliation.objects.create(expert=busy, organisation=org_b, kind="relative")

    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))
    response = client.get(LIST)
    rows = {e.pk: e for e in response.context["object_list"]}
    assert (rows[busy.pk].task_count, rows[busy.pk].affiliation_count) == (2, 2)
    assert (rows[paused.pk].task_count, rows[paused.pk].affiliation_count) == (0, 0)  # last year's task not counted
    html = html_of(response)
    for text in ("姓名", "工作单位", "擅长领域", "所在区域", "可参加评审", "本年度评审任务数", "关联组织数"):
        assert text in html
    assert "高级社工师" in html and ServiceArea.objects.get(code="elderly").name in html
    assert "已暂停" in html and "可参加" in html

    def names(**params):
        return {e.name for e in client.get(LIST, params).context["object_list"]}

    assert names(available="no") == {"赵丽"}
    assert names(available="yes") == {"张卫东"}
    assert names(expertise=ServiceArea.objects.get(code="elderly").pk) >= {"张卫东"}
    assert names(region=regions["gulou"].pk) == {"赵丽"}
    assert names(q="社会工作协会") == {"张卫东"}
    assert names(q="赵丽") == {"赵丽"}
    assert [e.name for e in client.get(LIST, {"ordering": "-task_count"}).context["object_list"]][0] == "张卫东"


def test_a_reviewer_and_an_applicant_cannot_open_the_pool(client, regions):
    other = expert("李秀英", regions["fenghuang"])
    reviewer = expert("王建国", regions["fenghuang"]).user
    for user in (reviewer, applicant()):
        client.force_login(user)
        for url in (LIST, ADD, edit(other)):
            response = client.get(url)
            assert response.status_code in (302, 403, 404), (user, url)
            assert "李秀英" not in html_of(response)
        assert client.post(action(other, "pause"), {"pause-reason": "越权"}).status_code in (302, 403)
        assert ExpertProfile.objects.get(pk=other.pk).available
    client.force_login(reviewer)
    home = html_of(client.get("/admin/"))
    assert "专家库" not in home


def test_anonymous_visitors_are_sent_to_the_login(client, regions):
    one = expert("李秀英", regions["fenghuang"])
    for url in (LIST, ADD, edit(one), "/admin/grants/organisations/choose/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), url


def test_the_menu_offers_the_pool_to_call_managers_only(client, regions):
    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))
    assert LIST in html_of(client.get("/admin/"))
    client.force_login(staff(Role.BASE_OPERATOR, regions["echeng"]))
    assert LIST not in html_of(client.get("/admin/"))


# ---- adding an expert ---------------------------------------------------------------------------------


def test_adding_an_expert_creates_a_reviewer_account_who_logs_in_and_sees_nothing_of_the_pool(client, regions):
    manager = staff(Role.CALL_MANAGER, regions["echeng"])
    client.force_login(manager)
    data = new_expert_data(client, region=str(regions["fenghuang"].pk))

    response = client.post(ADD, data)

    assert response.status_code == 302, response.context["form"].errors if response.context else response
    profile = ExpertProfile.objects.select_related("user").get(user__mobile="13971001234")
    user = profile.user
    assert (user.username, user.name, user.email) == ("13971001234", "周敏", "zhoumin@example.org")
    assert set(user.groups.values_list("name", flat=True)) == {REVIEWERS}
    assert user.region is None and not user.is_staff
    assert (profile.region, profile.employer, profile.title, profile.max_per_call) == (
        regions["fenghuang"],
        "鄂州职业大学",
        "副教授",
        12,
    )
    assert {a.code for a in profile.expertise.all()} == {"elderly", "children"}
    assert ModelLogEntry.objects.filter(object_id=str(profile.pk), action="wagtail.create", user=manager).exists()
    followed = client.get(response["Location"])
    assert "已添加评审专家“周敏”" in html_of(followed)

    client.logout()
    login = client.post("/admin/login/", {"username": "13971001234", "password": "Pingshen#2026"})
    assert login.status_code == 302
    home = client.get("/admin/")
    assert home.status_code == 200 and "专家库" not in html_of(home)
    for url in (LIST, edit(profile)):
        response = client.get(url)
        assert response.status_code in (302, 403, 404) and "鄂州职业大学" not in html_of(response)


def test_an_existing_account_without_a_profile_is_linked_and_keeps_its_password(client, regions):
    person = applicant(name="钱晓", mobile="13971005678", email="qian@example.org")
    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))

    response = client.post(ADD, new_expert_data(client, name="钱晓东", mobile="13971005678", email="", password=""))

    assert response.status_code == 302
    profile = ExpertProfile.objects.get(user=person)
    person.refresh_from_db()
    assert person.name == "钱晓" and person.email == "qian@example.org" and person.check_password(PASSWORD)
    assert set(person.groups.values_list("name", flat=True)) == {REVIEWERS, GROUP_NAMES[Role.APPLICANT]}
    assert User.objects.filter(mobile="13971005678").count() == 1
    assert "已将已有账号“钱晓”" in html_of(client.get(response["Location"]))
    # an account that is not only an expert's: its name, mobile and e-mail are not the pool's to edit
    form = read_form(html_of(client.get(edit(profile))), action=edit(profile))
    assert "name" not in form.data and "mobile" not in form.data and "disabled" in form.inputs["mobile"]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"mobile": "12345"}, "mobile", "请输入11位中国大陆手机号码"),
        ({"name": ""}, "name", "请填写专家姓名"),
        ({"password": ""}, "password", "新建专家账号时请设置初始密码"),
        ({"password": "12345678"}, "password", "密码"),
        ({"email": "不是邮箱"}, "email", "请输入有效的电子邮箱"),
        ({"available": "", "unavailable_note": ""}, "unavailable_note", "暂停评审时请写明原因"),
        ({"max_per_call": "0"}, "max_per_call", "1"),
        ({"employer": ""}, "employer", "请填写专家的工作单位"),
    ],
)
def test_bad_input_is_said_in_chinese_and_nothing_typed_is_lost(client, regions, overrides, field, message):
    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))
    data = new_expert_data(client, **overrides)

    response = client.post(ADD, data)

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert any(message in m for m in errors.get(field, [])), errors
    html = html_of(response)
    assert message in html
    shown = read_form(html, action=ADD).data
    for name in ("name", "mobile", "employer", "title", "email"):
        assert shown[name] == [data[name]], name
    assert not ExpertProfile.objects.exists() and not User.objects.filter(mobile="13971001234").exists()


def test_a_mobile_already_in_the_pool_is_refused(client, regions):
    existing = expert("李秀英", regions["huarong_town"])
    User.objects.filter(pk=existing.user_id).update(mobile="13971009999")
    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))

    response = client.post(ADD, new_expert_data(client, mobile="139-7100-9999", employer="鄂州市第一中学"))

    assert response.status_code == 200
    html = html_of(response)
    assert "该手机号的账号已在专家库中" in html and "李秀英" not in html  # an expert of another district
    assert "鄂州市第一中学" in html
    assert ExpertProfile.objects.count() == 1


def test_a_region_outside_the_scope_is_refused(client, regions):
    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))
    response = client.post(ADD, new_expert_data(client, region=str(regions["huarong_town"].pk)))
    assert response.status_code == 200
    assert "不在您的管辖范围内" in response.context["form"].errors["region"][0]
    assert not ExpertProfile.objects.exists()


def test_affiliations_are_saved_and_a_pair_twice_is_refused(client, regions):
    member_of = OrganisationFactory(name="鄂州市夕阳红为老服务中心", region=regions["fenghuang"])
    board_of = OrganisationFactory(
        name="华容区青少年服务中心", region=regions["huarong_town"], status=OrganisationStatus.VERIFIED
    )
    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))
    base = new_expert_data(client)

    twice = with_affiliations(base, [(member_of, "member", ""), (member_of, "member", "又一次")])
    response = client.post(ADD, twice)
    assert response.status_code == 200 and "同一组织的同一种关系只需填写一行" in html_of(response)
    assert not ExpertProfile.objects.exists()

    rows = [(member_of, "member", "2019年起为会员"), (board_of, "board", "理事")]
    response = client.post(ADD, with_affiliations(base, rows))

    assert response.status_code == 302
    profile = ExpertProfile.objects.get()
    assert {(a.organisation, a.kind, a.note) for a in profile.affiliations.all()} == {
        (member_of, "member", "2019年起为会员"),
        (board_of, "board", "理事"),
    }
    assert html_of(client.get(LIST)).count("<td") > 0
    row = next(e for e in client.get(LIST).context["object_list"] if e.pk == profile.pk)
    assert row.affiliation_count == 2


def test_an_organisation_the_manager_may_not_see_is_refused(client, regions):
    hidden = OrganisationFactory(name="华容镇草稿协会", region=regions["huarong_town"])  # a draft elsewhere
    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))
    response = client.post(ADD, with_affiliations(new_expert_data(client), [(hidden, "member", "")]))
    assert response.status_code == 200
    assert "只能选择您辖区内的组织或已通过登记审核的组织" in html_of(response)
    assert not Affiliation.objects.exists()


# ---- editing -------------------------------------------------------------------------------------------------


def _state(profile) -> dict:
    from tests.test_form_roundtrip import row

    return {
        "profile": row(profile),
        "user": row(profile.user, exclude=["last_login"]),
        "affiliations": sorted(
            (a.pk, a.organisation_id, a.kind, a.note, a.declared_at) for a in Affiliation.objects.filter(expert=profile)
        ),
    }


def test_an_expert_saved_unchanged_changes_nothing(client, regions):
    profile = expert(
        "孙志刚",
        regions["fenghuang_c"],
        employer="鄂州市 社会工作协会",
        title="中级社工师",
        max_per_call=7,
        expertise=["elderly", "disabled"],
    )
    User.objects.filter(pk=profile.user_id).update(email="Sun.Zhigang@Example.org")
    org = OrganisationFactory(region=regions["fenghuang"])
    Affiliation.objects.create(expert=profile, organisation=org, kind="member", note="会员 & <志愿者>")
    Affiliation.objects.create(expert=profile, organisation=org, kind="consultant", note="")
    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))
    before = _state(profile)
    url = edit(profile)

    form = read_form(html_of(client.get(url)), action=url)
    response = client.post(url, form.post_data())

    assert response.status_code == 302, response.context["form"].errors
    assert form.data["affiliations-INITIAL_FORMS"] == ["2"] and form.data["email"] == ["Sun.Zhigang@Example.org"]
    assert _state(profile) == before


def test_editing_changes_the_account_and_the_profile_and_removes_an_affiliation(client, regions):
    profile = expert("孙志刚", regions["fenghuang"])
    org = OrganisationFactory(region=regions["fenghuang"])
    Affiliation.objects.create(expert=profile, organisation=org, kind="member")
    User.objects.filter(pk=profile.user_id).update(mobile="13971002222", username="13971002222")
    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))
    url = edit(profile)
    data = read_form(html_of(client.get(url)), action=url).post_data()
    data |= {"name": "孙志强", "mobile": "13971003333", "title": "高级社工师", "affiliations-0-DELETE": "1"}

    response = client.post(url, data)

    assert response.status_code == 302, response.context["form"].errors
    profile.refresh_from_db()
    user = User.objects.get(pk=profile.user_id)
    assert (user.name, user.mobile, user.username, profile.title) == (
        "孙志强",
        "13971003333",
        "13971003333",
        "高级社工师",
    )
    assert not profile.affiliations.exists()


def test_pausing_and_resuming(client, regions):
    profile = expert("孙志刚", regions["fenghuang"])
    manager = staff(Role.CALL_MANAGER, regions["echeng"])
    client.force_login(manager)
    assert "暂停评审" in html_of(client.get(edit(profile)))

    response = client.post(action(profile, "pause"), {"pause-reason": ""})
    assert response.status_code == 400 and "暂停评审时请写明原因" in html_of(response)
    assert ExpertProfile.objects.get(pk=profile.pk).available

    response = client.post(action(profile, "pause"), {"pause-reason": "2026年赴外地挂职"})
    assert response.status_code == 302 and response["Location"] == edit(profile)
    stored = ExpertProfile.objects.get(pk=profile.pk)
    assert (stored.available, stored.unavailable_note) == (False, "2026年赴外地挂职")
    page = html_of(client.get(edit(profile)))
    assert "已暂停评审" in page and "2026年赴外地挂职" in page and "恢复评审" in page
    assert ModelLogEntry.objects.filter(object_id=str(profile.pk), action="grants.expert.pause", user=manager).exists()
    history = html_of(client.get(f"/admin/grants/experts/history/{profile.pk}/"))
    assert "暂停评审" in history

    response = client.post(action(profile, "resume"), {})
    assert response.status_code == 302
    stored = ExpertProfile.objects.get(pk=profile.pk)
    assert (stored.available, stored.unavailable_note) == (True, "")

    client.force_login(staff(Role.CALL_MANAGER, regions["huarong"]))
    assert client.post(action(profile, "pause"), {"pause-reason": "越权"}).status_code == 404
    assert ExpertProfile.objects.get(pk=profile.pk).available


# ---- the organisation chooser ----------------------------------------------------------------------------------


def test_the_organisation_chooser_offers_only_organisations_the_manager_may_see(client, regions):
    own = OrganisationFactory(name="凤凰街道草稿服务社", region=regions["fenghuang"])
    public = OrganisationFactory(
        name="华容镇认证服务社", region=regions["huarong_town"], status=OrganisationStatus.VERIFIED
    )
    hidden = OrganisationFactory(name="华容镇草稿服务社", region=regions["huarong_town"])
    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))

    response = client.get("/admin/grants/organisations/choose/")
    assert response.status_code == 200
    html = response.json()["html"]
    assert own.name in html and public.name in html and hidden.name not in html
    results = html_of(client.get("/admin/grants/organisations/choose/results/", {"q": "服务社"}))
    assert own.name in results and hidden.name not in results
    assert client.get(f"/admin/grants/organisations/choose/{hidden.pk}/").status_code == 404
    chosen = client.get(f"/admin/grants/organisations/choose/{own.pk}/")
    assert chosen.status_code == 200 and own.name in chosen.content.decode("unicode_escape")

    client.force_login(expert("王建国", regions["fenghuang"]).user)
    assert client.get("/admin/grants/organisations/choose/").status_code in (302, 403)


# ---- queries ----------------------------------------------------------------------------------------------------


def _many_experts(n: int, region, areas, orgs):
    """`n` experts in bulk (accounts, profiles, expertise, an affiliation each)."""
    reviewers = Group.objects.get(name=REVIEWERS)
    start = User.objects.count()
    users = User.objects.bulk_create(
        [
            User(username=f"bulk{start + i}", name=f"批量专家{start + i}", mobile=f"1357{start + i:07d}")
            for i in range(n)
        ]
    )
    reviewers.user_set.add(*users)
    profiles = ExpertProfile.objects.bulk_create(
        [ExpertProfile(user=u, region=region, employer=f"单位{u.pk}") for u in users]
    )
    through = ExpertProfile.expertise.through
    through.objects.bulk_create([through(expertprofile=p, servicearea=a) for p in profiles for a in areas])
    Affiliation.objects.bulk_create(
        [Affiliation(expert=p, organisation=orgs[i % len(orgs)], kind="member") for i, p in enumerate(profiles)]
    )


def test_the_list_takes_few_queries_however_many_experts(client, regions):
    areas = list(ServiceArea.objects.all()[:3])
    orgs = [OrganisationFactory(region=regions["fenghuang"]) for _ in range(3)]
    call, proposals, _, _ = call_in_review(n_proposals=1, n_experts=0, region=regions["fenghuang"])
    rnd = ReviewRound.objects.create(call=call, deadline=timezone.localdate())
    _many_experts(3, regions["fenghuang"], areas, orgs)
    for profile in ExpertProfile.objects.all():
        Assignment.objects.create(round=rnd, proposal=proposals[0], expert=profile)
    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))
    few = page_queries(client, LIST)

    _many_experts(297, regions["gulou"], areas, orgs)

    assert page_queries(client, LIST) == few <= 15
    assert page_queries(client, LIST, {"p": 3, "ordering": "-task_count"}) == few
    assert page_queries(client, LIST, {"expertise": areas[0].pk, "available": "yes", "q": "批量"}) <= 15
    assert len(client.get(LIST).context["object_list"]) == 50


# ---- the services themselves --------------------------------------------------------------------------------------


def test_the_services_check_the_permission_in_the_experts_region(regions):
    from django.core.exceptions import PermissionDenied, ValidationError

    from grants.services import experts as services

    fields = {"name": "周敏", "mobile": "13971001234", "employer": "鄂州职业大学", "password": "Pingshen#2026"}
    for by, region in (
        (staff(Role.CALL_MANAGER, regions["huarong"]), regions["fenghuang"]),  # another district
        (staff(Role.BASE_OPERATOR, regions["echeng"]), regions["fenghuang"]),  # no manage_experts
        (expert("王建国", regions["fenghuang"]).user, regions["fenghuang"]),  # a reviewer
    ):
        with pytest.raises(PermissionDenied):
            services.expert_create(by=by, region=region, **fields)
    assert not User.objects.filter(mobile="13971001234").exists()

    manager = staff(Role.CALL_MANAGER, regions["echeng"])
    profile = services.expert_create(by=manager, region=regions["fenghuang"], **fields)
    org = OrganisationFactory(region=regions["fenghuang"])
    kept = {"organisation": org, "kind": "member", "note": ""}
    same = {"name": "周敏", "mobile": "13971001234", "email": "", "employer": "鄂州职业大学"}
    services.expert_update(expert=profile, by=manager, region=regions["fenghuang"], affiliations=[kept], **same)
    declared = Affiliation.objects.get(expert=profile).declared_at
    with pytest.raises(PermissionDenied):  # moved out of the manager's scope
        services.expert_update(expert=profile, by=manager, region=regions["huarong_town"], **same)
    with pytest.raises(ValidationError) as refused:
        services.expert_update(
            expert=profile, by=manager, region=regions["fenghuang"], available=False, affiliations=[kept], **same
        )
    assert "暂停评审时请写明原因" in str(refused.value)
    services.expert_update(
        expert=profile, by=manager, region=regions["gulou"], affiliations=[{**kept, "note": "会员"}], **same
    )
    stored = Affiliation.objects.get(expert=profile)
    assert (stored.note, stored.declared_at) == ("会员", declared)  # the same row, its date kept
    assert ExpertProfile.objects.get(pk=profile.pk).region == regions["gulou"]
    with pytest.raises(PermissionDenied):
        services.expert_pause(expert=profile, by=staff(Role.CALL_MANAGER, regions["huarong"]), reason="越权")
