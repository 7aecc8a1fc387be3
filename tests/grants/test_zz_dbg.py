import pytest
from tests.grants.test_portal import post_budget, _line, rows_post, draft, call  # noqa

def test_dbg(client, draft):
    proposal, leader = draft
    client.force_login(leader)
    lines = [_line("personnel", quantity="3", unit_price="3333.33"), _line(quantity="0.5", unit_price="0.01", source="self")]
    r = post_budget(client, proposal, lines)
    print(r.status_code, r.content.decode()[:100] if r.status_code != 302 else "")
    from grants.forms.proposals import SECTIONS, SectionEditor
    e = SectionEditor(SECTIONS["budget"], proposal, rows_post("budget", lines, 1))
    print(e.is_valid(), e.error_map())
