// Small progressive enhancements only; every page works without this file.
(function () {
  "use strict";
  // Confirm before a destructive or irreversible action: <form data-confirm="Are you sure?">.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
  // A form came back with errors: the summary at its top takes the focus (USWDS pattern),
  // so the reader hears what is wrong and finds the links to each field.
  var summary = document.querySelector(".app-error-summary");
  if (summary) {
    summary.scrollIntoView({block: "start"});
    summary.focus();
  }
  // A link in the summary moves the focus into its field, not only the scroll position.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".app-error-summary a[href^='#']");
    if (!link) {
      return;
    }
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (field) {
      event.preventDefault();
      field.focus();
      field.scrollIntoView({block: "center"});
    }
  });
})();
