// YAML blocks marked data-highlight are coloured by highlight.js (from static/vendor).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    if (typeof hljs === "undefined") return;
    document.querySelectorAll("code[data-highlight]").forEach(function (block) {
      hljs.highlightElement(block);
    });
  });
})();
