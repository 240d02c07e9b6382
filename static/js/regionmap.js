// The region map: boundaries always, the latest run's lots as outlines, assets only where zoomed in
// (fetched for the visible box, at most a few thousand), so a million-asset region stays light.
// Every value from the data goes into popups and tooltips as text (gm.el), never as HTML.
(function () {
  "use strict";
  const el = document.getElementById("regionmap");
  if (!el) return;
  const h = window.gm.el;
  const cfg = JSON.parse(document.getElementById("map-config").textContent);
  const map = L.map(el, { preferCanvas: true, zoomSnap: 0.5 });
  window.regionMap = map;  // for the browser tests and the console
  if (cfg.tiles) L.tileLayer(cfg.tiles, { attribution: cfg.tileAttribution, maxZoom: 19 }).addTo(map);
  const status = document.getElementById("map-status");
  const severityColour = (s) => s === null || s === undefined ? "#8a94a3"
    : s < 0.2 ? "#2e7d32" : s < 0.5 ? "#9ccc65" : s < 0.8 ? "#ffb300" : "#e53935";
  const workColour = { road: "#6d6d6d", sewer: "#1565c0", bridge: "#c62828", septic: "#2e7d32", road_sewer: "#6a1b9a" };
  const assets = L.layerGroup().addTo(map);
  const lots = L.layerGroup();
  const overlays = {};
  overlays[h("span", {}, cfg.labels.assets).outerHTML] = assets;
  overlays[h("span", {}, cfg.labels.clusters).outerHTML] = lots;
  L.control.layers(null, overlays, { collapsed: false }).addTo(map);

  fetch(cfg.boundaries).then(r => r.json()).then(fc => {
    const layer = L.geoJSON(fc, { style: { color: "#333", weight: 1.5, fill: true, fillColor: "#fffdf5", fillOpacity: 0.6 },
      onEachFeature: (f, l) => l.bindTooltip(h("span", {}, f.properties.name), { permanent: false }) }).addTo(map);
    map.fitBounds(layer.getBounds());
    el.dataset.boundaries = fc.features.length;
    layer.bringToBack();
    document.getElementById("map-credit").textContent = fc.attribution;
  });
  function lotPopup(p) {
    return h("div", { class: "popup" },
      h("b", {}, p.name || `${cfg.labels.rank} ${p.rank}`), h("br"), `${cfg.labels.rank} ${p.rank}`, h("br"),
      `${p.members.toLocaleString()} ${cfg.labels.members} · ${Math.round(p.total_cost / 1e6).toLocaleString()} ${cfg.labels.myen}`, h("br"),
      h("a", { href: cfg.clusterUrl.replace(/0\/$/, encodeURIComponent(p.rank) + "/") }, cfg.labels.open));
  }
  function assetPopup(p) {
    return h("div", { class: "popup" },
      h("b", { class: "popup-gid" }, p.global_id), " ", h("span", { class: "popup-name" }, p.name || ""), h("br"),
      p.grade_label || cfg.labels.uninspected, h("br"),
      h("a", { href: cfg.assetUrl.replace("GID", encodeURIComponent(p.global_id)) }, cfg.labels.open));
  }
  if (cfg.clusters) {
    lots.addTo(map);
    fetch(cfg.clusters).then(r => r.json()).then(fc => {
      L.geoJSON(fc, { style: f => ({ color: workColour[f.properties.work_type] || "#000", weight: 1, fillOpacity: 0.25 }),
        onEachFeature: (f, l) => l.bindPopup(() => lotPopup(f.properties)) }).addTo(lots);
      el.dataset.lots = fc.features.length;
    });
  }
  let pending = null;
  function loadAssets() {
    if (map.getZoom() < cfg.minZoom) {
      assets.clearLayers();
      status.textContent = cfg.labels.zoomIn;
      el.dataset.features = 0;
      return;
    }
    const b = map.getBounds();
    const url = `${cfg.assets}&bbox=${b.getWest().toFixed(5)},${b.getSouth().toFixed(5)},${b.getEast().toFixed(5)},${b.getNorth().toFixed(5)}`;
    if (pending) pending.abort();
    pending = new AbortController();
    status.textContent = cfg.labels.loading;
    delete el.dataset.features;  // what is on the map is being replaced: tests wait for the new count
    fetch(url, { signal: pending.signal }).then(r => r.json()).then(fc => {
      assets.clearLayers();
      L.geoJSON(fc, {
        pointToLayer: (f, ll) => L.circleMarker(ll, { radius: 4, weight: 1, color: "#222", fillColor: severityColour(f.properties.severity), fillOpacity: 0.9 }),
        style: f => ({ color: severityColour(f.properties.severity), weight: 3 }),
        onEachFeature: (f, l) => l.bindPopup(() => assetPopup(f.properties)),
      }).addTo(assets);
      status.textContent = `${fc.features.length} ${cfg.labels.shown}` + (fc.next_offset ? ` (${cfg.labels.more})` : "");
      el.dataset.features = fc.features.length;
    }).catch(() => {});
  }
  map.on("moveend", loadAssets);
  map.whenReady(loadAssets);
})();
