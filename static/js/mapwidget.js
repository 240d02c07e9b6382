// Starts GeoDjango's MapWidget for every map field from its JSON options (no inline script: CSP), over the
// basemap's tiles.
(function () {
  "use strict";
  function start() {
    document.querySelectorAll('script[type="application/json"][id$="_mapwidget_options"]').forEach((node) => {
      if (node.dataset.started) return;
      node.dataset.started = "1";
      const options = JSON.parse(node.textContent);
      const module = options.module;
      delete options.module;
      // The basemap's tiles (地理院タイル) instead of the stock OSM layer: one outside host for the whole app.
      const tiles = options.tiles;
      options.base_layer = tiles
        ? new ol.layer.Tile({ source: new ol.source.XYZ({ url: tiles, maxZoom: 18, attributions: options.tile_attribution }) })
        : new ol.layer.Tile();
      delete options.tiles;
      delete options.tile_attribution;
      const widget = new MapWidget(options);
      if (module && /^[A-Za-z_][A-Za-z0-9_]*$/.test(module)) window[module] = widget;
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
