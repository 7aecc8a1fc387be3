"""资助项目 (/projects/): the funded projects' list, each project's public page and the
photos its organisation marked public.

The list filters (year, call, level, region down to the community, service category,
status, published grade) combine as GET parameters, so a filtered list is a link; a value
not offered is ignored and said so. The search box looks in the title, organisation and
summary (grants.search, character n-grams). The choices come from the public projects
themselves (grants.selectors.public.filter_choices, made into the form's choice lists
once and remembered under the public content stamp: core.public_cache.remembered), one
page of ids is read with the count and the sum in one query, and its cards in one more
as plain rows (plus their places), written in Python (`card_html`): six queries in all
with the page's routing (core.page_routes), however many projects there are.

What a template receives is public facts only (grants.selectors.public.PublicProject
and plain values), never a Proposal or an Organisation: no contact, bank account, legal
representative, reviewer, individual score, need submitter or objector can be rendered
by mistake. Nothing here reads the user or the session, so every anonymous visitor gets
the same page (and the site-wide cache may keep it)."""

from django import forms
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import mark_safe

from core import public_cache
from core.admin_tables import esc
from core.forms import FixedChoices, Select
from grants.rules import fmt_money
from grants.search import query_terms
from grants.selectors import public as selectors

PROJECTS_PER_PAGE = 12
MAX_QUERY = 50  # characters of the search box kept
FILTER_FIELDS = ("year", "call", "level", "region", "category", "status", "grade")


class ProjectFilterForm(forms.Form):
    """The list's search, filters and order, as GET parameters; each filter's choices
    are the values the public projects have."""

    q = forms.CharField(
        label="搜索",
        required=False,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "项目、组织或简介中的词", "maxlength": MAX_QUERY}
        ),
    )
    year = forms.ChoiceField(widget=Select, label="年度", required=False)
    call = forms.ChoiceField(widget=Select, label="征集", required=False)
    level = forms.ChoiceField(widget=Select, label="层级", required=False)
    region = forms.ChoiceField(widget=Select, label="区域", required=False)
    category = forms.ChoiceField(widget=Select, label="服务领域", required=False)
    status = forms.ChoiceField(widget=Select, label="项目状态", required=False)
    grade = forms.ChoiceField(widget=Select, label="评估等级", required=False)
    sort = forms.ChoiceField(widget=Select, label="排序", required=False)

    def __init__(self, data, *, choices: dict):
        """`choices`: what `filter_form_choices` returns."""
        super().__init__(data)
        self.regions = choices["regions"]
        for name, fixed in choices["fields"].items():
            self.fields[name].choices = fixed

    def clean_q(self) -> str:
        """The words typed (spaces collapsed, cut to MAX_QUERY); "" when nothing in them
        can be searched (punctuation only)."""
        q = " ".join((self.cleaned_data.get("q") or "").split())[:MAX_QUERY]
        return q if query_terms(q) else ""

    def ignored(self) -> list[str]:
        """The filters that were refused (a value not offered), said aloud."""
        return [self.fields[name].label for name in self.errors]

    def chosen(self) -> dict:
        """The valid filters as grants.selectors.public.filtered_projects takes them."""
        data = self.cleaned_data

        def number(name):
            return int(data[name]) if data.get(name) else None

        return {
            "year": number("year"),
            "call": number("call"),
            "level": number("level"),
            "region": self.regions.get(data.get("region") or ""),
            "category": number("category"),
            "status": data.get("status") or None,
            "grade": data.get("grade") or None,
            "q": data.get("q") or "",
        }


def filter_form_choices() -> dict:
    """The filter form's choice lists, made from grants.selectors.public.filter_choices
    once per content stamp (the list remembers them): {"fields": {name: FixedChoices},
    "regions": {str(pk): Region}}."""
    choices = selectors.filter_choices()
    lists = {
        "year": [("", "全部年度"), *((y, f"{y}年") for y in choices["years"])],
        "call": [("", "全部征集"), *((c["pk"], f"{c['year']}年 {c['title']}") for c in choices["calls"])],
        "level": [("", "全部层级"), *choices["levels"]],
        "region": [("", "全部区域"), *((r.pk, "\u3000" * (r.depth - 1) + r.name) for r in choices["regions"])],
        "category": [("", "全部领域"), *((c.pk, c.name) for c in choices["categories"])],
        "status": [("", "全部状态"), *choices["statuses"]],
        "grade": [("", "全部等级"), *((g, g) for g in choices["grades"])],
        "sort": choices["sorts"],
    }
    return {
        "fields": {name: FixedChoices(pairs) for name, pairs in lists.items()},
        "regions": {str(r.pk): r for r in choices["regions"]},
    }


def directory_url(org_pk: int) -> str:
    try:
        return reverse("directory:detail", args=[org_pk])
    except NoReverseMatch:  # the public directory is not installed
        return ""


def card_html(p: selectors.PublicProject) -> str:
    """A project's card in the list, as markup written in Python: twelve cards rendered by
    the template's loop took a quarter of the page's time. `p.url` must be set."""
    ended = " funded-card--ended" if p.terminated else ""
    tag = f'<span class="funded-tag">{esc(p.category)}</span>' if p.category else ""
    summary = f'<p class="funded-card__summary">{esc(p.summary)}</p>' if p.summary else ""
    grade = (
        f'<div><dt>评估等级</dt><dd class="grade grade-{esc(p.grade_key)}">{esc(p.grade)}</dd></div>' if p.grade else ""
    )
    places = f"{esc('、'.join(p.places))} · " if p.places else ""
    return (
        f'<li class="card funded-card{ended}">'
        f'<div class="funded-card__head"><span class="status status-funded-{esc(p.status_key)}">{esc(p.status_label)}</span>'
        f'<span class="level-tag level-{esc(p.level)}">{esc(p.level_label)}</span>{tag}</div>'
        f'<h2><a href="{esc(p.url)}">{esc(p.title)}</a></h2>'
        f'<p class="funded-card__org">{esc(p.organisation)}</p>{summary}'
        '<dl class="funded-card__facts">'
        f"<div><dt>资助金额</dt><dd>¥{esc(p.awarded_text)}</dd></div>"
        f"<div><dt>已拨付</dt><dd>¥{esc(p.released_text)}</dd></div>"
        f"<div><dt>评审得分</dt><dd>{esc(p.score_text)}</dd></div>{grade}</dl>"
        f'<p class="funded-card__meta muted">{places}{esc(p.call_year)}年 · {esc(p.call_title)}</p></li>'
    )


def _project_url(page, index_url: str, pk: int) -> str:
    return index_url + page.reverse_subpage("project", args=[pk])


# ---- the list ---------------------------------------------------------------------------------------


def listing_context(request, page) -> dict:
    choices = public_cache.remembered("projects:filter-form", filter_form_choices)
    form = ProjectFilterForm(request.GET, choices=choices)
    form.is_valid()
    chosen = form.chosen()
    projects = selectors.filtered_projects(**chosen)
    sort = form.cleaned_data.get("sort") or selectors.DEFAULT_SORT
    page_obj, awarded = selectors.counted_page(projects, request.GET.get("page"), PROJECTS_PER_PAGE, sort)
    index_url = page.get_url(request)
    cards = selectors.project_cards(page_obj.object_list, sort)
    for card in cards:
        card.url = _project_url(page, index_url, card.pk)
    cards_html = mark_safe("".join(card_html(card) for card in cards))
    kept = request.GET.copy()
    kept.pop("page", None)
    return {
        "form": form,
        "ignored": form.ignored(),
        "filtered": any(chosen[k] for k in (*FILTER_FIELDS, "q")),
        "query": chosen["q"],
        "projects": page_obj,
        "cards": cards,
        "cards_html": cards_html,
        "total_count": page_obj.paginator.count,
        "total_awarded": fmt_money(awarded),
        "page_query": kept.urlencode(),
        "index_url": index_url,
    }


# ---- one project --------------------------------------------------------------------------------------


def _page_urls(request, *, call_id: int, publicity_id: int | None) -> dict[str, str]:
    """The live pages of the project's call and of its 评估结果公示, in one query:
    {"call": url, "notice": url} (missing keys for pages not published)."""
    from django.db.models import Case, CharField, Q, Value, When
    from wagtail.models import Page

    wanted = Q(callpage__call_id=call_id)
    if publicity_id:
        wanted |= Q(noticepage__publicity_id=publicity_id)
    pages = (
        Page.objects.live()
        .filter(wanted)
        .annotate(
            kind=Case(
                When(callpage__call_id=call_id, then=Value("call")), default=Value("notice"), output_field=CharField()
            )
        )
        .only("pk", "url_path", "depth", "path")
    )
    return {p.kind: p.get_url(request) for p in pages}


def project_context(request, page, pk) -> dict:
    """A project's public page; Http404 for an unknown id or a project not funded."""
    proposal = selectors.public_project(pk)
    project = selectors.public_project_of(proposal)
    facts = selectors.project_facts(proposal)
    index_url = page.get_url(request)
    project.url = _project_url(page, index_url, project.pk)
    final = facts["final"]
    urls = _page_urls(request, call_id=project.call_id, publicity_id=final["publicity_id"] if final else None)
    if final:
        final["notice_url"] = urls.get("notice", "")
    for update in facts["updates"]:
        for photo in update["photos"]:
            photo["url"] = index_url + page.reverse_subpage("photo", args=[project.pk, photo["id"]])
    start, end = facts["period"]
    return {
        "project": project,
        "organisation": {"name": project.organisation},  # what cms/_directory_link.html reads
        "facts": facts,
        "places": facts["places"],
        "call_url": urls.get("call", ""),
        "directory_url": directory_url(project.organisation_id) if project.organisation_listed else "",
        "period_start": start,
        "period_end": end,
        "index_url": index_url,
    }


# ---- a public photo ------------------------------------------------------------------------------------

PHOTO_TYPES = {"jpg": "jpg", "jpeg": "jpg", "png": "png"}
PHOTO_MAX_AGE = 3600  # a photo made private again stops being served by caches within the hour


def serve_photo(request, page, pk, photo_pk):
    """A photo of a public project's report that its organisation marked public; 404 for
    any other (private, of a draft, of another project, of a project not funded)."""
    from django.http import Http404

    from core.files import serve_private

    photo = selectors.public_photo(pk, photo_pk)
    ext = PHOTO_TYPES.get(photo.image.name.rsplit(".", 1)[-1].lower() if "." in photo.image.name else "")
    if ext is None:
        raise Http404("没有这张照片")
    response = serve_private(photo.image, download_name=f"{photo.caption or '活动照片'}.{ext}")
    response["Cache-Control"] = f"public, max-age={PHOTO_MAX_AGE}"
    return response
