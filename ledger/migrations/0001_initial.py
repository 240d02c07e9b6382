import django.db.models.deletion
from django.db import migrations, models


def move_content_type(apps, schema_editor, src="assets", dst="ledger"):
    """Permissions and admin log entries follow the model: its content type changes app, not id."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label=dst, model="ledgermapping").exists():
        ContentType.objects.filter(app_label=src, model="ledgermapping").update(app_label=dst)


def move_content_type_back(apps, schema_editor):
    move_content_type(apps, schema_editor, src="ledger", dst="assets")


class Migration(migrations.Migration):
    """LedgerMapping moved here from assets (assets 0004) without touching its rows: the model enters the
    ledger state on the existing table, which is then renamed to this app's name."""

    initial = True

    dependencies = [
        ('assets', '0004_ledgermapping_moved_to_ledger'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='LedgerMapping',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('road_segment', 'Road segment'), ('bridge', 'Bridge'), ('sewer_pipe', 'Sewer pipe'), ('manhole', 'Manhole'), ('septic_tank', 'Septic tank')], max_length=16, verbose_name='kind')),
                        ('source', models.CharField(default='ledger', max_length=40, verbose_name='ledger source')),
                        ('columns', models.JSONField(default=dict, verbose_name='columns (ledger header → registry field)')),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='assets.municipality', verbose_name='municipality')),
                    ],
                    options={
                        'verbose_name': 'ledger column mapping',
                        'verbose_name_plural': 'ledger column mappings',
                        'db_table': 'assets_ledgermapping',
                        'constraints': [models.UniqueConstraint(fields=('owner', 'kind', 'source'), name='ledger_mapping_unique')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name='ledgermapping', table=None),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
