// Start an engine run through the API and follow it; the run page opens when it is done.
(function () {
  "use strict";
  const form = document.getElementById("start-run");
  if (!form) return;
  const out = document.getElementById("run-progress");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const [r, run] = await window.gm.postJSON("/api/v1/runs", { region: document.getElementById("run-region").value });
    if (!r.ok) { out.textContent = run.detail || r.status; return; }
    window.gm.follow(`/api/v1/runs/${encodeURIComponent(run.id)}`, out, (s) => {
      location.href = form.dataset.runUrl.replace(/\/0\/$/, `/${encodeURIComponent(s.id)}/`);
    });
  });
})();
