/* Toolstring builder: add, remove and reorder components; totals and findings are refreshed from the JSON check
   endpoint on every change (no page reload). Vanilla JS, no external dependency. */
(function () {
  "use strict";
  var root = document.getElementById("ts-builder");
  if (!root) return;
  var $ = function (id) { return document.getElementById(id); };
  var ds = root.dataset;
  var state = { id: ds.toolstringId || null, tools: [], catalogue: {}, checkSeq: 0 };

  function csrf() {
    var input = root.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function api(method, url, body) {
    var opts = { method: method, credentials: "same-origin",
                 headers: { "Accept": "application/json", "X-CSRFToken": csrf() } };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(url, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) { return { status: r.status, data: data }; });
    });
  }

  function num(id) {
    var v = $(id).value;
    return v === "" ? null : v;
  }

  function payload() {
    return {
      name: $("ts-name").value,
      wellId: $("ts-well").value || null,
      operationType: $("ts-operation").value,
      wireSizeMm: num("ts-wire"),
      whpKpa: num("ts-whp"),
      lubricatorLengthM: num("ts-lub"),
      tools: state.tools.map(function (t) {
        if (t.componentId) return { componentId: t.componentId };
        return t;
      })
    };
  }

  function text(tag, value, cls) {
    var el = document.createElement(tag);
    el.textContent = value === null || value === undefined ? "" : String(value);
    if (cls) el.className = cls;
    return el;
  }

  function button(label, title, onclick, disabled) {
    var b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.title = title;
    b.disabled = !!disabled;
    b.addEventListener("click", onclick);
    return b;
  }

  function move(index, delta) {
    var j = index + delta;
    if (j < 0 || j >= state.tools.length) return;
    var tmp = state.tools[index];
    state.tools[index] = state.tools[j];
    state.tools[j] = tmp;
    changed();
  }

  function remove(index) {
    state.tools.splice(index, 1);
    changed();
  }

  function renderRows(flagged) {
    var body = $("ts-rows");
    body.textContent = "";
    state.tools.forEach(function (t, i) {
      var tr = document.createElement("tr");
      tr.dataset.position = i;
      if (flagged[i]) tr.className = "finding-" + flagged[i];
      tr.appendChild(text("td", i));
      tr.appendChild(text("td", t.name));
      tr.appendChild(text("td", t.toolType));
      tr.appendChild(text("td", t.odMm));
      tr.appendChild(text("td", t.lengthM));
      tr.appendChild(text("td", t.weightKg));
      tr.appendChild(text("td", (t.topConnection || "") + " " + (t.topGender || "")));
      tr.appendChild(text("td", (t.bottomConnection || "") + " " + (t.bottomGender || "")));
      var actions = document.createElement("td");
      actions.appendChild(button("\u2191", "Move up", function () { move(i, -1); }, i === 0));
      actions.appendChild(button("\u2193", "Move down", function () { move(i, 1); }, i === state.tools.length - 1));
      actions.appendChild(button("\u2715", "Remove", function () { remove(i); }));
      tr.appendChild(actions);
      body.appendChild(tr);
    });
  }

  function renderReport(report) {
    var t = report.totals || {};
    $("ts-totals").textContent = (t.count || 0) + " components \u00b7 length " + (t.length_m || 0) + " m \u00b7 weight " +
      (t.weight_kg || 0) + " kg \u00b7 max OD " + (t.max_od_mm || 0) + " mm" +
      (t.od_limit_mm !== undefined ? " (limit " + t.od_limit_mm + " mm)" : "") +
      (t.stem_weight_needed_kg !== undefined ? " \u00b7 stem " + t.stem_weight_kg + " kg of " + t.stem_weight_needed_kg + " kg needed" : "");
    var list = $("ts-findings");
    list.textContent = "";
    var flagged = {};
    (report.findings || []).forEach(function (f) {
      var li = text("li", "[" + f.code + "] " + f.message, f.severity);
      li.insertBefore(text("strong", f.severity + " "), li.firstChild);
      list.appendChild(li);
      (f.components || []).forEach(function (p) {
        if (f.severity === "error" || !flagged[p]) flagged[p] = f.severity;
      });
    });
    renderRows(flagged);
  }

  function showErrors(data) {
    var details = (data && data.details) || [];
    $("ts-status").textContent = (data && data.message ? data.message : "Request failed") +
      (details.length ? ": " + details.map(function (d) { return d.field + " " + d.error; }).join("; ") : "");
  }

  function changed() {
    renderRows({});
    var seq = ++state.checkSeq;
    var body = payload();
    api("POST", ds.checkUrl, { wellId: body.wellId, tools: body.tools, wireSizeMm: body.wireSizeMm,
                               whpKpa: body.whpKpa, lubricatorLengthM: body.lubricatorLengthM })
      .then(function (r) {
        if (seq !== state.checkSeq) return;  // a newer change is being checked
        if (r.status === 200) renderReport(r.data);
        else if (r.status === 503 || r.status === 0) renderLocal();
        else showErrors(r.data);
      }, function () {
        if (seq === state.checkSeq) renderLocal();  // no network: totals here, the rule checks when it returns
      });
  }

  /* Offline: the totals from the components on the page; the configurator's rules need the server. */
  function renderLocal() {
    var n = function (v) { return v === null || v === undefined || v === "" ? 0 : Number(v); };
    var totals = { count: state.tools.length, length_m: 0, weight_kg: 0, max_od_mm: 0 };
    state.tools.forEach(function (t) {
      totals.length_m += n(t.lengthM);
      totals.weight_kg += n(t.weightKg);
      totals.max_od_mm = Math.max(totals.max_od_mm, n(t.odMm));
    });
    totals.length_m = Math.round(totals.length_m * 1000) / 1000;
    totals.weight_kg = Math.round(totals.weight_kg * 1000) / 1000;
    renderReport({ totals: totals, findings: [] });
    $("ts-findings").appendChild(text("li", "Offline: the configurator's checks run when the network returns.", "info"));
  }

  function uuid4() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function stored(r) {
    state.id = r.data.toolstring.id;
    state.pendingId = null;
    $("ts-status").textContent = "Saved (" + r.data.toolstring.status + ").";
    if (!ds.toolstringId) window.history.replaceState(null, "", "/intervention/toolstrings/" + state.id + "/builder/");
    renderReport(r.data.toolstring.check);
  }

  /* A new string goes through the device's outbox (static/js/offline/): saved here first with its client UUID, sent
     now if the network is up, else when it returns. Editing a stored string needs the network. */
  function save() {
    var body = payload();
    $("ts-status").textContent = "Saving\u2026";
    if (state.id) {
      api("PUT", ds.contractUrl + "/" + state.id, body).then(function (r) {
        if (r.status === 200 || r.status === 201) stored(r); else showErrors(r.data);
      }, function () {
        $("ts-status").textContent = "No network: changes to a stored string need the connection (new strings can be saved offline).";
      });
      return;
    }
    state.pendingId = state.pendingId || uuid4();  // a retried or corrected save re-sends the same id: idempotent
    body.id = state.pendingId;
    var offline = window.WellsiteOffline;
    if (!offline) {
      api("POST", ds.contractUrl, body).then(function (r) {
        if (r.status === 200 || r.status === 201) stored(r); else showErrors(r.data);
      });
      return;
    }
    var label = (body.name || "(no name)") + " \u00b7 " + state.tools.length + " components";
    offline.queue({ id: body.id, kind: "toolstring", url: ds.contractUrl, body: body, label: label,
                    detailUrl: "/intervention/toolstrings/" + body.id + "/builder/" }).then(function (r) {
      if (r.outcome === "sent") { stored(r); return; }
      if (r.outcome === "rejected") { showErrors(r.data); return; }  // fix it and save: same id, replaces it
      var saved = r.outcome === "auth"
        ? "Saved on this device. Your session has expired: sign in again to send it."
        : "Saved on this device (" + body.name + "): it will be sent when the network returns.";
      reset();
      $("ts-status").textContent = saved;
    }, function () {
      $("ts-status").textContent = "Could not save on this device (storage unavailable).";
    });
  }

  /* Ready for the next new string (after one was saved on the device). */
  function reset() {
    state.id = null;
    state.pendingId = null;
    state.tools = [];
    ["ts-name", "ts-operation", "ts-wire", "ts-whp", "ts-lub"].forEach(function (id) { $(id).value = ""; });
    changed();
  }

  /* "Edit" on a rejected entry of the outbox panel: load it back into the builder to correct and save again. */
  document.addEventListener("outbox:edit", function (event) {
    var entry = event.detail;
    if (entry.kind !== "toolstring" || ds.toolstringId) return;
    var b = entry.body;
    state.id = null;
    state.pendingId = entry.id;
    $("ts-name").value = b.name || "";
    $("ts-well").value = b.wellId || "";
    $("ts-operation").value = b.operationType || "";
    $("ts-wire").value = b.wireSizeMm === null || b.wireSizeMm === undefined ? "" : b.wireSizeMm;
    $("ts-whp").value = b.whpKpa === null || b.whpKpa === undefined ? "" : b.whpKpa;
    $("ts-lub").value = b.lubricatorLengthM === null || b.lubricatorLengthM === undefined ? "" : b.lubricatorLengthM;
    state.tools = (b.tools || []).map(function (t) {
      return t.componentId && state.catalogue[t.componentId] ? fromComponent(state.catalogue[t.componentId]) : t;
    });
    showErrors({ message: entry.message, details: entry.details });
    changed();
  });

  function approve() {
    api("POST", "/api/v1/intervention/toolstrings/" + state.id + "/approve/").then(function (r) {
      if (r.status === 200) $("ts-status").textContent = "Approved.";
      else showErrors(r.data);
    });
  }

  function fromItem(item) {
    return { componentId: item.componentId, name: item.name, toolType: item.toolType, odMm: item.odMm,
             fishingNeckOdMm: item.fishingNeckOdMm, lengthM: item.lengthM, weightKg: item.weightKg,
             topConnection: item.topConnection, topGender: item.topGender, bottomConnection: item.bottomConnection,
             bottomGender: item.bottomGender, rotating: item.rotating };
  }

  function fromComponent(c) {
    return { componentId: c.id, name: c.code + " " + c.name, toolType: c.tool_type, odMm: c.od_mm,
             fishingNeckOdMm: c.fishing_neck_od_mm, lengthM: c.length_m, weightKg: c.weight_kg,
             topConnection: c.top_connection, topGender: c.top_gender, bottomConnection: c.bottom_connection,
             bottomGender: c.bottom_gender, rotating: c.rotating };
  }

  function init() {
    var loads = [api("GET", ds.componentsUrl), api("GET", ds.wellsUrl)];
    if (state.id) loads.push(api("GET", ds.contractUrl + "/" + state.id));
    Promise.all(loads.map(function (p) { return p.catch(function () { return { status: 0, data: {} }; }); }))
      .then(function (res) {
      var cat = $("ts-catalogue");
      (res[0].data.results || []).forEach(function (c) {
        state.catalogue[c.id] = c;
        var o = document.createElement("option");
        o.value = c.id;
        o.textContent = c.code + " \u2014 " + c.name + " (" + c.od_mm + " mm)";
        cat.appendChild(o);
      });
      var wells = $("ts-well");
      (res[1].data.results || []).forEach(function (w) {
        var o = document.createElement("option");
        o.value = w.id;
        o.textContent = w.name;
        wells.appendChild(o);
      });
      if (res[2] && res[2].status === 200) {
        var ts = res[2].data.toolstring;
        $("ts-name").value = ts.name;
        wells.value = ts.wellId;
        $("ts-operation").value = ts.operationType;
        $("ts-wire").value = ts.wireSizeMm === null ? "" : ts.wireSizeMm;
        $("ts-whp").value = ts.whpKpa === null ? "" : ts.whpKpa;
        $("ts-lub").value = ts.lubricatorLengthM === null ? "" : ts.lubricatorLengthM;
        state.tools = ts.tools.map(fromItem);
      }
      changed();
    });
    $("ts-add").addEventListener("click", function () {
      var c = state.catalogue[$("ts-catalogue").value];
      if (c) { state.tools.push(fromComponent(c)); changed(); }
    });
    ["ts-well", "ts-wire", "ts-whp", "ts-lub"].forEach(function (id) { $(id).addEventListener("change", changed); });
    $("ts-save").addEventListener("click", save);
    $("ts-approve").addEventListener("click", approve);
    if (ds.canChange !== "1") $("ts-save").disabled = true;
  }

  init();
})();
