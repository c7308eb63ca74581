// Pacto console: small enhancements; every page works without them.
(function () {
  "use strict";
  // A refused form: move focus to its error summary, so that screen
  // readers hear it and keyboard users start there.
  var summary = document.querySelector("[data-focus]");
  if (summary) {
    summary.focus();
  }
})();
