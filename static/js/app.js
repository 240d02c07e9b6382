// Behaviour every page shares, without inline handlers (the Content-Security-Policy forbids them):
// selects marked data-autosubmit submit their form; buttons marked data-reveal show the next hidden row.
// gm.el builds DOM nodes from data: text always goes in as text, never as markup.
(function () {
  "use strict";
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "href") {
        // Only our own paths and http(s) links; never javascript: or data: URLs from data.
        const u = new URL(String(v), window.location.href);
        if (u.protocol !== "http:" && u.protocol !== "https:") continue;
        node.setAttribute("href", u.href);
      } else node.setAttribute(k, String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }
  window.gm = { el };

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("select[data-autosubmit]").forEach((s) =>
      s.addEventListener("change", () => s.form && s.form.submit()));
    document.querySelectorAll("button[data-reveal]").forEach((b) =>
      b.addEventListener("click", () => {
        const row = document.querySelector(b.dataset.reveal);
        if (row) row.removeAttribute("hidden");
      }));
  });
})();
