"""Every form that edits a saved object, opened and saved unchanged, changes nothing.

Each test loads an object with every field set (dates, decimals, choices, several
choices, booleans, files), opens its edit page through the real view, reads the form the
way a browser does (tests.html_forms), posts it back untouched and compares the database
row before and after. A date the browser cannot read (`2019/08/05` in a date input) is
posted back blank and fails here: that is how 成立日期 was being erased (issue 8, defect 1).

The last tests find the project's model forms and Wagtail edit screens, so a new one
must be added here (or say why it needs no round trip) before the suite passes."""

import datetime
import importlib
import pkgutil
import sys
from decimal import Decimal

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.models import model_to_dict
from django.urls import NoReverseMatch, reverse

from accounts.roles import Role
from incubator.models import BaseLevel, Incubation, Residence
from orgs.models import Organisation, OrgType, ServiceArea
from tests.factories import PNG_BYTES, UserFactory, make_uscc, organisation_with_leader, staff
from tests.html_forms import read_form
from tests.incubator.factories import IncubationBaseFactory

pytestmark = pytest.mark.django_db

PROJECT_APPS = ("accounts", "cms", "core", "orgs", "incubator", "grants", "portal")


def row(obj, *, exclude=()) -> dict:
    """Every column of `obj` as stored now (many-to-many as sets of pks, files by name)."""
    fresh = type(obj)._default_manager.get(pk=obj.pk)
    data = model_to_dict(fresh)
    for f in fresh._meta.concrete_fields:  # model_to_dict leaves out non-editable columns
        data.setdefault(f.name, f.value_from_object(fresh))
    for f in fresh._meta.many_to_many:
        data[f.name] = {o.pk for o in getattr(fresh, f.name).all()}
    for key, value in data.items():
        if hasattr(value, "name") and hasattr(value, "storage"):  # FieldFile
            data[key] = value.name
        elif isinstance(value, list) and value and hasattr(value[0], "pk"):
            data[key] = {o.pk for o in value}
    for key in exclude:
        data.pop(key, None)
    return data


def round_trip(client, url: str, *, action: str | None = None, extra: dict | None = None):
    """GET the page, read the form, POST it back unchanged; return the POST's response."""
    page = client.get(url)
    assert page.status_code == 200, page.content[:300]
    form = read_form(page.content.decode(), action=action)
    assert form.data, f"no form found on {url}"
    response = client.post(url, form.post_data() | (extra or {}))
    assert response.status_code == 302, _errors(response)
    return form, response


def _errors(response):
    context = getattr(response, "context", None) or {}
    form = context.get("form") if hasattr(context, "get") else None
    return form.errors if form is not None else response.content[:500]


# ---- the applicant portal ----------------------------------------------------------------------


def _full_profile(regions):
    org, leader = organisation_with_leader(
        name="鄂州市澜湖社区老年服务中心",
        org_type=OrgType.SERVICE_ORG,
        uscc=make_uscc(410001),
        filing_number="鄂城备2019-008",
        sponsor_name="澜湖社区居委会",
        registration_authority="鄂城区民政局",
        supervisory_unit="鄂城区民政局",
        legal_representative="王五",
        founded_on=datetime.date(2019, 8, 5),
        registered_capital=Decimal("30000.50"),
        address="鄂城区凤凰街道澜湖社区3号",
        region=regions["fenghuang_c"],
        contact_name="赵六",
        contact_phone="13711112222",
        email="lanhu@example.org",
        bank_name="中国农业银行鄂州分行",
        bank_account_name="鄂州市澜湖社区老年服务中心",
        bank_account="6228480123456789",
        introduction="为澜湖社区老人提供助餐服务。\n\n每周二、四开展陪伴活动 & 健康讲座 <免费>。",
    )
    org.service_areas.set(ServiceArea.objects.all()[:3])
    org.logo.save("logo.png", SimpleUploadedFile("logo.png", PNG_BYTES), save=True)
    return org, leader


@pytest.mark.parametrize("status", [Organisation.Status.DRAFT, Organisation.Status.VERIFIED])
def test_the_organisation_profile_saved_unchanged_changes_nothing(client, regions, status):
    org, leader = _full_profile(regions)
    Organisation.objects.filter(pk=org.pk).update(status=status)  # verified: the legal fields are locked
    client.force_login(leader)
    before = row(org, exclude=["updated_at"])

    form, _ = round_trip(client, f"/me/orgs/{org.pk}/edit/", action="")

    assert form.data["founded_on"] == ["2019-08-05"]  # what a date input can show
    assert form.files == ["logo"]
    assert row(org, exclude=["updated_at"]) == before
    assert before["founded_on"] == datetime.date(2019, 8, 5) and len(before["service_areas"]) == 3


def test_the_incubation_application_keeps_everything_typed_when_sent_back(client, regions):
    """The application is never edited once sent; what must hold is that a page shown
    again after an error offers back exactly what was typed, and sending that saves it."""
    base = IncubationBaseFactory(services=["space", "training", "mentoring", "finance"], desks=3)
    org, leader = organisation_with_leader(region=regions["fenghuang"])
    client.force_login(leader)
    url = reverse("incubator:apply", args=[base.pk])
    typed = {
        "organisation": str(org.pk),
        "plan": "在澜湖社区开展助餐陪伴服务。\n每周两次。",
        "member_count": "0",  # refused: shown again with the error
        "needs": "财务制度辅导 & 场地",
        "requested_services": ["training", "finance"],
        "residence": Residence.VIRTUAL,
    }
    response = client.post(url, typed)
    assert response.status_code == 400
    shown = read_form(response.content.decode(), action="")
    assert {k: v for k, v in shown.post_data().items() if k != "csrfmiddlewaretoken"} == typed

    response = client.post(url, shown.post_data() | {"member_count": "6"})
    assert response.status_code == 302, _errors(response)
    inc = Incubation.objects.get()
    assert (inc.organisation, inc.plan, inc.member_count, inc.needs, inc.requested_services, inc.wants_desk) == (
        org,
        typed["plan"],
        6,
        typed["needs"],
        ["training", "finance"],
        False,
    )


# ---- the Wagtail admin --------------------------------------------------------------------------


def _photo():
    from wagtail.images.models import Image
    from wagtail.images.tests.utils import get_test_image_file

    return Image.objects.create(title="工作站照片", file=get_test_image_file())


def test_a_base_saved_unchanged_in_the_admin_changes_nothing(client, regions):
    city = IncubationBaseFactory(name="鄂州市社会组织孵化基地", level=BaseLevel.CITY, region=regions["city"])
    operator_org, _ = organisation_with_leader(region=regions["fenghuang"])
    Organisation.objects.filter(pk=operator_org.pk).update(status=Organisation.Status.VERIFIED)
    base = IncubationBaseFactory(
        name="凤凰街道社会组织共享工作站",
        level=BaseLevel.STREET,
        region=regions["fenghuang"],
        parent=city,
        address="凤凰街道滨湖路8号",
        operator_org=operator_org,
        operator_unit="凤凰街道办事处",
        contact_name="李站长",
        contact_phone="0711-3200000",
        opening_hours="周一至周六 8:30–18:00",
        desks=7,
        virtual_places=9,
        services=["space", "training", "finance"],
        introduction="两层共 600 平方米。\n\n设有路演厅 & 会议室。",
        photo=_photo(),
        screening_days=6,
        period_months=18,
        handback_days=10,
        graduation_min_score=Decimal("65.50"),
        assessment_weights={"governance": 22.5, "finance": 22.5, "projects": 25, "team": 15, "resources": 15},
        is_active=False,
    )
    client.force_login(staff(Role.BASE_OPERATOR, regions["echeng"]))
    before = row(base)
    url = reverse("incubation_bases:edit", args=[base.pk])

    form, _ = round_trip(client, url, action=url)

    assert form.data["services"] == ["space", "training", "finance"]
    assert row(base) == before


def test_a_staff_user_saved_unchanged_in_the_admin_changes_nothing(client, regions):
    from django.contrib.auth.models import Group

    user = staff(
        Role.CALL_MANAGER,
        regions["fenghuang"],
        name="钱七",
        mobile="13833334444",
        unit="凤凰街道办事处",
        first_name="七",
        last_name="钱",
        email="qian@example.org",
    )
    user.groups.add(*Group.objects.exclude(pk__in=user.groups.all())[:1])
    admin = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(admin)
    before = row(user, exclude=["last_login"])
    url = reverse("wagtailusers_users:edit", args=[user.pk])

    form, _ = round_trip(client, url, action=url)

    assert form.data["region"] == [str(regions["fenghuang"].pk)]
    assert row(user, exclude=["last_login"]) == before
    assert len(before["groups"]) >= 1


@pytest.mark.parametrize("status", ["draft", "closed"])
def test_a_call_saved_unchanged_in_the_admin_changes_nothing(client, regions, status):
    from grants.models import CallLevel
    from tests.grants.factories import make_call, timeline

    upper = make_call(regions["fenghuang"], status="draft")
    studio = IncubationBaseFactory(name="澜湖社区共享工作室", level=BaseLevel.COMMUNITY, region=regions["fenghuang_c"])
    call = make_call(
        regions["fenghuang_c"],
        status=status,
        level=CallLevel.COMMUNITY,
        categories=["elderly", "children", "central_work"],
        title="澜湖社区“小候鸟”暑期公益创投",
        base=studio,
        organiser="凤凰街道澜湖社区居委会",
        summary="面向社区留守儿童和随迁子女的暑期服务。\n\n欢迎社区社会组织 & 筹备中的团队申报。",
        pool_total=Decimal("87654.32"),
        grant_min=Decimal("5000.50"),
        grant_max=Decimal("30000.00"),
        max_grant_share=Decimal("55.50"),
        max_personnel_share=Decimal("25.00"),
        forbid_cash_handouts=False,
        eligible_types=["community_filed", "social_group"],  # not in the choices' order
        allow_preparing_in_incubation=True,
        min_grade="3A",
        max_applications_per_org=2,
        rubric=[
            {"key": "need", "name": "需求调研", "weight": 22.5, "guidance": "有调研 & 数据 <支撑>。"},
            {"key": "plan", "name": "项目设计", "weight": 77.5, "guidance": ""},
        ],
        panel_size=3,
        aggregation="mean",
        blind_review=True,
        has_pitch=True,
        pitch_weight=Decimal("20.00"),
        pitch_on=timeline(status)["review_until"] + datetime.timedelta(days=2),
        min_fundable_score=Decimal("65.50"),
        tranche_plan=[
            {"name": "首期", "percent": 70, "gate": "signed"},
            {"name": "尾款", "percent": 30, "gate": "final"},
        ],
        agreement_template="第一条 项目\n乙方（{乙方}）实施“{项目名称}”，资助 {资助金额} 元（{资助金额大写}）。\n\n第二条 拨付 & <其他>\n{拨付计划}",
        report_cadence="month",
        evaluation_rubric=[
            {"key": "delivery", "name": "项目实施", "weight": 42.5, "guidance": "按计划 & <如期>。"},
            {"key": "outcomes", "name": "项目成效", "weight": 57.5, "guidance": ""},
        ],
        pass_score=Decimal("65.00"),
        grade_bands=[{"grade": "优秀", "min": 92.5}, {"grade": "合格", "min": 65}, {"grade": "不合格", "min": 0}],
        next_round=upper,
    )
    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))
    before = row(call, exclude=["updated_at"])
    url = reverse("grants_calls:edit", args=[call.pk])

    form, _ = round_trip(client, url, action=url)

    assert form.data["apply_from"] == [call.apply_from.isoformat()]
    assert form.data["rubric-0-weight"] == ["22.5"]
    assert form.data["grade_bands-0-min"] == ["92.5"] and form.data["report_cadence"] == ["month"]
    assert row(call, exclude=["updated_at"]) == before
    assert before["eligible_types"] == ["community_filed", "social_group"] and len(before["categories"]) == 3


# ---- the applicant's proposal, section by section (grants/forms/proposals.py) -------------------------

PROPOSAL_SECTIONS = ("basic", "needs", "objectives", "plan", "risks", "team", "kpis", "budget")


def _proposal_state(proposal) -> dict:
    """The proposal's columns and its tables' rows by content (a section replaces its rows)."""
    state = row(proposal, exclude=["revision", "last_saved_at", "updated_at"])
    for name in ("budget_lines", "activities", "team", "kpis"):
        state[name] = [
            {k: v for k, v in model_to_dict(r).items() if k not in ("id", "proposal")}
            for r in getattr(proposal, name).order_by("position")
        ]
    return state


def test_each_proposal_section_saved_unchanged_changes_nothing(client, regions):
    from grants.models import Need, NeedStatus, Proposal, ProposalStatus
    from grants.services import proposals as services
    from tests.grants.factories import make_call, proposal_at

    call = make_call(regions["fenghuang"], categories=["elderly", "children", "central_work"])
    proposal = proposal_at(call, ProposalStatus.DRAFT)
    leader = proposal.organisation.memberships.first().user
    need = Need.objects.create(
        title="独居老人用餐难",
        description="澜湖社区独居老人多。",
        affected="独居老人",
        people_count=45,
        region=regions["fenghuang_c"],
        submitter_kind="committee",
        submitter_name="凤凰社区居委会",
        phone="13900000000",
        call=call,
        status=NeedStatus.ACCEPTED,
    )
    month = call.implement_from.replace(day=1)
    services.proposal_save(
        proposal=proposal,
        by=leader,
        revision=Proposal.objects.get(pk=proposal.pk).revision,
        fields={
            "title": "老宝贝 & <助餐> 计划",
            "category": call.categories.get(code="children"),
            "start_month": month,
            "end_month": call.implement_until.replace(day=1),
            "beneficiaries_direct": 0,
            "beneficiaries_indirect": None,
            "summary": "第一行。\n\n第二行 & “引号”。",
            "approach": "",
        },
        places=[regions["fenghuang"], regions["fenghuang_c"]],
        cited_needs=[need],
        budget_lines=[
            {
                "category": "personnel",
                "item": "社工补贴",
                "unit": "月",
                "quantity": Decimal("12.50"),
                "unit_price": Decimal("0.01"),
                "source": "self",
                "nature": "normal",
                "note": "测算 & <说明>",
            },
            {
                "category": "other",
                "item": "投影仪",
                "unit": "台",
                "quantity": Decimal("1"),
                "unit_price": Decimal("3999.99"),
                "source": "grant",
                "nature": "fixed_asset",
                "note": "",
            },
        ],
        activities=[
            {"name": "助餐", "month": month, "content": "每周五次", "sessions": 200},
            {"name": "探访", "month": call.implement_until.replace(day=1), "content": "上门", "sessions": 1},
        ],
        team=[
            {"user": leader, "name": str(leader), "role": "项目负责人", "qualifications": ""},
            {"user": None, "name": "王社工", "role": "督导", "qualifications": "中级社工师"},
        ],
        kpis=[{"indicator": "满意度", "target": Decimal("95.50"), "unit": "%", "method": "问卷"}],
    )
    client.force_login(leader)
    before = _proposal_state(proposal)
    url = reverse("grants:proposal", args=[proposal.pk])

    for section in PROPOSAL_SECTIONS:
        action = reverse("grants:save", args=[proposal.pk, section])
        form = read_form(client.get(url).content.decode(), action=action)
        assert form.data, section
        response = client.post(action, form.post_data())
        assert response.status_code == 302, (section, response.content[:500])
        assert _proposal_state(proposal) == before, section

    assert form.data["budget-0-quantity"] == ["12.50"] and form.data["budget-1-nature"] == ["fixed_asset"]
    assert len(before["places"]) == 2 and len(before["cited_needs"]) == 1 and before["start_month"] == month
    assert Proposal.objects.get(pk=proposal.pk).revision > 0


# ---- round trips kept beside their screens' other tests (modules: pytest collects nothing here) ---
# a 公示's page in Wagtail (cms.NoticePageForm): tests/cms/test_notices.py;
# the expert pool (grants/forms/experts.py), with the account and the affiliations: tests/grants/test_experts_admin.py

from tests.cms import test_notices as notices_cms  # noqa: E402
from tests.grants import test_experts_admin as experts_admin  # noqa: E402

# ---- nothing is left out ---------------------------------------------------------------------------

# Each model form of the project: the test that round-trips it, or why none is needed.
ROUND_TRIPPED = {
    "orgs.forms.OrganisationForm": test_the_organisation_profile_saved_unchanged_changes_nothing,
    "incubator.forms.IncubationBaseForm": test_a_base_saved_unchanged_in_the_admin_changes_nothing,
    "accounts.admin_users.StaffUserEditForm": test_a_staff_user_saved_unchanged_in_the_admin_changes_nothing,
    "grants.forms.calls.CallForm": test_a_call_saved_unchanged_in_the_admin_changes_nothing,
    "grants.forms.proposals.ProposalSectionForm": test_each_proposal_section_saved_unchanged_changes_nothing,
    "grants.forms.proposals.BasicForm": test_each_proposal_section_saved_unchanged_changes_nothing,
    "grants.forms.proposals.NeedsForm": test_each_proposal_section_saved_unchanged_changes_nothing,
    "grants.forms.proposals.ObjectivesForm": test_each_proposal_section_saved_unchanged_changes_nothing,
    "grants.forms.proposals.ApproachForm": test_each_proposal_section_saved_unchanged_changes_nothing,
    "grants.forms.proposals.RisksForm": test_each_proposal_section_saved_unchanged_changes_nothing,
    "grants.forms.proposals.RowForm": test_each_proposal_section_saved_unchanged_changes_nothing,
    "grants.forms.proposals.BudgetLineForm": test_each_proposal_section_saved_unchanged_changes_nothing,
    "grants.forms.proposals.ActivityForm": test_each_proposal_section_saved_unchanged_changes_nothing,
    "grants.forms.proposals.TeamMemberForm": test_each_proposal_section_saved_unchanged_changes_nothing,
    "grants.forms.proposals.KPIForm": test_each_proposal_section_saved_unchanged_changes_nothing,
    "grants.forms.experts.ExpertForm": experts_admin.test_an_expert_saved_unchanged_changes_nothing,
    "cms.models.NoticePageForm": notices_cms.test_a_notice_page_saved_unchanged_in_the_admin_changes_nothing,
}
CREATE_ONLY = {
    "grants.forms.needs.NeedForm": "a need is submitted once (anonymously too); staff moderate it, nobody edits it",
    "orgs.forms.InvitationForm": "an invitation is sent, never edited",
    "orgs.forms.ChangeRequestForm": "a change request is filed once and decided by staff",
    "incubator.forms.ServiceLogForm": "a service record is added, never edited",
    "accounts.forms.SignupForm": "signing up creates the account; the profile is edited elsewhere",
    "accounts.admin_users.StaffUserCreationForm": "creates a user; editing is StaffUserEditForm",
}
# Wagtail edit screens of project models: the test that round-trips them.
EDIT_SCREENS = {
    "incubator.IncubationBase": test_a_base_saved_unchanged_in_the_admin_changes_nothing,
    "accounts.User": test_a_staff_user_saved_unchanged_in_the_admin_changes_nothing,
    "grants.Call": test_a_call_saved_unchanged_in_the_admin_changes_nothing,
    "grants.ExpertProfile": experts_admin.test_an_expert_saved_unchanged_changes_nothing,
}


def _import_project_forms():
    """Import every module of the project that may define forms."""
    for app in PROJECT_APPS:
        try:
            package = importlib.import_module(app)
        except ImportError:
            continue
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{app}."):
            leaf = info.name.rsplit(".", 1)[-1]
            if leaf.startswith(("forms", "views", "admin", "wagtail_hooks")):
                importlib.import_module(info.name)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_model_form_of_the_project_is_round_tripped_or_says_why_not():
    _import_project_forms()
    found = set()
    for cls in _subclasses(forms.BaseModelForm):
        module = sys.modules.get(cls.__module__)
        # classes built on the fly (Wagtail's panels) are not the project's own definitions
        if cls.__module__.split(".")[0] in PROJECT_APPS and getattr(module, cls.__name__, None) is cls:
            found.add(f"{cls.__module__}.{cls.__name__}")
    missing = found - set(ROUND_TRIPPED) - set(CREATE_ONLY)
    assert not missing, f"model forms with no round-trip test here: {sorted(missing)}"
    assert {"orgs.forms.OrganisationForm", "incubator.forms.IncubationBaseForm"} <= found


def test_every_wagtail_edit_screen_of_a_project_model_is_round_tripped():
    from wagtail.admin.viewsets import viewsets
    from wagtail.admin.viewsets.model import ModelViewSet

    screens = set()
    for vs in viewsets.viewsets:
        if not isinstance(vs, ModelViewSet) or vs.model._meta.app_label not in PROJECT_APPS:
            continue
        name = vs.get_url_name("edit")
        try:
            reverse(name, args=[1]) if name else None
        except NoReverseMatch:
            continue
        if name:
            screens.add(vs.model._meta.label)
    missing = screens - set(EDIT_SCREENS)
    assert not missing, f"Wagtail edit screens with no round-trip test here: {sorted(missing)}"
    assert "incubator.IncubationBase" in screens and "accounts.User" in screens


def test_every_date_input_of_the_project_writes_iso_dates():
    """Any form field for a date renders YYYY-MM-DD, whatever the locale's input formats."""
    _import_project_forms()
    day, moment = datetime.date(2019, 8, 5), datetime.datetime(2019, 8, 5, 9, 30)
    checked = 0
    for cls in _subclasses(forms.BaseForm):
        module = sys.modules.get(cls.__module__)
        if cls.__module__.split(".")[0] not in PROJECT_APPS or getattr(module, cls.__name__, None) is not cls:
            continue
        for name, field in cls.base_fields.items():
            if isinstance(field, forms.DateTimeField):
                assert field.widget.format_value(moment) == "2019-08-05T09:30", f"{cls.__name__}.{name}"
                checked += 1
            elif isinstance(field, forms.DateField):
                assert field.widget.format_value(day) == "2019-08-05", f"{cls.__name__}.{name}"
                checked += 1
    assert checked >= 8  # 成立日期, 评定日期, 列入/移出日期, 入驻日期, 续驻至, 评估日期, 服务日期 ...
