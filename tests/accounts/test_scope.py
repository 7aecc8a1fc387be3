"""The scope helper, for each role at each level: what lies in a user's region subtree."""

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.models import Region
from accounts.roles import Role, sync_roles, user_roles
from accounts.selectors import region_in_scope, regions_for, scope, staff_users_for_region
from orgs.models import Organisation
from tests.factories import OrganisationFactory, UserFactory, applicant, staff


@pytest.fixture
def orgs_everywhere(regions):
    """One organisation in each street and community of the test tree."""
    made = {}
    for key in ["fenghuang", "fenghuang_c", "gulou", "huarong_town"]:
        made[key] = OrganisationFactory(region=regions[key], name=f"{regions[key].name}的组织")
    return made


def names(qs):
    return {o.name for o in qs}


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.CALL_MANAGER, Role.BASE_OPERATOR, Role.REVIEWER, Role.FINANCE, Role.AUDITOR])
def test_city_staff_of_any_role_see_the_whole_city(regions, orgs_everywhere, role):
    user = staff(role, regions["city"])
    assert scope(Organisation.objects.all(), user).count() == 4


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.CALL_MANAGER, Role.BASE_OPERATOR, Role.AUDITOR])
def test_district_staff_see_only_their_district(regions, orgs_everywhere, role):
    user = staff(role, regions["echeng"])
    assert names(scope(Organisation.objects.all(), user)) == {"凤凰街道的组织", "凤凰社区的组织", "古楼街道的组织"}


@pytest.mark.django_db
def test_street_staff_see_their_street_and_its_communities(regions, orgs_everywhere):
    user = staff(Role.BASE_OPERATOR, regions["fenghuang"])
    assert names(scope(Organisation.objects.all(), user)) == {"凤凰街道的组织", "凤凰社区的组织"}


@pytest.mark.django_db
def test_community_staff_see_only_their_community(regions, orgs_everywhere):
    user = staff(Role.BASE_OPERATOR, regions["fenghuang_c"])
    assert names(scope(Organisation.objects.all(), user)) == {"凤凰社区的组织"}


@pytest.mark.django_db
def test_superuser_sees_all_and_others_without_region_see_nothing(regions, orgs_everywhere):
    assert scope(Organisation.objects.all(), UserFactory(is_superuser=True)).count() == 4
    assert scope(Organisation.objects.all(), applicant()).count() == 0
    assert scope(Organisation.objects.all(), AnonymousUser()).count() == 0
    inactive = staff(Role.CALL_MANAGER, regions["city"], is_active=False)
    assert scope(Organisation.objects.all(), inactive).count() == 0


@pytest.mark.django_db
def test_scope_follows_a_lookup_path(regions, orgs_everywhere):
    from orgs.models import Membership

    for org in orgs_everywhere.values():
        Membership.objects.create(organisation=org, user=applicant(), role=Membership.Role.LEADER)
    user = staff(Role.CALL_MANAGER, regions["huarong"])
    members = scope(Membership.objects.all(), user, region_field="organisation__region")
    assert [m.organisation.name for m in members] == ["华容镇的组织"]


@pytest.mark.django_db
def test_scope_is_one_query_whatever_the_size(regions, django_assert_num_queries):
    user = staff(Role.CALL_MANAGER, regions["echeng"])
    user = type(user).objects.select_related("region").get(pk=user.pk)
    for _ in range(30):
        OrganisationFactory(region=regions["gulou"])
    with django_assert_num_queries(1):
        assert len(list(scope(Organisation.objects.all(), user))) == 30


@pytest.mark.django_db
def test_region_in_scope_and_regions_for(regions):
    district = staff(Role.CALL_MANAGER, regions["echeng"])
    assert region_in_scope(district, regions["fenghuang_c"])
    assert region_in_scope(district, regions["echeng"])
    assert not region_in_scope(district, regions["city"])
    assert not region_in_scope(district, regions["huarong_town"])
    assert not region_in_scope(AnonymousUser(), regions["echeng"])
    codes = set(regions_for(district).values_list("code", flat=True))
    assert codes == {"420704", "420704001", "420704001001", "420704002", "420704002001"}


@pytest.mark.django_db
def test_staff_to_notify_are_the_node_and_its_ancestors(regions):
    city = staff(Role.CALL_MANAGER, regions["city"])
    district = staff(Role.CALL_MANAGER, regions["echeng"])
    staff(Role.CALL_MANAGER, regions["huarong"])  # another district: not told
    staff(Role.AUDITOR, regions["echeng"])  # wrong role: not told
    found = set(staff_users_for_region(regions["fenghuang_c"], Role.CALL_MANAGER))
    assert found == {city, district}


@pytest.mark.django_db
def test_region_full_name_and_division_codes(regions):
    assert regions["fenghuang_c"].full_name == "鄂州市鄂城区凤凰街道凤凰社区"
    bad = Region(name="x", code="12345", level=Region.Level.STREET)
    with pytest.raises(Exception, match="行政区划代码"):
        bad.full_clean(exclude=["path", "depth", "numchild"])


@pytest.mark.django_db
def test_roles_are_groups_with_permissions(regions):
    sync_roles()
    manager = staff(Role.CALL_MANAGER, regions["city"])
    auditor = staff(Role.AUDITOR, regions["city"])
    assert manager.has_perm("orgs.verify_organisation")
    assert manager.has_perm("wagtailadmin.access_admin")
    assert not auditor.has_perm("orgs.verify_organisation")
    assert auditor.has_perm("orgs.view_organisation")
    assert not applicant().has_perm("wagtailadmin.access_admin")
    assert user_roles(auditor) == {Role.AUDITOR}
