/* Service worker of offline data entry. Served by apps/sync/views_offline.py at /sync/sw.js (scope "/"), which
   prepends `self.WELLSITE_OFFLINE` = {version, precache, outboxScript, pages, referenceData, referenceWarm,
   staticPrefix, loginPath}.

   Strategies:
   - /static/ (hashed file names in production): cache first, precached at install;
   - the pages that work offline (the toolstring builder, the daily production and time-log forms): network first,
     cached on success, the cached copy when the network fails;
   - their reference data (GET of the tool catalogue and the wells): network first, cache fallback;
   - every other request, and every write (POST/PUT/PATCH/DELETE), goes to the network untouched: never cached.
   Caches are per version (old ones deleted on activate) and the page/data caches are emptied when the user signs out
   or the server sends the login page instead of a cached page (session over): one user's pages never reach another. */
"use strict";
var CONFIG = self.WELLSITE_OFFLINE;
var STATIC_CACHE = "wellsite-static-" + CONFIG.version;
var PAGE_CACHE = "wellsite-pages-" + CONFIG.version;
var DATA_CACHE = "wellsite-data-" + CONFIG.version;
var KEEP = [STATIC_CACHE, PAGE_CACHE, DATA_CACHE];
var NETWORK_TIMEOUT_MS = 6000;

if (CONFIG.outboxScript) importScripts(CONFIG.outboxScript);

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(STATIC_CACHE).then(function (cache) {
    // one by one: a missing file must not stop the rest from being cached
    return Promise.all(CONFIG.precache.map(function (url) {
      return cache.add(new Request(url, { credentials: "same-origin" })).catch(function () { return null; });
    }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) {
      return n.indexOf("wellsite-") === 0 && KEEP.indexOf(n) < 0;
    }).map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

function clearUserCaches() {
  return Promise.all([caches.delete(PAGE_CACHE), caches.delete(DATA_CACHE)]);
}

function isOfflinePage(url) {
  return CONFIG.pages.indexOf(url.pathname) >= 0;
}

function isReferenceData(url) {
  return CONFIG.referenceData.some(function (prefix) { return url.pathname.indexOf(prefix) === 0; });
}

function withTimeout(promise) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("network timeout")); }, NETWORK_TIMEOUT_MS);
    promise.then(function (r) { clearTimeout(timer); resolve(r); }, function (e) { clearTimeout(timer); reject(e); });
  });
}

function cacheable(response, type) {
  if (!response || !response.ok || response.redirected || response.type !== "basic") return false;
  return (response.headers.get("Content-Type") || "").indexOf(type) >= 0;
}

function offlinePage() {
  var links = CONFIG.pages.map(function (p) { return '<li><a href="' + p + '">' + p + "</a></li>"; }).join("");
  var html = '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" ' +
    'content="width=device-width, initial-scale=1"><title>Offline</title></head><body>' +
    "<h1>No network</h1><p>This page has not been saved on this device. These forms work offline; what you " +
    "enter is kept here and sent when the connection returns:</p><ul>" + links + "</ul></body></html>";
  return new Response(html, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

function networkFirst(request, cacheName, type, fallback) {
  return withTimeout(fetch(request)).then(function (response) {
    var url = new URL(response.url || request.url);
    if (response.redirected && url.pathname === CONFIG.loginPath) {
      return clearUserCaches().then(function () { return response; });  // signed out: forget the user's pages
    }
    if (cacheable(response, type)) {
      var copy = response.clone();
      caches.open(cacheName).then(function (cache) { return cache.put(request, copy); });
    }
    return response;
  }, function () {
    return caches.open(cacheName).then(function (cache) {
      return cache.match(request, { ignoreVary: true }).then(function (hit) {
        return hit || cache.match(request, { ignoreSearch: true, ignoreVary: true });
      });
    }).then(function (hit) { return hit || fallback(); });
  });
}

function cacheFirst(request) {
  return caches.open(STATIC_CACHE).then(function (cache) {
    return cache.match(request).then(function (hit) {
      if (hit) return hit;
      return fetch(request).then(function (response) {
        if (response.ok && response.type === "basic") cache.put(request, response.clone());
        return response;
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;  // writes always go to the network, never to a cache
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.indexOf(CONFIG.staticPrefix) === 0) {
    event.respondWith(cacheFirst(request));
  } else if (request.mode === "navigate") {
    if (url.pathname === CONFIG.loginPath) {
      event.waitUntil(clearUserCaches());
      return;
    }
    if (isOfflinePage(url)) {
      event.respondWith(networkFirst(request, PAGE_CACHE, "text/html", offlinePage));
    } else {
      event.respondWith(fetch(request).catch(offlinePage));
    }
  } else if (isReferenceData(url)) {
    event.respondWith(networkFirst(request, DATA_CACHE, "json", function () {
      return new Response(JSON.stringify({ error: "offline", message: "No network and no saved copy.", details: [] }),
                          { status: 503, headers: { "Content-Type": "application/json" } });
    }));
  }
});

/* Fetch and keep the offline pages and their reference data now (called by a signed-in page), so the forms work
   offline even if the user never opened them online. Redirects (not allowed) and errors are skipped. */
function warm() {
  var urls = CONFIG.pages.map(function (p) { return [p, PAGE_CACHE, "text/html"]; })
    .concat(CONFIG.referenceWarm.map(function (p) { return [p, DATA_CACHE, "json"]; }));
  var shell = caches.open(STATIC_CACHE).then(function (cache) {  // the shell again, if something emptied the cache
    return Promise.all(CONFIG.precache.map(function (url) {
      return cache.match(url).then(function (hit) { return hit || cache.add(url); }).catch(function () { return null; });
    }));
  });
  return Promise.all([shell].concat(urls.map(function (item) {
    var request = new Request(item[0], { credentials: "same-origin" });
    return fetch(request).then(function (response) {
      if (!cacheable(response, item[2])) return null;
      return caches.open(item[1]).then(function (cache) { return cache.put(request, response); });
    }).catch(function () { return null; });
  })));
}

function broadcast(message) {
  return self.clients.matchAll({ type: "window" }).then(function (clients) {
    clients.forEach(function (c) { c.postMessage(message); });
    return clients;
  });
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "warm") {
    event.waitUntil(warm().then(function () {
      if (event.source) event.source.postMessage({ type: "warmed", version: CONFIG.version });
    }));
  } else if (data.type === "logout") {
    event.waitUntil(clearUserCaches().then(function () {
      if (event.source) event.source.postMessage({ type: "cleared" });
    }));
  }
});

/* Background Sync (Chromium): the network is back. Open pages flush with their own session; with no page open the
   worker sends each entry with the CSRF token saved with it (valid only within the sign-in session that made it, so
   an entry never goes out under another user's session). Rejecting makes the browser try again later. */
self.addEventListener("sync", function (event) {
  if (event.tag !== "wellsite-outbox" || !self.WellsiteOutbox) return;
  event.waitUntil(broadcast({ type: "flush" }).then(function (clients) {
    if (clients.length) return null;
    return self.WellsiteOutbox.flush({ force: true }).then(function (results) {
      if (results.some(function (r) { return r.outcome === "offline" || r.outcome === "retry"; })) {
        throw new Error("entries still waiting");
      }
    });
  }));
});
