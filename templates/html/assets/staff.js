// The console's only script: the 30-day chart on the first page, drawn with Chart.js (served from
// our own origin; the page's data sits in a JSON element, since no inline script may run).
(function () {
  "use strict";
  var canvas = document.getElementById("chart");
  var source = document.getElementById("chart-data");
  if (!canvas || !source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [
        { label: data.label_count, data: data.counts, backgroundColor: "#1B4F9C", yAxisID: "y" },
        { label: data.label_baht, data: data.baht.map(Number), type: "line", borderColor: "#C05600",
          backgroundColor: "#C05600", yAxisID: "baht", tension: 0.2 }
      ]
    },
    options: {
      maintainAspectRatio: false,
      animation: { onComplete: function () { document.body.dataset.chart = "drawn"; } },
      scales: {
        y: { beginAtZero: true, position: "left", ticks: { precision: 0 } },
        baht: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } }
      }
    }
  });
}());
