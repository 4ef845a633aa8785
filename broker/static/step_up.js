// The step-up page: poll the progress of the identification and show it; on a failure reload the page,
// which then explains it.
// Without script the page works as well: its "Continue" button shows the current state.
(function () {
  "use strict";
  var progress = document.getElementById("step-up-progress");
  if (!progress || !window.fetch) { return; }
  var statusUrl = progress.getAttribute("data-status-url");
  var pageUrl = progress.getAttribute("data-page-url");
  var stopped = false;
  window.addEventListener("pagehide", function () { stopped = true; });
  function poll() {
    if (stopped) { return; }
    fetch(statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.json(); })
      .then(function (state) {
        if (progress.textContent !== state.text) { progress.textContent = state.text; }
        if (state.progress === "failed") {
          window.location.assign(pageUrl);  // the page explains the failure
        } else if (!state.final) {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
}());
