"""Reading a page's charts (core.charts, includes/chart.html) the way a test asserts on them:
the container ECharts draws into, and the option it is given."""

import json
import re


def chart_option(html: str, slug: str) -> dict:
    """The ECharts option of the chart of table `slug`, after checking that its container
    (role="img", labelled) is on the page."""
    container = re.search(rf'<div class="chart-canvas" id="chart-{re.escape(slug)}"[^>]*>', html)
    assert container, f"no chart container for {slug}"
    assert 'role="img"' in container.group(0) and "aria-label=" in container.group(0)
    found = re.search(
        rf'<script id="chart-{re.escape(slug)}-option" type="application/json">(.*?)</script>', html, re.S
    )
    assert found, f"no option for the chart {slug}"
    return json.loads(found.group(1))


def series(option: dict) -> dict[str, list]:
    """{series name: its values} of an option (pie: {slice name: value})."""
    base = option.get("baseOption", option)
    out = {}
    for s in base["series"]:
        if s["type"] == "pie":
            out.update({d["name"]: d["value"] for d in s["data"]})
        else:
            out[s["name"]] = [d["value"] if isinstance(d, dict) else d for d in s["data"]]
    return out


def categories(option: dict) -> list[str]:
    base = option.get("baseOption", option)
    axis = base["yAxis"] if base["yAxis"]["type"] == "category" else base["xAxis"]
    return axis["data"]
