"""core.workflow.transition and available_actions: the state machine's own metadata decides
who may act, what a screen offers and what is written; on every model, whatever its state
field is called."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django_fsm_log.models import StateLog

from accounts.roles import Role
from core.models import Notification
from core.workflow import CREATED, Notice, WorkflowError, available_actions, transition
from incubator import services as inc_services
from incubator.models import BaseLevel, IncubationStatus, PromotionState, Residence
from orgs import services as org_services
from orgs.models import Organisation, OrganisationStatus
from tests.factories import OrganisationFactory, applicant, organisation_with_leader, staff
from tests.incubator.factories import IncubationBaseFactory, incubation_at

S = IncubationStatus


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


@pytest.fixture
def submitted(regions):
    org, leader = organisation_with_leader()
    transition(org, "submit", by=leader, allowed=True)
    return fresh(org)


@pytest.fixture
def manager(regions):
    return staff(Role.CALL_MANAGER, regions["echeng"], name="鄂城民政")


@pytest.mark.django_db
def test_permission_comes_from_the_transition_and_is_refused_in_chinese(submitted, regions):
    outsider = staff(Role.CALL_MANAGER, regions["huarong"])
    with pytest.raises(PermissionDenied, match="您无权执行“审核通过”"):
        transition(submitted, "verify", by=outsider)
    assert fresh(submitted).status == OrganisationStatus.SUBMITTED
    assert not StateLog.objects.for_(submitted).filter(state=OrganisationStatus.VERIFIED).exists()


@pytest.mark.django_db
def test_a_required_reason_is_asked_for_and_nothing_changes(submitted, manager):
    with pytest.raises(WorkflowError, match="请填写理由"):
        transition(submitted, "return_for_correction", by=manager, reason="   ")
    assert fresh(submitted).status == OrganisationStatus.SUBMITTED


@pytest.mark.django_db
def test_state_and_recorded_columns_are_written_in_one_update(submitted, manager):
    with CaptureQueriesContext(connection) as queries:
        transition(submitted, "verify", by=manager, record={"status_reason": "材料齐全"})
    updates = [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and "orgs_organisation" in q["sql"]]
    assert len(updates) == 1, updates
    org = fresh(submitted)
    assert (org.status, org.status_reason) == (OrganisationStatus.VERIFIED, "材料齐全")
    assert StateLog.objects.for_(org).latest("pk").by == manager


@pytest.mark.django_db
def test_notices_are_sent_with_the_objects_own_link_and_rolled_back_with_a_failure(submitted, manager):
    leader = submitted.memberships.get().user
    transition(submitted, "verify", by=manager, notify=[Notice([leader], "已通过", "", submitted)])
    assert Notification.objects.get(recipient=leader).url == f"/me/orgs/{submitted.pk}/"
    with pytest.raises(WorkflowError):
        transition(fresh(submitted), "verify", by=manager, notify=[Notice([leader], "第二次", "")])
    assert not Notification.objects.filter(title="第二次").exists()


@pytest.mark.django_db
def test_an_error_on_a_state_field_not_called_status_names_the_state(regions):
    city = IncubationBaseFactory(name="市级基地", level=BaseLevel.CITY, region=regions["city"], desks=3)
    street = IncubationBaseFactory(name="街道工作站", region=regions["fenghuang"], parent=city)
    operator = staff(Role.BASE_OPERATOR, regions["fenghuang"])
    city_operator = staff(Role.BASE_OPERATOR, regions["city"])
    inc = incubation_at(street, status=S.IN_INCUBATION, by=operator)
    promo = inc_services.promotion_recommend(incubation=inc, by=operator, reason="服务成效突出")
    inc_services.promotion_decline(promotion=promo, by=city_operator, reason="暂无工位")
    with pytest.raises(WorkflowError, match="当前状态为“未接收”，不能执行“接收入驻”"):
        inc_services.promotion_accept(promotion=fresh(promo), by=city_operator, residence=Residence.VIRTUAL)
    assert fresh(promo).state == PromotionState.DECLINED


@pytest.mark.django_db
def test_available_actions_follow_the_state_and_the_user(submitted, manager, regions):
    assert [a.slug for a in available_actions(submitted, manager) if a.transition] == ["verify", "return"]
    auditor = staff(Role.AUDITOR, regions["city"])
    assert available_actions(submitted, auditor) == []
    org_services.organisation_verify(org=submitted, by=manager)
    verified = fresh(submitted)
    assert {a.slug for a in available_actions(verified, manager) if a.transition} == {"suspend", "revoke"}
    # the facts a manager records are offered in any state
    assert {"inspection", "grade", "list-entry"} <= {a.slug for a in available_actions(verified, manager)}


@pytest.mark.django_db
def test_creating_an_organisation_or_an_application_starts_its_history(regions):
    user = applicant()
    org = org_services.organisation_create(
        user=user,
        data={
            "name": "鄂州市新建社会工作服务中心",
            "org_type": "preparing",
            "legal_representative": "王五",
            "address": "凤凰街道2号",
            "region": regions["fenghuang"],
            "contact_name": "王五",
            "contact_phone": "13900000001",
        },
    )
    first = StateLog.objects.for_(org).get()
    assert (first.transition, first.state, first.by) == (CREATED, OrganisationStatus.DRAFT, user)
    html = Template("{% load core_tags %}{% status_history org %}").render(Context({"org": org}))
    assert "<strong>创建组织资料</strong>（草稿）" in html and "理由" not in html
    base = IncubationBaseFactory(region=regions["fenghuang"])
    inc = inc_services.incubation_apply(base=base, organisation=org, by=user, plan="助老服务")
    first = StateLog.objects.for_(inc).get()
    assert (first.transition, first.state, first.by) == (CREATED, S.APPLIED, user)


@pytest.mark.django_db
def test_an_accepted_promotion_closes_the_lower_stay_and_frees_its_desk(regions):
    city = IncubationBaseFactory(name="市级基地", level=BaseLevel.CITY, region=regions["city"], desks=3)
    street = IncubationBaseFactory(name="街道工作站", region=regions["fenghuang"], parent=city)
    operator = staff(Role.BASE_OPERATOR, regions["fenghuang"])
    inc = incubation_at(street, status=S.IN_INCUBATION, by=operator)
    assert fresh(street).desks_used == 1
    promo = inc_services.promotion_recommend(incubation=inc, by=operator, reason="服务成效突出")
    new = inc_services.promotion_accept(
        promotion=promo, by=staff(Role.BASE_OPERATOR, regions["city"]), residence=Residence.DESK, desk_label="C-1"
    )
    assert fresh(inc).status == S.PROMOTED and fresh(street).desks_used == 0
    assert fresh(new).status == S.ADMITTED and fresh(city).desks_used == 1
    assert fresh(promo).result_id == new.pk
    assert StateLog.objects.for_(inc).latest("pk").description == "晋级至市级基地"


@pytest.mark.django_db
def test_a_preparing_group_cannot_graduate_as_registered_without_a_uscc(regions):
    from django.core.exceptions import ValidationError

    base = IncubationBaseFactory(region=regions["fenghuang"])
    operator = staff(Role.BASE_OPERATOR, regions["fenghuang"])
    org, _leader = organisation_with_leader(org_type="preparing", uscc=None)
    inc = incubation_at(base, org, status=S.IN_INCUBATION, by=operator)
    inc_services.assessment_record(
        incubation=inc,
        by=operator,
        stage="graduation",
        scores=dict.fromkeys(("governance", "finance", "projects", "team", "resources"), 90),
    )
    with pytest.raises(ValidationError, match="筹备中的团队须填写登记后的统一社会信用代码"):
        inc_services.incubation_graduate(incubation=inc, by=operator, registered=True, governance=True, project=True)
    assert fresh(inc).status == S.IN_INCUBATION


@pytest.mark.django_db
def test_an_unregistered_organisation_factory_is_still_a_plain_model(regions):
    # guard for the test above: the factory's type can be overridden
    org = OrganisationFactory(org_type="preparing", uscc=None)
    assert Organisation.objects.get(pk=org.pk).org_type == "preparing"
