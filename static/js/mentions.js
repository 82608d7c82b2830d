// @mentions in a message: suggestions from the people who may see the recommendation, fetched
// the first time the comment box is used (the page is read far more often than written to).
// The page works without this file: its link "People you can mention" lists those people, and
// the server finds @email or @Full Name in the message whether or not a suggestion was chosen.
(function () {
  "use strict";
  var box = document.querySelector("[data-mention-source]");
  if (!box) { return; }
  var textarea = document.getElementById(box.getAttribute("data-mention-for"));
  if (!textarea) { return; }
  var people = [], requested = false, ready = false;
  var list = document.createElement("ul");
  list.id = textarea.id + "-mentions";
  list.className = "app-mention-list";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "People to mention");
  list.hidden = true;
  var status = document.createElement("div");
  status.className = "usa-sr-only";
  // A polite live region (no role="status": the page's flash message keeps that role alone).
  status.setAttribute("aria-live", "polite");
  textarea.parentNode.insertBefore(list, textarea.nextSibling);
  textarea.parentNode.insertBefore(status, list.nextSibling);
  textarea.setAttribute("aria-autocomplete", "list");
  textarea.setAttribute("aria-controls", list.id);
  var matches = [], active = -1, start = -1;

  function query() {
    var before = textarea.value.slice(0, textarea.selectionStart);
    var m = /(^|[\s(])@([^\s@]*(?: [^\s@]*)?)$/.exec(before);
    if (!m) { return null; }
    start = before.length - m[2].length - 1;
    return m[2].toLowerCase();
  }

  function close() {
    list.hidden = true;
    list.innerHTML = "";
    matches = [];
    active = -1;
    textarea.removeAttribute("aria-activedescendant");
  }

  function highlight(i) {
    active = i;
    Array.prototype.forEach.call(list.children, function (li, n) {
      li.setAttribute("aria-selected", n === i ? "true" : "false");
    });
    if (i >= 0) {
      textarea.setAttribute("aria-activedescendant", list.children[i].id);
      list.children[i].scrollIntoView({block: "nearest"});
    }
  }

  function choose(i) {
    var p = matches[i];
    var end = textarea.selectionStart;
    var text = "@" + p.email + " ";
    textarea.value = textarea.value.slice(0, start) + text + textarea.value.slice(end);
    var caret = start + text.length;
    textarea.setSelectionRange(caret, caret);
    status.textContent = p.name + " will be mentioned.";
    close();
    textarea.focus();
  }

  function update() {
    var q = query();
    if (q === null || !ready) { close(); return; }
    matches = people.filter(function (p) {
      return p.name.toLowerCase().indexOf(q) !== -1 || p.email.toLowerCase().indexOf(q) !== -1;
    }).slice(0, 8);
    list.innerHTML = "";
    if (!matches.length) { close(); status.textContent = "Nobody who may see this recommendation matches."; return; }
    matches.forEach(function (p, n) {
      var li = document.createElement("li");
      li.id = list.id + "-" + n;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.textContent = p.name + " (" + p.email + ")";
      li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(n); });
      list.appendChild(li);
    });
    list.hidden = false;
    highlight(0);
    status.textContent = matches.length + (matches.length === 1 ? " person matches" : " people match") +
      ". Up and down arrows to move, Enter to choose, Escape to close.";
  }

  function load() {
    if (requested) { return; }
    requested = true;
    fetch(box.getAttribute("data-mention-source"), {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (found) {
        people = found;
        ready = true;
        // Whatever was typed while the list was on its way is answered now.
        if (document.activeElement === textarea) { update(); }
      })
      .catch(function () { ready = false; });  // typing @email still works: the server reads it
  }

  textarea.addEventListener("focus", load);
  textarea.addEventListener("input", function () { load(); update(); });
  textarea.addEventListener("keydown", function (e) {
    if (list.hidden) { return; }
    if (e.key === "ArrowDown") { e.preventDefault(); highlight((active + 1) % matches.length); }
    else if (e.key === "ArrowUp") { e.preventDefault(); highlight((active - 1 + matches.length) % matches.length); }
    else if (e.key === "Enter" || e.key === "Tab") { if (active >= 0) { e.preventDefault(); choose(active); } }
    else if (e.key === "Escape") { e.preventDefault(); close(); }
  });
  textarea.addEventListener("blur", function () { window.setTimeout(close, 150); });
})();
