// The basemap every map shares (issue 17: never coloured lines on white). 地理院タイル with its credit unless
// MAP_BASEMAP=local; when its tiles do not load (a closed network) the map switches to the basemap drawn from
// our own data, the vector tiles /tiles/base/{z}/{x}/{y}.pbf (municipal boundaries, reference roads, the
// registry's road segments; web/tiles.py). One palette and one fallback rule, two drawing engines:
// - Leaflet maps (region map, asset map, lot map): MapLibre GL inside Leaflet (maplibre-gl-leaflet);
// - OpenLayers maps (the inspection picker, the admin's geometry widget): OpenLayers' own MVT layer.
// The configuration comes from json_script "basemap-config" (web/basemap.py), or is handed in.
(function () {
  "use strict";
  const gm = (window.gm = window.gm || {});

  const COLOURS = { background: "#eceae4", land: "#f8f6ef", roadNational: "#e0a96d", roadPrefectural: "#e8c07d",
    roadOther: "#c9c4b8", road: "#d4cfc3", boundary: "#555" };
  // The layers that make the fallback visible (the boundary outline is drawn over 地理院タイル too).
  const LAYERS = ["base-background", "base-land", "base-roads-ref", "base-roads"];

  function config(cfg) {
    if (cfg) return cfg;
    const node = document.getElementById("basemap-config");
    return node ? JSON.parse(node.textContent) : { basemap: "local", tiles: "", baseTiles: "/tiles/base/{z}/{x}/{y}.pbf" };
  }
  const isLocal = (cfg) => cfg.basemap === "local" || !cfg.tiles;
  const absolute = (path) => new URL(path, location.href).href.replace(/%7B/g, "{").replace(/%7D/g, "}");

  // The credit as a link, built as DOM (the attribution strings come from settings, still never as markup).
  function credit(cfg) {
    const a = document.createElement("a");
    a.textContent = cfg.tileAttribution || "";
    if (/^https:\/\//.test(cfg.tileAttributionUrl || "")) {
      a.href = cfg.tileAttributionUrl; a.target = "_blank"; a.rel = "noopener";
    }
    return a;
  }

  // Calls fail() once if 地理院タイル do not answer: an error on the first tiles, or a probe image that errs or
  // never arrives (a browser that drops the request silently still gets a basemap).
  function watchTiles(cfg, fail) {
    let loaded = false, done = false;
    const once = () => { if (!loaded && !done) { done = true; fail(); } };
    const probe = new Image();
    const timer = setTimeout(once, 8000);
    probe.onload = () => clearTimeout(timer);
    probe.onerror = () => { clearTimeout(timer); once(); };
    probe.src = cfg.tiles.replace("{z}", "5").replace("{x}", "28").replace("{y}", "12");
    return { loaded: () => { loaded = true; }, error: once };
  }

  // --- MapLibre GL (inside Leaflet) ---------------------------------------------------------------------------
  function glSources(cfg) {
    return { base: { type: "vector", tiles: [absolute(cfg.baseTiles)], maxzoom: 16 } };
  }
  function glLayers(visible) {
    const vis = { visibility: visible ? "visible" : "none" };
    return [
      { id: "base-background", type: "background", paint: { "background-color": COLOURS.background }, layout: vis },
      { id: "base-land", type: "fill", source: "base", "source-layer": "boundaries", layout: vis,
        paint: { "fill-color": COLOURS.land } },
      { id: "base-roads-ref", type: "line", source: "base", "source-layer": "roads_ref", layout: vis,
        paint: { "line-color": ["match", ["get", "road_class"], "national", COLOURS.roadNational,
          "prefectural", COLOURS.roadPrefectural, COLOURS.roadOther],
        "line-width": ["interpolate", ["linear"], ["zoom"], 8, 1, 14, 4] } },
      { id: "base-roads", type: "line", source: "base", "source-layer": "roads", layout: vis,
        paint: { "line-color": COLOURS.road, "line-width": ["interpolate", ["linear"], ["zoom"], 10, 0.5, 15, 3] } },
      { id: "base-boundaries", type: "line", source: "base", "source-layer": "boundaries",
        paint: { "line-color": COLOURS.boundary, "line-width": 1.2, "line-dasharray": [4, 2] } },
    ];
  }

  // A Leaflet map's basemap. `extra` ({sources, layers}) is what the caller draws with MapLibre over the basemap
  // (the region map's assets and lots): then the GL layer exists from the start. Without it (the small maps draw
  // with Leaflet) MapLibre starts only when the fallback is needed. The element gets data-basemap gsi|local.
  // Returns {glMap(): the MapLibre map or null, local(): whether the fallback is on}.
  function leaflet(map, el, cfg, opts) {
    cfg = config(cfg);
    opts = opts || {};
    const local = isLocal(cfg);
    let gl = null, gsi = null;
    if (cfg.worker && window.maplibregl) maplibregl.setWorkerUrl(absolute(cfg.worker));
    function startGL(visible) {
      const sources = Object.assign(glSources(cfg), (opts.extra || {}).sources);
      const layers = glLayers(visible).concat((opts.extra || {}).layers || []);
      gl = L.maplibreGL({ style: { version: 8, sources, layers }, interactive: false }).addTo(map);
      const glMap = gl.getMaplibreMap();
      // How many basemap features are drawn (boundaries, roads), for the status line and the browser tests.
      glMap.on("idle", () => {
        el.dataset.base = glMap.queryRenderedFeatures({ layers: LAYERS.slice(1).filter(id => glMap.getLayer(id)) }).length;
      });
      return glMap;
    }
    if (opts.extra) startGL(local);
    function useLocal() {
      if (el.dataset.basemap === "local") return;
      if (gsi) { map.removeLayer(gsi); gsi = null; }
      if (!gl) startGL(true);
      else {
        const glMap = gl.getMaplibreMap();
        const apply = () => LAYERS.forEach(id => glMap.setLayoutProperty(id, "visibility", "visible"));
        if (glMap.isStyleLoaded()) apply(); else glMap.once("load", apply);
      }
      el.dataset.basemap = "local";
      if (map.attributionControl && cfg.labels) map.attributionControl.addAttribution(cfg.labels.localCredit);
      if (opts.onLocal) opts.onLocal(cfg.basemap !== "local");
    }
    if (local) useLocal();
    else {
      gsi = L.tileLayer(cfg.tiles, { attribution: credit(cfg).outerHTML, maxZoom: 19, maxNativeZoom: 18 });
      const watch = watchTiles(cfg, useLocal);
      gsi.on("tileload", () => { watch.loaded(); if (el.dataset.basemap !== "local") el.dataset.basemap = "gsi"; });
      gsi.on("tileerror", watch.error);
      gsi.addTo(map);
      gsi.bringToBack();
    }
    return { glMap: () => (gl ? gl.getMaplibreMap() : null), local: () => el.dataset.basemap === "local" };
  }

  // --- OpenLayers -----------------------------------------------------------------------------------------------
  // The same layers as an OpenLayers style function over the same tiles (OpenLayers reads MVT itself).
  function olStyle() {
    const S = ol.style;
    const stroke = (color, width, lineDash) => new S.Style({ stroke: new S.Stroke({ color, width, lineDash }) });
    const land = [new S.Style({ fill: new S.Fill({ color: COLOURS.land }) }), stroke(COLOURS.boundary, 1.2, [5, 3])];
    const ref = { national: stroke(COLOURS.roadNational, 3), prefectural: stroke(COLOURS.roadPrefectural, 3) };
    const other = stroke(COLOURS.roadOther, 2), road = stroke(COLOURS.road, 2);
    return (f) => {
      const layer = f.get("layer");
      if (layer === "boundaries") return land;
      if (layer === "roads_ref") return ref[f.get("road_class")] || other;
      return road;
    };
  }

  // An OpenLayers map's basemap: put under its other layers. The target element gets data-basemap gsi|local.
  function openlayers(map, cfg) {
    cfg = config(cfg);
    const el = map.getTargetElement();
    let gsi = null;
    function useLocal() {
      if (el.dataset.basemap === "local") return;
      if (gsi) { map.removeLayer(gsi); gsi = null; }
      const layer = new ol.layer.VectorTile({
        source: new ol.source.VectorTile({ format: new ol.format.MVT(), url: absolute(cfg.baseTiles), maxZoom: 16,
          attributions: cfg.labels ? cfg.labels.localCredit : undefined }),
        style: olStyle(), background: COLOURS.background });
      map.getLayers().insertAt(0, layer);
      // How many basemap features arrived (boundaries, roads), for the browser tests.
      layer.getSource().on("tileloadend", (e) => {
        el.dataset.base = (Number(el.dataset.base) || 0) + (e.tile.getFeatures() || []).length;
      });
      el.dataset.basemap = "local";
    }
    if (isLocal(cfg)) return useLocal();
    const source = new ol.source.XYZ({ url: cfg.tiles, maxZoom: 18, attributions: credit(cfg).outerHTML });
    gsi = new ol.layer.Tile({ source });
    const watch = watchTiles(cfg, useLocal);
    source.on("tileloadend", () => { watch.loaded(); if (el.dataset.basemap !== "local") el.dataset.basemap = "gsi"; });
    source.on("tileloaderror", watch.error);
    map.getLayers().insertAt(0, gsi);
  }

  gm.basemap = { config, leaflet, openlayers, glLayers, glSources, LAYERS };
})();
