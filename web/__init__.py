"""Pages that combine apps, above every app they read (layering: config > web > generator > reports > ...).

map.py     the region map (boundaries, the latest run's lots, assets)
run.py     the run page: ranked lots and the plans made from the run
assets.py  the asset list (with conditions) and the asset page (inspections, measures, history)

Pages of a single app stay in that app (inspections/views.py, clusters/views.py, reports/views.py,
ledger/views.py). Templates are under templates/web/."""
