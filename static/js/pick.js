// Pick the asset to inspect on a map of the assets nearest its centre (OpenLayers), over the basemap every map
// shares (static/js/basemap.js: 地理院タイル, or drawn from the registry when they do not load).
(function () {
  "use strict";
  const el = document.getElementById("map");
  if (!el) return;
  const src = new ol.source.Vector();
  const colours = {road_segment: "#7a7a7a", bridge: "#b3261e", sewer_pipe: "#0b5cad", manhole: "#0b5cad", septic_tank: "#1e7a3c",
                   tunnel: "#6a1b9a", shed_culvert: "#8e24aa", ped_overpass: "#ad1457", gantry_sign: "#ef6c00"};
  const style = f => new ol.style.Style({
    stroke: new ol.style.Stroke({color: colours[f.get("kind")] || "#333", width: 4}),
    image: new ol.style.Circle({radius: 7, fill: new ol.style.Fill({color: colours[f.get("kind")] || "#333"}),
                                stroke: new ol.style.Stroke({color: "#fff", width: 2})})});
  const view = new ol.View({center: ol.proj.fromLonLat([+el.dataset.lon, +el.dataset.lat]), zoom: 16});
  const map = new ol.Map({target: el, layers: [new ol.layer.Vector({source: src, style})], view});
  window.pickMap = map;  // for the browser tests and the console
  window.gm.basemap.openlayers(map);
  async function load() {
    const [lon, lat] = ol.proj.toLonLat(view.getCenter());
    const q = new URLSearchParams({lon: lon.toFixed(6), lat: lat.toFixed(6), radius_m: 800, limit: 600});
    const r = await fetch(`${el.dataset.nearUrl}?${q}`);
    if (!r.ok) return;
    src.clear();
    src.addFeatures(new ol.format.GeoJSON().readFeatures(await r.json(), {featureProjection: "EPSG:3857"}));
    el.dataset.features = src.getFeatures().length;
  }
  map.on("moveend", load);
  load();
  map.on("click", e => {
    const f = map.forEachFeatureAtPixel(e.pixel, f => f, {hitTolerance: 8});
    if (f) window.location = el.dataset.pickUrl + encodeURIComponent(f.get("global_id")) + "/";
  });
  map.on("pointermove", e => {
    const f = map.forEachFeatureAtPixel(e.pixel, f => f, {hitTolerance: 8});
    // textContent: names come from the registry and are shown as typed.
    document.getElementById("picked").textContent = f ? `${f.get("global_id")} ${f.get("name") || ""} ${f.get("kind_label")} ${f.get("grade") || ""}` : "";
  });
  document.getElementById("locate").addEventListener("click", () => navigator.geolocation && navigator.geolocation.getCurrentPosition(
    p => view.setCenter(ol.proj.fromLonLat([p.coords.longitude, p.coords.latitude]))));
})();
