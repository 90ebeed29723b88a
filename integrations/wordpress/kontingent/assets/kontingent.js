/*
 * Keeps the forms' "N left" current and ticks the countdowns. What is left comes
 * from this site's REST route (the server's snapshot); it is asked again when the
 * server's public event stream says something changed, or every 3 s when the
 * server is not reachable from browsers. The countdown counts down from the
 * server's clock at render, by the time this page has been open, so a visitor's
 * wrong clock does not matter.
 */
(function () {
  "use strict";

  // `wanted`: the seq of the last event heard of; an answer older than it (the
  // site caches the snapshot for 2 s) is asked for again a moment later.
  function refresh(box, wanted, again) {
    fetch(box.dataset.availability, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (a) {
        if (!a || !a.left) return;
        if (a.seq < wanted) setTimeout(again, 1000);
        box.querySelectorAll("[data-offer]").forEach(function (el) {
          var left = a.left[el.dataset.offer];
          // A slot the server does not offer now (lead time, cut-off) stays greyed.
          if (typeof left !== "number" || el.dataset.bookable === "0") return;
          var n = el.querySelector(".kontingent-left");
          if (n) n.textContent = String(left);
          el.classList.toggle("kontingent-full", left <= 0);
          // A choice that came back is offered again; one that ran out stays
          // choosable (greyed): the visitor's post gets the server's answer,
          // with what is left, rather than a choice pulled from under them.
          var input = el.querySelector("input");
          if (input && input.type === "radio" && left > 0) input.disabled = false;
        });
      })
      .catch(function () { /* the next change or tick asks again */ });
  }

  function live(box) {
    var pending = null, wanted = 0;
    var soon = function () {
      if (pending) return;
      pending = setTimeout(function () { pending = null; refresh(box, wanted, soon); }, 300);
    };
    var poll = function () { setInterval(soon, 3000); };
    if (box.dataset.events && typeof EventSource === "function") {
      var es = new EventSource(box.dataset.events);
      es.onmessage = function (e) {
        wanted = Math.max(wanted, Number(e.lastEventId) || 0);
        soon();
      };
      var giveUp = function () { es.close(); poll(); };
      // The server ends a stream whose events were compacted away with an
      // `error` event; a stream the browser stopped retrying is closed: ask the
      // site every few seconds instead.
      es.addEventListener("error", function (e) {
        if (e.data !== undefined || es.readyState === EventSource.CLOSED) giveUp();
        else soon();
      });
      // Quiet minutes still refresh now and then (a stream cut by a proxy).
      setInterval(soon, 30000);
    } else {
      poll();
    }
  }

  function countdown(el) {
    var opensAt = Number(el.dataset.opensAt), now = Number(el.dataset.now), start = Date.now();
    var tick = function () {
      var left = Math.floor((opensAt - now - (Date.now() - start)) / 1000);
      if (left <= 0) {
        el.textContent = el.dataset.openText;
        clearInterval(timer);
        return;
      }
      var h = Math.floor(left / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
      el.textContent = h + ":" + (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
    };
    var timer = setInterval(tick, 1000);
    tick();
  }

  // Request ids. A page cache would hand every visitor the same id, and the
  // second visitor the first one's outcome: each page view mints its own. But a
  // form that was sent and whose answer this tab never saw (a proxy's timeout
  // page, then Back) keeps its id until its result page is shown, so sending it
  // again cannot reserve twice.
  var store = null;
  try { store = window.sessionStorage; } catch (e) { /* storage off: fresh ids only */ }
  var keyOf = function (form) {
    return "kontingent|" + form.querySelector("input[name=action]").value + "|" + form.querySelector("input[name=ledger]").value;
  };
  var shown = new URLSearchParams(location.search).get("kontingent");
  if (store && shown && document.querySelector(".kontingent-outcome:not([data-status=error])")) {
    for (var i = store.length - 1; i >= 0; i--) {
      var k = store.key(i);
      if (k && k.indexOf("kontingent|") === 0 && store.getItem(k) === shown) store.removeItem(k);
    }
  }
  document.querySelectorAll(".kontingent-form").forEach(function (form) {
    var input = form.querySelector("input[name=request_id]");
    var pending = store && store.getItem(keyOf(form));
    if (pending && /^[0-9a-f]{32}$/.test(pending)) {
      input.value = pending;
    } else if (window.crypto && crypto.getRandomValues) {
      var bytes = new Uint8Array(16);
      crypto.getRandomValues(bytes);
      input.value = Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
    }
    form.addEventListener("submit", function () {
      if (store) store.setItem(keyOf(form), input.value);
    });
  });

  document.querySelectorAll(".kontingent[data-availability]").forEach(live);
  document.querySelectorAll(".kontingent-countdown").forEach(countdown);
})();
