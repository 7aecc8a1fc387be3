"""The pages composed of every app's parts, above the apps: the applicant's dashboard (/me/)
and the demo data (`manage.py seed_demo`). Nothing below imports portal; each app
contributes through Wagtail hooks:

- "register_applicant_panel" (core.dashboard.APPLICANT_PANEL_HOOK): a panel of /me/;
- "register_demo_step": one step of seed_demo, run in hook order (see portal.demo)."""
