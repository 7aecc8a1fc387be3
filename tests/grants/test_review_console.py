"""The call manager's 评审管理 screens: progress, ranking, award list, the draw record,
the ranking workbook and its command; who may look and who may act."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.roles import Role
from grants.models import Assignment, AssignmentStatus, CallStatus, Proposal, ProposalStatus, Publicity
from grants.services import award, review
from tests.factories import region_tree, staff
from tests.grants.factories import call_in_review
from tests.grants.test_review_services import score_all
from tests.queries import page_queries

A = AssignmentStatus
P = ProposalStatus
pytestmark = pytest.mark.django_db


def reviewed_call(n=3, experts=5, totals=None, **fields):
    call, proposals, experts_, manager = call_in_review(n, experts, panel_size=3, **fields)
    rnd = review.draw_panels(call=call, by=manager, seed="console")
    score_all(rnd, totals)
    return call, proposals, experts_, manager, rnd


def test_console_shows_progress_and_offers_the_draw(client):
    call, proposals, experts, manager = call_in_review(2, 4, panel_size=3)
    client.force_login(manager)
    url = f"/admin/grants/calls/{call.pk}/review/"
    html = client.get(url).content.decode()
    assert "2 个资格审查通过的项目尚未分配评审专家" in html
    assert "抽取评审专家" in html
    r = client.post(f"{url}draw-panels/", {})
    assert r.status_code == 302
    html = client.get(url).content.decode()
    assert "已提交 <strong>0</strong> / 6 份评分" in html
    assert Assignment.objects.filter(round__call=call).count() == 6
    assert "催办未完成的专家" in html and "结束专家评审" in html


def test_remind_and_close_from_the_console(client, mailoutbox):
    call, proposals, experts, manager = call_in_review(1, 3, panel_size=2)
    rnd = review.draw_panels(call=call, by=manager)
    client.force_login(manager)
    url = f"/admin/grants/calls/{call.pk}/review/"
    assert client.post(f"{url}remind-reviewers/", {}).status_code == 302
    assert Assignment.objects.filter(round=rnd, reminded_at__isnull=False).count() == 2
    # nobody has scored: closing is refused with the reason, nothing changes
    r = client.post(f"{url}close-review/", {})
    assert r.status_code == 400
    assert "还有1个项目没有任何专家提交评分" in r.content.decode()
    rnd.refresh_from_db()
    assert rnd.is_open


def test_ranking_page_anonymises_reviewers_and_shows_agreement(client):
    call, proposals, experts, manager, rnd = reviewed_call(3, 5)
    review.close_round(round=rnd, by=manager)
    client.force_login(manager)
    html = client.get(f"/admin/grants/calls/{call.pk}/ranking/").content.decode()
    assert "评委1" in html and "组内相关系数" in html or "ICC" in html
    for p in proposals:
        assert p.title in html
    assert "80.00" in html


def test_award_list_walks_the_pool(client):
    call, proposals, experts, manager, rnd = reviewed_call(3, 5, pool_total=Decimal("150000"))
    review.close_round(round=rnd, by=manager)
    client.force_login(manager)
    html = client.get(f"/admin/grants/calls/{call.pk}/award/").content.decode()
    assert "拟资助 2 个" in html
    assert "120,000.00 元" in html and "30,000.00 元" in html
    assert "资金不足" in html


def test_adjusted_amount_funds_the_third(client):
    call, proposals, experts, manager, rnd = reviewed_call(3, 5, pool_total=Decimal("150000"))
    review.close_round(round=rnd, by=manager)
    client.force_login(manager)
    last = Proposal.objects.filter(call=call).order_by("-rank").first()
    first = Proposal.objects.filter(call=call).order_by("rank").first()
    r = client.post(
        f"/admin/grants/proposals/{first.pk}/adjust-amount/",
        {"adjust-amount-amount": "30000", "adjust-amount-reason": ""},
    )
    assert r.status_code == 400 and "请填写调整理由" in r.content.decode()
    first.refresh_from_db()
    assert first.adjusted_amount is None
    r = client.post(
        f"/admin/grants/proposals/{first.pk}/adjust-amount/",
        {"adjust-amount-amount": "30000", "adjust-amount-reason": "部分活动与社区已有服务重复"},
    )
    assert r.status_code == 302
    _result, a = award.award_list(call)
    assert [row.funded for row in a.rows] == [True, True, True]
    assert a.committed == Decimal("150000.00")
    assert last.pk in {row.proposal for row in a.rows if row.funded}


def test_export_workbook_and_command(tmp_path, client):
    call, proposals, experts, manager, rnd = reviewed_call(3, 5, pool_total=Decimal("150000"))
    review.close_round(round=rnd, by=manager)
    client.force_login(manager)
    r = client.get(f"/admin/grants/calls/{call.pk}/ranking.xlsx")
    assert r.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    ws = wb["排名"]
    assert ws["A1"].value == call.title
    header = [c.value for c in ws[4]]
    assert header[:3] == ["排名", "申报编号", "项目名称"]
    assert header[3:5] == ["评委（1）", "总分（1）"] and "拟资助金额" in header
    row = [c for c in ws[5]]
    assert str(row[3].value).startswith("评委") and row[4].value == 80
    requested = row[header.index("申请金额")]
    assert requested.value == 60000 and requested.number_format == '#,##0.00"元"'
    assert row[header.index("是否立项")].value == "是"
    names = {e.name for e in experts}
    assert not any(str(c.value) in names for line in ws.iter_rows() for c in line if c.value)
    detail = wb["评分明细"]
    assert detail.max_row == 1 + 3 * 3  # a row per proposal and reviewer
    assert [c.value for c in detail[1]][:3] == ["排名", "申报编号", "评委"]
    out = tmp_path / "rank.xlsx"
    call_command("export_ranking", "--call", str(call.pk), "--output", str(out))
    assert openpyxl.load_workbook(out)["排名"].max_row == 7
    with pytest.raises(CommandError, match="没有编号为 999999 的征集"):
        call_command("export_ranking", "--call", "999999", "--output", str(out))


def test_who_may_look_and_act(client):
    call, proposals, experts, manager = call_in_review(1, 3, panel_size=2)
    url = f"/admin/grants/calls/{call.pk}/review/"
    r = client.get(url)
    assert r.status_code == 302 and "/login/" in r["Location"]
    auditor = staff(Role.AUDITOR, call.region)
    client.force_login(auditor)
    assert "业务主管办理" in client.get(url).content.decode()
    assert client.post(f"{url}draw-panels/", {}).status_code == 403
    far = staff(Role.CALL_MANAGER, region_tree()["huarong"])
    client.force_login(far)
    assert client.get(url).status_code == 404
    assert client.post(f"{url}draw-panels/", {}).status_code == 404
    client.force_login(experts[0].user)
    assert client.get(url).status_code in (302, 403)
    assert client.get(f"/admin/grants/calls/{call.pk}/ranking/").status_code in (302, 403)
    assert Assignment.objects.count() == 0


def test_draw_record_replays(client):
    call, proposals, experts, manager = call_in_review(1, 4, panel_size=3)
    rnd = review.draw_panels(call=call, by=manager, seed="audit")
    record = rnd.draws.get()
    client.force_login(staff(Role.AUDITOR, call.region))
    html = client.get(f"/admin/grants/draws/{record.pk}/").content.decode()
    assert "复核一致" in html and record.seed in html


def test_publish_and_approve_from_the_console(client):
    call, proposals, experts, manager, rnd = reviewed_call(2, 4)
    review.close_round(round=rnd, by=manager)
    client.force_login(manager)
    url = f"/admin/grants/calls/{call.pk}/review/"
    today = timezone.localdate()
    r = client.post(
        f"{url}publish-shortlist/", {"publish-shortlist-opens_on": str(today), "publish-shortlist-days": "7"}
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    pub = Publicity.objects.get(call=call)
    assert pub.closes_on == today + datetime.timedelta(days=6)
    r = client.post(f"{url}approve-call/", {})
    assert r.status_code == 400 and "结束后才能批复" in r.content.decode()
    Publicity.objects.filter(pk=pub.pk).update(closes_on=today - datetime.timedelta(days=1))
    assert client.post(f"{url}approve-call/", {}).status_code == 302
    call.refresh_from_db()
    assert call.status == CallStatus.DECIDED
    assert set(Proposal.objects.filter(call=call).values_list("status", flat=True)) == {P.APPROVED}


@pytest.mark.parametrize("n", [2, 6])
def test_ranking_and_award_query_counts_are_flat(client, n, request):
    call, proposals, experts, manager, rnd = reviewed_call(n, 5)
    review.close_round(round=rnd, by=manager)
    client.force_login(manager)
    counts = {
        name: page_queries(client, f"/admin/grants/calls/{call.pk}/{name}/") for name in ("review", "ranking", "award")
    }
    request.config.cache if hasattr(request.config, "cache") else None
    for name, count in counts.items():
        assert count <= 15, (name, count)
    FLAT.setdefault(n, counts)
    if len(FLAT) == 2:
        assert FLAT[2] == FLAT[6]


FLAT: dict = {}


def test_proposal_page_lists_the_panel_and_reopens_with_a_reason(client):
    call, proposals, experts, manager, rnd = reviewed_call(1, 4)
    p = proposals[0]
    a = Assignment.objects.filter(proposal=p, status=A.SUBMITTED).first()
    client.force_login(manager)
    html = client.get(f"/admin/grants/proposals/{p.pk}/").content.decode()
    assert "专家评审" in html and a.expert.name in html and "评审结束后显示" in html
    r = client.post(f"/admin/grants/assignments/{a.pk}/reopen/", {"reopen-reason": ""})
    assert r.status_code == 400 and "退回重评时请写明原因" in r.content.decode()
    a.refresh_from_db()
    assert a.status == A.SUBMITTED
    r = client.post(f"/admin/grants/assignments/{a.pk}/reopen/", {"reopen-reason": "第三项评分与评语不符"})
    assert r.status_code == 302
    a.refresh_from_db()
    assert a.status == A.SCORING and a.reopen_reason == "第三项评分与评语不符" and a.total is None
    # the expert is told
    from core.models import Notification

    assert Notification.objects.filter(recipient=a.expert.user, title__contains="退回重评").exists()
    auditor = staff(Role.AUDITOR, call.region)
    client.force_login(auditor)
    assert client.post(f"/admin/grants/assignments/{a.pk}/replace/", {"replace-reason": "出差"}).status_code == 403
    client.force_login(staff(Role.CALL_MANAGER, region_tree()["huarong"]))
    assert client.post(f"/admin/grants/assignments/{a.pk}/replace/", {"replace-reason": "出差"}).status_code == 404


def test_replace_draws_a_new_expert(client):
    call, proposals, experts, manager = call_in_review(1, 4, panel_size=3)
    rnd = review.draw_panels(call=call, by=manager)
    a = rnd.assignments.first()
    client.force_login(manager)
    r = client.post(f"/admin/grants/assignments/{a.pk}/replace/", {"replace-reason": "专家临时出差"})
    assert r.status_code == 302
    a.refresh_from_db()
    assert a.status == A.RECUSED
    new = Assignment.objects.get(draw__replaces=a)
    assert new.expert_id not in set(rnd.assignments.exclude(pk=new.pk).values_list("expert_id", flat=True))
