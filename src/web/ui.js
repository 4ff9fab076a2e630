// The inbox pages' script. Served from this server only (CSP script-src 'self'); no
// framework, nothing external; every page works without it.
//
// Live (pages whose script tag has data-live, the inbox): when a request event arrives on
// /ui/events (Server-Sent Events, the session's cookie), the page fetches itself again and
// swaps its <main> and title in place, so new requests appear, decided ones leave and the
// tab's title keeps the count.
//
// A request's page (data-live-request="ID") follows that request the same way, as long as
// the person has not started filling in its form; once they have, it says the request
// changed and offers a reload instead of throwing their input away. Its deadline counts down.
//
// The audit chain's verification page moves its progress bar from /ui/audit/verify.json and
// reloads when the verification ends.
//
// Keyboard shortcuts, ignored while typing in a field or with Ctrl, Alt or Meta held:
//   j / k   the next / previous request in a list (then Enter opens it)
//   a / d   on a request's page: approve / deny, after a confirmation
//   /       search requests
//   ?       show or hide the list of shortcuts
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var base = script.getAttribute("data-base") || "";
  shortcuts();
  countdown();
  verifyProgress();
  if (location.hash === "#search") {
    var search = document.querySelector("form[role=search] input");
    if (search) search.focus();
  }
  var only = script.getAttribute("data-live-request");
  if (!script.hasAttribute("data-live") && !only) return;
  if (!window.EventSource || !window.fetch || !window.DOMParser) return;
  var touched = false;
  if (only) {
    document.addEventListener("input", function () { touched = true; });
  }
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

  // The page as last fetched, by its ETag: the server answers 304 when nothing it shows has
  // changed (an event about a request this page does not list), so nothing is sent or swapped.
  var shownTag = null;
  var soon = null;

  // Events come in bursts (a batch decision, an escalation): one fetch for each burst.
  function refreshSoon() {
    if (soon) return;
    soon = setTimeout(function () { soon = null; refresh(); }, 150);
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    var headers = { Accept: "text/html" };
    if (shownTag) headers["If-None-Match"] = shownTag;
    fetch(window.location.href, { credentials: "same-origin", headers: headers,
                                  cache: "no-store", redirect: "manual" })
      .then(function (response) {
        if (response.status === 304) return null;
        // Signed out meanwhile (a redirect to the sign-in page): show that page.
        if (response.type === "opaqueredirect" || response.status !== 200) {
          window.location.reload();
          return null;
        }
        shownTag = response.headers.get("ETag");
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
          countdown();
        }
      })
      .catch(function () { /* the next event tries again */ })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  function changed(event) {
    if (only) {
      var data = null;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (!data || data.request_id !== only) return;
      if (touched) { stale(); return; }
    }
    refreshSoon();
  }

  // The person's input is worth more than a fresh page: say so, and let them reload.
  function stale() {
    if (document.getElementById("changed")) return;
    var note = document.createElement("p");
    note.id = "changed";
    note.className = "notice warn";
    note.setAttribute("role", "alert");
    note.textContent = "This request has changed since you opened it. ";
    var link = document.createElement("a");
    link.href = window.location.pathname;
    link.textContent = "Reload to see it";
    note.appendChild(link);
    document.querySelector("main h1").after(note);
  }

  var events = new EventSource(base + "/ui/events");
  kinds.forEach(function (kind) { events.addEventListener(kind, changed); });
  // Back after a dropped connection: catch up on whatever was missed.
  events.addEventListener("open", function () {
    if (events.seenOpen) refresh();
    events.seenOpen = true;
  });
  // The stream refused for good (the session ended: signed out elsewhere, expired, its token
  // revoked): fetching the page again shows the sign-in page if that is why.
  events.addEventListener("error", function () {
    if (events.readyState === EventSource.CLOSED) refresh();
  });

  // "Time left: 4 min 05 s", every second, until the deadline.
  function countdown() {
    var line = document.querySelector("[data-deadline]");
    if (!line) return;
    var due = Date.parse(line.getAttribute("data-deadline"));
    var shown = line.querySelector(".left");
    if (isNaN(due) || !shown) return;
    function pad(n) { return (n < 10 ? "0" : "") + n; }
    function tick() {
      var left = Math.max(0, Math.round((due - Date.now()) / 1000));
      var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600);
      var m = Math.floor(left % 3600 / 60), sec = left % 60;
      shown.textContent = left === 0 ? "none: the deadline has passed"
        : d > 0 ? d + " d " + h + " h"
        : h > 0 ? h + " h " + pad(m) + " min"
        : m + " min " + pad(sec) + " s";
      if (left > 0 && document.contains(line)) setTimeout(tick, 1000);
    }
    line.hidden = false;
    tick();
  }

  function verifyProgress() {
    var bar = document.querySelector("progress[data-verify]");
    if (!bar || !window.fetch) return;
    var status = document.getElementById("verify-status");
    function poll() {
      fetch(bar.getAttribute("data-verify"), { credentials: "same-origin", cache: "no-store" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (state) {
          if (!state) return;
          if (!state.running) { window.location.reload(); return; }
          bar.max = Math.max(1, state.total);
          bar.value = state.checked;
          bar.textContent = Math.floor(100 * state.checked / bar.max) + " %";
          if (status) status.textContent = state.sentence;
          setTimeout(poll, 300);
        })
        .catch(function () { setTimeout(poll, 1000); });
    }
    poll();
  }

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
                  ["d", "deny this request (asks first)"], ["/", "search requests"],
                  ["?", "show or hide this list"]];
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

    function search() {
      var field = document.querySelector("form[role=search] input");
      if (field) { field.focus(); field.select(); return; }
      window.location.href = base + "/ui/requests#search";
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
        case "/": search(); break;
        case "?": toggleHelp(); break;
        default: handled = false;
      }
      if (handled) event.preventDefault();
    });
  }
})();
