from django.apps import AppConfig


class CmsConfig(AppConfig):
    name = "cms"
    verbose_name = "门户网站"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # a call's and a 公示's public pages follow them (grants sits below cms and cannot call it)
        from django.db.models.signals import post_save

        from .models import call_saved, publicity_saved

        post_save.connect(call_saved, sender="grants.Call", dispatch_uid="cms.call_page")
        # a 公示's page is made and published when grants publishes the list
        post_save.connect(publicity_saved, sender="grants.Publicity", dispatch_uid="cms.notice_page")
