"""Data for the public site's tests: funded projects made through the real services
(tests.grants.factories.signed_projects), and many more rows of the same kinds bulk-copied
from them, for the query-count tests (the pages must cost the same with 10 or 200 rows)."""

import datetime

from django.utils import timezone

from cms.models import NewsIndexPage, NewsPage
from grants.models import Proposal, Tranche
from tests.factories import OrganisationFactory

PHONE = "13912345678"
EMAIL = "caiwu@xiaohouniao.org.cn"


def copy_projects(template: Proposal, n: int, *, organisation=None, title="复制项目") -> list[Proposal]:
    """`n` copies of a funded project (same call and state, a new organisation each unless
    `organisation` is given), each with a copy of its tranches. Bulk-inserted: the rows a
    page reads, without the history a service would write."""
    skip = {"id", "number", "organisation"}
    fields = {f.attname: getattr(template, f.attname) for f in Proposal._meta.concrete_fields if f.name not in skip}
    orgs = [organisation] * n if organisation else [OrganisationFactory(status="verified") for _ in range(n)]
    rows = Proposal.objects.bulk_create(
        [
            Proposal(**{**fields, "title": f"{title}{i + 1}号", "number": f"X{i:05d}", "organisation_id": org.pk})
            for i, org in enumerate(orgs)
        ]
    )
    tranches = list(Tranche.objects.filter(proposal=template))
    skip = {"id", "proposal"}
    Tranche.objects.bulk_create(
        [
            Tranche(
                **{f.attname: getattr(t, f.attname) for f in Tranche._meta.concrete_fields if f.name not in skip},
                proposal_id=p.pk,
            )
            for p in rows
            for t in tranches
        ]
    )
    return rows


def add_news(n: int, *, start: datetime.date | None = None, title="工作动态", slug="news") -> list[NewsPage]:
    """`n` published news items, one a day back from `start` (today)."""
    index = NewsIndexPage.objects.get()
    start = start or timezone.localdate()
    made = []
    for i in range(n):
        page = NewsPage(
            title=f"{title}{i + 1}",
            slug=f"{slug}-{i}",
            date=start - datetime.timedelta(days=i),
            summary=f"{title}{i + 1}的摘要。",
            body=f"<p>{title}{i + 1}的正文。</p>",
        )
        index.add_child(instance=page)
        page.save_revision(log_action=False).publish(log_action=False)
        made.append(page)
    return made


def write_news(title, body, *, date, summary="", live=True, slug=None, parent=None) -> NewsPage:
    """A news page under the news index (or `parent`), published unless `live` is False."""
    page = NewsPage(title=title, slug=slug or f"n{date:%Y%m%d}{len(title)}", date=date, summary=summary, body=body)
    (parent or NewsIndexPage.objects.get()).add_child(instance=page)
    revision = page.save_revision()
    if live:
        revision.publish()
    else:
        NewsPage.objects.filter(pk=page.pk).update(live=False)
    return page


def with_private_contacts(org) -> None:
    """The organisation's private facts, to assert that no public page shows them."""
    type(org).objects.filter(pk=org.pk).update(
        contact_phone=PHONE, email=EMAIL, bank_name="中国工商银行鄂州分行", bank_account="6222021102034567890"
    )
