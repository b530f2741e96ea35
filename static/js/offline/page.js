/* Offline data entry on the page: registers the service worker (/sync/sw.js, scope "/"), shows the network state
   and what is waiting to be sent (header indicator and the `.outbox-panel` of the forms), sends the outbox when the
   network returns (Background Sync where the browser has it, else `online` events and a timer), turns the forms
   marked `data-offline-url` into offline-capable forms, and empties the user's cached pages on sign-out.
   Needs static/js/offline/outbox.js (loaded before it). No inline script, no eval: CSP `script-src 'self'`. */
(function () {
  "use strict";
  var OB = window.WellsiteOutbox;
  var state = document.getElementById("offline-state");
  if (!OB || !state || !window.indexedDB) return;
  var user = state.dataset.user;
  var root = document.documentElement;
  var TIMER_MS = 15000;
  var entries = [];

  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  /* ---- service worker ------------------------------------------------------------------------------------ */
  var registration = null;
  function markControlled() {
    if (navigator.serviceWorker && navigator.serviceWorker.controller) root.dataset.swControlled = "1";
  }
  if ("serviceWorker" in navigator && state.dataset.swUrl) {
    markControlled();
    navigator.serviceWorker.addEventListener("controllerchange", markControlled);
    navigator.serviceWorker.addEventListener("message", function (event) {
      var data = event.data || {};
      if (data.type === "flush") flush(true);
      if (data.type === "warmed") {
        root.dataset.offlineReady = "1";
        try { sessionStorage.setItem("wellsite-warmed", data.version + " " + Date.now()); } catch (e) { /* private mode */ }
      }
    });
    navigator.serviceWorker.register(state.dataset.swUrl, { scope: "/" }).then(function (reg) {
      registration = reg;
    }).catch(function () { state.dataset.swError = "1"; });
    navigator.serviceWorker.ready.then(function (reg) {
      registration = reg;
      if (!navigator.onLine || !reg.active) {
        if (navigator.serviceWorker.controller) root.dataset.offlineReady = "1";
        return;
      }
      var last = null;
      try { last = sessionStorage.getItem("wellsite-warmed"); } catch (e) { /* private mode */ }
      var fresh = last && Date.now() - Number(last.split(" ")[1]) < 10 * 60 * 1000;
      if (fresh && navigator.serviceWorker.controller) root.dataset.offlineReady = "1";
      else reg.active.postMessage({ type: "warm" });  // keep the forms and their reference data on this device
    });
  }

  function requestBackgroundSync() {
    if (registration && registration.sync && registration.sync.register) {
      return registration.sync.register("wellsite-outbox").catch(function () { return null; });
    }
    return Promise.resolve(null);
  }

  /* ---- sign-out: forget this user's cached pages and data (the outbox stays: it is unsent work) ------------- */
  var logout = document.getElementById("logout-form");
  if (logout && window.caches) {
    logout.addEventListener("submit", function (event) {
      event.preventDefault();
      var cleared = caches.keys().then(function (names) {
        return Promise.all(names.filter(function (n) {
          return n.indexOf("wellsite-pages-") === 0 || n.indexOf("wellsite-data-") === 0;
        }).map(function (n) { return caches.delete(n); }));
      });
      if (navigator.serviceWorker && navigator.serviceWorker.controller) {
        navigator.serviceWorker.controller.postMessage({ type: "logout" });
      }
      var timeout = new Promise(function (resolve) { setTimeout(resolve, 1500); });
      Promise.race([cleared, timeout]).then(function () { logout.submit(); }, function () { logout.submit(); });
    });
  }

  /* ---- what is waiting ------------------------------------------------------------------------------------ */
  var STATE_TEXT = { pending: "waiting to send", auth: "sign in again to send", rejected: "rejected" };

  function mine() {
    return entries.filter(function (e) { return e.owner === user; });
  }

  function renderHeader() {
    var online = navigator.onLine;
    root.dataset.network = online ? "online" : "offline";
    var own = mine();
    var waiting = own.filter(function (e) { return e.state !== "rejected"; }).length;
    var rejected = own.length - waiting;
    var net = state.querySelector(".net");
    net.textContent = online ? "online" : "offline";
    net.className = "net " + (online ? "is-online" : "is-offline");
    var count = state.querySelector(".outbox-count");
    count.textContent = waiting + " waiting to send" + (rejected ? " \u00b7 " + rejected + " rejected" : "");
    count.dataset.count = String(waiting);
    count.hidden = own.length === 0;
    var others = entries.length - own.length;
    state.title = "Entries saved on this device are sent when the network returns." +
      (others ? " " + others + " more belong to another user and wait for them to sign in." : "");
    state.hidden = online && own.length === 0;
    var auth = own.some(function (e) { return e.state === "auth"; });
    var notice = state.querySelector(".signin");
    notice.hidden = !auth;
    notice.href = state.dataset.loginUrl + "?next=" + encodeURIComponent(location.pathname);
  }

  function renderPanel(panel) {
    var kind = panel.dataset.outboxKind;
    var own = mine().filter(function (e) { return e.kind === kind; });
    var waiting = own.filter(function (e) { return e.state !== "rejected"; }).length;
    panel.hidden = own.length === 0;
    panel.querySelector(".outbox-summary").textContent = waiting + " waiting to send" +
      (own.length - waiting ? ", " + (own.length - waiting) + " rejected" : "");
    var list = panel.querySelector(".outbox-list");
    list.textContent = "";
    own.forEach(function (entry) {
      var li = el("li", null, "outbox-entry state-" + entry.state);
      li.dataset.id = entry.id;
      li.appendChild(el("span", entry.label, "label"));
      li.appendChild(el("span", STATE_TEXT[entry.state] || entry.state, "badge"));
      if (entry.message) li.appendChild(el("span", entry.message, "message"));
      if (entry.details && entry.details.length) {
        var ul = el("ul", null, "details");
        entry.details.forEach(function (d) { ul.appendChild(el("li", d.field + ": " + d.error)); });
        li.appendChild(ul);
      }
      var actions = el("span", null, "actions");
      if (entry.state === "rejected") {
        if (panel.dataset.editable === "1") {
          actions.appendChild(button("Edit", "Load it into the form to fix it", function () {
            document.dispatchEvent(new CustomEvent("outbox:edit", { detail: entry }));
          }));
        }
        actions.appendChild(button("Discard", "Delete this entry from the device", function () {
          OB.discard(entry.id).then(refresh);
        }));
      }
      if (entry.state === "auth") {
        actions.appendChild(button("Retry", "Send it again", function () { OB.retry(entry.id).then(function () { flush(true); }); }));
      }
      li.appendChild(actions);
      list.appendChild(li);
    });
  }

  function button(label, title, onclick) {
    var b = el("button", label);
    b.type = "button";
    b.title = title;
    b.addEventListener("click", onclick);
    return b;
  }

  function render() {
    renderHeader();
    Array.prototype.forEach.call(document.querySelectorAll(".outbox-panel[data-outbox-kind]"), renderPanel);
  }

  function refresh() {
    return OB.all().then(function (all) { entries = all; render(); }, function () { render(); });
  }

  /* ---- sending ------------------------------------------------------------------------------------------- */
  var flushing = null;
  function flush(force) {
    if (!navigator.onLine) return refresh().then(function () { return []; });
    if (flushing) return flushing.then(function () { return flush(force); });  // entries saved meanwhile
    flushing = OB.flush({ owner: user, csrf: csrf(), force: !!force }).then(function (results) {
      flushing = null;
      return refresh().then(function () { return results; });
    }, function () {
      flushing = null;
      return refresh().then(function () { return []; });
    });
    return flushing;
  }

  /* Save an entry on this device, then try to send it now. Resolves to {outcome, data} for this entry:
     "sent", "rejected", "auth" (kept until sign-in), or "queued" (no network / server down: sent later). */
  function queue(fields) {
    fields.owner = user;
    fields.csrf = csrf();
    return OB.save(fields).then(function () {
      return requestBackgroundSync();
    }).then(function () {
      return navigator.onLine ? flush(true) : refresh().then(function () { return []; });
    }).then(function (results) {
      var mineResult = (results || []).filter(function (r) { return r.id === fields.id; })[0];
      if (!mineResult || mineResult.outcome === "offline" || mineResult.outcome === "retry") {
        return { outcome: "queued" };
      }
      return mineResult;
    });
  }

  window.WellsiteOffline = { queue: queue, flush: flush, refresh: refresh, uuid4: OB.uuid4, user: user };

  window.addEventListener("online", function () { flush(true); });
  window.addEventListener("offline", render);
  if (window.BroadcastChannel) {
    new BroadcastChannel(OB.channelName).onmessage = function () { refresh(); };
  }
  setInterval(function () { flush(false); }, TIMER_MS);
  refresh().then(function () { flush(true); });

  /* ---- server-rendered forms that work offline: <form data-offline-url="/api/v1/..." data-offline-kind=...> -- */
  function formBody(form) {
    var body = {};
    Array.prototype.forEach.call(form.elements, function (f) {
      if (!f.name || f.name === "csrfmiddlewaretoken" || f.disabled) return;
      if (f.type === "submit" || f.type === "button" || f.type === "reset") return;
      if (f.type === "checkbox") { body[f.name] = f.checked; return; }
      if (f.type === "select-multiple") {
        body[f.name] = Array.prototype.filter.call(f.options, function (o) { return o.selected; }).map(function (o) { return o.value; });
        return;
      }
      if (f.value === "") return;  // not given: the server's default (or its "required" message)
      body[f.name] = f.value;
    });
    return body;
  }

  function fillForm(form, body) {
    form.reset();
    Object.keys(body).forEach(function (name) {
      var f = form.elements[name];
      if (!f) return;
      if (f.type === "checkbox") f.checked = !!body[name];
      else if (f.type === "select-multiple") {
        Array.prototype.forEach.call(f.options, function (o) { o.selected = body[name].indexOf(o.value) >= 0; });
      } else f.value = body[name];
    });
  }

  function labelOf(form) {
    var parts = (form.dataset.offlineLabel || "").split(",").filter(Boolean).map(function (name) {
      var f = form.elements[name.trim()];
      if (!f) return "";
      if (f.tagName === "SELECT" && f.selectedIndex >= 0) return f.options[f.selectedIndex].text;
      return f.value;
    }).filter(Boolean);
    return (form.dataset.offlineTitle || "Entry") + (parts.length ? ": " + parts.join(" \u00b7 ") : "");
  }

  function clearErrors(form) {
    Array.prototype.forEach.call(form.querySelectorAll(".offline-errors"), function (n) { n.remove(); });
  }

  function showErrors(form, data) {
    clearErrors(form);
    var general = [];
    ((data && data.details) || []).forEach(function (d) {
      var f = form.elements[d.field];
      if (f && f.parentNode) {
        var ul = el("ul", null, "errorlist offline-errors");
        ul.appendChild(el("li", d.error));
        f.parentNode.insertBefore(ul, f);
      } else {
        general.push((d.field === "non_field_errors" ? "" : d.field + ": ") + d.error);
      }
    });
    if (general.length) {
      var top = el("ul", null, "errorlist nonfield offline-errors");
      general.forEach(function (g) { top.appendChild(el("li", g)); });
      form.insertBefore(top, form.firstChild);
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-offline-url]"), function (form) {
    var status = form.querySelector(".offline-status");
    function say(text, link) {
      status.textContent = text;
      if (link) {
        var a = el("a", link.text);
        a.href = link.href;
        status.appendChild(document.createTextNode(" "));
        status.appendChild(a);
      }
    }
    document.addEventListener("outbox:edit", function (event) {
      var entry = event.detail;
      if (entry.kind !== form.dataset.offlineKind) return;
      fillForm(form, entry.body);
      form.dataset.editingId = entry.id;
      showErrors(form, { details: entry.details });
      say("Correct the entry and save it again (it replaces the rejected one).");
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var id = form.dataset.editingId || OB.uuid4();
      var body = formBody(form);
      var submit = form.querySelector("button[type=submit]");
      if (submit) submit.disabled = true;
      say("Saving\u2026");
      queue({ id: id, kind: form.dataset.offlineKind, url: form.dataset.offlineUrl, body: body, label: labelOf(form),
              detailUrl: (form.dataset.offlineDetail || "").replace("{id}", id) }).then(function (res) {
        if (submit) submit.disabled = false;
        if (res.outcome === "rejected") {
          form.dataset.editingId = id;
          showErrors(form, res.data);
          say("Not saved: " + ((res.data && res.data.message) || "the server refused it") + ". Correct it and save again.");
          return;
        }
        delete form.dataset.editingId;
        clearErrors(form);
        var keep = (form.dataset.offlineKeep || "").split(",").filter(Boolean);
        var kept = {};
        keep.forEach(function (name) { if (body[name] !== undefined) kept[name] = body[name]; });
        fillForm(form, kept);  // ready for the next entry (the report of a time log stays selected)
        if (res.outcome === "sent") {
          say("Saved.", form.dataset.offlineDetail ? { text: "Open it", href: form.dataset.offlineDetail.replace("{id}", id) } : null);
        } else if (res.outcome === "auth") {
          say("Saved on this device. Your session has expired: sign in again to send it.");
        } else {
          say("Saved on this device: it will be sent when the network returns.");
        }
      }, function () {
        if (submit) submit.disabled = false;
        say("Could not save on this device (storage unavailable).");
      });
    });
  });
})();
