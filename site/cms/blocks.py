"""The home page's featured blocks (HomePage.featured): editors choose which blocks the
front page shows and in what order; each block reads live figures and lists when the page
is served (cms/home.py), so nothing an editor arranges goes stale."""

from wagtail import blocks


class ListBlock(blocks.StructBlock):
    """A titled list of the newest items of one kind (calls, 公示, projects, news)."""

    title = blocks.CharBlock(label="标题", max_length=40)
    count = blocks.IntegerBlock(label="显示条数", min_value=1, max_value=12, default=4)

    class Meta:
        icon = "list-ul"


class FiguresBlock(blocks.StructBlock):
    """This year's key figures (projects, money awarded and released, beneficiaries,
    organisations incubated and graduated)."""

    title = blocks.CharBlock(label="标题", max_length=40, default="年度数据")
    year = blocks.IntegerBlock(label="年度", required=False, help_text="留空为当年。", min_value=2000, max_value=2100)

    class Meta:
        icon = "table"


class LinkBlock(blocks.StructBlock):
    label = blocks.CharBlock(label="文字", max_length=40)
    url = blocks.CharBlock(label="链接", max_length=300, help_text="站内路径（如 /opendata/）或完整网址。")


class FeaturedBlock(blocks.StreamBlock):
    open_calls = ListBlock(label="正在征集", icon="calendar")
    notices = ListBlock(label="公示公告", icon="doc-full")
    projects = ListBlock(label="最新资助项目", icon="pick")
    figures = FiguresBlock(label="年度数据")
    news = ListBlock(label="新闻动态", icon="edit")
    text = blocks.RichTextBlock(label="图文", icon="pilcrow")
    links = blocks.ListBlock(LinkBlock(), label="快捷入口", icon="link")


# what a new home page shows, in this order (seed and setup fill it; editors change it)
DEFAULT_FEATURED = [
    ("open_calls", {"title": "正在征集", "count": 4}),
    ("notices", {"title": "公示公告", "count": 5}),
    ("figures", {"title": "年度数据", "year": None}),
    ("projects", {"title": "最新资助项目", "count": 6}),
    ("news", {"title": "新闻动态", "count": 4}),
]
