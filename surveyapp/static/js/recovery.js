// The recovery page's before/after chart: the figure is a JSON data block (no inline
// script, so the Content-Security-Policy can forbid them), drawn by plotly.js.
(function () {
  "use strict";
  var data = document.getElementById("before-after-figure");
  var target = document.getElementById("before-after");
  if (!data || !target || typeof Plotly === "undefined") { return; }
  var figure = JSON.parse(data.textContent);
  Plotly.newPlot(target, figure.data, figure.layout, {displaylogo: false, responsive: true});
})();
