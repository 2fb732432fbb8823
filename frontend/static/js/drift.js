// Drift pages: the source form shows the fields of the chosen kind; confirmations;
// copy buttons for kubectl commands. Without JavaScript every field stays visible.
(function () {
  "use strict";

  var FIELDS = {
    git: ["name", "location", "branch", "subdirectory", "namespaces", "enabled"],
    directory: ["name", "location", "subdirectory", "namespaces", "enabled"],
    upload: ["name", "upload", "yaml_text", "namespaces", "enabled"],
    drafts: ["name", "namespaces", "enabled"]
  };

  function setUpSourceForm(form) {
    var radios = form.querySelectorAll("input[name=kind]");
    function update() {
      var chosen = form.querySelector("input[name=kind]:checked");
      var kind = chosen ? chosen.value : "git";
      var wanted = FIELDS[kind] || [];
      form.querySelectorAll("[data-field]").forEach(function (el) {
        var show = wanted.indexOf(el.getAttribute("data-field")) !== -1 || el.querySelector(".error");
        el.hidden = !show;
      });
      form.querySelectorAll("[data-for-kind]").forEach(function (el) {
        el.hidden = el.getAttribute("data-for-kind") !== kind;
      });
    }
    radios.forEach(function (radio) { radio.addEventListener("change", update); });
    update();
  }

  function setUpConfirm(form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  }

  function setUpCopy(code) {
    if (!navigator.clipboard) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = "Copy";
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(code.textContent).then(function () {
        button.textContent = "Copied";
      }, function () {
        button.textContent = "Select and copy";
      });
    });
    code.insertAdjacentElement("afterend", button);
  }

  function sizeSegment(segment) {
    var percent = parseFloat(segment.getAttribute("data-percent"));
    if (percent >= 0 && percent <= 100) {
      segment.style.height = percent + "%";
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".trend-bars .seg[data-percent]").forEach(sizeSegment);
    document.querySelectorAll("[data-source-form]").forEach(setUpSourceForm);
    document.querySelectorAll("form[data-confirm]").forEach(setUpConfirm);
    document.querySelectorAll("code.copyable").forEach(setUpCopy);
  });
})();
