"""Staff screens of grants inside the Wagtail admin: calls (a ModelViewSet), the proposal
list and a proposal's page with its eligibility actions, needs moderation."""

# the hook of the 公益创投 submenu (grants/wagtail_hooks.py): every staff screen adds its item there
GRANTS_MENU_HOOK = "register_grants_menu_item"
