/* Progressive enhancement for the respondent pages; every page also works without it. */
(function () {
  "use strict";
  var form = document.getElementById("survey-form");
  if (!form) { return; }

  // Language links save the page before switching, so nothing typed is lost.
  document.querySelectorAll(".langs a[href]").forEach(function (link) {
    var code = new URL(link.href, document.baseURI).searchParams.get("lang");
    if (!code) { return; }
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "switch_lang";
      input.value = code;
      form.appendChild(input);
      form.submit();
    });
  });

  // Importance allocation: a running total that must reach the scale's total (the server checks too).
  document.querySelectorAll(".allocation[data-total]").forEach(function (box) {
    var target = parseInt(box.getAttribute("data-total"), 10);
    var inputs = box.querySelectorAll("input.points");
    var line = box.querySelector(".running-total");
    var sum = box.querySelector(".sum");
    box.querySelector(".js-total").hidden = false;
    box.querySelector(".no-js-total").hidden = true;
    function update() {
      var total = 0;
      inputs.forEach(function (input) {
        var value = parseInt(input.value, 10);
        if (!isNaN(value)) { total += value; }
      });
      sum.textContent = String(total);
      line.classList.toggle("ok", total === target);
      // Red only once numbers are typed: an empty page is not a mistake yet.
      line.classList.toggle("off", total > 0 && total !== target);
    }
    inputs.forEach(function (input) { input.addEventListener("input", update); });
    update();
  });

  // Contact fields only matter with consent: show them when the box is ticked.
  var consent = document.getElementById("contact_ok");
  var details = document.getElementById("contact-details");
  if (consent && details) {
    var sync = function () {
      details.hidden = !consent.checked;
      consent.setAttribute("aria-expanded", consent.checked ? "true" : "false");
    };
    consent.addEventListener("change", sync);
    sync();
  }

  // A second tap while the first submission is on its way must not post the page twice.
  var sending = false;
  form.addEventListener("submit", function (event) {
    if (sending) { event.preventDefault(); }
    sending = true;
  });
  window.addEventListener("pageshow", function () { sending = false; });

  // After a failed check, bring the list of problems into view for keyboard and screen-reader users.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
