// UI shell: keeps the notification bell current over the websocket (session cookie auth), reconnecting with backoff.
(function () {
  "use strict";
  var bell = document.querySelector(".bell .count");
  if (!bell || !("WebSocket" in window)) { return; }
  var delay = 1000;
  var lastSeq = 0;
  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(scheme + location.host + "/ws/notifications/");
    ws.onopen = function () { delay = 1000; lastSeq = 0; };
    ws.onmessage = function (event) {
      var msg;
      try { msg = JSON.parse(event.data); } catch (e) { return; }
      if (msg.seq && lastSeq && msg.seq !== lastSeq + 1) { ws.send(JSON.stringify({ type: "resync" })); }
      lastSeq = msg.seq || lastSeq;
      if (typeof msg.unread === "number") {
        bell.textContent = String(msg.unread);
        bell.setAttribute("data-unread", String(msg.unread));
      }
    };
    ws.onclose = function () {
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 60000);
    };
  }
  connect();
})();
