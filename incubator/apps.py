from django.apps import AppConfig


class IncubatorConfig(AppConfig):
    name = "incubator"
    verbose_name = "孵化基地"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import services  # noqa: F401  (registers the actions screens offer: core.workflow)
