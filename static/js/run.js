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
  const out = document.getElementById("plan-progress");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const budget = document.getElementById("plan-budget").value;
    const body = { region: form.dataset.region, run: +form.dataset.run, horizon_years: +document.getElementById("plan-horizon").value,
      strategy: document.getElementById("plan-strategy").value, municipality: document.getElementById("plan-muni").value || null,
      budget_per_year: budget ? budget * 1e6 : null };
    const [r, plan] = await window.gm.postJSON("/api/v1/plans", body);
    if (!r.ok) { out.textContent = JSON.stringify(plan.errors || plan.detail); return; }
    window.gm.follow(`/api/v1/plans/${encodeURIComponent(plan.id)}`, out, (p) => {
      const main = p.result.scenarios[p.result.main] || {};
      const total = (main.spend || []).reduce((a, b) => a + b, 0) / 1e8 | 0;
      document.getElementById("plan-result").replaceChildren(h("p", { class: "card" },
        h("a", { id: "plan-pdf", class: "button", href: p.pdf_url }, "PDF"), " ",
        h("a", { id: "plan-open", class: "button secondary", href: form.dataset.planUrl.replace(/\/0\/$/, `/${encodeURIComponent(p.id)}/`) },
          form.dataset.scenariosLabel), " ",
        `${p.result.actions.length} / ${p.result.clusters} · ${total} 億円`));
    });
  });
})();
