// The timeline's Gantt chart (frappe-gantt), drawn from the JSON block the page carries.
// The chart is hidden from assistive technology; the table below it holds the same dates.
(function () {
  "use strict";
  var data = document.getElementById("timeline-data");
  var target = document.getElementById("gantt");
  if (!data || !target || typeof window.Gantt !== "function") {
    return;
  }
  // frappe-gantt writes task names with innerHTML: escape them, or a title would become markup.
  var entities = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"};
  var tasks = JSON.parse(data.textContent).map(function (task) {
    task.name = String(task.name).replace(/[&<>"']/g, function (c) { return entities[c]; });
    return task;
  });
  if (!tasks.length) {
    target.hidden = true;
    return;
  }
  new window.Gantt(target, tasks, {
    view_mode: "Week",
    readonly: true,
    today_button: false,
    view_mode_select: false,
    popup_on: "hover",
    infinite_padding: false,
    scroll_to: "today",
    container_height: "auto"
  });
  // The chart's scrolling areas are focusable in Chromium (keyboard-focusable scrollers) although the
  // chart is hidden from assistive technology: keep them out of the tab order (axe aria-hidden-focus).
  // Keyboard and screen reader users have the table, which holds the same dates.
  [target].concat(Array.prototype.slice.call(target.querySelectorAll("div, a, button, [tabindex]")))
    .forEach(function (el) { el.setAttribute("tabindex", "-1"); });
})();
