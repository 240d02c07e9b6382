"""Issue 16, "show the gaps": the engine's documented defaults for what a ledger leaves empty, the per-asset flag
(既定値で推計), and the data completeness each run reports on its page, in the PDF and on the asset list."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
from django.contrib.gis.geos import LineString
from django.utils import translation

from assets.history import Actor
from assets.models import Via
from assets.services import asset_create
from clusters.engine import defaults
from clusters.engine.params import Params
from clusters.models import AssetScore
from clusters.services import run_create, run_execute
from tests.conftest import make_asset


def frame(**cols) -> pd.DataFrame:
    n = len(cols["kind"])
    base = {"owner": ["112348"] * n, "built": [np.nan] * n, "length_m": [np.nan] * n, "width_m": [np.nan] * n,
            "diameter_mm": [np.nan] * n, "capacity": [np.nan] * n, "treatment_known": [True] * n}
    return pd.DataFrame({**base, **cols})


def test_unknown_built_year_is_the_median_of_its_kind_in_its_municipality_then_the_parameter():
    """Issue 16 (documented default): unknown built year → the median of the same kind in the municipality, then in
    the region, else `unknown_built_age_years` before the current 年度; each filled row is flagged."""
    df = frame(kind=["sewer_pipe", "sewer_pipe", "sewer_pipe", "sewer_pipe", "bridge"],
               owner=["112348", "112348", "112348", "112216", "112348"],
               built=[1970, 1980, np.nan, np.nan, np.nan], diameter_mm=[300, 300, 300, 300, np.nan],
               length_m=[10, 10, 10, 10, 20], width_m=[np.nan] * 4 + [6.0])
    mask = defaults.fill(df, Params(), 2026)
    assert df["built"].tolist() == [1970, 1980, 1975, 1975, 1996]  # 八潮 median; 草加 → region; bridge → 2026 − 30
    assert [defaults.fields_of(m) for m in mask] == [[], [], ["built_fiscal_year"], ["built_fiscal_year"],
                                                     ["built_fiscal_year"]]


def test_unknown_diameter_capacity_and_sizes_take_the_named_parameters():
    """Issue 16: unknown 管径 → 250 mm (Params.unknown_diameter_mm), 人槽 → 5, a line's length → its geometry's,
    sizes with nothing to take a median of → Params.unknown_sizes; unknown 合併/単独 → 合併 (flagged)."""
    df = frame(kind=["sewer_pipe", "septic_tank", "bridge", "road_segment"], built=[1990] * 4,
               geom_length_m=[42.0, np.nan, np.nan, np.nan], treatment_known=[True, False, True, True])
    mask = defaults.fill(df, Params(), 2026)
    assert df["diameter_mm"].iloc[0] == 250 and df["capacity"].iloc[1] == 5
    assert df["length_m"].tolist()[0] == 42.0 and df["length_m"].iloc[2] == 15.0 and df["width_m"].iloc[2] == 6.0
    assert defaults.fields_of(mask[0]) == ["length_m", "diameter_mm"]
    assert defaults.fields_of(mask[1]) == ["capacity_persons", "treatment"]
    counts = defaults.counts(mask, df["kind"].to_numpy())
    assert counts["assets"] == 4 and counts["by_field"]["diameter_mm"] == 1


def test_a_run_flags_estimated_assets_and_reports_completeness_on_its_page(world, client):
    """Issue 16: AssetScore.defaulted names the fields estimated; EngineRun.summary holds the completeness per
    municipality and kind (computed in SQL at run time); the run page shows both in Japanese."""
    full = make_asset(world.yashio, "sewer_pipe", external_id="P-1", built=1960)
    bare = asset_create(actor=Actor.system(Via.SYSTEM), owner=world.yashio, kind="sewer_pipe", source="daicho",
                        external_id="P-2", geom=LineString((139.84, 35.822), (139.8405, 35.822), srid=6668), detail={})
    run = run_execute(run_create(principal=world.carol, region=world.region).pk)
    assert AssetScore.objects.get(run=run, asset=full).defaulted == 0
    flagged = AssetScore.objects.get(run=run, asset=bare)
    assert flagged.defaulted_fields == ["built_fiscal_year", "length_m", "diameter_mm"]
    assert run.summary["defaults"]["by_field"] == {"built_fiscal_year": 1, "length_m": 1, "diameter_mm": 1}
    assert run.summary["completeness"] == [{"owner": "112348", "owner_name": "八潮市", "kind": "sewer_pipe",
                                            "assets": 2, "built": 0.5, "size": 0.5, "material": 0.5,
                                            "traffic": None, "inspected": 0.0}]
    client.force_login(world.carol)
    with translation.override("ja"):
        page = client.get(f"/runs/{run.pk}/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
        asset_page = client.get(f"/assets/{bare.global_id}/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
        listing = client.get("/assets/?kind=sewer_pipe&municipality=112348", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "既定値で推計" in page and "データの充足状況" in page and "下水道管渠" in page and "50%" in page
    assert "既定値で推計" in asset_page and "管径" in asset_page
    assert 'id="completeness-line"' in listing and "50%" in listing


def test_the_pdf_section_lists_the_shares_per_municipality_and_kind():
    """「データの充足状況」 is a separate section function the PDF's layout places (reports.pdf.completeness)."""
    from reports.pdf.completeness import completeness_section
    from reports.pdf.fonts import register
    from reports.pdf.render import _styles

    register()
    doc = SimpleNamespace(completeness=[{"owner": "112348", "owner_name": "八潮市", "kind": "bridge", "assets": 4,
                                         "built": 0.75, "size": 1.0, "material": 0.5, "traffic": None,
                                         "inspected": 0.25}])
    flow = completeness_section(doc, _styles())
    assert flow and "データの充足状況" in flow[1].text
    assert completeness_section(SimpleNamespace(completeness=[]), _styles()) == []
