// Start an engine run through the API and follow it; the run page opens when it is done.
(function () {
  "use strict";
  const form = document.getElementById("start-run");
  if (!form) return;
  const csrf = document.cookie.split("; ").find(c => c.startsWith("csrftoken="))?.split("=")[1];
  const out = document.getElementById("run-progress");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const r = await fetch("/api/v1/runs", { method: "POST", headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ region: document.getElementById("run-region").value }) });
    const run = await r.json();
    if (!r.ok) { out.textContent = run.detail || r.status; return; }
    const poll = async () => {
      const s = await (await fetch(`/api/v1/runs/${encodeURIComponent(run.id)}`)).json();
      out.textContent = `#${s.id}: ${s.status} ${s.progress}% ${s.message}`;
      if (s.status === "done") location.href = form.dataset.runUrl.replace(/\/0\/$/, `/${encodeURIComponent(s.id)}/`);
      else if (s.status !== "failed") setTimeout(poll, 1000);
    };
    poll();
  });
})();
