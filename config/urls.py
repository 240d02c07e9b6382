from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView, TemplateView

from clusters import views as cluster_views
from config.api import api
from config.health import healthz
from inspections import measure_views
from inspections import views as inspection_views
from ledger import views as ledger_views
from ogc.api import api as ogc_api
from reports import views as report_views
from web import assets as asset_pages
from web import i18n as language_switch
from web import map as map_page
from web import run as run_page
from web import tiles

urlpatterns = [
    # Before Django's: the switch keeps the page, /en/x ↔ /x (web/i18n.py).
    path("i18n/setlang/", language_switch.set_language, name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
    # No sign-in, no language prefix: for load balancers and monitoring (config/health.py).
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    # OGC API – Features for QGIS, ArcGIS and GDAL (ogc/api.py): no language prefix, clients add this URL.
    path("ogc/", ogc_api.urls),
    # Vector tiles for the region map (web/tiles.py), scoped to the signed-in person, outside the language prefix.
    path("tiles/assets/<int:z>/<int:x>/<int:y>.pbf", tiles.asset_tile, name="tiles-assets"),
    path("tiles/lots/<int:run>/<int:z>/<int:x>/<int:y>.pbf", tiles.lot_tile, name="tiles-lots"),
    path("tiles/base/<int:z>/<int:x>/<int:y>.pbf", tiles.base_tile, name="tiles-base"),
    # Stored files only through views that check the record's scope; MEDIA_URL is never routed.
    path("files/photos/<int:pk>/", inspection_views.photo_file, name="photo-file"),
    path("files/photos/<int:pk>/thumbnail/", inspection_views.photo_file, {"thumbnail": True}, name="photo-thumbnail"),
]
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(next_page="login"), name="logout"),
    path("accounts/sign-out/", TemplateView.as_view(template_name="registration/logout.html"), name="logout-confirm"),
    path("inspections/new/", inspection_views.pick_asset, name="inspection-pick"),
    path("inspections/new/<str:gid>/", inspection_views.new_inspection, name="inspection-new"),
    path("inspections/", asset_pages.inspection_list, name="inspection-list"),
    path("inspections/download/", asset_pages.inspection_list_download, name="inspection-list-download"),
    path("inspections/overdue/", inspection_views.overdue, name="overdue"),
    path("inspections/<int:pk>/correct/", inspection_views.inspection_correct, name="inspection-correct"),
    path("inspections/<int:pk>/withdraw/", inspection_views.inspection_withdraw, name="inspection-withdraw"),
    path("assets/<str:gid>/measures/new/", measure_views.measure_form, name="measure-new"),
    path("measures/<int:pk>/edit/", measure_views.measure_form, name="measure-edit"),
    path("measures/rates/", measure_views.measure_rates, name="measure-rates"),
    path("inspections/overdue/download/", inspection_views.overdue_download, name="overdue-download"),
    path("ledger/import/", ledger_views.ledger_import, name="ledger-import"),
    path("ledger/imports/", ledger_views.ledger_imports, name="ledger-imports"),
    path("map/", map_page.region_map, name="region-map"),
    path("assets/", asset_pages.asset_list, name="asset-list"),
    path("assets/download/", asset_pages.asset_list_download, name="asset-list-download"),
    path("runs/", cluster_views.runs, name="runs"),
    path("runs/<int:pk>/", run_page.run_detail, name="run-detail"),
    path("runs/<int:pk>/clusters/<int:rank>/", cluster_views.cluster_detail, name="cluster-detail"),
    path("runs/<int:a>/compare/<int:b>/", cluster_views.compare, name="run-compare"),
    path("plans/<int:pk>/", report_views.plan_detail, name="plan-detail"),
    path("plans/<int:pk>/works.xlsx", report_views.plan_works_download, name="plan-works-xlsx"),
    path("plans/<int:pk>/pins/", report_views.plan_pins, name="plan-pins"),
    path("regions/<slug:slug>/params/", cluster_views.region_params, name="region-params"),
    path("assets/<str:gid>/", asset_pages.asset_detail, name="asset-detail"),
    path("", RedirectView.as_view(pattern_name="inspection-pick", permanent=False)),
    prefix_default_language=False,
)
