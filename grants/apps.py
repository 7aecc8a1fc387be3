from django.apps import AppConfig


class GrantsConfig(AppConfig):
    name = "grants"
    verbose_name = "公益创投"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # registers the actions screens offer (core.workflow) and the hooks of each stage;
        # portal_hooks: 我的申报 on the applicant's /me/
        from . import portal_hooks, search, services  # noqa: F401

        search.connect()  # 资助项目检索: public projects indexed on save (grants.search)
