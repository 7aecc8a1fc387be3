import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from accounts.models import Region
from accounts.roles import Role
from grants.models import Proposal
from grants.volume import seed_volume
from tests.factories import staff

pytestmark = pytest.mark.django_db

def q(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    return [x["sql"][:300] for x in ctx.captured_queries]

def test_probe(client):
    seed_volume(400)
    city = Region.objects.get(level=Region.Level.CITY)
    client.force_login(staff(Role.CALL_MANAGER, city))
    qs = Proposal.objects.filter(status="eligible").annotate(v=Count("versions", distinct=True), n=Count("budget_lines", distinct=True)).filter(v=2)
    a, b = qs.order_by("n").first(), qs.order_by("-n").first()
    qa, qb = q(client, f"/admin/grants/proposals/{a.pk}/"), q(client, f"/admin/grants/proposals/{b.pk}/")
    import re
    norm = lambda s: re.sub(r"\d+", "N", s)
    print("A", len(qa), "B", len(qb))
    for x in qb:
        if norm(x) not in [norm(y) for y in qa]:
            print("EXTRA", x)
    print(a.cited_needs.count(), b.cited_needs.count(), a.team.count(), b.team.count(), a.call.level, b.call.level)
    assert 0
