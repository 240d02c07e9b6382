// The measure form: say what the chosen kind does when completed, and fill in today's date on request.
(function () {
  "use strict";
  function init() {
    var hint = document.getElementById("effect-hint");
    var radios = document.querySelectorAll("#measure-kinds input[type=radio]");
    function show() {
      if (!hint) return;
      var chosen = document.querySelector("#measure-kinds input[type=radio]:checked");
      hint.textContent = chosen ? (hint.dataset[chosen.dataset.effect] || "") : "";
    }
    radios.forEach(function (r) { r.addEventListener("change", show); });
    show();
    document.querySelectorAll("[data-today]").forEach(function (btn) {
      btn.addEventListener("click", function () {
        var input = document.getElementById(btn.dataset.today);
        if (input) input.value = btn.dataset.value;
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
