"""Saving a proposal section by section, as the page's script does (fetch with Accept:
application/json and the revision the page holds) and without JavaScript (a form POST):
nothing typed is lost when validation fails, when the session has expired, or when a
second tab saves over a page that is behind. Tables (team members picked from the
organisation) and attachments are saved the same way."""

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from grants import rules
from grants.models import Proposal, ProposalStatus
from grants.services.proposals import STALE_MESSAGE
from tests.factories import PASSWORD, pdf_upload
from tests.grants.factories import proposal_at
from tests.html_forms import read_form

from .test_portal import edit_url, page, rows_post, save_url, within

P = ProposalStatus
pytestmark = pytest.mark.django_db
JSON = {"Accept": "application/json"}
SCRIPT = Path(__file__).resolve().parents[2] / "grants" / "static" / "grants" / "proposal.js"


@pytest.fixture
def draft(regions):
    p = proposal_at(status=P.DRAFT)
    return p, p.organisation.memberships.first().user


def _objectives(revision, text):
    return {"revision": str(revision), "objectives": text}


def test_a_section_saves_and_answers_with_the_new_revision_and_the_problems(client, draft):
    proposal, leader = draft
    client.force_login(leader)
    r = proposal.revision
    rows = [
        {
            "category": "personnel",
            "item": "社工补贴",
            "unit": "月",
            "quantity": "10",
            "unit_price": "4000",
            "source": "grant",
            "nature": "normal",
        },
        {
            "category": "activity",
            "item": "活动物料",
            "unit": "场",
            "quantity": "20",
            "unit_price": "1000",
            "source": "grant",
            "nature": "normal",
        },
        {
            "category": "activity",
            "item": "场地（自筹）",
            "unit": "项",
            "quantity": "1",
            "unit_price": "40000",
            "source": "self",
            "nature": "normal",
        },
    ]

    response = client.post(save_url(proposal, "budget"), rows_post("budget", rows, r), headers=JSON)

    assert response.status_code == 200
    body = response.json()
    assert body["ok"] and body["revision"] == r + 1 and body["message"].startswith("已保存")
    assert body["problems"]["personnel_share"] == ["人员费用占总预算的40.00%，超过本次征集规定的30.00%。"]
    proposal.refresh_from_db()
    assert proposal.revision == r + 1 and proposal.budget_total == 100000 and proposal.personnel_amount == 40000
    assert proposal.title == "老宝贝·社区长者助餐陪伴计划"  # other sections untouched


def test_two_tabs_the_later_save_is_refused_and_the_first_kept(client, draft):
    proposal, leader = draft
    client.force_login(leader)
    opened_at = proposal.revision  # both tabs were opened at this revision

    first = client.post(save_url(proposal, "objectives"), _objectives(opened_at, "第一个窗口的目标"), headers=JSON)
    second = client.post(save_url(proposal, "objectives"), _objectives(opened_at, "第二个窗口的目标"), headers=JSON)

    assert first.status_code == 200
    assert second.status_code == 409 and second.json() == {"error": "stale", "message": STALE_MESSAGE}
    proposal.refresh_from_db()
    assert proposal.objectives == "第一个窗口的目标" and proposal.revision == opened_at + 1
    # the second tab, reopened, holds the first tab's text and the current revision
    html = page(client, proposal)
    assert "第一个窗口的目标" in within(html, "section-objectives")
    config = json.loads(within(html, "proposal-config"))
    assert config["revision"] == opened_at + 1


def test_without_javascript_a_stale_save_shows_what_was_typed_and_stays_behind(client, draft):
    proposal, leader = draft
    client.force_login(leader)
    opened_at = proposal.revision
    client.post(save_url(proposal, "objectives"), _objectives(opened_at, "另一台电脑上保存的目标"))

    response = client.post(save_url(proposal, "objectives"), _objectives(opened_at, "我在这里写的目标"))

    assert response.status_code == 409
    html = response.content.decode()
    assert STALE_MESSAGE in within(html, "page-notice")
    shown = read_form(html, action=save_url(proposal, "objectives"))
    assert shown.data["objectives"] == ["我在这里写的目标"]  # kept on the page
    assert shown.data["revision"] == [str(opened_at)]  # pressing 保存 again cannot overwrite
    assert Proposal.objects.get(pk=proposal.pk).objectives == "另一台电脑上保存的目标"


def test_a_failed_validation_keeps_what_was_typed_and_saves_nothing(client, draft):
    proposal, leader = draft
    client.force_login(leader)
    r = proposal.revision
    rows = [
        {
            "category": "activity",
            "item": "活动物料",
            "unit": "场",
            "quantity": "二十",
            "unit_price": "100",
            "source": "grant",
            "nature": "normal",
        }
    ]

    response = client.post(save_url(proposal, "budget"), rows_post("budget", rows, r), headers=JSON)

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid" and body["errors"] == {"budget-0-quantity": ["数量请填写数字。"]}
    proposal.refresh_from_db()
    assert proposal.revision == r and proposal.budget_lines.count() == 3

    # without JavaScript: the page again, with the message at the field and the text typed
    response = client.post(save_url(proposal, "budget"), rows_post("budget", rows, r))
    assert response.status_code == 400
    html = response.content.decode()
    assert "“项目预算”没有保存" in within(html, "page-notice")
    shown = read_form(html, action=save_url(proposal, "budget"))
    assert shown.data["budget-0-quantity"] == ["二十"] and shown.data["budget-0-item"] == ["活动物料"]
    assert "数量请填写数字。" in within(html, "section-budget")
    # the other sections show what is saved
    assert "老宝贝·社区长者助餐陪伴计划" in within(html, "section-basic")


def test_team_members_are_picked_and_their_name_comes_from_the_account(client, draft):
    proposal, leader = draft
    client.force_login(leader)
    html = page(client, proposal)
    assert f'<option value="{leader.pk}"' in html and str(leader) in within(html, "section-team")
    proposal.refresh_from_db()
    rows = [
        {"member": leader.pk, "name": "随便写的", "role": "项目负责人", "qualifications": "中级社工师"},
        {"member": "", "name": "王社工", "role": "督导", "qualifications": ""},
        {"member": "", "name": "", "role": "志愿者", "qualifications": ""},
    ]
    response = client.post(save_url(proposal, "team"), rows_post("team", rows, proposal.revision))
    assert response.status_code == 400  # the third row names nobody
    assert "请选择组织成员，或填写组织外人员的姓名" in response.content.decode()
    response = client.post(save_url(proposal, "team"), rows_post("team", rows[:2], proposal.revision))
    assert response.status_code == 302
    team = list(proposal.team.order_by("position"))
    assert [(t.user, t.name) for t in team] == [(leader, str(leader)), (None, "王社工")]


def test_attachments_are_uploaded_downloaded_and_deleted_by_the_organisation(client, draft):
    proposal, leader = draft
    client.force_login(leader)
    response = client.post(
        reverse("grants:attachment_upload", args=[proposal.pk]), {"kind": "budget", "file": pdf_upload("预算说明.pdf")}
    )
    assert response.status_code == 302
    attachment = proposal.attachments.get()
    assert attachment.original_name == "预算说明.pdf" and "预算说明.pdf" in within(
        page(client, proposal), "section-attachments"
    )
    download = client.get(reverse("grants:attachment", args=[proposal.pk, attachment.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    bad = client.post(
        reverse("grants:attachment_upload", args=[proposal.pk]),
        {"kind": "other", "file": pdf_upload("假的.pdf", b"not a pdf at all")},
    )
    assert bad.status_code == 400 and "实际内容不是允许的类型" in bad.content.decode()
    client.post(reverse("grants:attachment_delete", args=[proposal.pk, attachment.pk]))
    assert not proposal.attachments.exists()


def test_an_expired_session_answers_401_with_the_way_back(client, draft):
    proposal, leader = draft
    response = client.post(
        save_url(proposal, "objectives"), _objectives(proposal.revision, "会话过期时写的"), headers=JSON
    )
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "login" and "已暂存在本浏览器" in body["message"]
    assert body["login_url"] == f"{reverse('accounts:login')}?next=%2Fme%2Fproposals%2F{proposal.pk}%2F"
    # logging in through that address brings the user back to the page
    login = client.post(body["login_url"], {"username": leader.username, "password": PASSWORD})
    assert login.status_code == 302 and login["Location"] == edit_url(proposal)
    assert Proposal.objects.get(pk=proposal.pk).objectives != "会话过期时写的"


def test_a_save_on_a_submitted_proposal_is_refused(client, regions):
    proposal = proposal_at(status=P.SUBMITTED)
    client.force_login(proposal.organisation.memberships.first().user)
    response = client.post(save_url(proposal, "objectives"), _objectives(proposal.revision, "提交后改的"), headers=JSON)
    assert response.status_code == 409 and response.json()["error"] == "locked"
    assert "不能修改" in response.json()["message"]


def test_unknown_sections_and_missing_revisions(client, draft):
    proposal, leader = draft
    client.force_login(leader)
    assert client.post(save_url(proposal, "nonsense"), {}).status_code == 404
    response = client.post(save_url(proposal, "objectives"), {"objectives": "x"}, headers=JSON)
    assert response.status_code == 400 and "版本信息" in response.json()["message"]
    assert client.get(save_url(proposal, "objectives")).status_code == 405


def test_the_page_tells_its_script_the_revision_the_limits_and_the_sections(client, draft):
    proposal, leader = draft
    client.force_login(leader)
    html = page(client, proposal)
    config = json.loads(within(html, "proposal-config"))
    assert config["revision"] == proposal.revision and config["pk"] == proposal.pk
    assert config["limits"] == rules.limits_json(Proposal.objects.get(pk=proposal.pk).call)
    assert config["loginUrl"].endswith(f"next=%2Fme%2Fproposals%2F{proposal.pk}%2F")
    assert set(config["sectionKeys"]) == {"basic", "needs", "objectives", "plan", "risks", "team", "kpis", "budget"}
    for section in config["sectionKeys"]:
        form = read_form(html, action=save_url(proposal, section))
        assert form.data["revision"] == [str(proposal.revision)], section


def test_the_script_says_what_grants_rules_says():
    """proposal.js repeats rules.budget_problems' sentences (only the figures and the item
    differ) and reads rules.limits_json's keys."""
    import re
    from types import SimpleNamespace

    script = SCRIPT.read_text(encoding="utf-8")
    call = SimpleNamespace(
        grant_min=Decimal("10000"),
        grant_max=Decimal("100000"),
        max_grant_share=Decimal("60"),
        max_personnel_share=Decimal("30"),
        forbid_fixed_assets=True,
        forbid_cash_handouts=True,
    )
    cases = [
        [],
        [
            {
                "category": "personnel",
                "quantity": 1,
                "unit_price": 5000,
                "source": "grant",
                "nature": "fixed_asset",
                "item": "X",
            }
        ],
        [
            {
                "category": "personnel",
                "quantity": 1,
                "unit_price": 200000,
                "source": "grant",
                "nature": "cash",
                "item": "X",
            }
        ],
    ]
    messages = []
    for lines in cases:
        for found in rules.budget_problems(call, rules.budget_totals(lines), lines).values():
            messages.extend(found)
    assert len(messages) == 9
    for message in messages:
        for chunk in re.split(r"[\d,.%]+|X", message):
            assert chunk in script, (chunk, message)
    for key in [
        "grant_min",
        "grant_max",
        "max_grant_share",
        "max_personnel_share",
        "forbid_fixed_assets",
        "forbid_cash_handouts",
    ]:
        assert f"L.{key}" in script or f"limits.{key}" in script, key
    assert "gy-proposal-" in script and "localStorage" in script and "X-CSRFToken" in script


# ---- the queries of a section save -------------------------------------------------------------------------

SAVE_QUERIES = 20  # the team section: 22 (the organisation's members and their accounts)


def _save_queries(client, proposal, section) -> int:
    """The queries of one save of `section`, posted as the page's form posts it (JSON)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = save_url(proposal, section)
    data = read_form(page(client, proposal), action=url).post_data()
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(url, data, headers=JSON)
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries)


def _more_rows(proposal, leader, times):
    """Every table of the proposal `times` as long (its budget's totals kept in proportion)."""
    from grants.services.proposals import proposal_save

    proposal.refresh_from_db()
    tables = {}
    for name, fields in (
        ("budget_lines", ("category", "item", "unit", "quantity", "unit_price", "source", "nature", "note")),
        ("activities", ("name", "month", "content", "sessions")),
        ("kpis", ("indicator", "target", "unit", "method")),
        ("team", ("user", "name", "role", "qualifications")),
    ):
        tables[name] = [{k: getattr(r, k) for k in fields} for r in getattr(proposal, name).all()] * times
    proposal_save(proposal=proposal, by=leader, revision=proposal.revision, **tables)


@pytest.mark.parametrize("section", ["objectives", "budget", "basic", "needs", "plan", "team", "kpis"])
def test_a_section_save_takes_a_fixed_number_of_queries_however_long_the_tables(client, regions, section):
    from tests.grants.factories import make_call

    proposal = proposal_at(make_call(regions["city"]), P.DRAFT)
    leader = proposal.organisation.memberships.first().user
    client.force_login(leader)
    few = _save_queries(client, proposal, section)
    _more_rows(proposal, leader, 4)
    many = _save_queries(client, proposal, section)

    assert few <= SAVE_QUERIES + 2 * (section == "team"), few
    assert many == few
