from django.apps import AppConfig


class CmsConfig(AppConfig):
    name = "cms"
    verbose_name = "门户网站"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # a call's public page follows the call (grants sits below cms and cannot call it)
        from django.db.models.signals import post_save

        from .models import call_saved

        post_save.connect(call_saved, sender="grants.Call", dispatch_uid="cms.call_page")
