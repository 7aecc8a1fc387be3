"""资助项目检索 (grants.search): Chinese text as character bigrams and single characters,
Latin words kept whole; a 2-character query finds the projects containing it and not the
others, on the database backend of the run (SQLite FTS5 here, PostgreSQL full text in
CI); only public projects are indexed, kept current by their saves and by the approval's
bulk write, and a save of anything else costs no query for the index."""

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from wagtail.search.models import IndexEntry

from grants.models import Proposal, ProposalStatus
from grants.search import index_now, matching_ids, ngrams, query_terms
from tests.grants.factories import approved_call, proposal_at

P = ProposalStatus


# ---- segmentation ----------------------------------------------------------------------------------


def test_chinese_is_indexed_as_bigrams_and_characters_latin_as_words():
    assert ngrams("社区助老") == "社区 区助 助老 社 区 助 老"
    # punctuation separates runs (no "童安"); full-width Latin and digits are folded, lower-cased
    assert ngrams("儿童，安全") == "儿童 儿 童 安全 安 全"
    assert ngrams("ＡＢＣ计划2026版") == "abc 计划 计 划 2026 版"
    assert ngrams("老宝贝·老宝贝") == "老宝 宝贝 老 宝 贝"  # each gram once
    assert ngrams("") == "" and ngrams(None) == ""


def test_a_query_becomes_the_bigrams_of_each_run_all_required():
    assert query_terms("助老") == ["助老"]
    assert query_terms("社区助老") == ["社区", "区助", "助老"]
    assert query_terms("老") == ["老"]
    assert query_terms(" 儿童  Summer营 ") == ["儿童", "summer", "营"]
    assert query_terms("，。！") == [] and query_terms("") == []


# ---- searching the index ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """A call decided through the real services: two projects approved (批复立项, written in
    bulk by the approval) and one not funded (under the 60-point line); a draft elsewhere
    whose title says 助老 too."""
    with django_db_blocker.unblock(), transaction.atomic():
        call, items, manager = approved_call(3, totals=(90, 80, 40))
        approved = [p for p in items if p.status == P.APPROVED]
        declined = [p for p in items if p.status == P.NOT_FUNDED]
        assert len(approved) == 2 and len(declined) == 1
        elder, child = approved
        elder.title, elder.summary = "老宝贝·社区助老餐桌", "为独居老人送餐上门。"
        elder.save(update_fields=["title", "summary"])
        child.title, child.summary = "小候鸟暑期课堂", "陪伴留守儿童度过暑假，开展安全教育。"
        child.save(update_fields=["title", "summary"])
        declined[0].title = "助老理发志愿服务"
        declined[0].save(update_fields=["title"])
        draft = proposal_at(status=P.DRAFT, title="社区助老驿站")
        yield {"elder": elder.pk, "child": child.pk, "declined": declined[0].pk, "draft": draft.pk, "call": call}
        transaction.set_rollback(True)


def found(q) -> set[int]:
    return set(Proposal.objects.filter(pk__in=matching_ids(q)).values_list("pk", flat=True))


@pytest.mark.django_db
def test_a_two_character_query_finds_the_projects_that_contain_it_and_no_other(world):
    assert found("助老") == {world["elder"]}  # not the declined one, not the draft
    assert found("儿童") == {world["child"]}  # from the summary
    assert found("暑期课堂") == {world["child"]}
    assert found("课暑") == set()  # the characters are there, the word is not
    assert found("老人") == {world["elder"]}
    assert found("送餐 儿童") == set()  # every term is required


@pytest.mark.django_db
def test_the_organisation_name_is_searched_too(world):
    # tests.factories.OrganisationFactory names them 鄂州市测试社会工作服务中心N号; the declined
    # one's organisation is named so too, but is not public
    assert found("社会工作") == {world["elder"], world["child"]}
    name = Proposal.objects.select_related("organisation").get(pk=world["child"]).organisation.name
    assert world["child"] in found(name)


@pytest.mark.django_db
def test_only_public_projects_are_in_the_index(world):
    indexed = set(IndexEntry.objects.filter(content_type__model="proposal").values_list("object_id", flat=True))
    assert {str(world["elder"]), str(world["child"])} <= indexed
    assert str(world["declined"]) not in indexed and str(world["draft"]) not in indexed
    assert index_now([world["declined"], world["draft"]]) == 0


@pytest.mark.django_db
def test_saving_a_proposal_that_is_not_public_costs_no_query_for_the_index(world):
    draft = Proposal.objects.get(pk=world["draft"])
    draft.title = "社区助老驿站（修改）"
    with CaptureQueriesContext(connection) as ctx:
        draft.save(update_fields=["title"])
    assert len(ctx.captured_queries) == 1  # the UPDATE itself
    assert found("驿站") == set()


@pytest.mark.django_db
def test_a_renamed_public_project_is_found_by_its_new_title_at_once(world):
    elder = Proposal.objects.get(pk=world["elder"])
    elder.title = "老宝贝·长者食堂"
    elder.save(update_fields=["title"])
    assert found("食堂") == {world["elder"]}
    assert found("餐桌") == set()


@pytest.mark.django_db
def test_bulk_written_projects_become_searchable_with_the_index_projects_command(world):
    # seed_volume and imports write rows without save(): nothing indexes them …
    Proposal.objects.filter(pk=world["declined"]).update(status=P.APPROVED)
    assert found("理发") == set()
    # … until the command is run
    call_command("index_projects", verbosity=0)
    assert found("理发") == {world["declined"]}
