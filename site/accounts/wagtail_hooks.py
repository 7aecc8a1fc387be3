"""The admin is this product, not "Wagtail": no Wagtail help menu (its guide and
"what's new" links are Wagtail's English documentation, not how to use this platform)."""

from wagtail import hooks


@hooks.register("construct_main_menu")
def hide_wagtail_help(request, menu_items):
    menu_items[:] = [item for item in menu_items if item.name != "help"]
