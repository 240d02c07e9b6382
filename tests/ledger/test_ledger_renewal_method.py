"""The sewer ledger's 施工方法 (renewal method: 開削 or 管更生) reaches SewerPipe.renewal_method, which decides
whether a renewal digs a trench (dig once, issue 14); a ledger without the column leaves it unknown."""

from assets.models import Asset
from tests.ledger.test_ledger_import import csv_bytes, run

HEAD = "管渠番号,管種,管径,延長,布設年度,始点X座標,始点Y座標,終点X座標,終点Y座標,排除方式,施工方法"
ROWS = ["K-1,ヒューム管,300,45,S48,-19750.0,514.0,-19750.0,560.0,汚水,管更生",
        "K-2,塩ビ管,200,40,H6,-19700.0,514.0,-19650.0,514.0,汚水,開削",
        "K-3,塩ビ管,200,40,H6,-19800.0,600.0,-19800.0,640.0,汚水,製管工法",
        "K-4,塩ビ管,200,40,H6,-19850.0,600.0,-19850.0,640.0,汚水,"]


def methods() -> dict:
    return dict(Asset.objects.filter(source="ledger").values_list("external_id", "sewer_pipe__renewal_method"))


def test_the_renewal_method_column_is_read_in_ledger_words(world):
    report = run(csv_bytes([HEAD, *ROWS]), "管渠.csv", srid=6677)
    assert report.ok, report.errors
    assert report.mapping["施工方法"] == "detail.renewal_method"
    assert methods() == {"K-1": "rehabilitation", "K-2": "open_cut", "K-3": "rehabilitation", "K-4": "unknown"}


def test_a_ledger_without_the_column_leaves_the_method_unknown(world):
    head = HEAD.removesuffix(",施工方法")
    report = run(csv_bytes([head, *(r.rsplit(",", 1)[0] for r in ROWS)]), "管渠.csv", srid=6677)
    assert report.ok, report.errors
    assert set(methods().values()) == {"unknown"}
