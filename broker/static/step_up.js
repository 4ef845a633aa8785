// The step-up page: before the citizen opens the eID client, say whether one is running on this device; then
// show how far the identification has got, also after the eID client's link was followed (the page stays and
// its script runs until the eID client answers the browser with the RefreshAddress); on a failure reload the
// page, which explains it.
// Without script the page works as well: its "Continue" button shows the current state, and the hint under
// the steps says what a browser error on the eID client's link means.
(function () {
  "use strict";
  var progress = document.getElementById("step-up-progress");
  if (!progress || !window.fetch) { return; }
  var statusUrl = progress.getAttribute("data-status-url");
  var pageUrl = progress.getAttribute("data-page-url");
  var link = document.getElementById("eid-client-link");
  var missing = document.getElementById("eid-client-missing");
  var unknown = document.getElementById("eid-client-unknown");
  var shown = null;
  var opened = false;
  var title = document.title;
  var stopped = false;
  window.addEventListener("pagehide", function () { stopped = true; });

  function show(notice) {
    if (notice === shown) { return; }  // an alert is announced once, not at every probe
    [missing, unknown].forEach(function (element) {
      if (element) { element.hidden = element !== notice; }
    });
    shown = notice;
  }

  // Chromium asks before a public page reaches this device (Local Network Access, "loopback-network"); a
  // refusal looks like an absent client, so then the page says only that it could not check.
  function blockedByBrowser() {
    if (!navigator.permissions) { return Promise.resolve(false); }
    function denied(name) {
      return navigator.permissions.query({name: name}).then(function (permission) {
        return permission.state === "denied";
      });
    }
    return denied("loopback-network").catch(function () {
      return denied("local-network-access");
    }).catch(function () { return false; });
  }

  // TR-03124-1 §2.2.1.2: the eID client answers "?Status". "no-cors": any answer counts — also one without
  // CORS headers (AusweisApp in SDK mode answers 503 without them) —, only a refused connection fails.
  // http://127.0.0.1 is a potentially trustworthy origin, so an https page may fetch it (no mixed content).
  function probe() {
    if (stopped || opened || !link) { return; }
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? window.setTimeout(function () { controller.abort(); }, 5000) : null;
    fetch(link.getAttribute("data-client-status-url"),
          {mode: "no-cors", cache: "no-store", credentials: "omit", signal: controller ? controller.signal : undefined})
      .then(function () { return null; }, function (error) {
        if (error && error.name === "AbortError") { return null; }  // something is listening, just slow
        return blockedByBrowser().then(function (blocked) { return blocked ? unknown : missing; });
      })
      .then(function (notice) {
        window.clearTimeout(timer);
        if (!opened) { show(notice); }
        window.setTimeout(probe, 3000);
      });
  }

  if (link) {
    link.addEventListener("click", function () {
      opened = true;
      show(null);
      say(progress.getAttribute("data-opened-text"));
    });
  }

  // Once the eID client has been opened the window title carries the progress too: it shows in the task bar
  // while the citizen is in the eID client's window.
  function say(text) {
    if (progress.textContent !== text) { progress.textContent = text; }
    if (opened) { document.title = text + " – " + title; }
  }

  function poll() {
    if (stopped) { return; }
    fetch(statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        var retry = response.status === 429 ? Number(response.headers.get("Retry-After")) || 10 : 1;
        return response.json().then(function (state) { return [state, retry]; });
      })
      .then(function (answer) {
        var state = answer[0];
        if (state.progress !== "waiting_for_client") { show(null); }
        if (!(opened && state.progress === "waiting_for_client")) { say(state.text); }
        if (state.progress === "failed") {
          // After the link was followed the eID client sends the browser to the page that explains; reload
          // only if it does not.
          window.setTimeout(function () { if (!stopped) { window.location.assign(pageUrl); } }, opened ? 3000 : 0);
        } else if (!state.final) {
          window.setTimeout(poll, answer[1] * 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  probe();
  window.setTimeout(poll, 1000);
}());
