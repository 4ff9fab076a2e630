// The inbox, live: when a request event arrives on /ui/events (Server-Sent Events, the
// session's cookie), the page fetches itself again and swaps its <main> and title in place,
// so new requests appear, decided ones leave and the tab's title keeps the count. Without
// JavaScript the inbox works the same, reloaded by hand. Served from this server only (CSP
// script-src 'self'); no framework, nothing external.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.EventSource || !window.fetch || !window.DOMParser) return;
  var base = script.getAttribute("data-base") || "";
  var kinds = ["request.created", "decision.recorded", "request.resolved", "request.expired",
               "request.cancelled", "request.escalated"];
  var busy = false;
  var again = false;

  // What the person was doing survives a refresh: ticked rows that are still there, text
  // typed, and the focused control.
  function keep(main) {
    var kept = { ticked: [], text: {}, focus: document.activeElement && document.activeElement.id };
    main.querySelectorAll("input[type=checkbox]:checked").forEach(function (box) {
      kept.ticked.push(box.name);
    });
    main.querySelectorAll("textarea").forEach(function (area) { kept.text[area.id] = area.value; });
    return kept;
  }

  function restore(main, kept) {
    kept.ticked.forEach(function (name) {
      var box = main.querySelector('input[type=checkbox][name="' + CSS.escape(name) + '"]');
      if (box) box.checked = true;
    });
    Object.keys(kept.text).forEach(function (id) {
      var area = id && main.querySelector("#" + CSS.escape(id));
      if (area) area.value = kept.text[id];
    });
    var focused = kept.focus && main.querySelector("#" + CSS.escape(kept.focus));
    if (focused) focused.focus();
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" },
                                  cache: "no-store", redirect: "manual" })
      .then(function (response) {
        // Signed out meanwhile (a redirect to the sign-in page): show that page.
        if (response.type === "opaqueredirect" || response.status !== 200) {
          window.location.reload();
          return null;
        }
        return response.text();
      })
      .then(function (text) {
        if (text === null) return;
        var page = new DOMParser().parseFromString(text, "text/html");
        var fresh = page.querySelector("main");
        if (fresh) {
          var kept = keep(document.querySelector("main"));
          document.querySelector("main").replaceWith(fresh);
          restore(fresh, kept);
          document.title = page.title;
        }
      })
      .catch(function () { /* the next event tries again */ })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  var events = new EventSource(base + "/ui/events");
  kinds.forEach(function (kind) { events.addEventListener(kind, refresh); });
  // Back after a dropped connection: catch up on whatever was missed.
  events.addEventListener("open", function () {
    if (events.seenOpen) refresh();
    events.seenOpen = true;
  });
})();
