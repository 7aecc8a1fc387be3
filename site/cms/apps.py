from django.apps import AppConfig


class CmsConfig(AppConfig):
    name = "cms"
    verbose_name = "门户网站"
    default_auto_field = "django.db.models.BigAutoField"
