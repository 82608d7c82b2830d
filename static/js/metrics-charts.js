// Draws each <canvas data-chart="ID"> from the JSON in <script type="application/json" id="ID">.
// The table next to each chart carries the same numbers; without this file nothing is lost.
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") {
    return;
  }
  // Distinct, AA-contrast colours; each series also gets its own point style.
  var COLOURS = ["#005ea2", "#b50909", "#00663b", "#8c4a00", "#5c1111", "#1a4480", "#3d4551"];
  var POINTS = ["circle", "rect", "triangle", "rectRot", "crossRot", "star", "cross"];

  // With one period there is no line to draw between two points: the target and the baseline
  // show as a wide dash at that period instead of nothing.
  function constantLine(label, value, count, colour, dash) {
    var data = [];
    for (var i = 0; i < count; i++) {
      data.push(value);
    }
    return {label: label, data: data, borderColor: colour, backgroundColor: "rgba(0, 0, 0, 0)",
            borderDash: dash, fill: false, pointStyle: "line",
            pointRadius: count === 1 ? 24 : 0, pointBorderWidth: 2};
  }

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source) {
      return;
    }
    var spec = JSON.parse(source.textContent);
    var datasets = spec.series.map(function (series, i) {
      var colour = COLOURS[i % COLOURS.length];
      return {label: series.label, data: series.data, borderColor: colour, backgroundColor: colour,
              pointStyle: POINTS[i % POINTS.length], pointRadius: 4, spanGaps: true, fill: false};
    });
    if (spec.target !== null && spec.target !== undefined) {
      datasets.push(constantLine("Target", spec.target, spec.labels.length, "#000000", [6, 4]));
    }
    if (spec.baseline !== null && spec.baseline !== undefined) {
      datasets.push(constantLine("Baseline", spec.baseline, spec.labels.length, "#71767a", [2, 3]));
    }
    new window.Chart(canvas, {
      type: "line",
      data: {labels: spec.labels, datasets: datasets},
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {legend: {position: "bottom"}},
        // One period: centred, not drawn on the y axis.
        scales: {x: {offset: spec.labels.length === 1},
                 y: {title: {display: !!spec.unit, text: spec.unit || ""}}}
      }
    });
  });
})();
