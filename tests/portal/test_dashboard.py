"""/me/ (portal): the applicant's dashboard composed of each app's panel, and what staff see
there instead of applicant actions."""

import pytest
from django.urls import reverse
from django.utils.safestring import mark_safe
from wagtail import hooks

from accounts.roles import Role
from core.dashboard import APPLICANT_PANEL_HOOK, PortalPanel
from orgs.models import Membership
from tests.factories import UserFactory, applicant, organisation_with_leader, staff

NEW_ORG = f'href="{"/me/orgs/new/"}"'
APPLY = "申请入驻孵化基地"


def page(client) -> str:
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    return response.content.decode()


def test_an_applicant_is_offered_registration_and_incubation(client, regions):
    client.force_login(applicant())
    html = page(client)
    assert NEW_ORG in html and APPLY in html
    assert "进入管理后台" not in html


@pytest.mark.parametrize("role", [Role.CALL_MANAGER, Role.BASE_OPERATOR, Role.REVIEWER, Role.AUDITOR])
def test_staff_get_a_link_to_the_admin_instead_of_applicant_actions(client, regions, role):
    client.force_login(staff(role, regions["echeng"]))
    html = page(client)
    assert NEW_ORG not in html and APPLY not in html
    assert "进入管理后台" in html and f'href="{reverse("wagtailadmin_home")}"' in html
    assert "我的组织" in html and "通知" in html  # their own lists are still there


def test_a_superuser_is_staff_too(client, regions):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    html = page(client)
    assert NEW_ORG not in html and APPLY not in html and "进入管理后台" in html


def test_the_panels_come_from_each_app_through_the_hook(client, regions):
    class GrantsPanel(PortalPanel):
        template_name = "portal/dashboard.html"  # any template: only the hook is under test

        def render_html(self, parent_context=None):
            return mark_safe('<section id="from-a-hook">我的申报（测试）</section>')

    client.force_login(applicant())
    with hooks.register_temporarily(APPLICANT_PANEL_HOOK, lambda request: GrantsPanel(), order=25):
        html = page(client)
    orgs, hooked, incubations = (html.index(s) for s in ('id="my-orgs"', 'id="from-a-hook"', 'id="my-incubations"'))
    assert orgs < hooked < incubations  # in hook order


# ---- the organisation's page: links other apps offer (orgs.actions) -------------------------------------


def test_the_organisation_page_offers_incubation_through_the_hook(client, regions):
    org, leader = organisation_with_leader(region=regions["fenghuang"])
    client.force_login(leader)
    html = client.get(reverse("orgs:detail", args=[org.pk])).content.decode()
    assert f'href="{reverse("incubator:index")}?org={org.pk}"' in html and APPLY in html


def test_a_finance_member_is_not_offered_incubation(client, regions):
    org, _ = organisation_with_leader(region=regions["fenghuang"])
    finance = applicant()
    Membership.objects.create(organisation=org, user=finance, role=Membership.Role.FINANCE)
    client.force_login(finance)
    html = client.get(reverse("orgs:detail", args=[org.pk])).content.decode()
    assert APPLY not in html
