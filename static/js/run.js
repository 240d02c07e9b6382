// The run page: compare with another run, and make a plan through the API, following it until its PDF is ready.
(function () {
  "use strict";
  const h = window.gm.el;
  const compare = document.getElementById("compare-form");
  if (compare) compare.addEventListener("submit", (e) => {
    e.preventDefault();
    location.href = compare.dataset.compareUrl.replace(/\/0\/$/, `/${encodeURIComponent(compare.elements.other.value)}/`);
  });
  const form = document.getElementById("plan-form");
  if (!form) return;
  const csrf = document.cookie.split("; ").find(c => c.startsWith("csrftoken="))?.split("=")[1];
  const out = document.getElementById("plan-progress");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const budget = document.getElementById("plan-budget").value;
    const body = { region: form.dataset.region, run: +form.dataset.run, horizon_years: +document.getElementById("plan-horizon").value,
      strategy: document.getElementById("plan-strategy").value, municipality: document.getElementById("plan-muni").value || null,
      budget_per_year: budget ? budget * 1e6 : null };
    const r = await fetch("/api/v1/plans", { method: "POST", headers: { "Content-Type": "application/json", "X-CSRFToken": csrf }, body: JSON.stringify(body) });
    const plan = await r.json();
    if (!r.ok) { out.textContent = JSON.stringify(plan.errors || plan.detail); return; }
    const poll = async () => {
      const p = await (await fetch(`/api/v1/plans/${encodeURIComponent(plan.id)}`)).json();
      out.textContent = `#${p.id}: ${p.status} ${p.progress}% ${p.message}`;
      if (p.status === "done") {
        const main = p.result.scenarios[p.result.main] || {};
        const total = (main.spend || []).reduce((a, b) => a + b, 0) / 1e8 | 0;
        document.getElementById("plan-result").replaceChildren(h("p", { class: "card" },
          h("a", { id: "plan-pdf", class: "button", href: p.pdf_url }, "PDF"), " ",
          h("a", { id: "plan-open", class: "button secondary", href: form.dataset.planUrl.replace(/\/0\/$/, `/${encodeURIComponent(p.id)}/`) },
            form.dataset.scenariosLabel), " ",
          `${p.result.actions.length} / ${p.result.clusters} · ${total} 億円`));
      } else if (p.status !== "failed") setTimeout(poll, 1000);
    };
    poll();
  });
})();
