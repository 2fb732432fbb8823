// What every page script shares: HTML escaping, the CSRF token, API calls and the text of a
// connection set. Loaded by base.html before netpolui.js and the page scripts (all deferred,
// so they run in document order); page scripts use window.Netpolui.
(function () {
  "use strict";

  // Protocols a NetworkPolicy can name, sorted by name: the order connection-set text uses,
  // here and in the Python formatter (engine/ports.py).
  var PROTOCOLS = ["SCTP", "TCP", "UDP"];
  var ALL_CONNECTIONS = "All Connections";
  var NO_CONNECTIONS = "No Connections";

  var ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) { return ESCAPES[c]; });
  }

  // The CSRF token Django expects in X-CSRFToken: the cookie, or the form's hidden input.
  function csrfToken() {
    var cookie = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    if (cookie) return decodeURIComponent(cookie[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // [[80, 80], [8080, 8090]] -> "80,8080-8090"
  function rangesText(ranges) {
    return ranges
      .map(function (r) { return r[0] === r[1] ? String(r[0]) : r[0] + "-" + r[1]; })
      .join(",");
  }

  // A connection set as the payload carries it ("all" or {"TCP": [[80, 80]], ...}) as one
  // part per protocol, in protocol order: [{proto: "TCP", text: "TCP 80"}].
  function connsParts(conns) {
    if (conns === "all") return [{ proto: "all", text: ALL_CONNECTIONS }];
    var parts = [];
    PROTOCOLS.forEach(function (proto) {
      var ranges = conns && conns[proto];
      if (ranges && ranges.length) parts.push({ proto: proto, text: proto + " " + rangesText(ranges) });
    });
    return parts;
  }

  // The text of a connection set: "All Connections", "SCTP 9003,TCP 80,8080-8090,UDP 53",
  // "No Connections" -- the same words the server prints.
  function connsText(conns) {
    var parts = connsParts(conns);
    if (!parts.length) return NO_CONNECTIONS;
    return parts.map(function (p) { return p.text; }).join(",");
  }

  // One call to the server: {ok, status, data} where data is the parsed JSON (or the text
  // with options.html), null when the body cannot be read. Unsafe methods carry the CSRF
  // token; options.json is sent as a JSON body; options.signal aborts it (the promise
  // then rejects with an AbortError, as fetch's does).
  function request(url, options) {
    options = options || {};
    var method = options.method || (options.json !== undefined ? "POST" : "GET");
    var headers = Object.assign({ "Accept": options.html ? "text/html" : "application/json" }, options.headers || {});
    var init = { method: method, credentials: "same-origin", headers: headers };
    if (options.signal) init.signal = options.signal; // an AbortController's: the caller may give up
    if (method !== "GET" && method !== "HEAD") headers["X-CSRFToken"] = csrfToken();
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.json);
    }
    return fetch(url, init).then(function (response) {
      var body = options.html ? response.text() : response.json();
      return body.then(
        function (data) { return { ok: response.ok, status: response.status, data: data }; },
        function () { return { ok: false, status: response.status, data: null }; }
      );
    });
  }

  // ?key=value for the non-empty values of params.
  function query(params) {
    var search = new URLSearchParams();
    Object.keys(params).forEach(function (key) {
      var value = params[key];
      if (value !== undefined && value !== null && value !== "") search.set(key, value);
    });
    return search.toString();
  }

  // DOM helpers the page scripts share.
  function one(sel, root) { return (root || document).querySelector(sel); }
  function all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  // A field path one step up: spec.ingress[0].from[1] -> spec.ingress[0].from -> spec.ingress[0].
  function parentPath(path) {
    if (/\]$/.test(path)) return path.replace(/\[\d+\]$/, "");
    var cut = path.lastIndexOf(".");
    return cut > 0 ? path.slice(0, cut) : "";
  }

  // The element of `root` marked data-path for a field path (an error's path), or for its
  // nearest parent that has one; null when none has.
  function fieldFor(root, path) {
    for (var p = path; p; p = parentPath(p)) {
      var found = root.querySelector('[data-path="' + (window.CSS && CSS.escape ? CSS.escape(p) : p) + '"]');
      if (found) return found;
    }
    return null;
  }

  window.Netpolui = {
    one: one,
    all: all,
    el: el,
    parentPath: parentPath,
    fieldFor: fieldFor,
    PROTOCOLS: PROTOCOLS,
    escapeHtml: escapeHtml,
    csrfToken: csrfToken,
    rangesText: rangesText,
    connsParts: connsParts,
    connsText: connsText,
    request: request,
    query: query,
  };
})();
