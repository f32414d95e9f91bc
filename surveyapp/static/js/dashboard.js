/* Dashboard: draws the server's plotly figures, switches segment charts, polls while computing. */
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  if (!root) { return; }

  function pollUntilReady() {
    var url = root.getAttribute("data-status-url");
    var delay = 2000;
    function ask() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (status) {
          if (status && status.ready) { window.location.reload(); return; }
          delay = Math.min(delay * 1.5, 15000);
          window.setTimeout(ask, delay);
        })
        .catch(function () { window.setTimeout(ask, 15000); });
    }
    window.setTimeout(ask, delay);
  }

  var state = root.getAttribute("data-state");
  if (state === "computing" || state === "stale") { pollUntilReady(); }

  var printButton = root.querySelector("[data-print]");
  if (printButton) { printButton.addEventListener("click", function () { window.print(); }); }

  var source = document.getElementById("dashboard-figures");
  if (!source || typeof Plotly === "undefined") { return; }
  var figures = JSON.parse(source.textContent);
  var plots = Array.prototype.slice.call(root.querySelectorAll("[data-plot]"));

  function draw(element) {
    var id = element.getAttribute("data-plot");
    var figure = figures[id];
    if (!figure || element.getAttribute("data-drawn")) { return Promise.resolve(); }
    element.setAttribute("data-drawn", "pending");
    var config = {
      responsive: true, displaylogo: false,
      modeBarButtonsToRemove: ["lasso2d", "select2d", "autoScale2d"],
      toImageButtonOptions: { format: "png", filename: id, scale: 2 }
    };
    return Plotly.newPlot(element, figure.data, figure.layout, config).then(function () {
      element.setAttribute("data-drawn", "true");
    });
  }

  function visible(element) { return !element.closest("[hidden]"); }

  Promise.all(plots.filter(visible).map(draw)).then(function () {
    root.setAttribute("data-charts-drawn", String(root.querySelectorAll("[data-drawn=true]").length));
  });

  var compare = root.querySelector("[data-compare]");
  if (compare) {
    compare.addEventListener("change", function () {
      var chosen = compare.value;
      root.querySelectorAll("[data-group]").forEach(function (card) {
        card.hidden = card.getAttribute("data-group") !== chosen;
        if (!card.hidden) {
          var plot = card.querySelector("[data-plot]");
          if (plot) { draw(plot); }
        }
      });
      var url = new URL(window.location.href);
      url.searchParams.set("compare", chosen);
      window.history.replaceState(null, "", url.toString());
      var field = document.getElementById("f-compare");
      if (field) { field.value = chosen; }
    });
  }

  // Charts take the printed page's width, then the screen's again.
  function resizeAll() {
    plots.forEach(function (element) {
      if (element.getAttribute("data-drawn") === "true") { Plotly.Plots.resize(element); }
    });
  }
  window.addEventListener("beforeprint", resizeAll);
  window.addEventListener("afterprint", resizeAll);
})();
