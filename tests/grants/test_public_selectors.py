"""grants.selectors.public: which projects are public and how their status reads, when a
final grade becomes public (its 评估结果公示 published and opened, the evaluation done
before it), the released sum, a project's facts (KPIs against the latest report, the reach
added up, only the public parts of its reports, only accepted needs), the photos that may
be served, the filters' choices, and that the list reads no private column at all."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from grants.models import FUNDED_STATES, Proposal, ProposalStatus, Publicity, PublicityKind, ReportPhoto
from grants.selectors import public
from grants.services import evaluations
from tests.factories import region_tree
from tests.grants.factories import proposal_at, signed_projects
from tests.grants.funded import closed_with_grade, fresh, need, report

P = ProposalStatus
pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Two projects of 凤凰街道's call in progress (award 60,000, 30,000 paid); the first
    closed 优秀 and its call's 评估结果公示 published to open tomorrow; the second with
    two reports, one public photo and one private, citing an accepted need and one not
    yet accepted; a draft of another call."""
    with django_db_blocker.unblock(), transaction.atomic():
        regions = region_tree()
        call, projects, manager, finance = signed_projects(2, totals=(90, 80))
        graded, running = (p.pk for p in projects)
        closed_with_grade(graded, manager, finance)
        tomorrow = TODAY() + datetime.timedelta(days=1)
        evaluations.publish_evaluation_results(call=call, by=manager, opens_on=tomorrow)

        fresh(running).places.set([regions["fenghuang_c"]])
        report(running, period="第一阶段", kpi="40", activities=5, participants=80, public_text="第一期开展5场。")
        report(
            running,
            period="第二阶段",
            kpi="70",
            activities=7,
            participants=100,
            photos=[("活动合影", True), ("服务对象近照", False)],
        )
        accepted = need(
            regions["fenghuang_c"], "独居老人吃饭难", submitter="李大妈", phone="13700002222", accepted_by=manager
        )
        waiting_need = need(regions["fenghuang_c"], "楼道灯坏了", submitter="王大爷", phone="13700003333")
        fresh(running).cited_needs.add(accepted, waiting_need)
        draft = proposal_at(status=P.DRAFT, title="草稿项目")
        yield {
            "call": call.pk,
            "graded": graded,
            "running": running,
            "draft": draft.pk,
            "draft_call": draft.call_id,
            "manager": manager,
            "finance": finance,
            "regions": regions,
        }
        transaction.set_rollback(True)


def ids(qs) -> set[int]:
    return set(qs.values_list("pk", flat=True))


# ---- which projects are public ----------------------------------------------------------------------


def test_public_means_approved_onward_and_every_public_state_reads_and_filters(world):
    assert (P.APPROVED, *FUNDED_STATES) == public.PUBLIC_STATES
    assert P.NOT_FUNDED not in public.PUBLIC_STATES
    assert {s for _k, _l, states in public.PUBLIC_STATUSES for s in states} == set(public.PUBLIC_STATES)
    # a row in every state of the lifecycle (written in bulk: only the status matters here)
    template = Proposal.objects.get(pk=world["draft"])
    rows = Proposal.objects.bulk_create(
        [
            Proposal(call_id=template.call_id, organisation_id=template.organisation_id, title=f"状态{s}", status=s)
            for s in P.values
        ]
    )
    by_state = {p.status: p.pk for p in rows}
    public_ids = ids(public.public_projects().filter(pk__in=by_state.values()))
    assert public_ids == {by_state[s] for s in public.PUBLIC_STATES}
    for key, label, states in public.PUBLIC_STATUSES:
        found = ids(public.filtered_projects(status=key).filter(pk__in=by_state.values()))
        assert found == {by_state[s] for s in states}, label
    assert public.STATUS_OF[P.TERMINATED] == ("terminated", "已终止")
    assert public.STATUS_OF[P.APPROVED] == ("approved", "待签约")


def test_the_list_and_the_page_read_no_private_column(world):
    sql = str(public.listed(public.filtered_projects(), "score").query)
    sql += str(public._card_rows_of(TODAY()).query)  # the list's cards
    page_sql = str(public.page_queryset(world["running"]).query)
    for column in (
        "bank_account",
        "bank_name",
        "contact_phone",
        "contact_name",
        "legal_representative",
        "email",
        "uscc",
    ):
        assert f'"{column}"' not in sql and f'"{column}"' not in page_sql, column
    assert '"orgs_organisation"."name"' in sql and '"orgs_organisation"."name"' in page_sql


# ---- when a grade is public ---------------------------------------------------------------------------


def test_a_grade_is_public_once_its_evaluation_results_publicity_has_opened(world):
    graded = world["graded"]
    assert fresh(graded).final_grade == "优秀"
    # the 公示 opens tomorrow: nothing yet
    assert public.filtered_projects(grade="优秀").count() == 0
    assert public.filter_choices()["grades"] == []
    assert public.project_facts(public.public_project(graded))["final"] is None
    assert public.public_project_of(public.public_project(graded)).grade == ""

    Publicity.objects.filter(call_id=world["call"], kind=PublicityKind.EVALUATION).update(opens_on=TODAY())
    assert ids(public.filtered_projects(grade="优秀")) == {graded}
    assert public.filter_choices()["grades"] == ["优秀"]
    project = public.public_project(graded)
    assert public.public_project_of(project).grade == "优秀"
    final = public.project_facts(project)["final"]
    assert (final["grade"], final["total"], final["published_on"]) == ("优秀", "93.00", TODAY())
    assert final["comment"] == "项目目标全部达成，形成了可复制的服务模式。"


def test_a_grade_given_after_the_results_were_published_stays_unpublished(world):
    Publicity.objects.filter(call_id=world["call"], kind=PublicityKind.EVALUATION).update(opens_on=TODAY())
    running = world["running"]
    closed_with_grade(running, world["manager"], world["finance"], final=80)
    assert fresh(running).final_grade == "良好"
    assert public.filtered_projects(grade="良好").count() == 0
    assert public.project_facts(public.public_project(running))["final"] is None
    assert ids(public.filtered_projects(grade="优秀")) == {world["graded"]}


# ---- money, facts, photos --------------------------------------------------------------------------------


def test_the_released_sum_and_the_totals(world):
    rows = {p.pk: p for p in public.listed(public.filtered_projects())}
    assert rows[world["graded"]].released == Decimal("60000.00")  # all three tranches
    assert rows[world["running"]].released == Decimal("30000.00")  # the first
    totals = public.project_totals(public.filtered_projects(call=world["call"]))
    assert totals == {"count": 2, "awarded": Decimal("120000.00")}
    assert public.project_totals(public.filtered_projects(call=world["draft_call"])) == {
        "count": 0,
        "awarded": Decimal("0.00"),
    }


def test_the_lists_cards_are_the_projects_public_facts_read_as_plain_rows(world):
    for sort in public.SORTS:
        models = list(public.listed(public.filtered_projects(), sort))
        cards = public.project_cards([p.pk for p in models], sort)
        assert cards == [public.public_project_of(p) for p in models], sort  # every fact, in the same order
    card = {c.pk: c for c in cards}[world["running"]]
    assert (card.places, card.released, card.status_key) == (["凤凰社区"], Decimal("30000.00"), "in_progress")
    newest = public.listed(public.filtered_projects()).first()
    assert [c.pk for c in public.project_cards(limit=1)] == [newest.pk]
    assert public.project_cards([]) == []


def test_a_page_of_ids_comes_with_the_count_and_the_sum_of_all_and_a_page_past_the_end_is_the_last(world):
    projects = public.filtered_projects(call=world["call"])

    def in_order(sort):
        return list(projects.order_by(*public.ordering(sort)).values_list("pk", flat=True))

    by_date = in_order("date")
    assert len(by_date) == 2
    for number, expected in ((1, 1), ("2", 2), ("x", 1), (None, 1), (0, 1), (-3, 1), (99, 2)):
        page, awarded = public.counted_page(projects, number, 1)
        assert page.number == expected, number
        assert page.object_list == [by_date[expected - 1]], number
        assert page.paginator.count == 2 and page.paginator.num_pages == 2
        assert awarded == Decimal("120000.00")
    page, awarded = public.counted_page(projects, 1, 12, "score")
    assert page.object_list == in_order("score") and not page.has_next()
    page, awarded = public.counted_page(public.filtered_projects(call=world["draft_call"]), 5, 12)
    assert (page.number, page.object_list, page.paginator.count, awarded) == (1, [], 0, Decimal("0.00"))


def test_a_projects_facts_come_from_its_latest_report_and_its_accepted_needs(world):
    facts = public.project_facts(public.public_project(world["running"]))
    kpi = facts["kpis"][0]
    assert (kpi["indicator"], kpi["target"], kpi["reached"], kpi["percent"]) == ("服务老人", "120人", "70人", "58.33%")
    assert facts["reach"] == {"reports": 2, "activities": 12, "participants": 180}
    assert [n.title for n in facts["needs"]] == ["独居老人吃饭难"]  # not the one waiting for moderation
    assert [u["period"] for u in facts["updates"]] == ["第一阶段", "第二阶段"]
    assert facts["updates"][0]["text"] == "第一期开展5场。"
    assert [ph["caption"] for u in facts["updates"] for ph in u["photos"]] == ["活动合影"]
    assert "王秀英" not in repr(facts)  # the narrative is the staff's
    assert facts["places"] == ["鄂城区凤凰街道凤凰社区"]
    agreement = fresh(world["running"]).agreement
    assert facts["period"] == (agreement.starts_on, agreement.ends_on)


def test_place_labels_read_as_addresses_below_the_city(world):
    regions = world["regions"]
    labelled = {r.pk: r for r in public.places_queryset(labelled=True)}
    assert public.place_label(labelled[regions["fenghuang_c"].pk]) == "鄂城区凤凰街道凤凰社区"
    assert public.place_label(labelled[regions["fenghuang"].pk]) == "鄂城区凤凰街道"
    assert public.place_label(labelled[regions["echeng"].pk]) == "鄂城区"
    assert public.place_label(labelled[regions["city"].pk]) == "鄂州市"


def test_only_a_photo_marked_public_of_a_submitted_report_of_a_public_project_is_served(world):
    running = world["running"]
    shown = ReportPhoto.objects.get(report__proposal_id=running, public=True)
    hidden = ReportPhoto.objects.get(report__proposal_id=running, public=False)
    assert public.public_photo(running, shown.pk) == shown
    for project, photo in ((running, hidden.pk), (world["graded"], shown.pk), (world["draft"], shown.pk)):
        with pytest.raises(Http404):
            public.public_photo(project, photo)
    with pytest.raises(Http404):
        public.public_project(world["draft"])


# ---- the filters' choices --------------------------------------------------------------------------------


def test_the_choices_are_the_values_public_projects_have(world):
    regions = world["regions"]
    choices = public.filter_choices()
    assert [c["pk"] for c in choices["calls"]] == [world["call"]]  # not the draft's call
    assert choices["years"] == [TODAY().year]
    offered = {r.pk for r in choices["regions"]}
    # the places, their streets, districts and the city above them, and the call's street
    assert {regions["fenghuang_c"].pk, regions["fenghuang"].pk, regions["echeng"].pk, regions["city"].pk} <= offered
    assert regions["huarong"].pk not in offered
    assert [c.name for c in choices["categories"]] == ["老年人服务"]
    assert [key for key, _label in choices["sorts"]] == ["date", "amount", "score"]


def test_a_project_is_found_where_it_happens_and_under_its_calls_region_only_when_placeless(world):
    regions = world["regions"]
    gulou_c = regions["gulou"].get_children().get()
    running, graded = fresh(world["running"]), fresh(world["graded"])
    assert graded.call.region == regions["fenghuang"]
    with transaction.atomic():
        graded.places.clear()  # no place given: where its call is
        running.places.set([gulou_c])  # 凤凰街道's call, carried out in 古楼社区
        assert ids(public.filtered_projects(region=regions["gulou"])) == {running.pk}
        assert ids(public.filtered_projects(region=regions["fenghuang"])) == {graded.pk}
        assert ids(public.filtered_projects(region=regions["echeng"])) == {running.pk, graded.pk}
        transaction.set_rollback(True)
