// Behaviour every page shares, without inline handlers (the Content-Security-Policy forbids them):
// selects marked data-autosubmit submit their form; buttons marked data-reveal show the next hidden row.
// gm.el builds DOM nodes from data: text always goes in as text, never as markup; gm.postJSON and gm.follow start
// a background job through the API and follow its progress.
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

  // POST JSON to our API with the CSRF token; resolves to [response, parsed body].
  async function postJSON(url, body) {
    const csrf = document.cookie.split("; ").find(c => c.startsWith("csrftoken="))?.split("=")[1];
    const r = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body) });
    return [r, await r.json()];
  }

  // Follow a background job (engine run, plan) through the API once a second until it is done or failed,
  // showing "#id: status progress% step" in `out`; `done(job)` runs once it is done.
  function follow(url, out, done) {
    const poll = async () => {
      const job = await (await fetch(url)).json();
      out.textContent = `#${job.id}: ${job.progress_text || job.status}`;
      if (job.status === "done") done(job);
      else if (job.status !== "failed") setTimeout(poll, 1000);
    };
    poll();
  }
  window.gm = { el, postJSON, follow };

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("select[data-autosubmit]").forEach((s) =>
      s.addEventListener("change", () => s.form && s.form.submit()));
    // A background job started by a form post (a large ledger import): follow it, then show its report.
    document.querySelectorAll("[data-follow]").forEach((out) =>
      follow(out.dataset.follow, out, (job) => {
        out.textContent = `#${job.id}: ${job.progress_text}` + (job.report && job.report.summary ? ` — ${job.report.summary}` : "");
      }));
    document.querySelectorAll("button[data-reveal]").forEach((b) =>
      b.addEventListener("click", () => {
        const row = document.querySelector(b.dataset.reveal);
        if (row) row.removeAttribute("hidden");
      }));
  });
})();
