/* sitecare's only script: small enhancements of server-rendered pages, loaded from our own
   static files under the strict Content-Security-Policy (no inline code). Every page works
   without it.

   - Copy buttons: <button data-copy="#element-id" data-copied="Copied">, shown only when the
     script runs, copy the value (or text) of the element named.
   - Automatic refresh (WCAG 2.2.2: the reader can stop it): an element
     [data-autorefresh="60"] reloads the page every 60 seconds unless the reader pressed its
     [data-autorefresh-toggle] button; the choice is remembered in this browser. */
(function () {
  "use strict";

  function copyText(target) {
    var text = "value" in target ? target.value : target.textContent;
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain http on another host: the older way, through a selection.
    if (target.select) { target.select(); }
    return document.execCommand("copy") ? Promise.resolve() : Promise.reject(new Error("copy"));
  }

  function setUpCopy(button) {
    var target = document.querySelector(button.getAttribute("data-copy"));
    if (!target) { return; }
    var status = document.createElement("span");
    status.className = "copy-status";
    status.setAttribute("role", "status");
    button.insertAdjacentElement("afterend", status);
    button.hidden = false;
    button.addEventListener("click", function () {
      copyText(target).then(function () {
        status.textContent = button.getAttribute("data-copied") || "";
        window.setTimeout(function () { status.textContent = ""; }, 4000);
      }, function () {
        if (target.select) { target.select(); }  // left selected, for Ctrl+C
      });
    });
  }

  var STOPPED_KEY = "sitecare:autorefresh-stopped";

  function stoppedByReader() {
    try { return window.localStorage.getItem(STOPPED_KEY) === "1"; } catch (e) { return false; }
  }

  function remember(stopped) {
    try {
      if (stopped) { window.localStorage.setItem(STOPPED_KEY, "1"); }
      else { window.localStorage.removeItem(STOPPED_KEY); }
    } catch (e) { /* private mode: the choice lasts for this page only */ }
  }

  function setUpAutoRefresh(box) {
    var seconds = parseInt(box.getAttribute("data-autorefresh"), 10) || 60;
    var button = box.querySelector("[data-autorefresh-toggle]");
    var running = box.querySelector("[data-autorefresh-on]");
    var stopped = box.querySelector("[data-autorefresh-off]");
    var timer = null;

    function show(isRunning) {
      running.hidden = !isRunning;
      stopped.hidden = isRunning;
      button.textContent = button.getAttribute(isRunning ? "data-stop" : "data-start");
    }
    function start() {
      timer = window.setTimeout(function () { window.location.reload(); }, seconds * 1000);
      show(true);
    }
    function stop() {
      window.clearTimeout(timer);
      timer = null;
      show(false);
    }
    button.addEventListener("click", function () {
      if (timer === null) { remember(false); start(); } else { remember(true); stop(); }
    });
    box.hidden = false;
    if (stoppedByReader()) { stop(); } else { start(); }
  }

  function init() {
    document.querySelectorAll("[data-copy]").forEach(setUpCopy);
    document.querySelectorAll("[data-autorefresh]").forEach(setUpAutoRefresh);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
