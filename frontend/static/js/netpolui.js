// Layout behaviour shared by every page. Page scripts live beside this file.
(function () {
  "use strict";
  function switchCluster(event) {
    var id = event.target.value;
    var path = window.location.pathname;
    if (/\/clusters\/\d+\//.test(path)) {
      window.location.pathname = path.replace(/\/clusters\/\d+\//, "/clusters/" + id + "/");
    } else {
      window.location.pathname = "/clusters/" + id + "/";
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var select = document.querySelector("[data-cluster-switch]");
    if (select) select.addEventListener("change", switchCluster);
  });
  // HTMX sends the CSRF token with every request it makes.
  document.addEventListener("htmx:configRequest", function (event) {
    var value = window.Netpolui.csrfToken();
    if (value) event.detail.headers["X-CSRFToken"] = value;
  });
})();
