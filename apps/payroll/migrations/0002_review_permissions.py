"""Back-office review roles: two custom permissions on PayrollBatch and the two staff groups.

The permissions are rows, not Meta.permissions, so models.py stays as it is. The view
permissions the groups need are created here too (post_migrate would create them only after
this migration runs; it skips rows that already exist). Keep GROUP_PERMISSIONS in
apps/payroll/services/review.py in step with this table.
"""

from django.db import migrations

NAMES = {
    "hold_payrollbatch": "Can hold payroll batch (暂停代发批次)",
    "release_payrollbatch": "Can release or reject payroll batch (放行/拒绝代发批次)",
    "view_payrollbatch": "Can view 代发工资批次",
    "view_payrollrow": "Can view 代发明细",
}
GROUPS = {
    "代发复核员 clerk": ("view_payrollbatch", "view_payrollrow", "hold_payrollbatch"),
    "代发主管 supervisor": ("view_payrollbatch", "view_payrollrow", "hold_payrollbatch", "release_payrollbatch"),
}


def forwards(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    batch_type, _ = ContentType.objects.get_or_create(app_label="payroll", model="payrollbatch")
    row_type, _ = ContentType.objects.get_or_create(app_label="payroll", model="payrollrow")
    for group_name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        for codename in codenames:
            content_type = row_type if codename.endswith("payrollrow") else batch_type
            permission, _ = Permission.objects.get_or_create(
                content_type=content_type, codename=codename, defaults={"name": NAMES[codename]}
            )
            group.permissions.add(permission)


def backwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    Group.objects.filter(name__in=list(GROUPS)).delete()
    Permission.objects.filter(
        content_type__app_label="payroll", codename__in=["hold_payrollbatch", "release_payrollbatch"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("payroll", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
