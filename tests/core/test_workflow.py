"""The one transition mechanism: atomic, audited, concurrency-safe, Chinese messages."""

import pytest
from django.template import Context, Template
from django_fsm_log.models import StateLog

from core.selectors import history_for
from core.workflow import WorkflowError, run_transition
from orgs.models import Organisation, OrganisationStatus
from tests.factories import OrganisationFactory, UserFactory


@pytest.fixture
def org(regions):
    return OrganisationFactory()


@pytest.mark.django_db
def test_transition_is_saved_and_logged_with_who_and_why(org):
    actor = UserFactory(name="王建国")
    run_transition(org, "submit", by=actor)
    run_transition(org, "return_for_correction", by=actor, reason="章程缺页")
    org = Organisation.objects.get(pk=org.pk)
    assert org.status == OrganisationStatus.RETURNED
    logs = list(history_for(org))
    assert [(log.source_state, log.state, log.by, log.description) for log in logs] == [
        ("draft", "submitted", actor, None),
        ("submitted", "returned", actor, "章程缺页"),
    ]


@pytest.mark.django_db
def test_transition_not_allowed_from_this_status_says_so_in_chinese(org):
    with pytest.raises(WorkflowError, match="当前状态为“草稿”，不能执行“审核通过”"):
        run_transition(org, "verify", by=UserFactory())
    assert Organisation.objects.get(pk=org.pk).status == OrganisationStatus.DRAFT
    assert StateLog.objects.count() == 0


@pytest.mark.django_db
def test_status_cannot_be_set_directly(org):
    with pytest.raises(AttributeError):
        org.status = OrganisationStatus.VERIFIED


@pytest.mark.django_db
def test_concurrent_transitions_one_wins_the_other_is_told(org):
    actor = UserFactory()
    run_transition(org, "submit", by=actor)
    first = Organisation.objects.get(pk=org.pk)
    second = Organisation.objects.get(pk=org.pk)
    run_transition(first, "verify", by=actor)
    with pytest.raises(WorkflowError, match="刚被其他人处理，当前状态为“已认证”"):
        run_transition(second, "return_for_correction", by=actor, reason="迟到的退回")
    assert Organisation.objects.get(pk=org.pk).status == OrganisationStatus.VERIFIED
    # the loser's log row was rolled back with it
    assert list(StateLog.objects.values_list("state", flat=True).order_by("pk")) == ["submitted", "verified"]


@pytest.mark.django_db
def test_history_template_tag_shows_labels_people_and_reasons(org, django_assert_max_num_queries):
    actor = UserFactory(name="李红梅")
    run_transition(org, "submit", by=actor)
    run_transition(org, "return_for_correction", by=actor, reason="请补充银行开户证明")
    with django_assert_max_num_queries(2):
        html = Template("{% load core_tags %}{% status_history org %}").render(Context({"org": org}))
    assert "草稿 → <strong>待审核</strong>" in html
    assert "待审核 → <strong>退回补正</strong>" in html
    assert "李红梅" in html and "理由：请补充银行开户证明" in html


@pytest.mark.django_db
def test_a_transition_on_a_stale_copy_does_not_overwrite_other_columns(org):
    actor = UserFactory()
    stale = Organisation.objects.get(pk=org.pk)
    Organisation.objects.filter(pk=org.pk).update(contact_name="新联系人")
    run_transition(stale, "submit", by=actor)
    fresh = Organisation.objects.get(pk=org.pk)
    assert fresh.status == OrganisationStatus.SUBMITTED
    assert fresh.contact_name == "新联系人"
