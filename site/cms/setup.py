"""Build the public page tree (idempotent): used by seed_demo and by tests."""

from django.conf import settings
from django.db import transaction
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.models import Locale, Page, Site

from .models import HomePage, SectionPage

SECTIONS = [
    (
        "calls",
        "项目申报",
        "公益创投项目征集公告、申报指南和申报入口。",
        "当前没有正在征集的项目。新的征集公告发布后会在这里显示。",
    ),
    ("bases", "孵化基地", "市级孵化基地、街道（镇）共享工作站和社区共享工作室。", "孵化基地信息正在整理中。"),
    ("projects", "资助项目", "获得公益创投资助的项目及其执行情况。", "暂无资助项目。评审结果公布后将在这里公开。"),
    ("notices", "公示公告", "立项公示、评估结果公示及其他公告；公示期内可以提出异议。", "暂无公示公告。"),
    ("stats", "数据统计", "公益创投和孵化工作的公开统计数据。", "暂无统计数据。"),
]


@transaction.atomic
def ensure_site(hostname: str = "127.0.0.1", port: int = 80) -> HomePage:
    # Wagtail's migrations create these rows; a flushed test database has lost them
    Locale.objects.get_or_create(language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE))
    root = Page.get_first_root_node() or Page.add_root(title="Root", slug="root")
    home = HomePage.objects.first()
    if home is None:
        # Wagtail's first migration leaves a "Welcome" page at depth 2: replace it.
        for page in root.get_children().exclude(content_type__model="homepage"):
            page.delete()
        home = root.add_child(instance=HomePage(title="首页", slug="home"))
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(
            hostname=hostname, port=port, root_page=home, is_default_site=True, site_name="公益创投管理平台"
        )
    elif site.root_page_id != home.pk:
        site.root_page = home
        site.save()
    existing = set(SectionPage.objects.child_of(home).values_list("slug", flat=True))
    for slug, title, intro, empty in SECTIONS:
        if slug not in existing:
            home.add_child(instance=SectionPage(title=title, slug=slug, intro=f"<p>{intro}</p>", empty_text=empty))
    return home
