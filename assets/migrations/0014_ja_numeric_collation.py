# The order people expect of route names and ledger numbers: 市道2号線 before 市道10号線 (ICU, Japanese, numbers
# compared as numbers). Used where a list is sorted by such a name (web/assets.py, the 路線名 column).

from django.contrib.postgres.operations import CreateCollation
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("assets", "0013_indexes_for_import"),
    ]

    operations = [
        CreateCollation("ja_numeric", provider="icu", locale="ja-u-kn-true"),
    ]
