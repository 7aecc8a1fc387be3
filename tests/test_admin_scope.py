"""Region scope in every admin screen: a staff user of 鄂城区 holding every staff role sees
and changes nothing of 华容区.

`test_every_project_admin_url_*` walks the URL resolver under /admin/ and takes every URL
that belongs to the project: a view built by a project viewset (a `ScopedModelViewSet`
passes itself to its views; any other viewset is found by its URL namespace) or a view
function or class of a project app. So a new viewset or screen is tested without a line
here, as long as its objects are one of the models of `OUT_OF_REGION`; a URL with a
parameter this module cannot fill fails the test, naming the URL.

Then Wagtail's own screens: the site-history report, the admin API, the choosers and the
editing-session pings."""

import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver
from wagtail.admin.viewsets import viewsets as admin_viewsets
from wagtail.models import ModelLogEntry

from accounts.models import User
from accounts.roles import ROLE_PERMISSIONS, Role
from core.models import BackgroundJob
from core.viewsets import ScopedModelViewSet
from grants.models import (
    Agreement,
    Assignment,
    Call,
    Evaluation,
    ExpertProfile,
    Need,
    Objection,
    PanelDraw,
    ProgressReport,
    Proposal,
    ProposalAttachment,
    Recommendation,
    ReportPhoto,
    Tranche,
)
from incubator import services as incubator_services
from incubator.models import BaseLevel, Incubation, IncubationBase, IncubationStatus, Promotion
from orgs.models import Organisation, OrganisationStatus
from tests.factories import OrganisationFactory, UserFactory, applicant, staff
from tests.grants.factories import make_call
from tests.incubator.factories import IncubationBaseFactory, base_operator, incubation_at

pytestmark = pytest.mark.django_db

PROJECT_APPS = ("accounts", "core", "cms", "orgs", "incubator", "grants", "portal")
SECRET = "保密测试"  # in the name of every out-of-region object
STAFF_ROLES = [Role.CALL_MANAGER, Role.BASE_OPERATOR, Role.AUDITOR, Role.FINANCE, Role.REVIEWER]


# ---- the out-of-region objects (华容区) -----------------------------------------------------


@pytest.fixture
def far(regions):
    """One object of each kind, all in 华容镇, all named with SECRET."""
    town = regions["huarong_town"]
    base = IncubationBaseFactory(name=f"华容镇{SECRET}共享工作站", region=town, level=BaseLevel.STREET)
    studio = IncubationBaseFactory(name=f"华容{SECRET}社区工作室", region=town, level=BaseLevel.COMMUNITY, parent=base)
    leader = applicant(name=f"{SECRET}负责人")
    org = OrganisationFactory(name=f"华容镇{SECRET}草稿协会", region=town, status=OrganisationStatus.SUBMITTED)
    org.memberships.create(user=leader, role="leader")
    operator = base_operator(studio, name=f"{SECRET}站长")
    resident = OrganisationFactory(name=f"华容镇{SECRET}在孵协会", region=town)
    resident.memberships.create(user=leader, role="leader")
    incubation = incubation_at(studio, resident, IncubationStatus.IN_INCUBATION, by=operator, applicant=leader)
    promotion = incubator_services.promotion_recommend(incubation=incubation, by=operator, reason="成长很快。")
    applied = incubation_at(base, org, IncubationStatus.APPLIED, applicant=leader)
    job = BackgroundJob.objects.create(kind="export", title=f"{SECRET}导出", runner="x", created_by=operator)
    call = make_call(town, title=f"华容镇{SECRET}公益创投项目征集")
    need, recommendation = _far_need_and_recommendation(town)
    proposal = _far_proposal(call)
    return {
        IncubationBase: base,
        Organisation: org,
        Incubation: applied,
        Promotion: promotion,
        BackgroundJob: job,
        Call: call,
        User: operator,
        "studio": studio,
        Need: need,
        Recommendation: recommendation,
        Proposal: proposal,
        ProposalAttachment: proposal.attachments.get(),
        ExpertProfile: (expert := _far_expert(town)),
        Objection: _far_objection(call, proposal),
        Tranche: _far_tranche(proposal),
        **_far_assignment(call, proposal, expert),
        Agreement: _far_agreement(proposal),
        **_far_report_and_evaluation(proposal),
    }


def _far_report_and_evaluation(proposal):
    """A submitted progress report of 华容镇's project with a photo, and a mid-term evaluation
    (进度报告 and 项目评估: their pages, the photo, the PDF and the actions)."""
    import datetime

    from django.core.files.base import ContentFile

    from tests.factories import PNG_BYTES

    day = datetime.date(2027, 3, 31)
    report = ProgressReport.objects.create(
        proposal=proposal,
        period=f"{SECRET}第一阶段",
        period_start=day.replace(day=1),
        period_end=day,
        narrative=f"{SECRET}工作情况",
        status="submitted",
    )
    photo = ReportPhoto(report=report, caption=f"{SECRET}照片")
    photo.image.save("far.png", ContentFile(PNG_BYTES), save=False)
    photo.save()
    evaluation = Evaluation.objects.create(proposal=proposal, kind="mid_term", comment=f"{SECRET}评估意见")
    return {ProgressReport: report, ReportPhoto: photo, Evaluation: evaluation}


def _far_agreement(proposal):
    """An agreement of 华容镇's project, with its signed scan (项目协议: its PDF, scan and actions)."""
    import datetime
    from decimal import Decimal

    from django.core.files.base import ContentFile

    from tests.factories import PDF_BYTES

    agreement = Agreement(
        proposal=proposal,
        number=f"XY2026-{proposal.call_id}-001",
        amount=Decimal("60000.00"),
        starts_on=datetime.date(2027, 1, 1),
        ends_on=datetime.date(2027, 12, 31),
        clauses=f"第一条 {SECRET}条款",
    )
    agreement.signed_scan.save("far.pdf", ContentFile(PDF_BYTES), save=False)
    agreement.save()
    return agreement


def _far_tranche(proposal):
    """A tranche of 华容镇's project (拨付管理 and the 资金拨付 actions)."""
    from decimal import Decimal

    return Tranche.objects.create(
        proposal=proposal, position=1, name="首期", percent=Decimal("50"), gate="signed", amount=Decimal("30000.00")
    )


def _far_need_and_recommendation(town):
    """A need of 华容社区, and a 华容社区 proposal recommended to 华容镇's call (三级联动)."""
    from grants.services import linkage, needs
    from tests.grants.factories import make_call, proposal_at

    community = town.get_children().get()
    need = needs.need_submit(
        region=community,
        title=f"华容{SECRET}需求",
        description=f"{SECRET}需求内容",
        affected="老人",
        people_count=10,
        submitter_kind="resident",
        submitter_name=f"{SECRET}居民",
        phone="13912345678",
    )
    upper = make_call(town, status="open", title=f"华容镇{SECRET}征集")
    lower = make_call(community, status="open", title=f"华容社区{SECRET}征集", next_round=upper)
    proposal = proposal_at(lower, "eligible", title=f"{SECRET}推荐项目")
    manager = staff(Role.CALL_MANAGER, town, name=f"{SECRET}主管")
    return need, linkage.recommend(proposal=proposal, by=manager, reason=f"{SECRET}理由")


def _far_proposal(call):
    """A proposal submitted to 华容镇's call, with an attachment."""
    from django.core.files.base import ContentFile

    from tests.grants.factories import proposal_at

    proposal = proposal_at(call, "submitted", title=f"{SECRET}申报项目")
    attachment = ProposalAttachment(proposal=proposal, original_name=f"{SECRET}附件.pdf", size=8)
    attachment.file.save("far.pdf", ContentFile(b"%PDF-1.4"), save=True)
    return proposal


def _far_objection(call, proposal):
    """An objection, with evidence, to the 公示 of 华容镇's call."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from grants.services import publicity
    from tests.factories import PDF_BYTES
    from tests.grants.factories import make_publicity

    return publicity.file_objection(
        publicity=make_publicity(call, proposals=[proposal], title=f"华容镇{SECRET}立项公示"),
        name=f"{SECRET}人",
        contact="13912345678",
        reason=f"{SECRET}异议内容，请核实。",
        proposal=proposal,
        evidence=SimpleUploadedFile(f"{SECRET}材料.pdf", PDF_BYTES),
        client="far",
    )


def _far_assignment(call, proposal, expert):
    """A review round of 华容镇's call with a recorded draw putting its expert on the proposal."""
    from grants.models import ReviewRound

    rnd = ReviewRound.objects.create(call=call, deadline=call.review_until)
    draw = PanelDraw.objects.create(round=rnd, proposal=proposal, seed=SECRET, size=1, chosen=[expert.pk])
    assignment = Assignment.objects.create(round=rnd, proposal=proposal, expert=expert, draw=draw)
    return {PanelDraw: draw, Assignment: assignment}


def _far_expert(town):
    """An expert of 华容镇 (their account named with SECRET), with an affiliation."""
    from grants.models import Affiliation
    from tests.grants.factories import make_expert

    expert = make_expert(region=town, employer=f"华容镇{SECRET}单位")
    User.objects.filter(pk=expert.user_id).update(name=f"{SECRET}专家")
    Affiliation.objects.create(
        expert=expert, organisation=OrganisationFactory(region=town), kind="member", note=f"{SECRET}关系"
    )
    return expert


#: the model of each project URL that is not built by a viewset, by URL-name prefix
URL_MODELS = {
    "jobs:": BackgroundJob,
    "orgs_admin:review": Organisation,
    "orgs_admin:document_preview": Organisation,
    "incubator_admin:incubation": Incubation,
    "incubator_admin:promotion": Promotion,
    "grants_admin:call_action": Call,
    "grants_admin:call_review": Call,  # 评审管理 and its actions
    "grants_admin:call_ranking": Call,  # the ranking and its workbook
    "grants_admin:call_award": Call,
    "grants_admin:draw": PanelDraw,
    "grants_admin:assignment_action": Assignment,  # 退回重评 / 改派 on the proposal page
    "grants_admin:review_attachment": ProposalAttachment,  # a reviewer's download (before the prefix below)
    "grants_admin:review": Assignment,  # the reviewer's scoring screen
    "grants_admin:proposal_attachment": ProposalAttachment,  # before the prefix below
    "grants_admin:proposal": Proposal,  # the proposal's page, PDF and actions (the list is the viewset's)
    "grants_admin:need": Need,  # the need's page and its actions (the list is the viewset's)
    "grants_admin:expert_action": ExpertProfile,  # pausing and resuming (the pool is the viewset's)
    "grants_admin:organisation_": Organisation,  # the organisation chooser of the experts' affiliations
    "grants_admin:objection": Objection,  # the objection's page, evidence and actions (the list is the viewset's)
    "grants_admin:agreement": Agreement,  # 项目协议: its PDF, signed scan and actions on the project page
    "grants_admin:tranche_action": Tranche,  # 拨付 / 暂缓拨付 on the project page (拨付管理 is the viewset's)
    "grants_admin:report_photo": ReportPhoto,  # a progress report's photo (before the prefix below)
    "grants_admin:report": ProgressReport,  # a progress report's page and its 审阅
    "grants_admin:evaluation": Evaluation,  # the scoring page and the evaluation report PDF
}


@pytest.fixture
def outsider(regions):
    """鄂城区 staff holding every staff role: anything of 华容区 they reach is a scope hole."""
    return UserFactory(name="鄂城区全能员工", region=regions["echeng"], roles=STAFF_ROLES)


# ---- enumerating the URLs ----------------------------------------------------------------


def _walk(patterns, route="", namespaces=()):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = (*namespaces, p.namespace) if p.namespace else namespaces
            yield from _walk(p.url_patterns, route + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield route + str(p.pattern), ":".join((*namespaces, p.name or "")), p.callback


def _project_viewsets_by_namespace():
    found = {}
    for vs in admin_viewsets.viewsets:
        if type(vs).__module__.split(".")[0] in PROJECT_APPS and getattr(vs, "model", None) is not None:
            found[getattr(vs, "url_namespace", vs.name)] = vs
    return found


def project_admin_urls():
    """(route, url name, model or None, viewset or None) of every project URL under /admin/."""
    get_resolver().url_patterns  # noqa: B018  (imports the hooks: the viewsets register)
    by_namespace = _project_viewsets_by_namespace()
    rows = []
    for route, name, callback in _walk(get_resolver().url_patterns):
        if not route.startswith("admin/"):
            continue
        viewset = getattr(callback, "view_initkwargs", {}).get("scoped_viewset")
        named = next((m for prefix, m in URL_MODELS.items() if name.startswith(prefix)), None)
        if viewset is None and named is None:
            # several viewsets may share a namespace (incubator_admin: the stays' and the
            # promotions' lists): a URL named in URL_MODELS is not theirs
            viewset = by_namespace.get(name.rsplit(":", 1)[0])
        view = getattr(callback, "view_class", callback)
        if viewset is None and view.__module__.split(".")[0] not in PROJECT_APPS:
            continue
        model = viewset.model if viewset is not None else named
        rows.append((route, name, model, viewset))
    return rows


def _fill(route, obj):
    """The URL with its parameters filled in for `obj`; None if one cannot be filled."""
    values = {"pk": obj.pk, "object_id": obj.pk}
    if isinstance(obj, Organisation):
        doc = obj.documents.first()
        values["doc_pk"] = doc.pk if doc else 999999
    actions = _action_slugs(type(obj))
    values["action"] = actions[0] if actions else "x"
    missing = []

    def value(match):
        key = match.group(2)
        if key not in values:
            missing.append(key)
            return ""
        return str(values[key])

    url = "/" + re.sub(r"<(?:(\w+):)?(\w+)>", value, route)
    return None if missing else url


def _action_slugs(model):
    try:
        from core.workflow import model_actions
    except ImportError:  # pragma: no cover
        return []
    return list(model_actions(model))


def _assert_hidden(response, url):
    assert response.status_code in (302, 403, 404, 405), f"{url}: {response.status_code}"
    if response.status_code == 302:
        assert response["Location"].split("?")[0] in ("/admin/", "/admin/login/"), f"{url} → {response['Location']}"
    body = response.content.decode(errors="replace")
    assert SECRET not in body, f"{url} shows an object of another region"


def test_the_project_urls_are_found_and_every_viewset_of_a_regional_model_is_scoped(far):
    rows = project_admin_urls()
    names = {name for _, name, _, _ in rows}
    assert {"incubation_bases:edit", "incubation_bases:history", "incubation_bases:usage"} <= names
    for _, name, model, viewset in rows:
        regional = model is not None and any(f.name == "region" for f in model._meta.fields)
        if viewset is not None and regional and _some_staff_role_may_use(model):
            assert isinstance(viewset, ScopedModelViewSet), f"{name}: {type(viewset).__name__} is not scoped"


def _some_staff_role_may_use(model) -> bool:
    """Whether a staff role holds a permission on `model` (the users viewset: none does,
    staff accounts are managed by superusers only)."""
    prefix = f"{model._meta.app_label}."
    perms = {p for role in STAFF_ROLES for p in ROLE_PERMISSIONS[role]}
    return any(p.startswith(prefix) and p.endswith(f"_{model._meta.model_name}") for p in perms)


def test_every_project_admin_url_with_an_object_hides_other_regions(client, far, outsider):
    unfillable, checked = [], 0
    client.force_login(outsider)
    for route, name, model, _ in project_admin_urls():
        if "<" not in route:
            continue
        if model not in far:
            unfillable.append(f"{name} ({route}): add its model to URL_MODELS/OUT_OF_REGION")
            continue
        obj = far[model]
        url = _fill(route, obj)
        if url is None:
            unfillable.append(f"{name} ({route}): a parameter this test cannot fill")
            continue
        before = type(obj)._default_manager.filter(pk=obj.pk).values().first()
        _assert_hidden(client.get(url), url)
        _assert_hidden(client.post(url, {"name": "改掉", "reason": "越权", "title": "改掉"}), url)
        assert type(obj)._default_manager.filter(pk=obj.pk).values().first() == before, f"POST {url} changed it"
        checked += 1
    assert not unfillable, "\n".join(unfillable)
    assert checked >= 10


def test_the_urls_filled_in_are_real(client, far):
    """The same URLs for a superuser: not a 404, so the test above proves the scope."""
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    for route, name, model, _ in project_admin_urls():
        if "<" not in route or model not in far or name.endswith("_action") or "document" in name:
            continue
        if model is User:  # staff users: their own viewset, superuser-only by permission
            continue
        url = _fill(route, far[model])
        if name.startswith("jobs:"):
            continue  # a job is its creator's only, superuser or not
        if name.startswith("grants_admin:review"):
            continue  # a review task is its expert's only, superuser or not
        assert client.get(url).status_code != 404, url


def test_every_project_list_hides_other_regions(client, far, outsider):
    client.force_login(outsider)
    for route, _name, _, _ in project_admin_urls():
        if "<" in route or route.endswith((".xlsx", "template/")):
            continue
        for query in ("", "?q=保密"):  # a search box echoes the query: search for part of SECRET
            url = f"/{route}{query}"
            response = client.get(url)
            assert response.status_code in (200, 302, 403, 405), f"{url}: {response.status_code}"
            assert SECRET not in response.content.decode(errors="replace"), f"{url} lists another region's object"


def test_base_history_usage_and_inspect_of_another_region_are_404(client, far, outsider, regions):
    base = far[IncubationBase]
    client.force_login(outsider)
    for view in ("edit", "delete", "history", "history-results", "usage"):
        assert client.get(f"/admin/incubator/bases/{view}/{base.pk}/").status_code == 404, view
    own = IncubationBaseFactory(name="凤凰街道本区工作站", region=regions["fenghuang"])
    for view in ("edit", "history", "history-results", "usage"):
        assert client.get(f"/admin/incubator/bases/{view}/{own.pk}/").status_code == 200, view


# ---- Wagtail's own screens -----------------------------------------------------------------


def _log_edit(obj, user):
    return ModelLogEntry.objects.log_action(obj, "wagtail.edit", user=user)


def test_site_history_lists_only_log_entries_in_scope(client, far, outsider, regions):
    other_editor = staff(Role.CALL_MANAGER, regions["huarong"], name=f"{SECRET}编辑")
    _log_edit(far[IncubationBase], other_editor)
    own = IncubationBaseFactory(name="凤凰街道本区工作站", region=regions["fenghuang"])
    _log_edit(own, outsider)
    client.force_login(outsider)

    for url in ("/admin/reports/site-history/", "/admin/reports/site-history/results/"):
        html = client.get(url).content.decode()
        assert "凤凰街道本区工作站" in html, url
        assert SECRET not in html, url  # neither the base nor its editor in the user filter
    export = client.get("/admin/reports/site-history/?export=csv")
    assert SECRET not in b"".join(export.streaming_content if export.streaming else [export.content]).decode()

    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    assert far[IncubationBase].name in client.get("/admin/reports/site-history/").content.decode()


def test_admin_api_shows_staff_no_pages(client, site_pages, outsider):
    client.force_login(outsider)
    for url in ("/admin/api/main/pages/", f"/admin/api/main/pages/{site_pages.pk}/"):
        response = client.get(url)
        assert response.status_code in (200, 404)
        assert "首页" not in response.content.decode("unicode_escape") or response.status_code == 404, url
    assert client.get("/admin/api/main/pages/").json()["meta"]["total_count"] == 0


def test_page_chooser_offers_staff_no_pages(client, site_pages, outsider):
    client.force_login(outsider)
    for url in ("/admin/choose-page/", f"/admin/choose-page/{site_pages.pk}/", "/admin/choose-page/search/?q=孵化"):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.json()["html"] if response["Content-Type"].startswith("application/json") else ""
        html = html or response.content.decode()
        assert "孵化基地" not in html, url  # the BaseIndexPage


def test_image_chooser_does_not_offer_another_regions_photo(client, far, regions):
    from django.contrib.auth.models import Permission
    from wagtail.images.models import Image
    from wagtail.images.tests.utils import get_test_image_file
    from wagtail.models import Collection, GroupCollectionPermission

    from accounts.roles import role_group

    far_photo = Image.objects.create(title=f"{SECRET}照片", file=get_test_image_file())
    IncubationBase.objects.filter(pk=far[IncubationBase].pk).update(photo=far_photo)
    own_photo = Image.objects.create(title="凤凰站照片", file=get_test_image_file())
    # give base operators the image permissions a site might grant them
    for codename in ("choose_image", "add_image"):
        GroupCollectionPermission.objects.get_or_create(
            group=role_group(Role.BASE_OPERATOR),
            collection=Collection.get_first_root_node(),
            permission=Permission.objects.get(codename=codename, content_type__app_label="wagtailimages"),
        )
    client.force_login(base_operator(IncubationBaseFactory(region=regions["fenghuang"])))
    response = client.get("/admin/images/chooser/")
    html = response.json()["html"] if response["Content-Type"].startswith("application/json") else response.content
    html = html if isinstance(html, str) else html.decode()
    assert own_photo.title in html and SECRET not in html
    results = client.get("/admin/images/chooser/results/").content.decode()
    assert own_photo.title in results and SECRET not in results


def test_document_chooser_offers_staff_no_documents(client, outsider):
    from django.core.files.base import ContentFile
    from wagtail.documents.models import Document

    Document.objects.create(title=f"{SECRET}文件", file=ContentFile(b"x", name="a.txt"))
    client.force_login(outsider)
    response = client.get("/admin/documents/chooser/")
    assert SECRET not in response.content.decode("unicode_escape")


def test_editing_session_pings_of_another_region_are_404(client, far, outsider, regions):
    from wagtail.admin.models import EditingSession

    manager = staff(Role.CALL_MANAGER, regions["echeng"])
    client.force_login(manager)
    base = far[IncubationBase]
    ct = ContentType.objects.get_for_model(IncubationBase)
    session = EditingSession.objects.create(
        user=manager, content_type=ct, object_id=str(base.pk), last_seen_at="2026-01-01T00:00:00Z"
    )
    url = f"/admin/editing-sessions/ping/incubator/incubationbase/{base.pk}/{session.pk}/"
    assert client.post(url).status_code == 404

    own = IncubationBaseFactory(region=regions["fenghuang"])
    own_session = EditingSession.objects.create(
        user=manager, content_type=ct, object_id=str(own.pk), last_seen_at="2026-01-01T00:00:00Z"
    )
    assert (
        client.post(f"/admin/editing-sessions/ping/incubator/incubationbase/{own.pk}/{own_session.pk}/").status_code
        == 200
    )


# ---- base form: region errors (defect 7) and the 运营机构 choices ------------------------------


def _new_base(region, parent, **overrides):
    data = {
        "name": "凤凰街道新建共享工作站",
        "level": BaseLevel.STREET,
        "region": region,
        "parent": parent,
        "address": "湖北省鄂州市凤凰街道滨湖路8号",
        "operator_org": "",
        "operator_unit": "凤凰街道办事处",
        "contact_name": "李站长",
        "contact_phone": "0711-3200000",
        "opening_hours": "周一至周五",
        "desks": 5,
        "virtual_places": 10,
        "services": ["space"],
        "introduction": "",
        "photo": "",
        "screening_days": 5,
        "period_months": 24,
        "handback_days": 15,
        "graduation_min_score": "60",
        "weight_governance": "30",
        "weight_finance": "20",
        "weight_projects": "20",
        "weight_team": "15",
        "weight_resources": "15",
        "is_active": "on",
    }
    return data | overrides


def test_base_create_with_a_parent_and_no_region_or_one_outside_the_scope_is_a_form_error(client, regions):
    city = IncubationBaseFactory(name="鄂州市共益园", level=BaseLevel.CITY, region=regions["city"])
    manager = staff(Role.CALL_MANAGER, regions["echeng"])
    superuser = UserFactory(is_superuser=True, is_staff=True)
    cases = [
        (manager, "", "请选择基地所在区域。"),
        (manager, regions["huarong_town"].pk, "不在您的管辖范围内"),
        (superuser, "", "请选择基地所在区域。"),
    ]
    for user, region, message in cases:
        client.force_login(user)
        response = client.post("/admin/incubator/bases/new/", _new_base(region, city.pk))
        assert response.status_code == 200, (user, region)
        assert message in response.context["form"].errors["region"][0]
        html = response.content.decode()
        assert message in html and "凤凰街道新建共享工作站" in html  # said, and nothing typed is lost
        assert not IncubationBase.objects.filter(name="凤凰街道新建共享工作站").exists()

    client.force_login(manager)
    response = client.post("/admin/incubator/bases/new/", _new_base(regions["fenghuang"].pk, city.pk))
    assert response.status_code == 302
    assert IncubationBase.objects.get(name="凤凰街道新建共享工作站").parent == city


def _select(html, name):
    return html[html.index(f'name="{name}"') : html.index("</select>", html.index(f'name="{name}"'))]


def test_operator_dropdown_lists_only_verified_organisations_in_scope(client, regions):
    verified = OrganisationStatus.VERIFIED
    own_verified = OrganisationFactory(name="凤凰街道已认证运营中心", region=regions["fenghuang"], status=verified)
    own_draft = OrganisationFactory(name="凤凰街道草稿运营中心", region=regions["fenghuang"])
    far_draft = OrganisationFactory(name="华容镇草稿运营中心", region=regions["huarong_town"])
    far_verified = OrganisationFactory(name="华容镇已认证运营中心", region=regions["huarong_town"], status=verified)
    base = IncubationBaseFactory(region=regions["fenghuang"])
    IncubationBaseFactory(name="鄂州市共益园", level=BaseLevel.CITY, region=regions["city"])
    IncubationBaseFactory(name="华容镇共享工作站", region=regions["huarong_town"])
    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))

    html = client.get(f"/admin/incubator/bases/edit/{base.pk}/").content.decode()
    choices = _select(html, "operator_org")
    assert own_verified.name in choices
    for other in (own_draft, far_draft, far_verified):
        assert other.name not in choices
    assert "只列出您辖区内已通过登记审核的社会组织。" in html
    parents = _select(html, "parent")
    assert "鄂州市共益园" in parents and "华容镇共享工作站" not in parents  # above the scope, not beside it

    # a base already run by an organisation that is no longer a choice keeps it when saved unchanged
    IncubationBase.objects.filter(pk=base.pk).update(operator_org=far_draft)
    choices = _select(client.get(f"/admin/incubator/bases/edit/{base.pk}/").content.decode(), "operator_org")
    assert far_draft.name in choices and own_draft.name not in choices


# ---- similar names and the grade in force (orgs.selectors) ------------------------------------


def test_similar_names_of_other_regions_are_only_public_organisations(regions):
    from orgs.selectors import similar_name_flags, similar_organisations

    org = OrganisationFactory(name="鄂州市老宝贝为老服务中心", region=regions["fenghuang"])
    far_draft = OrganisationFactory(name="鄂州市 老宝贝为老服务中心", region=regions["huarong_town"])  # the closest
    own_draft = OrganisationFactory(name="鄂州市老宝贝为老服务中心一", region=regions["gulou"])
    far_public = OrganisationFactory(
        name="鄂州市老宝贝为老服务中心二", region=regions["huarong_town"], status=OrganisationStatus.VERIFIED
    )
    district = staff(Role.CALL_MANAGER, regions["echeng"])

    assert {o.pk for o in similar_organisations(org, district)} == {own_draft.pk, far_public.pk}
    assert similar_name_flags([org], district)[org.pk][0] != far_draft.name
    city = staff(Role.CALL_MANAGER, regions["city"])
    assert similar_organisations(org, city)[0].pk == far_draft.pk
    assert similar_name_flags([org], city)[org.pk][0] == far_draft.name


def test_registry_for_staff_annotates_the_grade_in_force_not_an_expired_one(regions):
    import datetime

    from orgs import services as org_services
    from orgs.selectors import registry_for_staff, with_valid_grade

    today = datetime.date.today()
    grader = UserFactory(is_superuser=True, is_staff=True)
    expired = OrganisationFactory(region=regions["fenghuang"], status=OrganisationStatus.VERIFIED)
    org_services.grade_record(org=expired, by=grader, grade="4A", awarded_on=today.replace(year=today.year - 6))
    current = OrganisationFactory(region=regions["gulou"], status=OrganisationStatus.VERIFIED)
    org_services.grade_record(org=current, by=grader, grade="3A", awarded_on=today.replace(year=today.year - 1))
    far = OrganisationFactory(region=regions["huarong_town"], status=OrganisationStatus.VERIFIED)
    district = staff(Role.CALL_MANAGER, regions["echeng"])

    grades = dict(registry_for_staff(district).values_list("pk", "valid_grade"))
    assert grades == {expired.pk: None, current.pk: "3A"}
    # the grade filter annotates again: kept, not a conflict
    assert list(with_valid_grade(registry_for_staff(district)).filter(valid_grade="3A")) == [current]
    assert far.pk not in grades
