// Sahih: progressive enhancement only. Every page works without this file.
// Upload forms ([data-upload]): drop a file anywhere on the form, refuse a too-large file
// before it is sent, and say that the check is running.
(function () {
  "use strict";
  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    var input = form.querySelector("input[type=file]");
    var button = form.querySelector("button[type=submit]");
    var status = form.querySelector("[data-status]");
    var max = parseInt(form.getAttribute("data-max") || "0", 10);
    if (!input) { return; }
    function say(text) { if (status) { status.textContent = text; } }
    ["dragenter", "dragover"].forEach(function (name) {
      form.addEventListener(name, function (e) { e.preventDefault(); form.classList.add("dragging"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      form.addEventListener(name, function () { form.classList.remove("dragging"); });
    });
    form.addEventListener("drop", function (e) {
      e.preventDefault();
      if (e.dataTransfer && e.dataTransfer.files.length) {
        input.files = e.dataTransfer.files;
        say(input.files[0].name);
      }
    });
    form.addEventListener("submit", function (e) {
      var file = input.files && input.files[0];
      if (file && max && file.size > max) {
        e.preventDefault();
        say(form.getAttribute("data-too-large") || "");
        return;
      }
      form.setAttribute("aria-busy", "true");
      if (button) { button.disabled = true; }
    });
    // Back/forward cache: a page restored after submitting must be usable again.
    window.addEventListener("pageshow", function () {
      form.removeAttribute("aria-busy");
      if (button) { button.disabled = false; }
    });
  });
})();
// Forms that take a while ([data-busy], e.g. signing): say so and prevent a second submit.
(function () {
  "use strict";
  document.querySelectorAll("form[data-busy]").forEach(function (form) {
    var button = form.querySelector("button[type=submit]");
    form.addEventListener("submit", function () {
      form.setAttribute("aria-busy", "true");
      if (button) { window.setTimeout(function () { button.disabled = true; }, 0); }
    });
    window.addEventListener("pageshow", function () {
      form.removeAttribute("aria-busy");
      if (button) { button.disabled = false; }
    });
  });
})();
