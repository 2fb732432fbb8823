// The ClusterNetworkPolicy (v1alpha2) editor: the form is the policy; every change asks
// the server (check endpoint) for problems with field paths, the YAML and the what-if.
(function () {
  "use strict";
  var form = document.getElementById("cnp-form");
  if (!form) return;

  var N = window.Netpolui;
  var $ = N.one, $all = N.all, el = N.el;
  function f(root, name) { return $('[data-f="' + name + '"]', root); }
  function children(list) { return Array.prototype.slice.call(list.children); }
  function arr(value) { return Array.isArray(value) ? value : []; }
  function obj(value) { return value && typeof value === "object" && !Array.isArray(value) ? value : {}; }
  function clone(id) { return document.getElementById(id).content.firstElementChild.cloneNode(true); }
  var PEERS_KEY = { ingress: "from", egress: "to" };
  var PROTO_KEYS = { TCP: "tcp", UDP: "udp", SCTP: "sctp" };
  var readOnly = !$("#cnp-save");
  var localErrors = [];

  // --- label selectors as text: "a=b, c!=d, e in (x, y), f notin (z), g, !h" ---------------------
  function splitTop(text) {
    var parts = [], depth = 0, cur = "";
    for (var i = 0; i < text.length; i++) {
      var ch = text[i];
      if (ch === "(") depth++;
      if (ch === ")") depth--;
      if (ch === "," && depth === 0) { parts.push(cur); cur = ""; } else cur += ch;
    }
    parts.push(cur);
    return parts.map(function (p) { return p.trim(); }).filter(function (p) { return p; });
  }
  function values(text) { return text.split(",").map(function (v) { return v.trim(); }).filter(function (v) { return v; }); }
  function parseSelector(text) {
    var out = {}, labels = {}, exprs = [], bad = [];
    splitTop(text || "").forEach(function (term) {
      var m;
      if ((m = /^!\s*([^\s=!(),]+)$/.exec(term))) exprs.push({ key: m[1], operator: "DoesNotExist" });
      else if ((m = /^([^\s=!(),]+)\s+(in|notin)\s*\((.*)\)$/i.exec(term)))
        exprs.push({ key: m[1], operator: m[2].toLowerCase() === "in" ? "In" : "NotIn", values: values(m[3]) });
      else if ((m = /^([^\s=!(),]+)\s*!=\s*(.*)$/.exec(term))) exprs.push({ key: m[1], operator: "NotIn", values: [m[2].trim()] });
      else if ((m = /^([^\s=!(),]+)\s*==?\s*(.*)$/.exec(term))) labels[m[1]] = m[2].trim();
      else if ((m = /^([^\s=!(),]+)$/.exec(term))) exprs.push({ key: m[1], operator: "Exists" });
      else bad.push(term);
    });
    if (Object.keys(labels).length) out.matchLabels = labels;
    if (exprs.length) out.matchExpressions = exprs;
    return { selector: out, bad: bad };
  }
  function formatSelector(sel) {
    if (!sel || typeof sel !== "object") return "";
    var parts = [];
    Object.keys(obj(sel.matchLabels)).forEach(function (k) { parts.push(k + "=" + sel.matchLabels[k]); });
    arr(sel.matchExpressions).forEach(function (e) {
      e = obj(e);
      var vals = arr(e.values).join(", ");
      if (e.operator === "In") parts.push(e.key + " in (" + vals + ")");
      else if (e.operator === "NotIn") parts.push(e.key + " notin (" + vals + ")");
      else if (e.operator === "Exists") parts.push(e.key);
      else if (e.operator === "DoesNotExist") parts.push("!" + e.key);
    });
    return parts.join(", ");
  }

  // --- building the form from a policy -----------------------------------------------------------
  function makePort(p) {
    var row = clone("tpl-cnp-port");
    p = p || {};
    if (p.destinationNamedPort !== undefined) {
      f(row, "kind").value = "named";
      f(row, "named").value = p.destinationNamedPort;
    } else {
      Object.keys(PROTO_KEYS).forEach(function (proto) {
        var spec = p[PROTO_KEYS[proto]];
        if (!spec) return;
        f(row, "protocol").value = proto;
        var dp = obj(obj(spec).destinationPort);
        if (dp.range && typeof dp.range === "object") {
          f(row, "kind").value = "range";
          f(row, "port").value = dp.range.start;
          f(row, "end").value = dp.range.end;
        } else {
          f(row, "kind").value = "number";
          if (dp.number !== undefined && dp.number !== null) f(row, "port").value = dp.number;
        }
      });
    }
    return row;
  }
  function makePeer(p) {
    var row = clone("tpl-cnp-peer");
    p = p || { namespaces: {} };
    var kind = ["namespaces", "pods", "networks", "nodes"].filter(function (k) { return p[k] !== undefined; })[0] || "namespaces";
    f(row, "kind").value = kind;
    if (kind === "namespaces") f(row, "namespaces").value = formatSelector(p.namespaces);
    if (kind === "pods") {
      f(row, "namespaces").value = formatSelector(obj(p.pods).namespaceSelector);
      f(row, "pods").value = formatSelector(obj(p.pods).podSelector);
    }
    if (kind === "networks") f(row, "networks").value = arr(p.networks).join(", ");
    if (kind === "nodes") f(row, "nodes").value = formatSelector(p.nodes);
    return row;
  }
  function makeRule(direction, r) {
    var rule = clone("tpl-cnp-rule");
    r = r || { action: "Deny" };
    rule.setAttribute("data-direction", direction);
    f(rule, "name").value = r.name || "";
    f(rule, "action").value = r.action || "Deny";
    (Array.isArray(r[PEERS_KEY[direction]]) ? r[PEERS_KEY[direction]] : [{ namespaces: {} }]).forEach(function (p) { $('[data-list="peers"]', rule).appendChild(makePeer(obj(p))); });
    arr(r.protocols).forEach(function (p) { $('[data-list="ports"]', rule).appendChild(makePort(obj(p))); });
    return rule;
  }
  function load(policy) {
    policy = obj(policy);
    var spec = obj(policy.spec);
    var metadata = obj(policy.metadata);
    $("#cnp-name").value = typeof metadata.name === "string" ? metadata.name : "";
    $("#cnp-tier").value = spec.tier === "Baseline" ? "Baseline" : "Admin";
    $("#cnp-priority").value = spec.priority === undefined || spec.priority === null ? "" : spec.priority;
    var subject = $("#cnp-subject");
    subject.textContent = "";
    var peer = makePeer(Object.keys(obj(spec.subject)).length ? obj(spec.subject) : { namespaces: {} });
    peer.setAttribute("data-subject", "");
    $('[data-cnp-action="remove-peer"]', peer).remove();
    subject.appendChild(peer);
    Object.keys(PEERS_KEY).forEach(function (direction) {
      var list = $('[data-cnp-rules="' + direction + '"]');
      list.textContent = "";
      arr(spec[direction]).forEach(function (r) { list.appendChild(makeRule(direction, obj(r))); });
    });
    meta = { labels: metadata.labels, annotations: metadata.annotations };
  }
  var meta = {};

  // --- reading the form back into a policy -------------------------------------------------------
  function selectorOf(input, path) {
    var parsed = parseSelector(input.value);
    parsed.bad.forEach(function (term) {
      localErrors.push({ path: path, message: '"' + term + '" is not a selector term (key=value, key!=value, key in (a, b), key notin (a), key, !key)' });
    });
    return parsed.selector;
  }
  function num(input) {
    var text = input.value.trim();
    if (!text) return null;
    var n = Number(text);
    return isNaN(n) ? text : n;
  }
  function collectPeer(row, path) {
    var kind = f(row, "kind").value;
    if (kind === "namespaces") return { namespaces: selectorOf(f(row, "namespaces"), path + ".namespaces") };
    if (kind === "pods") return { pods: {
      namespaceSelector: selectorOf(f(row, "namespaces"), path + ".pods.namespaceSelector"),
      podSelector: selectorOf(f(row, "pods"), path + ".pods.podSelector"),
    } };
    if (kind === "networks") return { networks: values(f(row, "networks").value) };
    return { nodes: selectorOf(f(row, "nodes"), path + ".nodes") };
  }
  function collectPort(row) {
    var kind = f(row, "kind").value;
    if (kind === "named") return { destinationNamedPort: f(row, "named").value.trim() };
    var out = {};
    var dp = kind === "range" ? { range: { start: num(f(row, "port")), end: num(f(row, "end")) } } : { number: num(f(row, "port")) };
    out[PROTO_KEYS[f(row, "protocol").value]] = { destinationPort: dp };
    return out;
  }
  function collect() {
    localErrors = [];
    var metadata = { name: $("#cnp-name").value.trim() };
    if (meta.labels && Object.keys(meta.labels).length) metadata.labels = meta.labels;
    if (meta.annotations && Object.keys(meta.annotations).length) metadata.annotations = meta.annotations;
    var spec = { tier: $("#cnp-tier").value, priority: num($("#cnp-priority")) };
    spec.subject = collectPeer($("#cnp-subject [data-cnp-peer]"), "spec.subject");
    Object.keys(PEERS_KEY).forEach(function (direction) {
      var rules = children($('[data-cnp-rules="' + direction + '"]')).map(function (rule, i) {
        var path = "spec." + direction + "[" + i + "]";
        var out = {};
        var name = f(rule, "name").value.trim();
        if (name) out.name = name;
        out.action = f(rule, "action").value;
        out[PEERS_KEY[direction]] = children($('[data-list="peers"]', rule)).map(function (p, j) {
          return collectPeer(p, path + "." + PEERS_KEY[direction] + "[" + j + "]");
        });
        var ports = children($('[data-list="ports"]', rule));
        if (ports.length) out.protocols = ports.map(collectPort);
        return out;
      });
      if (rules.length) spec[direction] = rules;
    });
    return { apiVersion: "policy.networking.k8s.io/v1alpha2", kind: "ClusterNetworkPolicy", metadata: metadata, spec: spec };
  }

  // --- structure: titles, visibility, field paths --------------------------------------------------
  function setPath(node, path) { if (node) node.setAttribute("data-path", path); }
  function peerPaths(row, path) {
    var kind = f(row, "kind").value;
    row.setAttribute("data-kind", kind);
    $all("[data-show]", row).forEach(function (label) {
      label.hidden = label.getAttribute("data-show").split(" ").indexOf(kind) < 0;
    });
    setPath(row, path);
    setPath(f(row, "namespaces"), kind === "pods" ? path + ".pods.namespaceSelector" : path + ".namespaces");
    setPath(f(row, "pods"), path + ".pods.podSelector");
    setPath(f(row, "networks"), path + ".networks");
    setPath(f(row, "nodes"), path + ".nodes");
  }
  function refresh() {
    var tier = $("#cnp-tier").value;
    $("#cnp-tier-hint").textContent = tier === "Admin"
      ? "Admin tier: tried before every NetworkPolicy, lowest priority first; Accept and Deny are final, Pass hands the connection to the NetworkPolicies."
      : "Baseline tier: tried after the NetworkPolicies, only for pods no NetworkPolicy isolates in that direction; lowest priority first. Pass here skips the rest of the tier: allowed by default.";
    var subject = $("#cnp-subject [data-cnp-peer]");
    $all("[data-egress-only]", subject).forEach(function (o) { o.hidden = true; o.disabled = true; });
    peerPaths(subject, "spec.subject");
    Object.keys(PEERS_KEY).forEach(function (direction) {
      var rules = children($('[data-cnp-rules="' + direction + '"]'));
      $('[data-cnp-empty="' + direction + '"]').hidden = rules.length > 0;
      rules.forEach(function (rule, i) {
        var path = "spec." + direction + "[" + i + "]";
        var name = f(rule, "name").value.trim();
        $("[data-rule-title]", rule).textContent = (direction === "ingress" ? "Ingress" : "Egress") + " rule #" + i + (name ? " " + name : "");
        $("[data-peers-title]", rule).textContent = direction === "ingress" ? "From: who connects (from)" : "To: where it connects (to)";
        setPath(rule, path);
        setPath(f(rule, "name"), path + ".name");
        setPath(f(rule, "action"), path + ".action");
        $('[data-cnp-action="up"]', rule).disabled = readOnly || i === 0;
        $('[data-cnp-action="down"]', rule).disabled = readOnly || i === rules.length - 1;
        setPath($('[data-part="peers"]', rule), path + "." + PEERS_KEY[direction]);
        children($('[data-list="peers"]', rule)).forEach(function (p, j) {
          $all("[data-egress-only]", p).forEach(function (o) { o.hidden = direction === "ingress"; o.disabled = direction === "ingress"; });
          peerPaths(p, path + "." + PEERS_KEY[direction] + "[" + j + "]");
        });
        var ports = children($('[data-list="ports"]', rule));
        $("[data-empty-ports]", rule).hidden = ports.length > 0;
        setPath($('[data-part="protocols"]', rule), path + ".protocols");
        ports.forEach(function (row, k) {
          var kind = f(row, "kind").value;
          var pp = path + ".protocols[" + k + "]";
          var proto = PROTO_KEYS[f(row, "protocol").value];
          setPath(row, pp);
          f(row, "protocol").hidden = kind === "named";
          f(row, "port").hidden = kind === "named";
          f(row, "end").hidden = kind !== "range";
          f(row, "named").hidden = kind !== "named";
          setPath(f(row, "named"), pp + ".destinationNamedPort");
          setPath(f(row, "port"), pp + "." + proto + ".destinationPort." + (kind === "range" ? "range.start" : "number"));
          setPath(f(row, "end"), pp + "." + proto + ".destinationPort.range.end");
        });
      });
    });
    if (readOnly) $all("input, select, button[data-cnp-action]", form).forEach(function (n) { n.disabled = true; });
  }

  // --- problems next to their fields ---------------------------------------------------------------
  function target(path) {
    return N.fieldFor(form, path);
  }
  function showProblems(errors) {
    $all(".ed-error", form).forEach(function (n) { n.remove(); });
    $all("[aria-invalid]", form).forEach(function (n) { n.removeAttribute("aria-invalid"); });
    var list = $("#cnp-errors");
    list.textContent = "";
    errors.forEach(function (e) {
      var li = el("li", { class: "ed-problem-error" });
      if (e.path) { li.appendChild(el("code", {}, e.path)); li.appendChild(document.createTextNode(" ")); }
      li.appendChild(document.createTextNode(e.message));
      list.appendChild(li);
      var node = target(e.path);
      if (!node) return;
      var msg = el("p", { class: "ed-error" });
      msg.appendChild(el("code", {}, e.path));
      msg.appendChild(document.createTextNode(" " + e.message));
      if (node.matches("input, select")) {
        node.setAttribute("aria-invalid", "true");
        (node.closest("label") || node).insertAdjacentElement("afterend", msg);
      } else node.insertBefore(msg, node.firstChild);
    });
    var count = $("#cnp-problem-count");
    count.textContent = String(errors.length);
    count.className = "badge " + (errors.length ? "bad" : "ok");
  }

  // --- the server's answers ------------------------------------------------------------------------
  var yamlText = "";
  function showYaml(text) {
    yamlText = text;
    var code = $("#cnp-yaml");
    code.textContent = text;
    code.removeAttribute("data-highlighted");
    code.className = "language-yaml";
    if (window.hljs && window.hljs.highlightElement) window.hljs.highlightElement(code);
  }
  function pairList(title, items, cls) {
    var box = el("div", { class: "cnp-whatif-" + cls });
    box.appendChild(el("h3", {}, title + " (" + items.length + ")"));
    if (!items.length) { box.appendChild(el("p", { class: "muted" }, "none")); return box; }
    var ul = el("ul", { class: "cnp-pairs" });
    items.forEach(function (c) {
      var li = el("li", { "data-src": c.src, "data-dst": c.dst });
      li.textContent = c.src + " → " + c.dst + ": " + c.ports + " (" + c.change + ")";
      ul.appendChild(li);
    });
    box.appendChild(ul);
    return box;
  }
  function showWhatIf(w) {
    var box = $("#cnp-what-if");
    box.textContent = "";
    if (!w) { box.appendChild(el("p", { class: "muted" }, "Waiting for a valid policy.")); return; }
    var head = el("p", { "data-testid": "cnp-whatif-summary" });
    head.textContent = w.is_empty
      ? "No change: every workload pair keeps the connections it has."
      : w.counts.allowed + " newly allowed, " + w.counts.denied + " newly denied." + (w.replaces_live ? " It replaces the live " + w.key + "." : "");
    box.appendChild(head);
    box.appendChild(el("p", { class: "muted small" }, "Its subject selects " + w.selects.length + " workload" + (w.selects.length === 1 ? "" : "s") + (w.selects.length ? ": " + w.selects.slice(0, 12).join(", ") + (w.selects.length > 12 ? "…" : "") : ".")));
    if (!w.is_empty) {
      box.appendChild(pairList("Newly denied", w.denied, "denied"));
      box.appendChild(pairList("Newly allowed", w.allowed, "allowed"));
      if (w.truncated) box.appendChild(el("p", { class: "muted small" }, "Only the first pairs are listed."));
    }
  }
  var token = 0, timer = null, inFlight = null;
  function check() {
    var obj = collect();
    var mine = ++token;
    $("#cnp-state").textContent = "Checking…";
    // A newer form state makes the answer in flight useless: stop waiting for it.
    if (inFlight && window.AbortController) inFlight.abort();
    inFlight = window.AbortController ? new AbortController() : null;
    N.request(form.getAttribute("data-check-url"), {
      method: "POST", json: obj, signal: inFlight ? inFlight.signal : undefined,
    }).then(function (result) {
      if (mine !== token) return;
      if (!result.ok) { $("#cnp-state").textContent = (result.data && result.data.detail) || "The check failed."; return; }
      var errors = localErrors.concat(result.data.errors);
      showProblems(errors);
      showYaml(result.data.yaml);
      showWhatIf(errors.length ? null : result.data.what_if);
      $("#cnp-state").textContent = errors.length ? errors.length + " problem" + (errors.length === 1 ? "" : "s") : "Valid";
      form.setAttribute("data-checked", String(mine));
    }).catch(function (error) {
      if (error && error.name === "AbortError") return;
      if (mine === token) $("#cnp-state").textContent = "The check failed: " + String(error.message || error);
    });
  }
  function changed() {
    refresh();
    clearTimeout(timer);
    timer = setTimeout(check, 250);
  }

  // --- actions -------------------------------------------------------------------------------------
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("click", function (event) {
    var button = event.target.closest("[data-cnp-action]");
    if (!button || readOnly) return;
    var action = button.getAttribute("data-cnp-action");
    var rule = button.closest("[data-cnp-rule]");
    if (action === "add-rule") {
      var direction = button.getAttribute("data-direction");
      $('[data-cnp-rules="' + direction + '"]').appendChild(makeRule(direction));
    } else if (action === "remove-rule") rule.remove();
    else if (action === "up" && rule.previousElementSibling) rule.parentNode.insertBefore(rule, rule.previousElementSibling);
    else if (action === "down" && rule.nextElementSibling) rule.parentNode.insertBefore(rule.nextElementSibling, rule);
    else if (action === "add-peer") $('[data-list="peers"]', rule).appendChild(makePeer());
    else if (action === "remove-peer") button.closest("[data-cnp-peer]").remove();
    else if (action === "add-port") $('[data-list="ports"]', rule).appendChild(makePort({ tcp: { destinationPort: {} } }));
    else if (action === "remove-port") button.closest("[data-cnp-port]").remove();
    else return;
    event.preventDefault();
    changed();
    if (action === "up" || action === "down") button.focus();
  });
  form.addEventListener("submit", function () { $("#cnp-obj").value = JSON.stringify(collect()); });
  $("#cnp-download").addEventListener("click", function () {
    if (!yamlText) return;
    var link = el("a", { href: URL.createObjectURL(new Blob([yamlText], { type: "application/yaml" })), download: ($("#cnp-name").value.trim() || "clusternetworkpolicy") + ".yaml" });
    document.body.appendChild(link);
    link.click();
    link.remove();
  });
  $all("form[data-confirm]").forEach(function (other) {
    other.addEventListener("submit", function (event) {
      if (!window.confirm(other.getAttribute("data-confirm"))) event.preventDefault();
    });
  });

  load(JSON.parse($("#cnp-initial").textContent));
  refresh();
  var serverErrors = $all("#cnp-errors li").length;
  check();
  if (serverErrors) $("#cnp-state").textContent = serverErrors + " problems: see the list";
})();
