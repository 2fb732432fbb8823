// The policy editor: builds the form from the editor's form data (see
// policies/services/drafts/form.py policy_to_form), keeps rows added and removed without a
// reload, and asks the server for the canonical YAML, the problems, the three-zone
// picture and the what-if as the form changes. The server owns every rule: this
// script only collects what is on the screen.
(function () {
  "use strict";

  var configEl = document.getElementById("editor-config");
  if (!configEl) return;
  var config = JSON.parse(configEl.textContent);
  var form = document.getElementById("editor-form");
  var readOnly = !!config.readOnly;
  var DIRECTIONS = { ingress: "from", egress: "to" };
  var COMPLEMENT = { pods: "namespaces", namespaces: "pods" };
  var uid = 0;

  var N = window.Netpolui;
  var $ = N.one, $all = N.all, el = N.el;
  function clone(id) { return document.getElementById(id).content.firstElementChild.cloneNode(true); }
  // An endpoint as the pages write it (templatetags endpoint_text): `shop/backend[Deployment]`
  // -> `shop/backend (Deployment)`, an address range outside the cluster in words.
  function endpointText(key) {
    var m = /^(.*)\[([A-Za-z]+)\]$/.exec(String(key));
    if (!m) return String(key);
    if (m[2] !== "External") return m[1] + " (" + m[2] + ")";
    if (m[1] === "0.0.0.0-255.255.255.255" || m[1] === "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") return "any address outside the cluster";
    return (m[1].split("-").length === 2 ? m[1].replace("-", " – ") : m[1]) + " (outside the cluster)";
  }
  function field(row, name) { return $('[data-field="' + name + '"]', row); }
  function val(row, name) { var el = field(row, name); return el ? el.value : ""; }
  // The rows of a list (messages placed among them are not rows).
  function children(list) {
    return list ? Array.prototype.filter.call(list.children, function (c) {
      return c.matches("[data-row], [data-rule], [data-peer]");
    }) : [];
  }
  function namespaceName() { return $("#f-namespace").value.trim() || "this namespace"; }

  // --- select elements keep values they do not list (a pasted "tcp"): validation names them
  function setSelect(select, value) {
    value = value === undefined || value === null ? "" : String(value);
    var found = Array.prototype.some.call(select.options, function (o) { return o.value === value; });
    if (!found) select.appendChild(el("option", { value: value }, value + " (not valid)"));
    select.value = value;
  }

  // --- label suggestions from the cluster -------------------------------------------------
  var valueLists = {};
  function fillKeys(scope) {
    var list = document.getElementById("dl-" + scope + "-keys");
    Object.keys((config.labels || {})[scope] || {}).forEach(function (key) {
      list.appendChild(el("option", { value: key }));
    });
  }
  function valueList(scope, key) {
    var values = ((config.labels || {})[scope] || {})[key];
    if (!values || !values.length) return null;
    var id = valueLists[scope + "\u0000" + key];
    if (!id) {
      id = "dl-v-" + (++uid);
      valueLists[scope + "\u0000" + key] = id;
      var list = el("datalist", { id: id });
      values.forEach(function (v) { list.appendChild(el("option", { value: v })); });
      document.getElementById("dl-values").appendChild(list);
    }
    return id;
  }
  function wireSuggestions(row, scope) {
    var key = field(row, "key");
    var value = field(row, "value") || field(row, "values");
    key.setAttribute("list", "dl-" + scope + "-keys");
    function update() {
      var id = valueList(scope, key.value.trim());
      if (id) value.setAttribute("list", id); else value.removeAttribute("list");
    }
    key.addEventListener("input", update);
    update();
  }

  // --- building the form ------------------------------------------------------------------
  function addPair(list, tpl, row) {
    var r = clone(tpl);
    field(r, "key").value = row ? row.key : "";
    field(r, "value").value = row ? row.value : "";
    list.appendChild(r);
    return r;
  }

  function formatValues(values) {
    return (values || []).map(function (v) { return v === "" ? '""' : v; }).join(", ");
  }
  function parseValues(text) {
    return text.split(",").map(function (v) { return v.trim(); })
      .filter(function (v) { return v !== ""; })
      .map(function (v) { return v === '""' ? "" : v; });
  }

  function addLabel(selector, row) {
    var r = addPair($('[data-list="labels"]', selector), "tpl-label", row);
    wireSuggestions(r, selector.dataset.scope);
    return r;
  }
  function addExpression(selector, row) {
    var r = clone("tpl-expression");
    field(r, "key").value = row ? row.key : "";
    setSelect(field(r, "operator"), row ? row.operator || "" : "In");
    field(r, "values").value = row ? formatValues(row.values) : "";
    $('[data-list="expressions"]', selector).appendChild(r);
    wireSuggestions(r, selector.dataset.scope);
    updateExpression(r);
    return r;
  }
  function updateExpression(r) {
    var op = val(r, "operator");
    var values = field(r, "values");
    var none = op === "Exists" || op === "DoesNotExist";
    values.placeholder = none ? "(no values with " + op + ")" : "values, comma-separated";
  }
  function makeSelector(scope, data) {
    var s = clone("tpl-selector");
    s.dataset.scope = scope;
    data = data || {};
    (data.match_labels || []).forEach(function (row) { addLabel(s, row); });
    (data.match_expressions || []).forEach(function (row) { addExpression(s, row); });
    return s;
  }

  function addExcept(peer, cidr) {
    var r = clone("tpl-except");
    field(r, "cidr").value = cidr || "";
    $('[data-list="except"]', peer).appendChild(r);
    return r;
  }
  function makePeer(data) {
    var p = clone("tpl-peer");
    data = data || { kind: "pods" };
    setSelect(field(p, "kind"), data.kind || "pods");
    $('[data-part="namespace_selector"]', p).appendChild(makeSelector("namespace", data.namespace_selector));
    $('[data-part="pod_selector"]', p).appendChild(makeSelector("pod", data.pod_selector));
    field(p, "cidr").value = data.cidr || "";
    (data.except || []).forEach(function (c) { addExcept(p, c); });
    var name = "andor-" + (++uid);
    $all("[data-andor-choice]", p).forEach(function (radio) { radio.name = name; });
    return p;
  }

  function addPort(rule, data) {
    var r = clone("tpl-port");
    data = data || { protocol: "TCP", port: "", end_port: "" };
    setSelect(field(r, "protocol"), data.protocol);
    field(r, "port").value = data.port || "";
    field(r, "end_port").value = data.end_port || "";
    $('[data-list="ports"]', rule).appendChild(r);
    return r;
  }
  function makeRule(direction, data) {
    var r = clone("tpl-rule");
    r.dataset.direction = direction;
    data = data || { peers: [], ports: [] };
    (data.peers || []).forEach(function (peer) { $('[data-list="peers"]', r).appendChild(makePeer(peer)); });
    (data.ports || []).forEach(function (port) { addPort(r, port); });
    return r;
  }

  var ptLoaded = [];
  var ptTouched = false;

  function render(data) {
    $("#f-name").value = data.name || "";
    $("#f-namespace").value = data.namespace || "";
    var metaLabels = $('[data-list="meta-labels"]');
    var metaAnnotations = $('[data-list="meta-annotations"]');
    metaLabels.textContent = "";
    metaAnnotations.textContent = "";
    (data.labels || []).forEach(function (row) { addPair(metaLabels, "tpl-pair", row); });
    (data.annotations || []).forEach(function (row) { addPair(metaAnnotations, "tpl-annotation", row); });
    if ((data.labels || []).length || (data.annotations || []).length) $("#meta-more").open = true;
    var podSel = $("#pod-selector");
    podSel.textContent = "";
    podSel.appendChild(makeSelector("pod", data.pod_selector));
    var types = data.policy_types || { explicit: false, types: [] };
    ptLoaded = (types.types || []).slice();
    ptTouched = false;
    $("#pt-explicit").checked = !!types.explicit;
    $("#pt-default").checked = !types.explicit;
    $("#pt-ingress").checked = ptLoaded.indexOf("Ingress") >= 0;
    $("#pt-egress").checked = ptLoaded.indexOf("Egress") >= 0;
    Object.keys(DIRECTIONS).forEach(function (direction) {
      var list = $('[data-rules="' + direction + '"]');
      list.textContent = "";
      (data[direction] || []).forEach(function (rule) { list.appendChild(makeRule(direction, rule)); });
    });
    refreshStructure();
  }

  // --- reading the form back ----------------------------------------------------------------
  function pairs(list) {
    return children(list).map(function (r) { return { key: val(r, "key"), value: val(r, "value") }; });
  }
  function collectSelector(s) {
    return {
      match_labels: pairs($('[data-list="labels"]', s)),
      match_expressions: children($('[data-list="expressions"]', s)).map(function (r) {
        return { key: val(r, "key"), operator: val(r, "operator"), values: parseValues(val(r, "values")) };
      }),
    };
  }
  function collectPeer(p) {
    return {
      kind: val(p, "kind"),
      pod_selector: collectSelector($('[data-part="pod_selector"] [data-selector]', p)),
      namespace_selector: collectSelector($('[data-part="namespace_selector"] [data-selector]', p)),
      cidr: val(p, "cidr"),
      except: children($('[data-list="except"]', p)).map(function (r) { return val(r, "cidr"); }),
    };
  }
  function collectRule(r) {
    return {
      peers: children($('[data-list="peers"]', r)).map(collectPeer),
      ports: children($('[data-list="ports"]', r)).map(function (row) {
        return { protocol: val(row, "protocol"), port: val(row, "port"), end_port: val(row, "end_port") };
      }),
    };
  }
  function checkedTypes() {
    var out = [];
    if ($("#pt-ingress").checked) out.push("Ingress");
    if ($("#pt-egress").checked) out.push("Egress");
    return out;
  }
  function collect() {
    var explicit = $("#pt-explicit").checked;
    var out = {
      name: $("#f-name").value,
      namespace: $("#f-namespace").value,
      labels: pairs($('[data-list="meta-labels"]')),
      annotations: pairs($('[data-list="meta-annotations"]')),
      pod_selector: collectSelector($("#pod-selector [data-selector]")),
      // Untouched, the loaded list is kept as it was (order and all).
      policy_types: { explicit: explicit, types: explicit ? (ptTouched ? checkedTypes() : ptLoaded.slice()) : [] },
    };
    Object.keys(DIRECTIONS).forEach(function (direction) {
      out[direction] = children($('[data-rules="' + direction + '"]')).map(collectRule);
    });
    return out;
  }

  // --- structure: titles, hints, paths --------------------------------------------------------
  var KIND_HINTS = {
    pods: "Pods of the policy's namespace ({ns}) whose labels match. No label rows: every pod of {ns}.",
    namespaces: "Every pod of the namespaces whose labels match. No label rows: every namespace of the cluster.",
    pods_in_namespaces: "Pods whose labels match, in namespaces whose labels match: one peer, both must match (AND).",
    ip_block: "Addresses outside the cluster: the CIDR minus each except. Pod IPs never match an ipBlock.",
  };
  var ANDOR_HINTS = {
    and: "Same peer (AND): only pods matching the pod labels, in namespaces matching the namespace labels.",
    or: "Separate peers (OR): every pod of the matching namespaces, or the matching pods of {ns}.",
  };

  function updatePeer(p) {
    var kind = val(p, "kind");
    $('[data-part="pod_selector"]', p).hidden = !(kind === "pods" || kind === "pods_in_namespaces");
    $('[data-part="namespace_selector"]', p).hidden = !(kind === "namespaces" || kind === "pods_in_namespaces");
    $('[data-part="ip_block"]', p).hidden = kind !== "ip_block";
    $("[data-kind-hint]", p).textContent = (KIND_HINTS[kind] || "").replace(/\{ns\}/g, namespaceName());
    p.dataset.kind = kind;
  }

  function neighbourFor(peers, j) {
    var kind = peers[j].dataset.kind;
    var want = COMPLEMENT[kind];
    if (!want) return null;
    if (peers[j + 1] && peers[j + 1].dataset.kind === want) return peers[j + 1];
    if (peers[j - 1] && peers[j - 1].dataset.kind === want) return peers[j - 1];
    return null;
  }

  function updateAndOr(rule) {
    var peers = children($('[data-list="peers"]', rule));
    peers.forEach(function (p, j) {
      var box = $("[data-andor]", p);
      var kind = p.dataset.kind;
      var mode = null;
      if (kind === "pods_in_namespaces") mode = "and";
      else if (neighbourFor(peers, j)) mode = "or";
      box.hidden = !mode;
      if (!mode) return;
      $all("[data-andor-choice]", box).forEach(function (radio) { radio.checked = radio.value === mode; });
      $("[data-andor-hint]", box).textContent = ANDOR_HINTS[mode].replace(/\{ns\}/g, namespaceName());
    });
  }

  function updateRule(rule, i) {
    var direction = rule.dataset.direction;
    var peersKey = DIRECTIONS[direction];
    var peers = children($('[data-list="peers"]', rule));
    var ports = children($('[data-list="ports"]', rule));
    $("[data-rule-title]", rule).textContent = (direction === "ingress" ? "Ingress" : "Egress") + " rule " + (i + 1);
    $("[data-peers-title]", rule).innerHTML = direction === "ingress"
      ? "Sources <code>from</code>" : "Destinations <code>to</code>";
    var emptyPeers = $("[data-empty-peers]", rule);
    emptyPeers.hidden = peers.length > 0;
    emptyPeers.textContent = "No peers: any " + (direction === "ingress" ? "source" : "destination") +
      ", every pod in every namespace and every address outside the cluster.";
    $("[data-or-hint]", rule).hidden = peers.length < 2;
    $("[data-empty-ports]", rule).hidden = ports.length > 0;
    peers.forEach(updatePeer);
    updateAndOr(rule);
    return peersKey;
  }

  function setPath(node, path) { if (node) node.setAttribute("data-path", path); }
  function isBlankExpression(r) {
    var op = val(r, "operator");
    return !val(r, "key").trim() && !parseValues(val(r, "values")).length && (op === "" || op === "In");
  }
  function selectorPaths(s, base) {
    setPath(s, base);
    setPath($('[data-block="matchLabels"]', s), base + ".matchLabels");
    children($('[data-list="labels"]', s)).forEach(function (r) {
      var key = val(r, "key").trim();
      setPath(r, base + ".matchLabels." + key);
      setPath(field(r, "value"), base + ".matchLabels." + key);
    });
    setPath($('[data-block="matchExpressions"]', s), base + ".matchExpressions");
    var k = 0;
    children($('[data-list="expressions"]', s)).forEach(function (r) {
      if (isBlankExpression(r)) { r.removeAttribute("data-path"); return; }
      var p = base + ".matchExpressions[" + k++ + "]";
      setPath(r, p);
      setPath(field(r, "key"), p + ".key");
      setPath(field(r, "operator"), p + ".operator");
      setPath(field(r, "values"), p + ".values");
    });
  }
  function metaPaths(list, base) {
    children(list).forEach(function (r) {
      var key = val(r, "key").trim();
      setPath(r, base + "." + key);
      setPath(field(r, "value"), base + "." + key);
    });
  }
  function paths() {
    metaPaths($('[data-list="meta-labels"]'), "metadata.labels");
    metaPaths($('[data-list="meta-annotations"]'), "metadata.annotations");
    selectorPaths($("#pod-selector [data-selector]"), "spec.podSelector");
    Object.keys(DIRECTIONS).forEach(function (direction) {
      children($('[data-rules="' + direction + '"]')).forEach(function (rule, i) {
        var rp = "spec." + direction + "[" + i + "]";
        var peersKey = DIRECTIONS[direction];
        setPath(rule, rp);
        setPath($('[data-part="peers"]', rule), rp + "." + peersKey);
        children($('[data-list="peers"]', rule)).forEach(function (p, j) {
          var pp = rp + "." + peersKey + "[" + j + "]";
          setPath(p, pp);
          selectorPaths($('[data-part="pod_selector"] [data-selector]', p), pp + ".podSelector");
          selectorPaths($('[data-part="namespace_selector"] [data-selector]', p), pp + ".namespaceSelector");
          setPath($('[data-part="ip_block"]', p), pp + ".ipBlock");
          setPath(field(p, "cidr"), pp + ".ipBlock.cidr");
          setPath($('[data-block="except"]', p), pp + ".ipBlock.except");
          var m = 0;
          children($('[data-list="except"]', p)).forEach(function (r) {
            if (!val(r, "cidr").trim()) { r.removeAttribute("data-path"); return; }
            setPath(r, pp + ".ipBlock.except[" + m + "]");
            setPath(field(r, "cidr"), pp + ".ipBlock.except[" + m++ + "]");
          });
        });
        setPath($('[data-part="ports"]', rule), rp + ".ports");
        children($('[data-list="ports"]', rule)).forEach(function (r, k) {
          var pp = rp + ".ports[" + k + "]";
          setPath(r, pp);
          setPath(field(r, "protocol"), pp + ".protocol");
          setPath(field(r, "port"), pp + ".port");
          setPath(field(r, "end_port"), pp + ".endPort");
        });
      });
    });
  }

  function egressRuleCount() { return children($('[data-rules="egress"]')).length; }

  function updateTypes() {
    var explicit = $("#pt-explicit").checked;
    $("#pt-ingress").disabled = !explicit || readOnly;
    $("#pt-egress").disabled = !explicit || readOnly;
    if (!explicit) {
      // Show what the API server will set.
      $("#pt-ingress").checked = true;
      $("#pt-egress").checked = egressRuleCount() > 0;
    }
    var types = checkedTypes();
    Object.keys(DIRECTIONS).forEach(function (direction) {
      var title = direction === "ingress" ? "Ingress" : "Egress";
      var rules = children($('[data-rules="' + direction + '"]'));
      $('[data-ignored="' + direction + '"]').hidden = !(rules.length && types.indexOf(title) < 0);
      $('[data-empty-rules="' + direction + '"]').hidden = rules.length > 0;
    });
  }

  function refreshStructure() {
    Object.keys(DIRECTIONS).forEach(function (direction) {
      children($('[data-rules="' + direction + '"]')).forEach(function (rule, i) { updateRule(rule, i); });
    });
    $all("[data-row=expression]").forEach(updateExpression);
    updateTypes();
    paths();
  }

  // --- problems next to their fields -------------------------------------------------------------
  function target(path) {
    return N.fieldFor(form, path);
  }
  function placeMessage(node, message) {
    var isInput = node.matches("input, select, textarea");
    if (isInput) node.setAttribute("aria-invalid", "true");
    // Never inside a label: the message would become part of the field's name.
    var anchor = node.closest("[data-row]") || node.closest("label") || (isInput ? node : null);
    if (anchor) anchor.insertAdjacentElement("afterend", message);
    else if (node.matches("[data-list], [data-rules]")) node.insertAdjacentElement("beforebegin", message);
    else node.insertBefore(message, node.firstChild);
  }
  function clearMessages() {
    $all(".ed-error, .ed-warning", form).forEach(function (n) { n.remove(); });
    $all("[aria-invalid]", form).forEach(function (n) { n.removeAttribute("aria-invalid"); });
  }
  function focusPath(path) {
    var node = target(path);
    if (!node) return;
    var input = node.matches("input, select, textarea") ? node : $("input, select, textarea", node);
    var details = node.closest("details");
    if (details) details.open = true;
    (input || node).focus();
  }
  function problemItem(item, cls) {
    var li = el("li", { class: cls });
    if (item.path) {
      var link = el("a", { href: "#", "data-goto": item.path });
      link.appendChild(el("code", {}, item.path));
      li.appendChild(link);
      li.appendChild(document.createTextNode(" "));
    }
    li.appendChild(document.createTextNode(item.message));
    return li;
  }
  function showProblems(errors, warnings) {
    clearMessages();
    var list = $("#error-list");
    var wlist = $("#warning-list");
    list.textContent = "";
    wlist.textContent = "";
    errors.forEach(function (e) {
      list.appendChild(problemItem(e, "ed-problem-error"));
      var node = target(e.path);
      if (node) {
        var msg = el("p", { class: "ed-error" });
        msg.appendChild(el("code", {}, e.path));
        msg.appendChild(document.createTextNode(" " + e.message));
        placeMessage(node, msg);
      }
    });
    (warnings || []).forEach(function (w) {
      wlist.appendChild(problemItem(w, "ed-problem-" + w.level));
      if (w.level !== "warning") return;
      var node = target(w.path);
      if (node) placeMessage(node, el("p", { class: "ed-warning" }, w.message));
    });
    var count = $("#problem-count");
    count.textContent = String(errors.length);
    count.className = "badge " + (errors.length ? "bad" : "ok");
  }

  // --- the server's answers ------------------------------------------------------------------------
  function post(url, body) {
    return N.request(url, { method: "POST", json: body });
  }

  var yamlOut = $("#yaml-out");
  var yamlIn = $("#yaml-in");
  var lastYaml = "";
  function showYaml(text) {
    lastYaml = text;
    yamlOut.textContent = text;
    yamlOut.removeAttribute("data-highlighted");
    yamlOut.className = "language-yaml";
    if (window.hljs && window.hljs.highlightElement) window.hljs.highlightElement(yamlOut);
    if (yamlIn && document.activeElement !== yamlIn) yamlIn.value = text;
  }

  var ZONES = [
    ["namespace", function () { return "This namespace (" + namespaceName() + ")"; }],
    ["cluster", function () { return "Elsewhere in the cluster"; }],
    ["external", function () { return "Outside the cluster"; }],
  ];
  var ZONE_PEER = { namespace: "pods", cluster: "namespaces", external: "ip_block" };
  var ZONE_WORDS = { namespace: "in this namespace", cluster: "elsewhere in the cluster", external: "outside the cluster" };
  function zoneAddButton(cell, zone, direction) {
    if (readOnly) return cell;
    cell.appendChild(el("button", {
      type: "button", class: "ed-zone-add", "data-action": "zone-add", "data-direction": direction, "data-zone": zone,
      "aria-label": "Add an " + direction + " peer " + ZONE_WORDS[zone],
    }, "+ Add peer"));
    return cell;
  }
  function zoneCell(side, zone, direction) {
    var cell = el("div", { class: "ed-zone-cell ed-zone-" + direction, "data-zone": zone, "data-direction": direction });
    if (!side.affected) {
      cell.appendChild(el("p", { class: "muted" }, "Not isolated by this policy"));
      cell.classList.add("ed-open");
      return zoneAddButton(cell, zone, direction);
    }
    if (side.deny_all) {
      cell.appendChild(el("p", { class: "ed-deny" }, "Nothing allowed (no rules)"));
      return zoneAddButton(cell, zone, direction);
    }
    var items = side[zone] || [];
    if (!items.length) {
      cell.appendChild(el("p", { class: "muted" }, "—"));
      return zoneAddButton(cell, zone, direction);
    }
    var ul = el("ul", { class: "plain" });
    items.forEach(function (item) {
      var li = el("li", { class: "ed-zone-item", "data-direction": direction, "data-rule": String(item.rule),
        "data-peer": item.peer === null || item.peer === undefined ? "" : String(item.peer) });
      li.appendChild(el("span", { class: "ed-zone-text" }, item.text));
      li.appendChild(el("span", { class: "ed-zone-ports" }, " · " + item.ports));
      li.appendChild(el("span", { class: "ed-zone-rule muted" }, " (rule " + (item.rule + 1) + ")"));
      if (item.workloads && item.workloads.length) {
        li.appendChild(el("small", { class: "ed-zone-match" },
          "now: " + item.workloads.map(endpointText).join(", ") + (item.more ? " and " + item.more + " more" : "")));
      } else if (item.peer !== null && item.peer !== undefined && zone !== "external") {
        li.appendChild(el("small", { class: "ed-zone-match muted" }, "matches no workload now"));
      }
      if (!readOnly && item.peer !== null && item.peer !== undefined) {
        var at = { type: "button", "data-direction": direction, "data-rule": String(item.rule), "data-peer": String(item.peer) };
        li.appendChild(el("button", Object.assign({ "data-action": "zone-edit", "aria-label": "Edit " + direction + " rule " + (item.rule + 1) + " peer " + (item.peer + 1) }, at), "Edit"));
        li.appendChild(el("button", Object.assign({ "data-action": "zone-remove", "aria-label": "Remove " + direction + " rule " + (item.rule + 1) + " peer " + (item.peer + 1) }, at), "Remove"));
      }
      ul.appendChild(li);
    });
    cell.appendChild(ul);
    return zoneAddButton(cell, zone, direction);
  }
  var lastZones = null;
  function markBroken(box, errors) {
    (errors || []).forEach(function (e) {
      var m = /^spec\.(ingress|egress)\[(\d+)\](?:\.(?:from|to)\[(\d+)\])?/.exec(e.path || "");
      if (!m) return;
      $all('.ed-zone-item[data-direction="' + m[1] + '"][data-rule="' + m[2] + '"]', box).forEach(function (li) {
        if (m[3] === undefined || li.getAttribute("data-peer") === m[3]) li.classList.add("ed-zone-broken");
      });
    });
  }
  function showZones(z, errors) {
    var box = $("#zones");
    box.textContent = "";
    box.classList.remove("ed-stale");
    if (!z && lastZones) {
      // Keep the picture: the last valid version, with the broken parts marked.
      box.classList.add("ed-stale");
      box.appendChild(el("p", { class: "ed-stale-note", role: "status" },
        "The policy has problems: the picture shows its last valid version, broken parts outlined."));
      drawZones(box, lastZones);
      markBroken(box, errors);
      return;
    }
    if (!z) {
      box.appendChild(el("p", { class: "muted" }, "Fix the problems to see the picture."));
      return;
    }
    lastZones = z;
    drawZones(box, z);
  }
  function drawZones(box, z) {
    var grid = el("div", { class: "ed-zone-grid", role: "group", "aria-label": "Three-zone picture" });
    grid.appendChild(el("div", { class: "ed-zone-corner" }));
    grid.appendChild(el("div", { class: "ed-zone-head" }, "Ingress: who may connect"));
    grid.appendChild(el("div", { class: "ed-zone-head" }, "Selected pods"));
    grid.appendChild(el("div", { class: "ed-zone-head" }, "Egress: where they may connect"));
    ZONES.forEach(function (zone, i) {
      grid.appendChild(el("div", { class: "ed-zone-label" }, zone[1]()));
      grid.appendChild(zoneCell(z.ingress, zone[0], "ingress"));
      if (i === 0) {
        var mid = el("div", { class: "ed-zone-selected" });
        mid.appendChild(el("strong", {}, z.selected.all ? "Every pod of " + z.namespace : "pods [" + z.selected.selector + "]"));
        mid.appendChild(el("span", { class: "muted" }, " in " + z.namespace));
        if (z.selected.workloads.length) {
          var ul = el("ul", { class: "plain small" });
          z.selected.workloads.forEach(function (w) { ul.appendChild(el("li", { title: w }, endpointText(w))); });
          if (z.selected.more) ul.appendChild(el("li", { class: "muted" }, "and " + z.selected.more + " more"));
          mid.appendChild(ul);
        } else {
          mid.appendChild(el("p", { class: "ed-warn-text small" }, "Selects no workload now."));
        }
        grid.appendChild(mid);
      }
      grid.appendChild(zoneCell(z.egress, zone[0], "egress"));
    });
    box.appendChild(grid);
  }

  function connTable(rows, cls, note) {
    if (!rows.length) return el("p", { class: "muted" }, "Nothing.");
    var table = el("table", { class: "ed-conns " + cls });
    var head = el("tr");
    ["From", "To", "Ports"].forEach(function (h) { head.appendChild(el("th", { scope: "col" }, h)); });
    var thead = el("thead");
    thead.appendChild(head);
    table.appendChild(thead);
    var body = el("tbody");
    rows.forEach(function (c) {
      var tr = el("tr");
      tr.appendChild(el("td", { title: c.src }, endpointText(c.src)));
      tr.appendChild(el("td", { title: c.dst }, endpointText(c.dst)));
      var ports = el("td", {}, c.ports);
      if (c.change === note[0]) ports.appendChild(el("span", { class: "muted" }, " (" + note[1] + ")"));
      tr.appendChild(ports);
      body.appendChild(tr);
    });
    table.appendChild(body);
    return table;
  }
  function showWhatIf(result) {
    var box = $("#what-if");
    box.textContent = "";
    var wrap = el("div", { class: "ed-whatif" });
    (result.policies || []).forEach(function (p) {
      var line = el("p", { class: "ed-whatif-policy" });
      line.appendChild(el("strong", {}, p.key));
      line.appendChild(document.createTextNode(p.same_as_live ? " is the same in effect as the live policy of that name. "
        : p.replaces_live ? " replaces the live policy of that name. " : " is a new policy. "));
      if (p.selects.length) line.appendChild(document.createTextNode("Selects " + p.selects.map(endpointText).join(", ") + "."));
      else line.appendChild(el("span", { class: "ed-warn-text" }, "Selects no workload in the cluster now."));
      wrap.appendChild(line);
    });
    if (result.is_empty) {
      var none = el("p", { class: "ed-whatif-none" });
      none.appendChild(el("strong", {}, "No change:"));
      none.appendChild(document.createTextNode(" every connection stays as it is."));
      wrap.appendChild(none);
    } else {
      var counts = el("p", { class: "ed-whatif-counts" });
      counts.appendChild(el("strong", {}, String(result.counts.allowed)));
      counts.appendChild(document.createTextNode(" newly allowed, "));
      counts.appendChild(el("strong", {}, String(result.counts.denied)));
      counts.appendChild(document.createTextNode(" newly denied" + (result.truncated ? " (first " + result.allowed.length + " shown)." : ".")));
      wrap.appendChild(counts);
    }
    if (result.dns && result.dns.length) {
      var dns = el("ul", { class: "ed-dns-loss", role: "alert" });
      result.dns.forEach(function (key) {
        var li = el("li");
        li.appendChild(el("strong", {}, endpointText(key)));
        li.appendChild(document.createTextNode(" could send DNS queries (UDP 53) before and cannot after: add a DNS egress rule (template \"Allow DNS egress\")."));
        dns.appendChild(li);
      });
      wrap.appendChild(dns);
    }
    if (result.isolation && result.isolation.length) {
      wrap.appendChild(el("h4", {}, "Isolation changes"));
      var iso = el("ul", { class: "ed-isolation" });
      function word(flag) { return flag ? "isolated" : "open"; }
      result.isolation.forEach(function (row) {
        iso.appendChild(el("li", {}, endpointText(row.workload) + ": ingress " + word(row.ingress[0]) + " → " + word(row.ingress[1]) +
          ", egress " + word(row.egress[0]) + " → " + word(row.egress[1]) +
          (row.host_network ? " (host network: enforcement depends on the CNI)" : "")));
      });
      wrap.appendChild(iso);
    }
    var tables = el("div", { class: "ed-whatif-tables" });
    var allowed = el("section");
    allowed.appendChild(el("h4", {}, "+ Newly allowed"));
    allowed.appendChild(connTable(result.allowed, "allowed", ["more ports", "more ports"]));
    var denied = el("section");
    denied.appendChild(el("h4", {}, "− Newly denied"));
    denied.appendChild(connTable(result.denied, "denied", ["fewer ports", "these ports only"]));
    tables.appendChild(allowed);
    tables.appendChild(denied);
    wrap.appendChild(tables);
    box.appendChild(wrap);
  }

  var seq = 0;
  var timer = null;
  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(refresh, delay === undefined ? 250 : delay);
  }
  function setWhatIfStatus(text) {
    var box = $("#what-if");
    box.textContent = "";
    box.appendChild(el("p", { class: "muted" }, text));
  }
  function refresh() {
    var data = collect();
    var mine = ++seq;
    form.setAttribute("aria-busy", "true");
    post(config.urls.preview, { form: data, cluster: config.cluster }).then(function (res) {
      if (mine !== seq) return;
      if (!res.ok || !res.data) throw new Error("preview failed (" + res.status + ")");
      var preview = res.data;
      showYaml(preview.yaml);
      showProblems(preview.errors, preview.warnings);
      showZones(preview.zones, preview.errors);
      if (!preview.valid) {
        setWhatIfStatus("Fix the problems above to see what this policy would change.");
        form.removeAttribute("aria-busy");
        return null;
      }
      setWhatIfStatus("Computing what changes…");
      return post(config.urls.whatIf, { form: data, cluster: config.cluster }).then(function (w) {
        if (mine !== seq) return;
        form.removeAttribute("aria-busy");
        if (w.ok && w.data) showWhatIf(w.data);
        else setWhatIfStatus("The what-if could not be computed (" + w.status + ").");
      });
    }).catch(function (err) {
      if (mine !== seq) return;
      form.removeAttribute("aria-busy");
      setWhatIfStatus("The server did not answer: " + err.message);
    });
  }

  // --- YAML as the other way in ----------------------------------------------------------------
  var yamlTimer = null;
  function parseYaml() {
    var list = $("#yaml-errors");
    post(config.urls.parse, { yaml: yamlIn.value, namespace: $("#f-namespace").value }).then(function (res) {
      list.textContent = "";
      if (!res.ok) {
        var problems = Array.isArray(res.data) ? res.data : [{ path: "yaml", message: "could not be read" }];
        problems.forEach(function (e) {
          list.appendChild(el("li", {}, e.message));
        });
        // The Problems list names YAML syntax errors too, not only the box under the text.
        showProblems(problems.map(function (e) { return { path: "", message: "YAML: " + e.message }; }), []);
        return;
      }
      var docs = res.data.documents;
      if (docs.length !== 1) {
        list.appendChild(el("li", {}, "The text holds " + docs.length + " policies: the form edits one. Use New draft › Paste YAML to import several."));
        return;
      }
      if (docs[0].losses.length) {
        list.appendChild(el("li", {}, "The form cannot hold: " + docs[0].losses.join(", ")));
      }
      render(docs[0].form);
      schedule(0);
    }).catch(function (err) {
      list.textContent = "";
      list.appendChild(el("li", {}, "The server did not answer: " + err.message));
    });
  }

  // --- events ----------------------------------------------------------------------------------
  function changed(structure) {
    if (structure) refreshStructure(); else paths();
    schedule();
  }

  function splitPeer(peer) {
    var data = collectPeer(peer);
    var nsPeer = makePeer({ kind: "namespaces", namespace_selector: data.namespace_selector });
    var podPeer = makePeer({ kind: "pods", pod_selector: data.pod_selector });
    peer.replaceWith(nsPeer, podPeer);
    return nsPeer;
  }
  function mergePeers(peer, other) {
    var a = collectPeer(peer);
    var b = collectPeer(other);
    var ns = a.kind === "namespaces" ? a : b;
    var pods = a.kind === "pods" ? a : b;
    var merged = makePeer({ kind: "pods_in_namespaces", namespace_selector: ns.namespace_selector, pod_selector: pods.pod_selector });
    var first = peer.compareDocumentPosition(other) & Node.DOCUMENT_POSITION_FOLLOWING ? peer : other;
    first.replaceWith(merged);
    (first === peer ? other : peer).remove();
    return merged;
  }

  function onClick(event) {
    var button = event.target.closest("[data-action]");
    if (!button || !form.contains(button) || readOnly) return;
    var action = button.dataset.action;
    var focus = null;
    if (action === "zone-add" || action === "zone-edit" || action === "zone-remove") {
      event.preventDefault();
      zoneAction(action, button.dataset);
      return;
    }
    if (action === "add-rule") {
      var rule = makeRule(button.dataset.direction, { peers: [], ports: [] });
      $('[data-rules="' + button.dataset.direction + '"]').appendChild(rule);
      focus = $("[data-action=add-peer]", rule);
    } else if (action === "remove-rule") {
      button.closest("[data-rule]").remove();
    } else if (action === "add-peer") {
      var r = button.closest("[data-rule]");
      var peer = makePeer({ kind: "pods" });
      $('[data-list="peers"]', r).appendChild(peer);
      focus = field(peer, "kind");
    } else if (action === "remove-peer") {
      button.closest("[data-peer]").remove();
    } else if (action === "add-port") {
      focus = field(addPort(button.closest("[data-rule]")), "port");
    } else if (action === "add-label") {
      focus = field(addLabel(button.closest("[data-selector]")), "key");
    } else if (action === "add-expression") {
      focus = field(addExpression(button.closest("[data-selector]")), "key");
    } else if (action === "add-except") {
      focus = field(addExcept(button.closest("[data-peer]")), "cidr");
    } else if (action === "add-meta-label") {
      focus = field(addPair($('[data-list="meta-labels"]'), "tpl-pair"), "key");
    } else if (action === "add-meta-annotation") {
      focus = field(addPair($('[data-list="meta-annotations"]'), "tpl-annotation"), "key");
    } else if (action === "remove-row") {
      var row = button.closest("[data-row]");
      var list = row.parentElement;
      row.remove();
      focus = list.parentElement.querySelector("[data-action^=add]");
    } else {
      return;
    }
    event.preventDefault();
    changed(true);
    if (focus) focus.focus();
  }

  // --- the three-zone picture as the place to work ------------------------------------------------
  function formPeer(direction, rule, peer) {
    var r = children($('[data-rules="' + direction + '"]'))[Number(rule)];
    return r ? children($('[data-list="peers"]', r))[Number(peer)] : null;
  }
  function zoneAction(action, data) {
    var direction = data.direction;
    if (action === "zone-add") {
      if ($("#pt-explicit") && $("#pt-explicit").checked) {
        var box = $("#pt-" + direction);
        if (box && !box.checked) { box.checked = true; ptTouched = true; }
      }
      var rule = makeRule(direction, { peers: [], ports: [] });
      $('[data-rules="' + direction + '"]').appendChild(rule);
      var made = makePeer({ kind: ZONE_PEER[data.zone] });
      $('[data-list="peers"]', rule).appendChild(made);
      changed(true);
      showPeer(made);
      return;
    }
    var peer = formPeer(direction, data.rule, data.peer);
    if (!peer) return;
    if (action === "zone-remove") {
      var list = peer.parentElement;
      peer.remove();
      changed(true);
      var next = list.closest("[data-rule]");
      if (next) ($("[data-action=add-peer]", next) || next).focus();
      return;
    }
    showPeer(peer);
  }
  function showPeer(peer) {
    peer.scrollIntoView({ block: "center" });
    peer.classList.add("ed-flash");
    setTimeout(function () { peer.classList.remove("ed-flash"); }, 1500);
    var input = $('[data-part]:not([hidden]) input, [data-field=kind]', peer);
    (input || field(peer, "kind")).focus();
  }

  function onChange(event) {
    var t = event.target;
    if (t.matches("[data-andor-choice]")) {
      var peer = t.closest("[data-peer]");
      var rule = t.closest("[data-rule]");
      var made;
      if (t.value === "or" && peer.dataset.kind === "pods_in_namespaces") {
        made = splitPeer(peer);
      } else if (t.value === "and") {
        var peers = children($('[data-list="peers"]', rule));
        var other = neighbourFor(peers, peers.indexOf(peer));
        if (other) made = mergePeers(peer, other);
      }
      changed(true);
      if (made) (($("[data-andor-choice]:checked", made)) || field(made, "kind")).focus();
      return;
    }
    if (!t.closest(".ed-fields")) return;
    // Once someone touches the directions, the checkboxes say what is listed.
    if (t.id === "pt-ingress" || t.id === "pt-egress" || t.id === "pt-explicit") ptTouched = true;
    var structural = t.matches("[data-field=kind], [data-field=operator], [name=pt-mode], #pt-ingress, #pt-egress");
    changed(structural);
  }

  function onInput(event) {
    var t = event.target;
    if (t === yamlIn) {
      clearTimeout(yamlTimer);
      yamlTimer = setTimeout(parseYaml, 500);
      return;
    }
    if (!t.closest(".ed-fields")) return;
    if (t.id === "f-namespace") { changed(true); return; }
    changed(false);
  }

  function copyYaml() {
    var state = $("#copy-state");
    function done() { state.textContent = "YAML copied to the clipboard."; }
    function fallback() {
      var area = el("textarea", { class: "visually-hidden", "aria-hidden": "true" });
      area.value = lastYaml;
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      area.remove();
      state.textContent = ok ? "YAML copied to the clipboard." : "Select the YAML and copy it (the browser refused).";
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(lastYaml).then(done, fallback);
    } else {
      fallback();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    fillKeys("pod");
    fillKeys("namespace");
    render(config.form || {});
    if (config.errors && config.errors.length) showProblems(config.errors, []);
    form.addEventListener("click", onClick);
    form.addEventListener("change", onChange);
    form.addEventListener("input", onInput);
    form.addEventListener("submit", function () {
      $("input[name=form_json]", form).value = JSON.stringify(collect());
    });
    $("#copy-yaml").addEventListener("click", copyYaml);
    var editYaml = $("#edit-yaml");
    if (editYaml) {
      editYaml.addEventListener("click", function () {
        var on = editYaml.getAttribute("aria-pressed") !== "true";
        editYaml.setAttribute("aria-pressed", on ? "true" : "false");
        $("#yaml-edit").hidden = !on;
        $(".ed-yaml").hidden = on;
        if (on) { yamlIn.value = lastYaml; yamlIn.focus(); }
      });
    }
    document.addEventListener("click", function (event) {
      var link = event.target.closest("[data-goto]");
      if (!link) return;
      event.preventDefault();
      focusPath(link.getAttribute("data-goto"));
    });
    $all("form[data-confirm]").forEach(function (f) {
      f.addEventListener("submit", function (event) {
        if (!window.confirm(f.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
    schedule(0);
  });
})();
