"""The 路線 of a plan's lot line (PDF §6.2, the plan's table download): a lot in a million-asset region can lie
under hundreds of streets, and a table cell listing them all was taller than a page, which reportlab cannot lay
out (the plan failed at 1,000,000 assets in `make bench`). The most frequent routes are named, the rest counted."""

from reports.document import ROUTES_SHOWN, routes_text


def test_a_few_routes_are_all_named_most_assets_first_then_by_name():
    assert routes_text(["市道2号線", "市道1号線", "市道2号線"]) == "市道2号線・市道1号線"
    assert routes_text(["市道9号線", "市道1号線"]) == "市道1号線・市道9号線"


def test_no_route_is_a_dash():
    assert routes_text(None) == "—" and routes_text([]) == "—"


def test_hundreds_of_routes_name_the_busiest_and_count_the_rest():
    routes = [f"八潮市道{i}号線" for i in range(400)] + ["八潮中央通り"] * 50 + ["県道足立越谷線"] * 20
    text = routes_text(routes)
    assert text.startswith("八潮中央通り・県道足立越谷線・")
    assert text.endswith(f" ほか{402 - ROUTES_SHOWN:,}路線") and text.count("・") == ROUTES_SHOWN - 1
    assert len(text) < 80
