"""Browser tests: Playwright (Python) driving Debian's /usr/bin/chromium against
pytest-django's live server. Playwright's sync API runs an event loop in this thread, so
Django's async-safety check is relaxed for these tests only."""

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parent / "screenshots"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"没有找到 Chromium（{CHROMIUM}）：运行 make test 会用 apt-get 安装")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield b
        b.close()


def _browsing(browser, width: int, height: int, mobile: bool = False):
    """A fresh Chinese-locale browser context of that size: its page, then closed."""
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": height}, is_mobile=mobile)
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


@pytest.fixture
def page(browser):
    yield from _browsing(browser, 1280, 900)


@pytest.fixture
def mobile_page(browser):
    yield from _browsing(browser, 390, 844, mobile=True)


@pytest.fixture
def phone(browser):
    """The narrowest phone the public site is built for (375 px: iPhone SE / 8)."""
    yield from _browsing(browser, 375, 812, mobile=True)


def console_problems(page) -> list[str]:
    """Script errors and console errors of `page` from now on, collected in a list."""
    problems = []
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on(
        "console",
        lambda m: m.type == "error" and problems.append(f"console: {m.text} {m.location.get('url', '')}"),
    )
    return problems


@pytest.fixture
def e2e_site(transactional_db):
    """Transactional tests start from empty tables: build pages and regions again."""
    from cms.setup import ensure_site
    from tests.factories import region_tree

    ensure_site()
    return region_tree()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def login(page, live_server, username, password, path="/accounts/login/"):
    page.goto(live_server.url + path)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
