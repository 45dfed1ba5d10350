// CONTROL/MONITORING: the live status panel polls itself with htmx; this file only
// pauses the polls while the tab is hidden, says when the web server stops
// answering, and asks before a form marked data-confirm (STOP) is sent.
(() => {
  const isPanel = (elt) => elt && elt.id === "status-panel";

  // A hidden tab sends no polls; it catches up at once when shown again.
  document.addEventListener("htmx:beforeRequest", (event) => {
    if (document.hidden && isPanel(event.detail.elt)) event.preventDefault();
  });
  document.addEventListener("visibilitychange", () => {
    const auto = document.getElementById("auto-update");
    const now = document.getElementById("update-now");
    if (!document.hidden && auto && auto.checked && now) now.click();
  });

  const stale = (text) => {
    const note = document.getElementById("status-stale");
    if (!note) return;
    note.textContent = text;
    note.hidden = !text;
  };
  const failed = (event) => {
    if (!isPanel(event.detail.target)) return;
    const at = new Date().toLocaleTimeString();
    stale(`The web server did not answer at ${at}: the panel below is stale.`);
  };
  document.addEventListener("htmx:sendError", failed);
  document.addEventListener("htmx:responseError", failed);
  document.addEventListener("htmx:afterSwap", (event) => {
    if (isPanel(event.detail.elt) || event.detail.target.id === "status-panel") stale("");
  });

  document.addEventListener("submit", (event) => {
    const question = event.target.dataset && event.target.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });
})();
