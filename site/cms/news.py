"""新闻动态 (/news/): the news index."""


def index_context(request, page) -> dict:
    return {}
