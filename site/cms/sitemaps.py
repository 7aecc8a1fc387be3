"""/sitemap.xml: every published Wagtail page (wagtail.contrib.sitemaps) and the public
pages routed from domain records rather than page rows: each funded project
(/projects/<pk>/), incubation base (/bases/<pk>/), organisation in the directory
(/directory/<pk>/) and accepted need (/needs/<pk>/). One query per kind."""

from urllib.parse import urlsplit

from django.contrib.sitemaps import Sitemap
from django.urls import path, reverse
from wagtail.contrib.sitemaps import Sitemap as PageSitemap
from wagtail.contrib.sitemaps.views import sitemap


class PublicPageSitemap(PageSitemap):
    """Wagtail's page sitemap with each page at the host the sitemap was asked for, as the
    record sitemaps beside it are (Wagtail writes the Site's own root URL, which differs
    from the address visitors use when the Site record says another port or name)."""

    def _urls(self, page, protocol, domain):
        urls = super()._urls(page, protocol, domain)
        for info in urls:
            parts = urlsplit(info["location"])
            info["location"] = f"{protocol}://{domain}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        return urls


class RecordSitemap(Sitemap):
    """Rows of (pk, modified) of one kind of record; `url` gives a row's page."""

    changefreq = "weekly"

    def rows(self):
        raise NotImplementedError

    def url(self, pk: int) -> str:
        raise NotImplementedError

    def items(self):
        return self.rows()

    def location(self, item):
        return self.url(item[0])

    def lastmod(self, item):
        return item[1]


class ProjectSitemap(RecordSitemap):
    def rows(self):
        from grants.selectors.public import public_projects

        return public_projects().order_by("pk").values_list("pk", "updated_at")

    def url(self, pk):
        from grants.public_hooks import project_url

        return project_url(pk)


class BaseSitemap(RecordSitemap):
    changefreq = "monthly"

    def rows(self):
        from incubator.models import IncubationBase

        return IncubationBase.objects.filter(is_active=True).order_by("pk").values_list("pk", "pk")

    def url(self, pk):
        return f"/bases/{pk}/"

    def lastmod(self, item):
        return None


class DirectorySitemap(RecordSitemap):
    def rows(self):
        from orgs.selectors import public_organisations

        return public_organisations().order_by("pk").values_list("pk", "updated_at")

    def url(self, pk):
        return reverse("directory:detail", args=[pk])


class NeedSitemap(RecordSitemap):
    def rows(self):
        from grants.models import Need, NeedStatus

        return Need.objects.filter(status=NeedStatus.ACCEPTED).order_by("pk").values_list("pk", "moderated_at")

    def url(self, pk):
        return reverse("grants_public:need", args=[pk])


SITEMAPS = {
    "pages": PublicPageSitemap,
    "projects": ProjectSitemap,
    "bases": BaseSitemap,
    "directory": DirectorySitemap,
    "needs": NeedSitemap,
}

urlpatterns = [path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap")]
