"""三级联动 end to end: a community call's manager recommends an eligible proposal to the
street call of the next round; the organisation accepts on /me/ and the proposal is copied
into the upper call with every line (nothing retyped), or declines; the upper call's staff
see the lower call's score and status. Right and wrong role, region and organisation."""

from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile

from accounts.roles import Role
from core.models import Notification
from core.workflow import WorkflowError, available_actions
from grants.models import (
    CallStatus,
    Proposal,
    ProposalAttachment,
    ProposalStatus,
    Recommendation,
    RecommendationState,
)
from grants.selectors.linkage import recommendation_context
from grants.services import linkage
from grants.services import needs as need_services
from orgs.models import Membership, ServiceArea
from tests.factories import PDF_BYTES, applicant, staff
from tests.grants.factories import make_call, proposal_at
from tests.queries import page_queries

P = ProposalStatus
pytestmark = pytest.mark.django_db
REASON = "社区老人助餐做得扎实，值得在全街道推广。"


@pytest.fixture
def calls(regions):
    upper = make_call(regions["fenghuang"], status=CallStatus.OPEN)
    lower = make_call(regions["fenghuang_c"], status=CallStatus.OPEN, next_round=upper)
    return lower, upper


@pytest.fixture
def eligible(calls):
    return proposal_at(calls[0], P.ELIGIBLE)


@pytest.fixture
def manager(regions):
    return staff(Role.CALL_MANAGER, regions["fenghuang_c"])


def leader_of(proposal):
    return proposal.organisation.memberships.get(role=Membership.Role.LEADER).user


def recommended(eligible, manager):
    return linkage.recommend(proposal=eligible, by=manager, reason=REASON)


# ---- recommending ---------------------------------------------------------------------------------


def test_a_manager_of_the_lower_call_recommends_and_everyone_concerned_is_told(regions, calls, eligible, manager):
    upper_manager = staff(Role.CALL_MANAGER, regions["fenghuang"])
    assert "recommend" in [a.slug for a in available_actions(eligible, manager)]
    rec = recommended(eligible, manager)
    assert (rec.to_call, rec.state, rec.reason, rec.recommended_by) == (calls[1], "pending", REASON, manager)
    to_org = Notification.objects.filter(recipient=leader_of(eligible)).latest("pk")
    assert "被推荐至上一级征集" in to_org.title and to_org.url == "/me/proposals/recommendations/"
    assert REASON in to_org.body
    to_upper = Notification.objects.get(recipient=upper_manager)
    assert "下级征集推荐项目" in to_upper.title and to_upper.url == f"/admin/grants/proposals/{eligible.pk}/"
    # offered once: not again after recommending
    assert "recommend" not in [a.slug for a in available_actions(eligible, manager)]


@pytest.mark.parametrize("who", ["far", "applicant", "operator", "auditor", "leader"])
def test_recommending_is_refused_to_the_wrong_role_or_region(regions, eligible, who):
    users = {
        "far": lambda: staff(Role.CALL_MANAGER, regions["huarong"]),
        "applicant": applicant,
        "operator": lambda: staff(Role.BASE_OPERATOR, regions["fenghuang"]),
        "auditor": lambda: staff(Role.AUDITOR, regions["city"]),
        "leader": lambda: leader_of(eligible),
    }
    user = users[who]()
    with pytest.raises(PermissionDenied):
        linkage.recommend(proposal=eligible, by=user, reason=REASON)
    assert "recommend" not in [a.slug for a in available_actions(eligible, user)]
    assert not Recommendation.objects.exists()


def test_only_an_eligible_proposal_of_a_call_with_a_next_round_once_with_a_reason(regions, calls, manager):
    lower, upper = calls
    submitted = proposal_at(lower, P.SUBMITTED)
    with pytest.raises(ValidationError) as exc:
        linkage.recommend(proposal=submitted, by=manager, reason=REASON)
    assert "只能推荐通过资格审查的项目" in exc.value.messages[0]
    assert "recommend" not in [a.slug for a in available_actions(submitted, manager)]

    alone = make_call(regions["fenghuang_c"], status=CallStatus.OPEN, title="没有下一轮的征集")
    lonely = proposal_at(alone, P.ELIGIBLE)
    with pytest.raises(ValidationError) as exc:
        linkage.recommend(proposal=lonely, by=manager, reason=REASON)
    assert "没有设置可推荐的上一级征集" in exc.value.messages[0]

    eligible = proposal_at(lower, P.ELIGIBLE)
    with pytest.raises(ValidationError) as exc:
        linkage.recommend(proposal=eligible, by=manager, reason="  ")
    assert exc.value.message_dict["reason"] == ["请填写推荐理由，申报单位和上级征集都会看到。"]
    recommended(eligible, manager)
    with pytest.raises(ValidationError) as exc:
        recommended(eligible, manager)
    assert "已推荐至" in exc.value.messages[0]
    assert Recommendation.objects.count() == 1


def test_an_upper_call_past_its_applications_takes_no_recommendation(regions, manager):
    upper = make_call(regions["fenghuang"], status=CallStatus.CLOSED)
    lower = make_call(regions["fenghuang_c"], status=CallStatus.OPEN, next_round=upper)
    with pytest.raises(ValidationError) as exc:
        linkage.recommend(proposal=proposal_at(lower, P.ELIGIBLE), by=manager, reason=REASON)
    assert "已截止申报" in exc.value.messages[0]


# ---- accepting: the copy ---------------------------------------------------------------------------


def _rows(qs, *fields):
    return [tuple(getattr(r, f) for f in fields) for r in qs.order_by("position", "pk")]


def test_accepting_copies_every_answer_and_line_and_the_applicant_retypes_nothing(regions, calls, eligible, manager):
    lower, upper = calls
    leader = leader_of(eligible)
    need = need_services.need_submit(
        region=regions["fenghuang_c"],
        title="独居老人午餐没人做",
        description="二十多位独居老人",
        affected="独居老人",
        people_count=25,
        submitter_kind="resident",
        submitter_name="张阿姨",
        phone="13912345678",
    )
    need_services.need_accept(need=need, by=manager, category=ServiceArea.objects.get(code="elderly"))
    eligible.cited_needs.add(need)
    attachment = ProposalAttachment.objects.create(
        proposal=eligible, file=ContentFile(PDF_BYTES, name="plan.pdf"), original_name="项目计划书.pdf", size=100
    )
    Proposal.objects.filter(pk=eligible.pk).update(score=Decimal("88.50"))
    eligible.refresh_from_db()
    rec = recommended(eligible, manager)

    draft = linkage.recommendation_accept(recommendation=rec, by=leader)
    assert (draft.call, draft.status, draft.recommended_from, draft.organisation) == (
        upper,
        P.DRAFT,
        eligible,
        eligible.organisation,
    )
    for field in (*linkage.COPIED_FIELDS, "start_month", "end_month"):
        assert getattr(draft, field) == getattr(eligible, field), field
    assert set(draft.places.all()) == set(eligible.places.all()) and draft.places.exists()
    assert list(draft.cited_needs.all()) == [need]
    lines = ("category", "item", "unit", "quantity", "unit_price", "amount", "source", "nature", "note")
    assert _rows(draft.budget_lines, *lines) == _rows(eligible.budget_lines, *lines) and draft.budget_lines.count() == 3
    assert _rows(draft.activities, "name", "month", "content", "sessions") == _rows(
        eligible.activities, "name", "month", "content", "sessions"
    )
    assert _rows(draft.team, "user_id", "name", "role", "qualifications") == _rows(
        eligible.team, "user_id", "name", "role", "qualifications"
    )
    assert _rows(draft.kpis, "indicator", "target", "unit", "method") == _rows(
        eligible.kpis, "indicator", "target", "unit", "method"
    )
    copy = draft.attachments.get()
    assert (copy.original_name, copy.size, copy.kind) == ("项目计划书.pdf", 100, attachment.kind)
    assert copy.file.name != attachment.file.name and copy.file.read() == PDF_BYTES  # a file of its own
    rec.refresh_from_db()
    assert (rec.state, rec.result) == (RecommendationState.ACCEPTED, draft)
    # the original stays as it was, in its own call
    eligible.refresh_from_db()
    assert (eligible.call, eligible.status, eligible.budget_lines.count()) == (lower, P.ELIGIBLE, 3)

    # the upper call's staff read the lower call's score and status beside it
    context = recommendation_context(draft)
    assert context["lower"] == eligible and context["lower_call"] == lower
    assert (context["score"], context["status"], context["reason"]) == (Decimal("88.50"), P.ELIGIBLE, REASON)
    assert recommendation_context(eligible) is None


def test_every_column_of_a_proposal_is_either_copied_or_said_not_to_be():
    """A field added to Proposal later must be placed in one list or the other."""
    columns = {f.name for f in Proposal._meta.concrete_fields}
    assert columns == set(linkage.COPIED_FIELDS) | set(linkage.NOT_COPIED)
    tables = {r.related_model for r in Proposal._meta.related_objects}
    assert tables - {Proposal} == {
        *linkage.COPIED_TABLES,
        *(apps.get_model("grants", n) for n in linkage.NOT_COPIED_TABLES),
    }


def test_only_the_leader_or_contact_answers_and_only_once(regions, eligible, manager):
    rec = recommended(eligible, manager)
    finance = applicant()
    Membership.objects.create(organisation=eligible.organisation, user=finance, role=Membership.Role.FINANCE)
    for user in (finance, applicant(), manager):
        with pytest.raises(PermissionDenied):
            linkage.recommendation_accept(recommendation=rec, by=user)
        with pytest.raises(PermissionDenied):
            linkage.recommendation_decline(recommendation=rec, by=user)
    assert Proposal.objects.count() == 1
    linkage.recommendation_accept(recommendation=rec, by=leader_of(eligible))
    with pytest.raises(WorkflowError):
        linkage.recommendation_accept(recommendation=rec, by=leader_of(eligible))
    assert Proposal.objects.count() == 2


def test_an_organisation_not_eligible_for_the_upper_call_is_told_why_and_nothing_is_copied(regions, manager):
    upper = make_call(regions["fenghuang"], status=CallStatus.NEEDS, min_grade="4A")
    lower = make_call(regions["fenghuang_c"], status=CallStatus.OPEN, next_round=upper)
    eligible = proposal_at(lower, P.ELIGIBLE)
    rec = recommended(eligible, manager)
    with pytest.raises(ValidationError) as exc:
        linkage.recommendation_accept(recommendation=rec, by=leader_of(eligible))
    text = " ".join(exc.value.messages)
    assert "4A" in text and "不在申报期" in text
    assert Proposal.objects.count() == 1
    rec.refresh_from_db()
    assert rec.state == RecommendationState.PENDING


def test_declining_tells_the_recommender_and_the_upper_call(regions, eligible, manager):
    upper_manager = staff(Role.CALL_MANAGER, regions["fenghuang"])
    rec = recommended(eligible, manager)
    Notification.objects.all().delete()
    linkage.recommendation_decline(recommendation=rec, by=leader_of(eligible), reason="人手不够。")
    rec.refresh_from_db()
    assert rec.state == RecommendationState.DECLINED
    for user in (manager, upper_manager):
        notice = Notification.objects.get(recipient=user)
        assert "推荐未被接受" in notice.title and "人手不够" in notice.body


# ---- the applicant's pages ---------------------------------------------------------------------------


def test_the_applicant_sees_the_recommendation_with_score_and_result_and_accepts(client, calls, eligible, manager):
    Proposal.objects.filter(pk=eligible.pk).update(score=Decimal("91.20"))
    rec = recommended(eligible, manager)
    client.force_login(leader_of(eligible))
    me = client.get("/me/").content.decode()
    assert "项目推荐待确认" in me and eligible.title in me

    html = client.get("/me/proposals/recommendations/").content.decode()
    assert calls[1].title in html and REASON in html and "91.20 分" in html and "资格审查通过" in html
    response = client.post(f"/me/proposals/recommendations/{rec.pk}/accept/")
    draft = Proposal.objects.get(call=calls[1])
    assert response.status_code == 302 and response["Location"] == f"/me/proposals/{draft.pk}/"
    assert "项目推荐待确认" not in client.get("/me/").content.decode()


def test_the_page_shows_why_the_organisation_cannot_take_it_up(client, regions, manager):
    upper = make_call(regions["fenghuang"], status=CallStatus.NEEDS)
    lower = make_call(regions["fenghuang_c"], status=CallStatus.OPEN, next_round=upper)
    eligible = proposal_at(lower, P.ELIGIBLE)
    rec = recommended(eligible, manager)
    client.force_login(leader_of(eligible))
    html = client.get("/me/proposals/recommendations/").content.decode()
    assert "目前还不能转入上一级征集" in html and "不在申报期" in html and "disabled" in html
    response = client.post(f"/me/proposals/recommendations/{rec.pk}/accept/", follow=True)
    assert "未能转入" in response.content.decode()
    assert Proposal.objects.count() == 1


def test_the_applicant_declines_from_the_page(client, eligible, manager):
    rec = recommended(eligible, manager)
    client.force_login(leader_of(eligible))
    response = client.post(f"/me/proposals/recommendations/{rec.pk}/decline/", {"reason": "本年度不参加"}, follow=True)
    assert "已答复不参加" in response.content.decode()
    rec.refresh_from_db()
    assert rec.state == RecommendationState.DECLINED


def test_other_organisations_and_anonymous_users_cannot_answer(client, eligible, manager):
    rec = recommended(eligible, manager)
    response = client.post(f"/me/proposals/recommendations/{rec.pk}/accept/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    other = proposal_at(rec.proposal.call, P.DRAFT)
    client.force_login(leader_of(other))
    assert client.post(f"/me/proposals/recommendations/{rec.pk}/accept/").status_code == 404
    assert client.post(f"/me/proposals/recommendations/{rec.pk}/decline/").status_code == 404
    assert eligible.title not in client.get("/me/proposals/recommendations/").content.decode()
    rec.refresh_from_db()
    assert rec.state == RecommendationState.PENDING


# ---- the staff list ----------------------------------------------------------------------------------


def test_the_staff_list_shows_incoming_and_outgoing_in_scope_only(client, regions, calls, eligible, manager):
    recommended(eligible, manager)
    client.force_login(staff(Role.CALL_MANAGER, regions["fenghuang"]))
    html = client.get("/admin/grants/recommendations/").content.decode()
    assert eligible.title in html and "未评审" in html and "待申报单位确认" in html
    client.force_login(manager)  # the lower call's own staff see what they recommended
    assert eligible.title in client.get("/admin/grants/recommendations/").content.decode()
    client.force_login(staff(Role.CALL_MANAGER, regions["huarong"]))
    assert eligible.title not in client.get("/admin/grants/recommendations/").content.decode()


def test_the_staff_list_costs_the_same_queries_for_1_or_4_recommendations(client, regions, calls, manager):
    lower, _ = calls
    recommended(proposal_at(lower, P.ELIGIBLE), manager)
    client.force_login(staff(Role.CALL_MANAGER, regions["fenghuang"]))
    few = page_queries(client, "/admin/grants/recommendations/")
    for _ in range(3):
        recommended(proposal_at(lower, P.ELIGIBLE), manager)
    assert page_queries(client, "/admin/grants/recommendations/") == few <= 15
