from django.db import migrations

STOCK_GROUPS = ["Moderators", "Editors"]
STOCK_WORKFLOW = "Moderators approval"


def remove_stock_groups(apps, schema_editor):
    """Wagtail's initial data creates the groups "Moderators" and "Editors" and a
    "Moderators approval" page workflow. This product's roles are its own groups
    (accounts.roles); the stock ones are English names nobody is meant to join. The
    workflow and its task go too, unless a page was ever sent through them."""
    Group = apps.get_model("auth", "Group")
    Workflow = apps.get_model("wagtailcore", "Workflow")
    WorkflowState = apps.get_model("wagtailcore", "WorkflowState")
    Task = apps.get_model("wagtailcore", "Task")
    TaskState = apps.get_model("wagtailcore", "TaskState")

    for workflow in Workflow.objects.filter(name=STOCK_WORKFLOW):
        if WorkflowState.objects.filter(workflow=workflow).exists():
            workflow.name = "页面审核"
            workflow.save(update_fields=["name"])
            continue
        task_ids = list(workflow.workflow_tasks.values_list("task_id", flat=True))
        workflow.delete()
        Task.objects.filter(pk__in=task_ids, name=STOCK_WORKFLOW).exclude(
            pk__in=TaskState.objects.values("task_id")
        ).delete()
    Task.objects.filter(name=STOCK_WORKFLOW).update(name="页面审核")
    Group.objects.filter(name__in=STOCK_GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_user_email_unique"),
        # after every Wagtail migration that creates or grants to the stock groups
        ("wagtailcore", "0098_apitoken"),
        ("wagtailadmin", "0006_formstate"),
        ("wagtailimages", "0027_image_description"),
        ("wagtaildocs", "0014_alter_document_file_size"),
    ]

    operations = [
        migrations.RunPython(remove_stock_groups, migrations.RunPython.noop),
    ]
