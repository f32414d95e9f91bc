// The job progress page: poll the job's state and reload once it has finished
// (the page then shows the download link, the import result or the problems).
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box) { return; }
  var bar = document.getElementById("job-progress");
  var status = document.getElementById("job-status");
  var url = box.getAttribute("data-state-url");
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.json(); })
      .then(function (state) {
        if (state.status === "done" || state.status === "failed") {
          window.location.reload();
          return;
        }
        if (bar) { bar.value = state.progress; }
        if (status && state.status === "running") {
          status.setAttribute("data-progress", Math.round(state.progress * 100));
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
