// Starts GeoDjango's MapWidget for every map field from its JSON options (no inline script: CSP), over the
// basemap every map shares (static/js/basemap.js: 地理院タイル, or drawn from the registry when they do not load).
(function () {
  "use strict";
  function start() {
    document.querySelectorAll('script[type="application/json"][id$="_mapwidget_options"]').forEach((node) => {
      if (node.dataset.started) return;
      node.dataset.started = "1";
      const options = JSON.parse(node.textContent);
      const module = options.module;
      delete options.module;
      // Our basemap instead of the stock OSM layer: one outside host for the whole app, none on a closed network.
      const basemap = options.basemap;
      delete options.basemap;
      options.base_layer = new ol.layer.Tile();
      const widget = new MapWidget(options);
      window.gm.basemap.openlayers(widget.map, basemap);
      if (module && /^[A-Za-z_][A-Za-z0-9_]*$/.test(module)) window[module] = widget;
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
