// L3 trends: history from /api/v1/scada/tags/<id>/history (min/avg/max buckets), one pen per tag (avg line),
// live points appended from the HMI socket (hmi.js dispatches "hmi:values" events). Grey, calm palette.
(function () {
  "use strict";
  var form = document.getElementById("trend-form");
  if (form) {
    form.addEventListener("submit", function () {
      var picked = Array.prototype.map.call(document.getElementById("tag-pick").selectedOptions, function (o) { return o.value; });
      document.getElementById("tags-field").value = picked.join(",");
    });
  }
  var el = document.getElementById("trend");
  if (!el || typeof uPlot === "undefined") { return; }
  var tags = JSON.parse(el.dataset.tags || "[]");
  if (!tags.length) { el.textContent = "Pick one or more tags."; return; }
  var hours = parseInt(el.dataset.hours || "4", 10);
  var end = new Date(), start = new Date(end.getTime() - hours * 3600 * 1000);
  var PENS = ["#2f4f6f", "#6b4f2f", "#3f6b3f", "#5a3f6b", "#6b3f4a", "#3f5f6b", "#6b6b3f", "#444444"];
  var series = {};  // name -> {t: [], v: []}

  function load(tag) {
    var q = "?start=" + encodeURIComponent(start.toISOString()) + "&end=" + encodeURIComponent(end.toISOString()) + "&max_points=600";
    return fetch("/api/v1/scada/tags/" + tag.id + "/history" + q, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { points: [] }; })
      .catch(function () { return { points: [] }; })  // no history (network): still draw the live points
      .then(function (body) {
        var s = { t: [], v: [] };
        (body.points || []).forEach(function (p) {
          s.t.push(new Date(p.ts).getTime() / 1000);
          s.v.push(p.avg !== undefined ? p.avg : p.value);
        });
        series[tag.name] = s;
      });
  }

  function merged() {
    var times = {};
    tags.forEach(function (tag) { (series[tag.name] || { t: [] }).t.forEach(function (t) { times[t] = true; }); });
    var xs = Object.keys(times).map(Number).sort(function (a, b) { return a - b; });
    var data = [xs];
    tags.forEach(function (tag) {
      var s = series[tag.name] || { t: [], v: [] }, map = {};
      s.t.forEach(function (t, i) { map[t] = s.v[i]; });
      data.push(xs.map(function (t) { return t in map ? map[t] : null; }));
    });
    return data;
  }

  // Live values that arrive while the history is still loading are kept and drawn with it: the socket is
  // subscribed before the chart exists, and the history ends when the page was opened.
  var plot = null, early = [], live = 0;

  function append(values) {
    var changed = false;
    values.forEach(function (v) {
      var s = series[v.tag];
      if (!s || v.value === null || v.quality >= 2) { return; }
      s.t.push(v.ts); s.v.push(v.value); changed = true; live += 1;
    });
    el.setAttribute("data-live-points", String(live));
    return changed;
  }

  Promise.all(tags.map(load)).then(function () {
    append(early);
    early = null;
    var opts = {
      width: el.clientWidth || 900, height: 380,
      cursor: { drag: { x: true, y: false } },
      series: [{}].concat(tags.map(function (tag, i) {
        return { label: tag.name + (tag.unit ? " (" + tag.unit + ")" : ""), stroke: PENS[i % PENS.length], width: 1.5, spanGaps: false };
      })),
      axes: [{ stroke: "#444" }, { stroke: "#444" }]
    };
    plot = new uPlot(opts, merged(), el);
    window.addEventListener("resize", function () { plot.setSize({ width: el.clientWidth, height: 380 }); });
  });

  document.addEventListener("hmi:values", function (event) {
    if (!plot) { Array.prototype.push.apply(early, event.detail); return; }
    if (append(event.detail)) { plot.setData(merged(), false); }
  });
})();
