"""seed_demo's step for the public site (portal.demo): the page tree and the default Site."""

from wagtail import hooks

from .setup import ensure_site


@hooks.register("register_demo_step", order=20)
def demo_step() -> dict:
    ensure_site()
    return {}
