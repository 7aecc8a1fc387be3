"""The incubation lifecycle in a browser: a 筹备 group applies with its profile on file, the
street workstation's operator screens, admits, logs a service, records an assessment and
graduates it (registering it on the way), and the group downloads its certificate."""

import json

import pytest

from accounts.roles import Role
from incubator import pdf_views
from incubator.models import Incubation, IncubationStatus, ServiceLog
from orgs.models import Membership, Organisation, OrgType
from tests.factories import PASSWORD, OrganisationFactory, applicant, make_uscc, staff
from tests.incubator.factories import IncubationBaseFactory

from .conftest import login, screenshot

pytestmark = pytest.mark.e2e


@pytest.fixture
def people(e2e_site):
    regions = e2e_site
    base = IncubationBaseFactory(
        name="凤凰街道社会组织共享工作站",
        region=regions["fenghuang"],
        desks=4,
        services=["space", "training", "mentoring", "registration"],
        introduction="为凤凰街道的社区社会组织提供场地、培训和注册指导。",
    )
    group = OrganisationFactory(
        name="澜湖社区老宝贝助餐服务队",
        org_type=OrgType.PREPARING,
        uscc=None,
        introduction="为澜湖社区高龄独居老人送餐、陪伴。",
    )
    leader = applicant(username="lanhu_leader", name="陈晓梅")
    Membership.objects.create(organisation=group, user=leader, role=Membership.Role.LEADER)
    operator = staff(Role.BASE_OPERATOR, regions["fenghuang"], username="fenghuang_op", name="凤凰站运营")
    return {"base": base, "group": group, "leader": leader, "operator": operator}


def _act(page, card: str, button: str):
    page.click(f"#action-{card} button:has-text('{button}')")
    page.wait_for_load_state()


def test_apply_screen_admit_serve_assess_graduate_and_download(page, browser, live_server, people):
    base, group = people["base"], people["group"]

    # 1. the group applies: its profile is shown, not asked for
    login(page, live_server, "lanhu_leader", PASSWORD)
    page.goto(live_server.url + "/me/incubation/")
    page.click(f"a[href^='/me/incubation/apply/{base.pk}/']")
    page.wait_for_load_state()
    assert "澜湖社区老宝贝助餐服务队" in page.content() and "筹备中" in page.content()
    assert page.locator("input[name=name], input[name=uscc], input[name=legal_representative]").count() == 0
    page.check(f"input[name=organisation][value='{group.pk}']")
    page.fill("#id_plan", "每周一、三、五为澜湖社区20位高龄老人送餐并上门陪伴。")
    page.fill("#id_member_count", "8")
    page.fill("#id_needs", "需要注册指导和一个可以存放餐具的工位。")
    page.check("input[name=requested_services][value=registration]")
    page.check("input[name=requested_services][value=space]")
    screenshot(page, "incubation-apply")
    page.click("button:has-text('提交入驻申请')")
    page.wait_for_url("**/me/incubation/*/")
    inc = Incubation.objects.get(organisation=group)
    assert "入驻申请已提交" in page.content() and "已申请" in page.locator("#incubation-status").inner_text()
    screenshot(page, "incubation-applicant-applied")

    # 2. the operator, in the Wagtail admin
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    admin = ctx.new_page()
    admin.set_default_timeout(15000)
    login(admin, live_server, "fenghuang_op", PASSWORD, path="/admin/login/")
    admin.goto(live_server.url + "/admin/incubator/incubations/")
    assert "澜湖社区老宝贝助餐服务队" in admin.content()
    screenshot(admin, "incubation-admin-queue")
    admin.click("td.title a:has-text('澜湖社区老宝贝助餐服务队')")
    admin.wait_for_load_state()
    assert "每周一、三、五" in admin.content()  # the application
    assert "为澜湖社区高龄独居老人送餐" in admin.content()  # the profile
    _act(admin, "screen", "初审通过")
    assert "已通过初审" in admin.content()

    admin.fill("#id_admit-desk_label", "二楼 A-03")
    _act(admin, "admit", "入壳")
    assert "已入壳" in admin.content()
    _act(admin, "begin", "开始孵化")

    admin.select_option("#id_service-log-kind", "registration")
    admin.fill("#id_service-log-title", "社会服务机构登记材料辅导")
    admin.fill("#id_service-log-date", "2026-03-02")
    admin.fill("#id_service-log-hours", "2")
    admin.fill("#id_service-log-mentor", "王督导")
    _act(admin, "service-log", "记录服务")
    assert ServiceLog.objects.filter(incubation=inc, title="社会服务机构登记材料辅导").exists()

    admin.select_option("#id_assessment-stage", "graduation")
    for field, score in {
        "governance": "78",
        "finance": "70",
        "projects": "82",
        "team": "75",
        "resources": "68",
    }.items():
        admin.fill(f"#id_assessment-{field}", score)
    _act(admin, "assessment", "保存能力评估")
    admin.locator("#chart-assessments svg").wait_for()  # the capacity chart, drawn by ECharts
    option = json.loads(admin.locator("#chart-assessments-option").text_content())
    assert [len(s["data"]) for s in option["baseOption"]["series"]] == [1] * 6  # the total and five dimensions

    # graduating without the checklist is refused with the reasons
    _act(admin, "graduate", "出壳")
    assert "尚未完成登记或备案。" in admin.locator("#graduation-blockers").inner_text()
    screenshot(admin, "incubation-admin-blockers")

    uscc = make_uscc(4242)
    admin.check("#id_graduate-governance")
    admin.check("#id_graduate-project")
    admin.select_option("#id_graduate-new_org_type", OrgType.SERVICE_ORG)
    admin.fill("#id_graduate-new_uscc", uscc)
    _act(admin, "graduate", "出壳")
    assert "已出壳" in admin.content()
    screenshot(admin, "incubation-admin-graduated")
    ctx.close()

    inc.refresh_from_db()
    assert inc.status == IncubationStatus.GRADUATED and inc.registered_during
    assert Organisation.objects.get(pk=group.pk).uscc == uscc

    # 3. the group sees it, with the history and the certificate
    page.goto(live_server.url + f"/me/incubation/{inc.pk}/")
    assert "已出壳" in page.locator("#incubation-status").inner_text()
    assert "社会服务机构登记材料辅导" in page.content()
    # 提交入驻申请 (the history starts with the application), 初审通过, 入壳, 开始孵化, 出壳
    assert page.locator("#history li").count() == 5
    assert "提交入驻申请" in page.locator("#history li").first.inner_text()
    screenshot(page, "incubation-applicant-graduated")
    link = page.locator("a:has-text('下载出壳证书')")
    href = link.get_attribute("href")
    assert href == f"/me/incubation/{inc.pk}/certificate.pdf"
    if getattr(pdf_views, "PLACEHOLDER", False):
        pytest.skip("出壳证书 PDF 视图尚未实现（incubator/pdf_views.py 仍是占位文件）：已核对下载链接，跳过下载。")
    response = page.request.get(live_server.url + href)
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/pdf")
    assert response.body().startswith(b"%PDF")
