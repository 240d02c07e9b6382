// Starts GeoDjango's MapWidget for every map field from its JSON options (no inline script: CSP).
(function () {
  "use strict";
  function start() {
    document.querySelectorAll('script[type="application/json"][id$="_mapwidget_options"]').forEach((node) => {
      if (node.dataset.started) return;
      node.dataset.started = "1";
      const options = JSON.parse(node.textContent);
      const module = options.module;
      delete options.module;
      const widget = new MapWidget(options);
      if (module && /^[A-Za-z_][A-Za-z0-9_]*$/.test(module)) window[module] = widget;
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
