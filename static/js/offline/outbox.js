/* Offline outbox: entries made on this device are kept in IndexedDB until the server has them.

   Loaded by the pages (static/js/offline/page.js) and by the service worker (importScripts): plain IndexedDB, no
   library. An entry is one create request with a client-generated UUID (`id`, also the record's primary key), so a
   resend is idempotent at the server. States:
     pending  - waiting to be sent (network down, server error: retried with backoff)
     auth     - the server answered 401/403 "not signed in" or a CSRF failure: kept, the user must sign in again
     rejected - the server refused it (4xx validation, permission): kept with the field messages to fix or discard
   A sent entry (200/201) is deleted. Nothing is ever dropped without the user discarding it. */
(function (global) {
  "use strict";
  var DB_NAME = "wellsite-offline";
  var STORE = "outbox";
  var CHANNEL = "wellsite-outbox";
  var MAX_BACKOFF_MS = 5 * 60 * 1000;
  var dbPromise = null;

  function open() {
    if (dbPromise) return dbPromise;
    dbPromise = new Promise(function (resolve, reject) {
      var req = global.indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () {
        var store = req.result.createObjectStore(STORE, { keyPath: "id" });
        store.createIndex("createdAt", "createdAt");
      };
      req.onsuccess = function () {
        var db = req.result;
        db.onversionchange = function () { db.close(); dbPromise = null; };
        resolve(db);
      };
      req.onerror = function () { dbPromise = null; reject(req.error); };
    });
    return dbPromise;
  }

  function run(mode, fn) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result;
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
        result = fn(tx.objectStore(STORE));
      });
    });
  }

  function request(req) {
    return new Promise(function (resolve, reject) {
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function all() {
    return open().then(function (db) {
      return request(db.transaction(STORE, "readonly").objectStore(STORE).index("createdAt").getAll());
    });
  }

  function get(id) {
    return open().then(function (db) { return request(db.transaction(STORE, "readonly").objectStore(STORE).get(id)); });
  }

  function put(entry) {
    return run("readwrite", function (store) { store.put(entry); }).then(function () { announce(); return entry; });
  }

  function remove(id) {
    return run("readwrite", function (store) { store.delete(id); }).then(function () { announce(); });
  }

  var channel = null;
  function announce(extra) {
    try {
      if (!channel && global.BroadcastChannel) channel = new global.BroadcastChannel(CHANNEL);
      if (channel) channel.postMessage(Object.assign({ type: "changed" }, extra || {}));
    } catch (e) { /* another tab's list refreshes on its own timer */ }
  }

  function uuid4() {
    if (global.crypto && global.crypto.randomUUID) return global.crypto.randomUUID();
    var b = new Uint8Array(16);
    global.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  /* A new entry (or a corrected one: same id, so it replaces the rejected entry and stays idempotent). */
  function save(fields) {
    var now = Date.now();
    return get(fields.id).then(function (old) {
      return put({
        id: fields.id, kind: fields.kind, url: fields.url, body: fields.body, label: fields.label || fields.kind,
        owner: fields.owner, csrf: fields.csrf || "", detailUrl: fields.detailUrl || "",
        state: "pending", attempts: 0, nextAttemptAt: 0, message: "", details: [],
        createdAt: old ? old.createdAt : now, updatedAt: now
      });
    });
  }

  function backoff(attempts) {
    var base = Math.min(MAX_BACKOFF_MS, 1000 * Math.pow(2, Math.min(attempts, 20)));
    return Math.round(base * (0.5 + Math.random() * 0.5));  // jitter: tablets coming back together do not align
  }

  function isAuthFailure(status, data) {
    if (status === 401) return true;
    if (status !== 403) return false;
    var code = data && data.error;
    var message = (data && (data.message || data.detail)) || "";
    return code === "not_authenticated" || code === "authentication_failed" || /CSRF/i.test(message);
  }

  /* Send one entry; resolves to the outcome ("sent", "rejected", "auth", "retry") and updates the store. */
  function send(entry, csrf, fetchFn) {
    var token = csrf || entry.csrf;
    var body = Object.assign({}, entry.body, { id: entry.id });
    return fetchFn(entry.url, {
      method: "POST", credentials: "same-origin", redirect: "manual",
      headers: { "Accept": "application/json", "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) { return { status: r.status, data: data }; });
    }).then(function (r) {
      if (r.status === 200 || r.status === 201) {
        return remove(entry.id).then(function () {
          announce({ type: "sent", id: entry.id, kind: entry.kind, detailUrl: entry.detailUrl });
          return { outcome: "sent", id: entry.id, data: r.data };
        });
      }
      entry.attempts += 1;
      entry.updatedAt = Date.now();
      if (isAuthFailure(r.status, r.data) || r.status === 0) {  // 0: an opaque redirect to the login page
        entry.state = "auth";
        entry.failedCsrf = token;
        entry.message = "Your session has expired: sign in again to send this entry.";
      } else if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) {
        entry.state = "rejected";
        entry.message = (r.data && r.data.message) || ("Refused by the server (HTTP " + r.status + ").");
        entry.details = (r.data && r.data.details) || [];
      } else {
        entry.state = "pending";
        entry.message = "Server error (HTTP " + r.status + "): will retry.";
        entry.nextAttemptAt = Date.now() + backoff(entry.attempts);
      }
      return put(entry).then(function () { return { outcome: entry.state === "pending" ? "retry" : entry.state, id: entry.id, data: r.data }; });
    }, function () {  // network error: the link is down
      entry.attempts += 1;
      entry.state = "pending";
      entry.message = "No network: will send when the connection returns.";
      entry.nextAttemptAt = Date.now() + backoff(entry.attempts);
      return put(entry).then(function () { return { outcome: "offline", id: entry.id }; });
    });
  }

  /* Send what is due, oldest first, one at a time (so the server applies them in the order they were made).
     opts.owner: only that user's entries (a page knows who is signed in; the worker does not and sends every entry
     with the CSRF token saved with it, which the server accepts only in the same sign-in session).
     opts.csrf: the page's current token. opts.force: ignore the backoff (the network just came back). */
  function flush(opts) {
    opts = opts || {};
    var fetchFn = opts.fetch || global.fetch.bind(global);
    var work = function () {
      return all().then(function (entries) {
        var now = Date.now();
        var due = entries.filter(function (e) {
          if (opts.owner && e.owner !== opts.owner) return false;
          if (e.state === "pending") return opts.force || !e.nextAttemptAt || e.nextAttemptAt <= now;
          if (e.state === "auth") return !!opts.csrf && e.failedCsrf !== opts.csrf;  // a new sign-in: try again
          return false;
        });
        var results = [];
        var chain = Promise.resolve();
        var stop = false;
        due.forEach(function (entry) {
          chain = chain.then(function () {
            if (stop) return null;
            return send(entry, opts.csrf, fetchFn).then(function (res) {
              results.push(res);
              if (res.outcome === "offline" || res.outcome === "auth") stop = true;  // the rest would fail alike
            });
          });
        });
        return chain.then(function () { return results; });
      });
    };
    if (global.navigator && global.navigator.locks) {  // one sender at a time across tabs and the worker
      return global.navigator.locks.request("wellsite-outbox-flush", { ifAvailable: true }, function (lock) {
        return lock ? work() : [];
      });
    }
    return work();
  }

  global.WellsiteOutbox = {
    all: all, get: get, save: save, remove: remove, flush: flush, uuid4: uuid4, channelName: CHANNEL,
    discard: function (id) { return remove(id); },
    retry: function (id) {
      return get(id).then(function (e) {
        if (!e) return null;
        e.state = "pending"; e.nextAttemptAt = 0; e.message = "";
        return put(e);
      });
    }
  };
})(self);
