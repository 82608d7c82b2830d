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
})();
