from django.db import migrations


class Migration(migrations.Migration):
    """LedgerMapping belongs to the ledger app now (ledger 0001): it leaves the assets state only; its table and
    rows stay where they are until ledger 0001 takes them over."""

    dependencies = [
        ('assets', '0003_change_feed_txid'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='LedgerMapping')],
            database_operations=[],
        ),
    ]
