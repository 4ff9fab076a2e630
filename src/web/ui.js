// The inbox pages' script. Served from this server only (CSP script-src 'self'); no
// framework, nothing external; every page works without it.
//
// Live (pages whose script tag has data-live, the inbox): when a request event arrives on
// /ui/events (Server-Sent Events, the session's cookie), the page fetches itself again and
// swaps its <main> and title in place, so new requests appear, decided ones leave and the
// tab's title keeps the count.
//
// Keyboard shortcuts, ignored while typing in a field or with Ctrl, Alt or Meta held:
//   j / k   the next / previous request in a list (then Enter opens it)
//   a / d   on a request's page: approve / deny, after a confirmation
//   ?       show or hide the list of shortcuts
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var base = script.getAttribute("data-base") || "";
  shortcuts();
  if (!script.hasAttribute("data-live")) return;
  if (!window.EventSource || !window.fetch || !window.DOMParser) return;
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

  function shortcuts() {
    var help = null;

    function toggleHelp() {
      if (help) { help.remove(); help = null; return; }
      help = document.createElement("section");
      help.id = "shortcuts";
      help.setAttribute("role", "dialog");
      help.setAttribute("aria-label", "Keyboard shortcuts");
      help.className = "notice";
      var keys = [["j / k", "next / previous request"], ["Enter", "open it"],
                  ["a", "approve this request (asks first)"],
                  ["d", "deny this request (asks first)"], ["?", "show or hide this list"]];
      var list = document.createElement("dl");
      keys.forEach(function (pair) {
        var dt = document.createElement("dt");
        var kbd = document.createElement("kbd");
        kbd.textContent = pair[0];
        dt.appendChild(kbd);
        var dd = document.createElement("dd");
        dd.textContent = pair[1];
        list.appendChild(dt);
        list.appendChild(dd);
      });
      var title = document.createElement("h2");
      title.textContent = "Keyboard shortcuts";
      help.appendChild(title);
      help.appendChild(list);
      document.querySelector("main").prepend(help);
    }

    function move(step) {
      var links = Array.prototype.slice.call(document.querySelectorAll("table.inbox a"));
      if (!links.length) return;
      var at = links.indexOf(document.activeElement);
      var next = at < 0 ? (step > 0 ? 0 : links.length - 1)
                        : Math.min(links.length - 1, Math.max(0, at + step));
      links[next].focus();
    }

    function decide(value, verb) {
      var button = document.querySelector('button[name=choice][value="' + value + '"]');
      if (!button || document.querySelector("table.inbox")) return;
      var title = document.querySelector("h1").textContent;
      if (window.confirm(verb + ": " + title + "?")) button.click();
    }

    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.altKey || event.metaKey) return;
      var target = event.target;
      if (target && (target.isContentEditable ||
                     /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
      var handled = true;
      switch (event.key) {
        case "j": move(1); break;
        case "k": move(-1); break;
        case "a": decide("approve", "Approve"); break;
        case "d": decide("deny", "Deny"); break;
        case "?": toggleHelp(); break;
        default: handled = false;
      }
      if (handled) event.preventDefault();
    });
  }
})();
