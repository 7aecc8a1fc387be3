import django.db.models.functions.text
from django.db import migrations, models


def blank_duplicate_emails(apps, schema_editor):
    """Before the constraint: where several accounts share an e-mail address (any letter
    case), the oldest account keeps it and the others are left without one (their owners
    can still log in with username or mobile and enter a new address)."""
    User = apps.get_model("accounts", "User")
    seen = set()
    duplicates = []
    for pk, email in User.objects.exclude(email="").order_by("pk").values_list("pk", "email"):
        key = email.lower()
        if key in seen:
            duplicates.append(pk)
        else:
            seen.add(key)
    if duplicates:
        User.objects.filter(pk__in=duplicates).update(email="")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_verification_code"),
    ]

    operations = [
        migrations.RunPython(blank_duplicate_emails, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("email"),
                condition=models.Q(("email", ""), _negated=True),
                name="accounts_user_email_ci_unique",
                violation_error_message="该电子邮箱已被注册，可直接登录或通过该邮箱找回密码。",
            ),
        ),
    ]
