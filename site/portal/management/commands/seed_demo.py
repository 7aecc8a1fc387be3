from django.core.management.base import BaseCommand

from accounts.demo import DEMO_PASSWORD
from portal.demo import seed_demo


class Command(BaseCommand):
    help = "建立演示数据（鄂州市、各级区域、各角色用户、社会组织、孵化基地……）。可重复运行，不会产生重复数据。"

    def handle(self, *args, **options):
        results = seed_demo()
        summaries = "；".join(r["summary"] for r in results if r.get("summary"))
        self.stdout.write(self.style.SUCCESS(f"演示数据就绪：{summaries}。"))
        self.stdout.write(f"\n演示账号（密码均为 {DEMO_PASSWORD}）：")
        for result in results:
            for username, role, region in result.get("accounts", ()):
                self.stdout.write(f"  {username:<18} {role:<12} {region}")
        self.stdout.write("\n门户：http://127.0.0.1:8000/    管理后台：http://127.0.0.1:8000/admin/")
