from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField
from wagtail.models import Page


class HomePage(Page):
    """The public front page: what the platform is, the way in for applicants."""

    hero_title = models.CharField("主标题", max_length=100, default="公益创投 · 孵化 · 资助，一网通办")
    hero_text = models.TextField(
        "导语",
        blank=True,
        default="社会组织在线登记、入驻孵化基地、申报公益创投项目、报送进度、领取资金；"
        "评审、公示与结果全程公开。一次填报，处处复用。",
    )
    body = RichTextField("正文", blank=True)

    content_panels = [*Page.content_panels, FieldPanel("hero_title"), FieldPanel("hero_text"), FieldPanel("body")]
    subpage_types = ["cms.SectionPage", "cms.BaseIndexPage"]
    max_count = 1

    class Meta:
        verbose_name = "首页"

    def get_context(self, request, *args, **kwargs):
        from accounts.models import Region
        from incubator.models import IncubationBase
        from orgs.selectors import public_organisations

        context = super().get_context(request, *args, **kwargs)
        context["sections"] = self.get_children().live().public().specific()
        context["figures"] = {
            "organisations": public_organisations().count(),
            "streets": Region.objects.filter(level=Region.Level.STREET).count(),
            "communities": Region.objects.filter(level=Region.Level.COMMUNITY).count(),
            "bases": IncubationBase.objects.filter(is_active=True).count(),
        }
        return context


class SectionPage(Page):
    """A top-level section of the public site (项目申报, 孵化基地 …). Its listing is filled
    by the app that owns the section; until then it shows a real empty state."""

    intro = RichTextField("简介", blank=True)
    empty_text = models.CharField("暂无内容时的提示", max_length=200, default="暂无内容，敬请关注。")

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("empty_text")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = []

    class Meta:
        verbose_name = "栏目页"


class BaseIndexPage(RoutablePageMixin, Page):
    """孵化基地 (/bases/): the public directory of the incubation bases and a page per base.

    The section's title and intro are edited here, in Wagtail; the bases themselves are
    domain records (incubator.IncubationBase, with their photo and introduction edited in
    the admin's 孵化基地 screens), because their capacity, residents and figures are kept
    by the incubation services and change every day, which a page tree would only copy.
    So this one page routes: "" is the directory, "<pk>/" a base's public page."""

    intro = RichTextField("简介", blank=True)
    empty_text = models.CharField("暂无基地时的提示", max_length=200, default="孵化基地信息正在整理中。")

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("empty_text")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = []
    max_count = 1

    class Meta:
        verbose_name = "孵化基地栏目"

    @path("")
    def directory(self, request):
        from incubator.public import directory_context

        return self.render(request, context_overrides=directory_context(request, self))

    @path("<int:pk>/")
    def base(self, request, pk):
        from incubator.public import base_context

        context = base_context(pk, bases_url=self.get_url(request))
        return self.render(request, context_overrides=context, template="cms/base_detail_page.html")
