import pytest

from accounts.roles import Role
from tests.factories import staff
from tests.grants.factories import make_call, proposal_at
from tests.html_forms import read_form

pytestmark = pytest.mark.django_db


def test_smoke(client, site_pages, regions):
    call = make_call(regions["fenghuang"])
    proposal_at(call)
    u = staff(Role.CALL_MANAGER, regions["echeng"])
    client.force_login(u)
    r = client.get("/admin/grants/calls/")
    assert r.status_code == 200, r.content[:2000]
    html = r.content.decode()
    print(html[html.index("<table"):html.index("</table>")][:3000])
    r = client.get(f"/admin/grants/calls/edit/{call.pk}/")
    assert r.status_code == 200
    html = r.content.decode()
    print(html[html.index('main-content') if 'main-content' in html else 0:][:8000])
    url = f"/admin/grants/calls/edit/{call.pk}/"
    form = read_form(html, action=url)
    r = client.post(url, form.post_data())
    print(r.status_code, r.get("Location"))
    if r.status_code == 200:
        print(r.context["form"].errors)
    assert 0
