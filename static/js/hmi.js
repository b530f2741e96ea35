// HMI live client: /ws/hmi/ with the session cookie; snapshot then numbered deltas; resync on a gap;
// reconnects with backoff (a kiosk survives a server restart). Bad/stale values are marked, never shown as normal.
(function () {
  "use strict";
  var QUALITY = { 0: "good", 1: "uncertain", 2: "bad", 3: "stale" };
  var linkState = document.getElementById("link-state");
  var banner = document.getElementById("alarm-banner");
  var grid = document.querySelector("[data-subscribe], [data-site]");
  var alarmTable = document.getElementById("site-alarms");
  var canAck = document.querySelector("[data-can-ack='1']") !== null;
  var alarms = {};
  var lastSeq = 0, delay = 1000, ws = null;

  function subscription() {
    if (!grid) { return null; }
    if (grid.dataset.site) { return { type: "subscribe", site: grid.dataset.site }; }
    var tags = (grid.dataset.subscribe || "").split(",").filter(Boolean);
    return { type: "subscribe", tags: tags };
  }

  function fmt(v) {
    if (v === null || v === undefined) { return "—"; }
    var a = Math.abs(v);
    return a >= 1000 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
  }

  function showValue(v) {
    var q = QUALITY[v.quality] || "bad";
    document.querySelectorAll('.pv[data-tag="' + CSS.escape(v.tag) + '"]').forEach(function (el) {
      el.textContent = fmt(v.value);
      el.className = el.className.replace(/\bq-\w+/g, "").trim() + (q === "good" ? "" : " q-" + q);
    });
    var row = document.querySelector('.bar-row[data-tag="' + CSS.escape(v.tag) + '"]');
    if (row && v.value !== null && row.dataset.low !== "" && row.dataset.high !== "") {
      var lo = parseFloat(row.dataset.low), hi = parseFloat(row.dataset.high);
      var pct = Math.max(0, Math.min(100, (v.value - lo) / (hi - lo) * 100));
      row.querySelector(".fill").style.width = pct + "%";
    }
  }

  function drawLimits() {
    document.querySelectorAll(".bar-row").forEach(function (row) {
      var lo = parseFloat(row.dataset.low), hi = parseFloat(row.dataset.high);
      if (isNaN(lo) || isNaN(hi) || hi <= lo) { return; }
      ["hh", "h", "l", "ll"].forEach(function (k) {
        var sp = row.dataset["limit" + k.charAt(0).toUpperCase() + k.slice(1)];
        if (sp === undefined) { sp = row.getAttribute("data-limit-" + k); }
        if (sp === null || sp === undefined) { return; }
        var mark = document.createElement("span");
        mark.className = "limit " + k;
        mark.title = k.toUpperCase() + " " + sp;
        mark.style.left = Math.max(0, Math.min(100, (parseFloat(sp) - lo) / (hi - lo) * 100)) + "%";
        row.querySelector(".bar").appendChild(mark);
      });
    });
  }

  function renderAlarms() {
    var counts = { critical: 0, high: 0, medium: 0, low: 0 }, newest = null, standing = [];
    Object.keys(alarms).forEach(function (id) {
      var a = alarms[id];
      if (a.state === "UNACKED" || a.state === "ACKED" || a.state === "RTN_UNACKED") {
        counts[a.priority] = (counts[a.priority] || 0) + 1;
        standing.push(a);
        if (!newest || (a.raised_at || "") > (newest.raised_at || "")) { newest = a; }
      }
    });
    if (banner) {
      Object.keys(counts).forEach(function (p) {
        var el = banner.querySelector('b[data-prio="' + p + '"]');
        if (el) { el.textContent = counts[p]; }
      });
      banner.querySelector(".newest").textContent = newest ? (newest.tag + " " + newest.kind + ": " + newest.message) : "";
    }
    document.querySelectorAll(".bar-row, .pv").forEach(function (el) { el.classList.remove("in-alarm"); });
    standing.forEach(function (a) {
      if (a.active) {
        document.querySelectorAll('[data-tag="' + CSS.escape(a.tag) + '"]').forEach(function (el) { el.classList.add("in-alarm"); });
      }
    });
    if (alarmTable) {
      standing.sort(function (x, y) { return (y.raised_at || "").localeCompare(x.raised_at || ""); });
      alarmTable.innerHTML = "";
      standing.forEach(function (a) {
        var tr = document.createElement("tr");
        tr.className = "alarm-row " + a.state;
        tr.innerHTML = "<td><span class='prio " + a.priority + "'>" + a.priority + "</span></td><td></td><td></td><td></td>";
        tr.children[1].textContent = a.tag + " " + a.kind;
        tr.children[2].textContent = a.message + " (" + fmt(a.value) + ")";
        tr.children[3].textContent = a.state;
        if (canAck && (a.state === "UNACKED" || a.state === "RTN_UNACKED")) {
          var b = document.createElement("button");
          b.textContent = "Acknowledge";
          b.className = "ack";
          b.onclick = function () { ws.send(JSON.stringify({ type: "ack", id: a.id })); };
          var td = document.createElement("td"); td.appendChild(b); tr.appendChild(td);
        }
        alarmTable.appendChild(tr);
      });
    }
  }

  function setLink(up) {
    if (!linkState) { return; }
    linkState.textContent = up ? "live" : "reconnecting…";
    linkState.classList.toggle("down", !up);
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(scheme + location.host + "/ws/hmi/");
    ws.onmessage = function (event) {
      var msg;
      try { msg = JSON.parse(event.data); } catch (e) { return; }
      if (msg.seq) {
        if (lastSeq && msg.seq !== lastSeq + 1 && msg.type !== "ready") { ws.send(JSON.stringify({ type: "resync" })); }
        lastSeq = msg.seq;
      }
      if (msg.type === "ready") {
        delay = 1000;
        var sub = subscription();
        // "live" means subscribed: the snapshot arrives after the server has joined the site groups, so a value
        // published from then on reaches this page.
        if (sub) { ws.send(JSON.stringify(sub)); } else { setLink(true); }
      } else if (msg.type === "snapshot") {
        setLink(true);
        alarms = {};
        (msg.alarms || []).forEach(function (a) { alarms[a.id] = a; });
        (msg.values || []).forEach(showValue);
        renderAlarms();
      } else if (msg.type === "values") {
        msg.values.forEach(showValue);
        document.dispatchEvent(new CustomEvent("hmi:values", { detail: msg.values }));
      } else if (msg.type === "alarm") {
        alarms[msg.alarm.id] = msg.alarm;
        renderAlarms();
      } else if (msg.type === "result" && !msg.ok) {
        window.alert(msg.message || msg.error);
      }
    };
    ws.onclose = function () {
      setLink(false);
      lastSeq = 0;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    };
  }
  drawLimits();
  connect();
})();
