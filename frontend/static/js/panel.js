// The side panel of the graph and matrix pages, and the selection kept in the URL.
// Panels are server-rendered HTML fragments (the view returns a partial for HX-Request).
(function () {
  "use strict";
  var panelToken = 0;

  var query = window.Netpolui.query;

  function load(url, params, options) {
    var panel = document.getElementById("side-panel");
    if (!panel) return Promise.resolve();
    var token = ++panelToken;
    panel.setAttribute("aria-busy", "true");
    panel.innerHTML = '<p class="muted">Loading…</p>';
    return window.Netpolui.request(url + "?" + query(params), { html: true, headers: { "HX-Request": "true" } })
      .then(function (result) {
        if (token !== panelToken) return; // a later click won
        if (!result.ok) {
          panel.innerHTML = '<p class="error" role="alert">Could not load the details (HTTP ' + result.status + ").</p>";
        } else {
          panel.innerHTML = result.data;
        }
        panel.removeAttribute("aria-busy");
        panel.dataset.loaded = params.id || (params.src + ">" + params.dst);
        if (options && options.focus) panel.focus();
      })
      .catch(function (error) {
        if (token !== panelToken) return;
        panel.removeAttribute("aria-busy");
        panel.innerHTML = '<p class="error" role="alert">Could not load the details: ' + String(error.message || error) + "</p>";
      });
  }

  // Selection lives in the URL (?sel=...), so a link shows what was selected.
  function setSelection(value) {
    var url = new URL(window.location.href);
    if (value) url.searchParams.set("sel", value);
    else url.searchParams.delete("sel");
    window.history.replaceState(null, "", url.toString());
    var hidden = document.querySelector("form.controls input[name=sel]");
    if (hidden) hidden.value = value || "";
  }

  function selection() {
    return new URL(window.location.href).searchParams.get("sel") || "";
  }

  // Empty controls stay out of the URL, so shared links say only what was chosen.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form.controls")) return;
    Array.prototype.forEach.call(form.elements, function (element) {
      if (element.name && element.type !== "checkbox" && element.value === "") element.disabled = true;
    });
  });
  window.addEventListener("pageshow", function () {
    // the back button may restore the form as it was submitted
    document.querySelectorAll("form.controls [disabled]").forEach(function (element) { element.disabled = false; });
  });

  // Explain one pair of the page's view (graph edge or matrix cell) in the panel: the
  // page's level, tier key, direction and port filter (an aggregated edge then lists the
  // pairs allowing that port, as its label counts them).
  function explainPair(config, src, dst, options) {
    var params = {
      src: src,
      dst: dst,
      level: config.level,
      group_by: config.group_by,
      direction: config.direction,
    };
    if (config.expand && config.expand.length) params.expand = config.expand.join(",");
    if (config.expand_tier && config.expand_tier.length) params.expand_tier = config.expand_tier.join(",");
    if (config.port) params.port = config.port;
    if (config.protocol) params.protocol = config.protocol;
    return load(config.explain_url, params, options);
  }

  window.NetpolPanel = {
    load: load, explainPair: explainPair, setSelection: setSelection, selection: selection, query: query,
  };
})();
