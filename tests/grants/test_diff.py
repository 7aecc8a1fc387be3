"""What changed between two submitted versions (grants.diff): plain fields, lists, the tables
row by row, the organisation's facts; and the staff page after a return and resubmission."""

import copy
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.roles import Role
from grants.diff import diff_versions
from grants.models import ProposalStatus
from grants.services import proposals
from tests.factories import staff
from tests.grants.factories import budget, make_call, proposal_at

P = ProposalStatus


def _version(**changes) -> dict:
    data = {
        "organisation": {"name": "鄂州市老宝贝为老服务中心", "uscc": "91350100M000100Y43", "bank_account": "6222"},
        "fields": {
            "title": "老宝贝·社区长者助餐陪伴计划",
            "start_month": "2026-04-01",
            "grant_amount": "60000.00",
            "places": ["湖北省鄂州市鄂城区凤凰街道"],
            "cited_needs": ["独居老人午餐难"],
        },
        "budget_lines": [
            {
                "category": "personnel",
                "item": "项目社工补贴",
                "unit": "月",
                "quantity": "10.00",
                "unit_price": "2000.00",
                "source": "grant",
                "nature": "normal",
                "note": "",
            },
            {
                "category": "activity",
                "item": "社区活动物料",
                "unit": "场",
                "quantity": "20.00",
                "unit_price": "2000.00",
                "source": "grant",
                "nature": "normal",
                "note": "",
            },
        ],
        "activities": [{"name": "长者助餐", "month": "2026-04-01", "content": "午餐", "sessions": 200}],
        "team": [{"user": 1, "name": "王社工", "role": "项目负责人", "qualifications": "中级社工师"}],
        "kpis": [{"indicator": "服务老人", "target": "120.00", "unit": "人", "method": "签到表"}],
        "attachments": ["预算说明.pdf"],
    }
    for path, value in changes.items():
        target = data
        *parents, last = path.split("__")
        for key in parents:
            target = target[key] if not key.isdigit() else target[int(key)]
        target[int(last) if last.isdigit() else last] = value
    return data


def test_two_equal_versions_have_no_difference():
    old = _version()
    diff = diff_versions(old, copy.deepcopy(old))
    assert not diff and diff.count == 0


def test_a_plain_field_reads_old_and_new():
    diff = diff_versions(_version(), _version(fields__title="老宝贝·长者助餐2.0", fields__start_month="2026-05-01"))
    section = next(s for s in diff.sections if s.key == "fields")
    assert [(c.label, c.old, c.new) for c in section.fields] == [
        ("项目名称", "老宝贝·社区长者助餐陪伴计划", "老宝贝·长者助餐2.0"),
        ("开始年月", "2026年4月", "2026年5月"),
    ]


def test_lists_say_what_was_added_and_removed():
    new = _version(
        fields__places=["湖北省鄂州市鄂城区凤凰街道凤凰社区"], fields__cited_needs=["独居老人午餐难", "助浴"]
    )
    section = next(s for s in diff_versions(_version(), new).sections if s.key == "fields")
    places, needs = section.lists
    assert places.label == "实施地点" and places.added == ["湖北省鄂州市鄂城区凤凰街道凤凰社区"]
    assert places.removed == ["湖北省鄂州市鄂城区凤凰街道"]
    assert needs.added == ["助浴"] and needs.removed == []


def test_budget_lines_changed_added_and_removed_row_by_row():
    new = _version()
    new["budget_lines"][1]["unit_price"] = "1500.00"  # changed
    new["budget_lines"][0]["item"] = "项目社工劳务"  # renamed: the old row removed, a new one added
    new["budget_lines"].append(
        {
            "category": "publicity",
            "item": "宣传折页",
            "unit": "份",
            "quantity": "500",
            "unit_price": "1.20",
            "source": "self",
            "nature": "normal",
            "note": "印刷",
        }
    )
    section = next(s for s in diff_versions(_version(), new).sections if s.key == "budget_lines")
    by_kind = {(r.kind, r.name): r for r in section.rows}

    changed = by_kind[("changed", "活动费用 · 社区活动物料")]
    assert [(c.label, c.old, c.new) for c in changed.changes] == [("单价（元）", "¥2,000.00", "¥1,500.00")]
    assert ("removed", "人员费用 · 项目社工补贴") in by_kind
    assert ("added", "人员费用 · 项目社工劳务") in by_kind
    added = by_kind[("added", "宣传费用 · 宣传折页")]
    assert ("数量", "500") in added.values and ("资金来源", "自筹") in added.values
    assert added.kind_label == "新增"


def test_activities_team_kpis_and_attachments():
    new = _version(activities__0__sessions=180, team__0__qualifications="高级社工师", kpis__0__target="150")
    new["attachments"] = ["预算说明（修改）.pdf"]
    diff = diff_versions(_version(), new)
    rows = {s.key: s.rows for s in diff.sections}
    assert [(c.label, c.old, c.new) for c in rows["activities"][0].changes] == [("场次", "200", "180")]
    assert [(c.label, c.old, c.new) for c in rows["team"][0].changes] == [("资质与经验", "中级社工师", "高级社工师")]
    assert [(c.label, c.old, c.new) for c in rows["kpis"][0].changes] == [("目标值", "120", "150")]
    files = next(s for s in diff.sections if s.key == "attachments").lists[0]
    assert files.added == ["预算说明（修改）.pdf"] and files.removed == ["预算说明.pdf"]
    assert diff.count == 4


def test_the_organisations_facts_changed():
    diff = diff_versions(_version(), _version(organisation__bank_account="6228"))
    section = next(s for s in diff.sections if s.key == "organisation")
    assert [(c.label, c.old, c.new) for c in section.fields] == [("银行账号", "6222", "6228")]


def test_rows_with_the_same_name_pair_in_order():
    old = _version()
    old["activities"].append({"name": "长者助餐", "month": "2026-05-01", "content": "午餐", "sessions": 100})
    new = copy.deepcopy(old)
    new["activities"][1]["sessions"] = 120
    rows = next(s for s in diff_versions(old, new).sections if s.key == "activities").rows
    assert len(rows) == 1 and rows[0].changes[0].old == "100" and rows[0].changes[0].new == "120"


# ---- on the staff page --------------------------------------------------------------------------


@pytest.mark.django_db
def test_after_a_resubmission_staff_see_the_changed_budget_line_and_field(client, regions):
    call = make_call(regions["fenghuang"])
    p = proposal_at(call, P.RETURNED)
    leader = p.organisation.memberships.get().user
    lines = budget()
    lines[1]["unit_price"] = Decimal("1500.00")  # 社区活动物料 2,000 → 1,500 a session
    lines[2]["unit_price"] = Decimal("35000.00")  # 自筹 40,000 → 35,000
    p = proposals.proposal_save(
        proposal=p, by=leader, revision=p.revision, fields={"title": "老宝贝·社区长者助餐陪伴计划（修改稿）"}
    )
    p = proposals.proposal_save(proposal=p, by=leader, revision=p.revision, budget_lines=lines)
    proposals.proposal_submit(proposal=p, by=leader)
    p.refresh_from_db()
    assert p.status == P.SUBMITTED and p.versions.count() == 2
    client.force_login(staff(Role.CALL_MANAGER, regions["fenghuang"]))
    url = reverse("grants_admin:proposal", args=[p.pk])

    html = client.get(url).content.decode()

    assert "修改对比：第 1 版 → 第 2 版" in html
    assert "老宝贝·社区长者助餐陪伴计划（修改稿）" in html  # the field's new value …
    assert "项目名称" in html
    assert "活动费用 · 社区活动物料" in html and "¥2,000.00" in html and "¥1,500.00" in html  # … and the line's
    assert "¥100,000.00" in html and "¥85,000.00" in html  # 项目总预算, old → new
    assert "第 2 版 · " in html and "（本页所示）" in html
    assert "58.82%" in html  # the page shows the new version's budget

    # any two versions: the same one twice says so
    same = client.get(url, {"from": 2, "to": 2}).content.decode()
    assert "请选择两个不同的版本。" in same
    assert "修改对比：第 1 版 → 第 2 版" in client.get(url, {"from": "x", "to": "99"}).content.decode()


@pytest.mark.django_db
def test_one_version_has_no_comparison(client, regions):
    p = proposal_at(make_call(regions["fenghuang"]), P.SUBMITTED)
    client.force_login(staff(Role.CALL_MANAGER, regions["fenghuang"]))
    html = client.get(reverse("grants_admin:proposal", args=[p.pk])).content.decode()
    assert "修改对比" not in html and "第 1 版 · " in html


def test_months_read_as_chinese_documents_write_them():
    old, new = _version(), _version(activities__0__month="2026-10-01")
    rows = next(s for s in diff_versions(old, new).sections if s.key == "activities").rows
    assert rows[0].changes[0].new == "2026年10月"
