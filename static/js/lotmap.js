// One lot on a small map: its outline and its members, from json_script data, over the shared basemap
// (static/js/basemap.js).
(function () {
  "use strict";
  const el = document.getElementById("lotmap");
  if (!el) return;
  const h = window.gm.el;
  const map = L.map(el, { preferCanvas: true });
  window.lotMap = map;  // for the browser tests and the console
  const outline = JSON.parse(document.getElementById("lot-outline").textContent);
  const group = L.featureGroup().addTo(map);
  if (outline) L.geoJSON(outline, { style: { color: "#0b5cad", weight: 2, fillOpacity: 0.1 } }).addTo(group);
  for (const p of JSON.parse(document.getElementById("lot-points").textContent)) {
    L.geoJSON(JSON.parse(p.geom), { pointToLayer: (f, ll) => L.circleMarker(ll, { radius: 4, color: "#c62828" }),
      style: { color: "#c62828", weight: 3 } }).bindTooltip(h("span", {}, p.gid)).addTo(group);
  }
  if (group.getLayers().length) map.fitBounds(group.getBounds(), { padding: [20, 20] });
  else map.setView([35.85, 139.84], 12);
  window.gm.basemap.leaflet(map, el);
})();
