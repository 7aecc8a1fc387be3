from django.core.management.base import BaseCommand
from django.test import override_settings

from accounts.demo import DEMO_PASSWORD, seed_regions, seed_staff
from cms.setup import ensure_site


class Command(BaseCommand):
    help = "建立演示数据（鄂州市、各级区域、各角色用户、社会组织……）。可重复运行，不会产生重复数据。"

    def handle(self, *args, **options):
        from incubator.demo import seed_incubation
        from orgs.demo import seed_organisations

        regions = seed_regions()
        staff = seed_staff()
        ensure_site()
        # Demo notifications land in the inboxes; their e-mails are not printed.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            org_users = seed_organisations()
            incubation = seed_incubation()
        self.stdout.write(self.style.SUCCESS(f"演示数据就绪：{len(regions)} 个行政区域。"))
        self.stdout.write(f"孵化基地 {incubation['bases']} 个，入驻孵化记录 {incubation['incubations']} 条。")
        self.stdout.write(f"\n演示账号（密码均为 {DEMO_PASSWORD}）：")
        for username, role, region in staff + org_users:
            self.stdout.write(f"  {username:<18} {role:<12} {region}")
        self.stdout.write("\n门户：http://127.0.0.1:8000/    管理后台：http://127.0.0.1:8000/admin/")
