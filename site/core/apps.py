from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "通用服务"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import public_cache

        public_cache.connect()  # every process invalidates the public page cache (core.public_cache)
