/* Draws every chart of the page (core/charts.py, includes/chart.html): each
   [data-chart] container names the <script type="application/json"> that holds its ECharts
   option. SVG rendering, so the text is real text in the page's own (CJK) fonts; charts
   follow the window's and their container's width. Without ECharts nothing happens: the
   tables beside the charts carry the same numbers. */
(function () {
  "use strict";
  var charts = [];
  if (window.echarts) document.documentElement.classList.add("has-charts");

  function draw(el) {
    if (el.getAttribute("data-chart-ready") || !window.echarts) return;
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source) return;
    var option = JSON.parse(source.textContent);
    var base = option.baseOption || option;
    base.textStyle = Object.assign({ fontFamily: window.getComputedStyle(el).fontFamily }, base.textStyle);
    var unit = el.getAttribute("data-unit");
    if (unit && base.tooltip && !base.tooltip.formatter) {
      base.tooltip.valueFormatter = function (value) {
        return value === null || value === undefined ? "—" : value + " " + unit;
      };
    }
    var chart = window.echarts.init(el, null, { renderer: "svg", locale: "ZH" });
    chart.setOption(option);
    el.setAttribute("data-chart-ready", "1");
    charts.push(chart);
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), draw);
  }

  var pending = null;
  function resizeAll() {
    if (pending) window.cancelAnimationFrame(pending);
    pending = window.requestAnimationFrame(function () {
      pending = null;
      charts.forEach(function (chart) {
        if (!chart.isDisposed()) chart.resize();
      });
    });
  }

  function start() {
    drawAll();
    window.addEventListener("resize", resizeAll);
    if (window.ResizeObserver) {
      var observer = new window.ResizeObserver(resizeAll);
      Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), function (el) {
        observer.observe(el);
      });
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
