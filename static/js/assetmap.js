// One asset on a small map: its geometry from json_script data, the tiles the region map uses (none configured:
// the outline alone, no third-party request).
(function () {
  "use strict";
  const el = document.getElementById("assetmap");
  const data = document.getElementById("asset-geom");
  if (!el || !data || typeof L === "undefined") return;
  const geom = JSON.parse(JSON.parse(data.textContent));
  const map = L.map(el, { preferCanvas: true, scrollWheelZoom: false });
  const tiles = el.dataset.tiles;
  if (tiles) {
    // 地理院タイル unreachable (closed network): drop the layer rather than show broken tiles; the map keeps
    // its own background colour (the region map draws a full basemap from the registry instead).
    const credit = document.createElement("a");
    credit.textContent = el.dataset.attribution || "";
    if (/^https:\/\//.test(el.dataset.attributionUrl || "")) credit.href = el.dataset.attributionUrl;
    const layer = L.tileLayer(tiles, { maxZoom: 19, maxNativeZoom: 18, attribution: credit.outerHTML });
    let loaded = false;
    layer.on("tileload", () => { loaded = true; });
    layer.on("tileerror", () => { if (!loaded && map.hasLayer(layer)) { map.removeLayer(layer); el.dataset.basemap = "none"; } });
    layer.addTo(map);
  }
  const layer = L.geoJSON(geom, {
    pointToLayer: (f, ll) => L.circleMarker(ll, { radius: 7, color: "#b3261e", weight: 3, fillOpacity: 0.4 }),
    style: { color: "#b3261e", weight: 5 },
  }).addTo(map);
  const b = layer.getBounds();
  if (b.isValid()) {
    if (b.getNorthEast().equals(b.getSouthWest())) map.setView(b.getCenter(), 17);
    else map.fitBounds(b, { padding: [24, 24], maxZoom: 18 });
  }
  el.dataset.ready = "1";
})();
