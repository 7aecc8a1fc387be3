"""Build the public page tree (idempotent): used by seed_demo and by tests."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.models import Locale, Page, Revision, Site

from .blocks import DEFAULT_FEATURED
from .models import (
    BaseIndexPage,
    CallIndexPage,
    HomePage,
    NewsIndexPage,
    NoticeIndexPage,
    ProjectIndexPage,
    SectionPage,
    StatisticsPage,
    link_call_pages,
    link_notice_pages,
)

# The top-level sections, in menu order: (slug, title, intro, text when empty).
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
    ("news", "新闻动态", "公益创投和社会组织孵化的工作动态。", "暂无新闻。"),
]
# Sections whose app gives them a page type of their own; the others are SectionPages.
SECTION_PAGE_TYPES: dict[str, type[Page]] = {
    "bases": BaseIndexPage,
    "calls": CallIndexPage,
    "notices": NoticeIndexPage,
    "projects": ProjectIndexPage,
    "stats": StatisticsPage,
    "news": NewsIndexPage,
}


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
    if not home.featured:
        fill_featured(home)
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(
            hostname=hostname, port=port, root_page=home, is_default_site=True, site_name="公益创投管理平台"
        )
    elif site.root_page_id != home.pk:
        site.root_page = home
        site.save()
    existing = {p.slug: p for p in home.get_children().specific()}
    for slug, title, intro, empty in SECTIONS:
        page_class = SECTION_PAGE_TYPES.get(slug, SectionPage)
        page = existing.get(slug)
        if page is None:
            home.add_child(instance=page_class(title=title, slug=slug, intro=f"<p>{intro}</p>", empty_text=empty))
        elif type(page) is SectionPage and page_class is not SectionPage:
            convert_section(page, page_class)
    link_call_pages()  # calls made before the call index existed get their page now
    link_notice_pages()  # and 公示 made before the notice index
    return home


def fill_featured(home: HomePage) -> None:
    """An empty home page takes the default arrangement of its featured blocks, published
    as a revision (the editor opens the page with them and rearranges from there)."""
    home.featured = DEFAULT_FEATURED
    revision = home.save_revision(log_action=False)
    if home.live:
        revision.publish(log_action=False)


def convert_section(section: SectionPage, page_class: type[Page]) -> Page:
    """Give a section page its app's own page type, in place.

    The page keeps its id, place in the tree, URL, title, live state, permissions and
    history: only the SectionPage row is deleted (Django's keep_parents leaves the
    wagtailcore Page row and everything attached to it) and a row of the new type is added
    on the same page; intro and empty text carry over. A new revision is published so the
    editor opens the page as its new type."""
    page = Page.objects.get(pk=section.pk)
    carried = {"intro": section.intro, "empty_text": section.empty_text}
    content_type = ContentType.objects.get_for_model(page_class)
    # the earlier revisions first take the new type: deleting the SectionPage row would
    # delete the revisions still of its type (Wagtail's GenericRelation), and the history with them
    Revision.objects.filter(content_type=ContentType.objects.get_for_model(SectionPage), object_id=str(page.pk)).update(
        content_type=content_type
    )
    models.Model.delete(section, keep_parents=True)  # Page.delete() would remove the whole page
    Page.objects.filter(pk=page.pk).update(content_type=content_type)
    new = page_class(page_ptr=page, **carried)
    for f in Page._meta.concrete_fields:
        setattr(new, f.attname, getattr(page, f.attname))
    new.content_type = content_type
    new.save_base(raw=True)  # the new type's row only; the Page row is already there
    new = page_class.objects.get(pk=page.pk)
    revision = new.save_revision(log_action=False)
    if new.live:
        revision.publish(log_action=False)
    return new
