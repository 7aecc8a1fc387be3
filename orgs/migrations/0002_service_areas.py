from django.db import migrations

# Haining's "6+1" service categories, then other common ones.
AREAS = [
    ("elderly", "老年人服务"),
    ("women", "妇女服务"),
    ("children", "儿童青少年服务"),
    ("new_residents", "新居民服务"),
    ("disabled", "残疾人服务"),
    ("poverty", "困难群体帮扶"),
    ("central_work", "中心工作（文明创建、治水、环保等）"),
    ("community_governance", "社区治理"),
    ("volunteering", "志愿服务"),
    ("culture_sports", "文化体育"),
    ("health", "医疗健康"),
    ("environment", "生态环保"),
]


def add(apps, schema_editor):
    ServiceArea = apps.get_model("orgs", "ServiceArea")
    for i, (code, name) in enumerate(AREAS):
        ServiceArea.objects.update_or_create(code=code, defaults={"name": name, "sort_order": i})


def remove(apps, schema_editor):
    apps.get_model("orgs", "ServiceArea").objects.filter(code__in=[c for c, _ in AREAS]).delete()


class Migration(migrations.Migration):
    dependencies = [("orgs", "0001_initial")]
    operations = [migrations.RunPython(add, remove)]
