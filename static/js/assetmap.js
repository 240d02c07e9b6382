// One asset on a small map: its geometry from json_script data over the basemap every map shares
// (static/js/basemap.js: 地理院タイル, or drawn from the registry when they do not load).
(function () {
  "use strict";
  const el = document.getElementById("assetmap");
  const data = document.getElementById("asset-geom");
  if (!el || !data || typeof L === "undefined") return;
  const geom = JSON.parse(JSON.parse(data.textContent));
  const map = L.map(el, { preferCanvas: true, scrollWheelZoom: false });
  window.assetMap = map;  // for the browser tests and the console
  const layer = L.geoJSON(geom, {
    pointToLayer: (f, ll) => L.circleMarker(ll, { radius: 7, color: "#b3261e", weight: 3, fillOpacity: 0.4 }),
    style: { color: "#b3261e", weight: 5 },
  }).addTo(map);
  const b = layer.getBounds();
  if (b.isValid()) {
    if (b.getNorthEast().equals(b.getSouthWest())) map.setView(b.getCenter(), 17);
    else map.fitBounds(b, { padding: [24, 24], maxZoom: 18 });
  } else map.setView([35.85, 139.84], 12);
  window.gm.basemap.leaflet(map, el);
  el.dataset.ready = "1";
})();
