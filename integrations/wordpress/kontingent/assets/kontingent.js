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

  function refresh(box) {
    fetch(box.dataset.availability, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (a) {
        if (!a || !a.left) return;
        box.querySelectorAll("[data-offer]").forEach(function (el) {
          var left = a.left[el.dataset.offer];
          if (typeof left !== "number" || el.closest(".kontingent-slot-list") && left > 0 && el.classList.contains("kontingent-full")) return;
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
    var pending = null;
    var soon = function () {
      if (pending) return;
      pending = setTimeout(function () { pending = null; refresh(box); }, 300);
    };
    if (box.dataset.events && typeof EventSource === "function") {
      var es = new EventSource(box.dataset.events);
      es.onmessage = soon;
      es.onerror = function () { soon(); };
      // Quiet minutes still refresh now and then (a stream cut by a proxy).
      setInterval(soon, 30000);
    } else {
      setInterval(soon, 3000);
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

  // A page cache would hand every visitor the same request id, and the second
  // visitor the first one's outcome: each page view mints its own. The id stays
  // the same for this form's double submits and for a back-and-resend.
  if (window.crypto && crypto.getRandomValues) {
    document.querySelectorAll(".kontingent-form input[name=request_id]").forEach(function (input) {
      var bytes = new Uint8Array(16);
      crypto.getRandomValues(bytes);
      input.value = Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
    });
  }

  document.querySelectorAll(".kontingent[data-availability]").forEach(live);
  document.querySelectorAll(".kontingent-countdown").forEach(countdown);
})();
