from django.db import migrations, models
import django.db.models.deletion


def status_from_active(apps, schema_editor):
    ServiceCard = apps.get_model("cards", "ServiceCard")
    ServiceCard.objects.filter(active=False).update(status="withdrawn")


def active_from_status(apps, schema_editor):
    ServiceCard = apps.get_model("cards", "ServiceCard")
    ServiceCard.objects.exclude(status="active").update(active=False)


class Migration(migrations.Migration):

    dependencies = [
        ("cards", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="servicecard",
            name="status",
            field=models.CharField(
                choices=[("active", "正常"), ("blocked", "已挂失"), ("withdrawn", "已注销")],
                default="active", max_length=10, verbose_name="卡状态",
            ),
        ),
        migrations.AddField(
            model_name="servicecard",
            name="status_reason",
            field=models.CharField(blank=True, max_length=300, verbose_name="状态原因"),
        ),
        migrations.AddField(
            model_name="servicecard",
            name="status_changed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="状态变更时间"),
        ),
        migrations.AddField(
            model_name="servicecard",
            name="replaces",
            field=models.OneToOneField(
                blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="replaced_by",
                to="cards.servicecard", verbose_name="补发自",
            ),
        ),
        migrations.RunPython(status_from_active, active_from_status),
        migrations.RemoveField(model_name="servicecard", name="active"),
        migrations.CreateModel(
            name="UnknownCardAttempt",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("number_hash", models.CharField(max_length=64, unique=True, verbose_name="卡号摘要")),
                ("failed_attempts", models.PositiveSmallIntegerField(default=0, verbose_name="连续密码错误次数")),
                ("locked_at", models.DateTimeField(blank=True, null=True, verbose_name="锁定时间")),
                ("first_seen_at", models.DateTimeField(auto_now_add=True, verbose_name="首次尝试")),
            ],
            options={"verbose_name": "未知卡号尝试", "verbose_name_plural": "未知卡号尝试"},
        ),
        migrations.CreateModel(
            name="KioskLockout",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("address", models.GenericIPAddressField(verbose_name="自助终端地址")),
                ("started_at", models.DateTimeField(auto_now_add=True, db_index=True, verbose_name="开始时间")),
                ("until", models.DateTimeField(verbose_name="等待至")),
                ("failures", models.PositiveSmallIntegerField(verbose_name="失败登录次数")),
            ],
            options={
                "verbose_name": "自助终端登录限制", "verbose_name_plural": "自助终端登录限制",
                "ordering": ["-started_at", "-id"],
            },
        ),
    ]
