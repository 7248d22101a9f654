/* Charts of the portal's reports (docs/reports.md). No inline script (the
   Content-Security-Policy forbids it): each <canvas data-chart="ID"> names a
   <script type="application/json" id="ID"> holding
   {"type": "bar"|"line", "labels": [...], "series": [{"label": ..., "data": [...]}]}.
   Chart.js is served by the portal itself (/reports/lib/chartjs/chart.umd.js). */
(function () {
  "use strict";
  var COLOURS = ["#0b5394", "#e69138", "#6aa84f", "#cc0000", "#674ea7", "#45818e"];

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source || typeof window.Chart === "undefined") { return; }
    var spec = JSON.parse(source.textContent);
    var datasets = spec.series.map(function (s, i) {
      var colour = COLOURS[i % COLOURS.length];
      return {label: s.label, data: s.data, backgroundColor: colour, borderColor: colour,
              borderWidth: 2, fill: false, tension: 0.2};
    });
    new window.Chart(canvas, {
      type: spec.type === "line" ? "line" : "bar",
      data: {labels: spec.labels, datasets: datasets},
      options: {animation: false, responsive: true, maintainAspectRatio: false,
                scales: {y: {beginAtZero: true, ticks: {precision: 0}}},
                plugins: {legend: {position: "bottom"}}}
    });
    canvas.setAttribute("data-drawn", "true");
  }

  function drawAll() {
    var canvases = document.querySelectorAll("canvas[data-chart]");
    for (var i = 0; i < canvases.length; i++) { draw(canvases[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
}());
