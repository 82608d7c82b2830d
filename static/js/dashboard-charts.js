// Draws the dashboard's bar charts from data-* attributes; the tables beside them hold the same numbers.
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") {
    return;
  }
  var canvases = document.querySelectorAll("canvas[data-chart]");
  Array.prototype.forEach.call(canvases, function (canvas) {
    var labels = JSON.parse(canvas.getAttribute("data-labels"));
    var values = JSON.parse(canvas.getAttribute("data-values"));
    new window.Chart(canvas, {
      type: canvas.getAttribute("data-chart"),
      data: { labels: labels, datasets: [{ data: values, backgroundColor: "#1a4480" }] },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: { legend: { display: false }, tooltip: { enabled: true } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
  });
})();
