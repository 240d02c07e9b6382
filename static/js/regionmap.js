// The region map: Leaflet for the frame (pan, zoom, popups, the 地理院タイル basemap) and MapLibre GL inside it
// (maplibre-gl-leaflet) for the vector tiles of web/tiles.py: the fallback basemap drawn from our own data,
// the latest run's lots, and every asset (one circle per area when zoomed out). Lots are drawn under the
// assets and a tap asks for assets first, so it reaches the asset inside a lot.
// The basemap (地理院タイル, or drawn from the registry on a closed network) is static/js/basemap.js, shared
// with every small map.
// Every value from the data goes into popups as text (gm.el), never as HTML.
(function () {
  "use strict";
  const el = document.getElementById("regionmap");
  if (!el) return;
  const h = window.gm.el;
  const cfg = JSON.parse(document.getElementById("map-config").textContent);
  const status = document.getElementById("map-status");
  const map = L.map(el, { zoomSnap: 0.5, maxZoom: 19 });
  window.regionMap = map;  // for the browser tests and the console
  map.fitBounds(cfg.bounds);

  // --- style ------------------------------------------------------------------------------------------------
  const SEVERITY = ["#2e7d32", "#9ccc65", "#ffb300", "#e53935", "#8a94a3"];
  const severityColour = ["case", ["==", ["typeof", ["get", "severity"]], "number"],
    ["step", ["get", "severity"], SEVERITY[0], 0.2, SEVERITY[1], 0.5, SEVERITY[2], 0.8, SEVERITY[3]], SEVERITY[4]];
  const WORK = { road: "#6d6d6d", sewer: "#1565c0", bridge: "#c62828", septic: "#2e7d32", road_sewer: "#6a1b9a" };
  const KIND = { bridge: "#c62828", manhole: "#1565c0", septic_tank: "#2e7d32", road_segment: "#424242",
    sewer_pipe: "#1565c0", tunnel: "#6d4c41", shed_culvert: "#6d4c41", ped_overpass: "#6d4c41", gantry_sign: "#6d4c41" };
  const match = (prop, table, other) => ["match", ["get", prop], ...Object.entries(table).flat(), other];
  const ASSET_LAYERS = ["asset-points", "asset-lines", "asset-pipes", "asset-cells"];
  const abs = (path) => new URL(path, location.href).href.replace(/%7B/g, "{").replace(/%7D/g, "}");
  const sources = { assets: { type: "vector", tiles: [abs(cfg.assetTiles)], maxzoom: 16 } };
  if (cfg.lotTiles) sources.lots = { type: "vector", tiles: [abs(cfg.lotTiles)], maxzoom: 16 };
  const layers = [];
  if (cfg.lotTiles) layers.push(
    { id: "lots-fill", type: "fill", source: "lots", "source-layer": "lots",
      paint: { "fill-color": match("work_type", WORK, "#000"), "fill-opacity": 0.18 } },
    { id: "lots-line", type: "line", source: "lots", "source-layer": "lots",
      paint: { "line-color": match("work_type", WORK, "#000"), "line-width": 1 } });
  layers.push(
    { id: "asset-cells", type: "circle", source: "assets", "source-layer": "asset_cells",
      paint: { "circle-color": severityColour, "circle-opacity": 0.85, "circle-stroke-color": "#fff", "circle-stroke-width": 0.5,
        "circle-radius": ["interpolate", ["linear"], ["sqrt", ["get", "count"]], 1, 4, 30, 14] } },
    { id: "asset-lines", type: "line", source: "assets", "source-layer": "assets",
      filter: ["all", ["==", ["geometry-type"], "LineString"], ["!=", ["get", "kind"], "sewer_pipe"]],
      paint: { "line-color": severityColour, "line-width": 4 } },
    { id: "asset-pipes", type: "line", source: "assets", "source-layer": "assets",
      filter: ["all", ["==", ["geometry-type"], "LineString"], ["==", ["get", "kind"], "sewer_pipe"]],
      paint: { "line-color": severityColour, "line-width": 3, "line-dasharray": [2, 1] } },
    { id: "asset-points", type: "circle", source: "assets", "source-layer": "assets",
      filter: ["!=", ["geometry-type"], "LineString"],
      paint: { "circle-color": severityColour, "circle-radius": 5, "circle-stroke-width": 2,
        "circle-stroke-color": match("kind", KIND, "#222") } });

  // --- basemap (static/js/basemap.js): 地理院タイル, or ours when they do not load, under the layers above ------
  const basemap = window.gm.basemap.leaflet(map, el, null, {
    extra: { sources, layers },
    onLocal: (fellBack) => { if (fellBack) document.getElementById("map-basemap").textContent = cfg.labels.localBase; },
  });
  const glMap = basemap.glMap();
  window.regionGL = glMap;

  // --- municipality names and the frame: the region's boundaries ----------------------------------------------
  const labels = L.layerGroup().addTo(map);
  fetch(cfg.boundaries).then(r => r.json()).then(fc => {
    const outline = L.geoJSON(fc);
    fc.features.forEach(f => {
      const centre = L.geoJSON(f).getBounds().getCenter();
      L.marker(centre, { interactive: false, keyboard: false,
        icon: L.divIcon({ className: "muni-label", html: h("span", {}, f.properties.name).outerHTML, iconSize: null }) })
        .addTo(labels);
    });
    if (outline.getBounds().isValid()) map.fitBounds(outline.getBounds());
    el.dataset.boundaries = fc.features.length;
    document.getElementById("map-credit").textContent = fc.attribution;
  });

  // --- legend -----------------------------------------------------------------------------------------------
  const legend = L.control({ position: "bottomright" });
  legend.onAdd = () => {
    const swatch = (style) => h("span", { class: "swatch", style });
    // Folded on a phone; open where there is room.
    const box = h("details", { class: "map-legend", id: "map-legend", open: window.innerWidth > 700 || null },
      h("summary", {}, cfg.labels.legend));
    box.append(h("div", { class: "legend-head" }, cfg.labels.condition));
    cfg.conditions.forEach((label, i) => box.append(h("div", {}, swatch(`background:${SEVERITY[i]}`), label)));
    box.append(h("div", { class: "legend-head" }, cfg.labels.kind));
    cfg.kinds.forEach(k => box.append(h("div", {}, k.line
      ? swatch(`height:0;border-top:3px ${k.value === "sewer_pipe" ? "dashed" : "solid"} ${KIND[k.value]}`)
      : swatch(`border-radius:50%;border:2px solid ${KIND[k.value]}`), k.label)));
    if (cfg.lotTiles) {
      box.append(h("div", { class: "legend-head" }, cfg.labels.clusters));
      Object.entries(cfg.workTypes).forEach(([v, label]) =>
        box.append(h("div", {}, swatch(`background:${WORK[v]}33;border:1px solid ${WORK[v]}`), label)));
    }
    box.append(h("div", { class: "muted" }, cfg.labels.cells));
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    return box;
  };
  legend.addTo(map);

  // --- what is drawn: counts for the status line and the tests ------------------------------------------------
  function present(ids) { return ids.filter(id => glMap.getLayer(id)); }
  function count() {
    const feats = glMap.queryRenderedFeatures({ layers: present(ASSET_LAYERS) });
    const n = feats.reduce((s, f) => s + (f.layer.id === "asset-cells" ? f.properties.count : 1), 0);
    el.dataset.features = n;
    el.dataset.lots = cfg.lotTiles ? new Set(glMap.queryRenderedFeatures({ layers: ["lots-fill"] })
      .map(f => f.properties.rank)).size : 0;
    status.textContent = `${n.toLocaleString()} ${cfg.labels.shown}`;
  }
  map.on("movestart zoomstart", () => { delete el.dataset.features; status.textContent = cfg.labels.loading; });
  glMap.on("idle", count);

  // --- taps: the asset first, then the lot under it -----------------------------------------------------------
  function lotPopup(p) {
    return h("div", { class: "popup" },
      h("b", {}, p.name || `${cfg.labels.rank} ${p.rank}`), h("br"), `${cfg.labels.rank} ${p.rank}`, h("br"),
      `${Number(p.member_count).toLocaleString()} ${cfg.labels.members} · ${Math.round(p.total_cost / 1e6).toLocaleString()} ${cfg.labels.myen}`, h("br"),
      h("a", { href: cfg.clusterUrl.replace(/0\/$/, encodeURIComponent(p.rank) + "/") }, cfg.labels.open));
  }
  function assetPopup(p) {
    const kind = (cfg.kinds.find(k => k.value === p.kind) || {}).label || "";
    return h("div", { class: "popup" },
      h("b", { class: "popup-gid" }, p.global_id), " ", h("span", { class: "popup-name" }, p.name || ""), h("br"),
      kind, " · ", p.grade ? `${cfg.labels.grade} ${p.grade}` : cfg.labels.uninspected, h("br"),
      h("a", { href: cfg.assetUrl.replace("GID", encodeURIComponent(p.global_id)) }, cfg.labels.open));
  }
  map.on("click", (e) => {
    const p = glMap.project([e.latlng.lng, e.latlng.lat]);
    const near = (ids) => glMap.queryRenderedFeatures([[p.x - 6, p.y - 6], [p.x + 6, p.y + 6]], { layers: present(ids) });
    const asset = near(["asset-points", "asset-lines", "asset-pipes"])[0];
    if (asset) return L.popup().setLatLng(e.latlng).setContent(assetPopup(asset.properties)).openOn(map);
    if (near(["asset-cells"]).length) return map.setView(e.latlng, Math.min(map.getZoom() + 2, 14));
    const lot = cfg.lotTiles && near(["lots-fill"])[0];
    if (lot) L.popup().setLatLng(e.latlng).setContent(lotPopup(lot.properties)).openOn(map);
  });
})();
