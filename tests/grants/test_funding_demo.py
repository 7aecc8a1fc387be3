"""The funding demo (grants.demo.seed_funding, seed_demo's step after the review one): the
decided call's approved projects signed, paid, reported on and evaluated through the real
services: one just under way with its first report in, one suspended for rectification, one
terminated with a clawback and a ban, one closed graded 优秀, the rest waiting for their
agreement. One seed_demo for the module (it is slow); a second one changes nothing."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from django_fsm_log.models import StateLog

from grants.demo import LIANGZIHU_NEEDS, funded_call_title
from grants.models import Agreement, Call, Evaluation, ProgressReport, Proposal, ProposalStatus, Tranche, TrancheStatus
from grants.services.evaluations import released_total
from orgs.models import ListEntry

P, T = ProposalStatus, TrancheStatus
pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = io.StringIO()
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """seed_demo once for the module, rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield _seed()
        transaction.set_rollback(True)


@pytest.fixture
def projects(demo):
    call = Call.objects.get(title=funded_call_title(timezone.localdate()))
    rows = Proposal.objects.filter(call=call).select_related("organisation").order_by("rank", "pk")
    return {s: [p for p in rows if p.status == s] for s in P.values}


def _tranches(p) -> list[str]:
    return list(Tranche.objects.filter(proposal=p).order_by("position").values_list("status", flat=True))


def test_the_funded_projects_stand_at_every_stage(demo, projects):
    today = timezone.localdate()
    assert "项目实施：" in demo and "caiwu" in demo
    # just under way: signed by both sides, the first tranche paid, a report in and not yet read
    (signed,) = projects[P.IN_PROGRESS]
    assert Agreement.objects.get(proposal=signed).status == "signed"
    assert _tranches(signed) == [T.RELEASED, T.PLANNED, T.PLANNED]
    assert list(ProgressReport.objects.filter(proposal=signed).values_list("status", flat=True)) == ["submitted"]
    # suspended: the mid-term failed once, rectification due in the future, nothing more paid
    (suspended,) = projects[P.SUSPENDED]
    mid = Evaluation.objects.get(proposal=suspended, kind="mid_term")
    assert mid.passed is False and mid.rectify_until > today
    assert _tranches(suspended)[0] == T.RELEASED and T.RELEASED not in _tranches(suspended)[1:]
    # terminated: failed twice, serious breach, money clawed back, the organisation banned
    (ended,) = projects[P.TERMINATED]
    assert Evaluation.objects.filter(proposal=ended, kind="mid_term", passed=False).count() == 2
    assert ended.clawback_amount > 0
    assert ended.clawback_amount == released_total(ended) - ended.eligible_spending
    assert _tranches(ended) == [T.RELEASED, T.WITHHELD, T.WITHHELD]
    ban = ListEntry.objects.get(organisation=ended.organisation, kind="ban")
    assert ended.title in ban.reason and ban.removed_on > today
    # closed: all three tranches paid, graded 优秀, the unspent money returned
    (closed,) = projects[P.CLOSED]
    assert closed.final_grade == "优秀"
    assert Evaluation.objects.get(proposal=closed, kind="final").grade == "优秀"
    assert _tranches(closed) == [T.RELEASED] * 3
    assert released_total(closed) == closed.awarded_amount
    assert closed.returned_amount > 0
    assert closed.returned_amount + closed.eligible_spending == closed.awarded_amount
    # any other approved project still waits for its agreement (whether the pool funds a
    # fifth depends on how the database orders equal scores, which follows the rows' ids)
    assert not Agreement.objects.filter(proposal__in=projects.get(P.APPROVED, [])).exists()
    # every payment dated on or before today, after the signing
    for t in Tranche.objects.filter(proposal__call=closed.call, status=T.RELEASED).select_related("proposal"):
        assert t.paid_on <= today and t.voucher_no


def test_the_public_reads_the_closed_projects_grade_updates_and_only_its_public_photos(demo, projects, client):
    (closed,) = projects[P.CLOSED]
    page = client.get(f"/projects/{closed.pk}/").content.decode()
    assert closed.title in page and "优秀" in page and "末期评估 93.00 分" in page
    assert "第一阶段共开展集中活动12场" in page and "服务对象满意度96%" in page
    assert "社区集中活动现场" in page and "志愿者服务队合影" in page
    assert "入户走访（服务对象未授权公开）" not in page
    need = closed.cited_needs.get()  # the need its community raised before the call opened
    assert need.title in {n.title for n in LIANGZIHU_NEEDS} and f'<a href="/needs/{need.pk}/">{need.title}</a>' in page
    # the KPIs reached, from the last report (a percentage for each, not "—")
    assert page.count("%</td></tr>") == closed.kpis.count() and closed.kpis.count() >= 2
    hidden = closed.reports.get(period="第一阶段").photos.get(public=False)
    assert client.get(f"/projects/{closed.pk}/photos/{hidden.pk}/").status_code == 404
    shown = closed.reports.get(period="第一阶段").photos.get(public=True)
    photo = client.get(f"/projects/{closed.pk}/photos/{shown.pk}/")
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"
    notices = client.get("/notices/").content.decode()
    assert f"{funded_call_title(timezone.localdate())}末期评估结果公示" in notices


def test_a_second_seed_demo_changes_nothing(demo, projects):
    before = (StateLog.objects.count(), Tranche.objects.count(), Evaluation.objects.count(), ListEntry.objects.count())
    _seed()
    after = (StateLog.objects.count(), Tranche.objects.count(), Evaluation.objects.count(), ListEntry.objects.count())
    assert after == before
    assert Decimal(0) < Proposal.objects.get(pk=projects[P.TERMINATED][0].pk).clawback_amount
