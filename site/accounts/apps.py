from django.apps import AppConfig
from wagtail.users.apps import WagtailUsersAppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "用户、区域与角色"
    # apps.py holds more than one AppConfig (UsersAdminConfig, the imported Wagtail one):
    # without this Django falls back to a bare AppConfig and ready() never runs.
    default = True
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_migrate

        from .roles import sync_roles_after_migrate

        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="accounts.sync_roles")


class UsersAdminConfig(WagtailUsersAppConfig):
    """wagtail.users, with the user forms that carry region and mobile."""

    user_viewset = "accounts.admin_users.StaffUserViewSet"
