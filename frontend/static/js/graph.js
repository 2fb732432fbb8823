// The tier graph: Cytoscape.js with an ELK layout; namespaces are compound nodes.
// Data comes server-rendered (the reachability payload of services.analysis, the same
// payload GET /api/clusters/{id}/reachability/ serves); explanations are HTML fragments.
(function () {
  "use strict";

  var PROTOCOLS = ["TCP", "UDP", "SCTP"];
  var escapeHtml = window.Netpolui.escapeHtml;
  var rangesText = window.Netpolui.rangesText;
  var ANY_ADDRESS = "0.0.0.0-255.255.255.255";

  function css(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  // "shop/frontend (Deployment)": how people name a node, never "shop/frontend[Deployment]"
  function humanName(id, byId) {
    var node = byId[id];
    if (node && node.external) return node.ranges ? node.label : externalText(node).replace(/\n/g, " ");
    if (node && node.object_kind) return node.namespace + "/" + node.name + " (" + node.object_kind + ")";
    return id;
  }

  function externalText(node) {
    // ranges named by the ipBlocks written in the policies (the server merged them)
    if (node.ranges) {
      if (node.label === "0.0.0.0/0" || node.label === "::/0") return "any address\n" + node.label;
      return node.label.replace(" except ", "\nexcept ");
    }
    var body = node.name; // the range, as the payload names it
    if (body === ANY_ADDRESS || /^::-f/.test(body)) return "any address";
    if (node.ip_range) return node.ip_range[0] + " –\n" + node.ip_range[1];
    return body;
  }

  // At the namespace level, a node that is neither an opened namespace's tier nor an
  // opened tier's workload is a whole namespace (the plain payload names no level).
  function isCollapsedNamespace(node) {
    return node.level !== "tier" && node.level !== "workload";
  }

  function nodeLabel(node, level) {
    var lines = [];
    if (node.external) {
      lines.push(externalText(node));
    } else if (level === "namespace" && isCollapsedNamespace(node)) {
      // a collapsed namespace: double-click opens it into its tiers
      lines.push("+ " + node.label);
      if (node.members) lines.push(node.members.length + " workload" + (node.members.length === 1 ? "" : "s"));
      openLines(node, lines);
    } else {
      // the payload names the object (namespace, name, object_kind): no key is parsed here
      var parsed = node.object_kind ? { name: node.name, kind: node.object_kind } : null;
      if (parsed && node.kind === "Group") {
        lines.push(parsed.name + " · " + parsed.kind); // a workload with no tier label
      } else if (parsed && level === "pod") {
        lines.push(parsed.name);
      } else if (parsed) {
        lines.push(parsed.name);
        lines.push(parsed.kind + " · " + node.pods + " pod" + (node.pods === 1 ? "" : "s"));
      } else {
        lines.push(node.label);
        if (node.members) {
          lines.push(node.members.length + " workload" + (node.members.length === 1 ? "" : "s"));
        }
      }
      openLines(node, lines);
    }
    return lines.join("\n");
  }

  function openLines(node, lines) {
    var open = [];
    if (!node.ingress_isolated) open.push("ingress");
    if (!node.egress_isolated) open.push("egress");
    if (open.length) lines.push("⚠ open: " + open.join(", "));
    if (node.host_network) lines.push("H hostNetwork");
    badges(node, lines);
  }

  // Every member open in a direction: the edges this implies are not drawn.
  function badges(node, lines) {
    var marks = [];
    if (node.open_egress) marks.push("⇥ sends anywhere");
    if (node.open_ingress) marks.push("⇤ accepts anyone");
    if (marks.length) lines.push(marks.join(" · "));
  }

  // "12 pairs": how many workload (or pod) pairs an aggregated edge stands for; a single
  // pair says nothing more than the edge itself.
  function pairsText(edge) {
    return edge.pairs > 1 ? edge.pairs + " pairs" : "";
  }

  function edgeText(edge) {
    var count = pairsText(edge);
    return count ? count + " · " + edge.label : edge.label;
  }

  // One drawn edge per protocol; the first one carries the pair count, which is the whole
  // edge's (a pair may allow several protocols).
  function edgeElements(edge, index) {
    var base = { source: edge.source, target: edge.target, pair: index };
    var out = [];
    if (edge.conns === "all") {
      out.push({
        group: "edges",
        data: Object.assign({ id: "e" + index, label: "all", proto: "all" }, base),
        classes: "all",
      });
    } else {
      PROTOCOLS.forEach(function (proto) {
        var ranges = edge.conns[proto];
        if (!ranges) return;
        out.push({
          group: "edges",
          data: Object.assign({ id: "e" + index + proto, label: proto + " " + rangesText(ranges), proto: proto }, base),
          classes: "proto-" + proto,
        });
      });
    }
    var count = pairsText(edge);
    if (count && out.length) out[0].data.label = count + " · " + out[0].data.label;
    return out;
  }

  function buildElements(data, level, withEdges) {
    var elements = [];
    var boxes = {};
    data.nodes.forEach(function (node) {
      var parent = null;
      // at the namespace level only the opened namespaces are boxes (of their tiers), and
      // inside them the opened tiers (of their workloads)
      if (level !== "namespace" || node.level === "tier" || node.level === "workload") {
        parent = node.external ? "box:outside" : node.namespace ? "box:ns:" + node.namespace : null;
        if (parent && !boxes[parent]) {
          boxes[parent] = true;
          elements.push({
            group: "nodes",
            data: { id: parent, label: node.external ? "outside the cluster" : node.namespace, box: true },
            classes: node.external ? "box outside" : "box namespace",
          });
        }
        if (node.level === "workload" && node.tier) {
          var tierBox = "box:tier:" + node.tier;
          if (!boxes[tierBox]) {
            boxes[tierBox] = true;
            elements.push({
              group: "nodes",
              data: { id: tierBox, label: node.tier.split("/").slice(1).join("/"), box: true, parent: parent },
              classes: "box tier",
            });
          }
          parent = tierBox;
        }
      }
      var classes = ["endpoint"];
      if (node.external) classes.push("external");
      else {
        if (level === "namespace" && isCollapsedNamespace(node)) classes.push("collapsed");
        if (level === "namespace" && node.level === "tier" && node.kind === "Group" && !node.object_kind) classes.push("collapsed-tier");
        if (!node.ingress_isolated || !node.egress_isolated) classes.push("open");
        if (node.host_network) classes.push("host");
      }
      var label = nodeLabel(node, level);
      var lines = label.split("\n");
      var longest = Math.max.apply(null, lines.map(function (l) { return l.length; }));
      elements.push({
        group: "nodes",
        // Sized from the label (13px text): Cytoscape's width "label" is deprecated.
        data: {
          id: node.id, label: label, parent: parent || undefined, level: node.level || level,
          w: longest * 7.6 + 22, h: lines.length * 17 + 14,
        },
        classes: classes.join(" "),
      });
    });
    if (withEdges) {
      data.edges.forEach(function (edge, index) {
        Array.prototype.push.apply(elements, edgeElements(edge, index));
      });
    }
    return elements;
  }

  function style(showLabels) {
    var ink = css("--ink", "#1d2330");
    return [
      {
        selector: "node.endpoint",
        style: {
          shape: "round-rectangle",
          "background-color": "#ffffff",
          "border-width": 1.5,
          "border-color": "#5b6475",
          label: "data(label)",
          "text-wrap": "wrap",
          "text-valign": "center",
          "text-halign": "center",
          "font-size": 13,
          color: ink,
          width: "data(w)",
          height: "data(h)",
        },
      },
      {
        selector: "node.collapsed",
        style: { "background-color": "#eef1f5", "border-width": 2, "border-color": "#8a94a6", "font-weight": "bold" },
      },
      {
        selector: "node.open",
        style: { "border-style": "dashed", "border-color": css("--danger", "#b3261e"), "border-width": 2.5 },
      },
      {
        selector: "node.external",
        style: { shape: "cut-rectangle", "background-color": "#f6e6f0", "border-color": css("--external", "#cc79a7"), "border-width": 2 },
      },
      {
        selector: "node.box",
        style: {
          shape: "round-rectangle",
          "background-color": "#eef1f5",
          "background-opacity": 0.55,
          "border-color": "#8a94a6",
          "border-width": 1,
          label: "data(label)",
          "text-valign": "top",
          "text-halign": "center",
          "font-size": 15,
          "font-weight": "bold",
          color: ink,
          padding: "10px",
        },
      },
      {
        selector: "node.box.outside",
        style: { "background-color": "#fbf1f7", "border-color": css("--external", "#cc79a7"), "border-style": "dashed" },
      },
      {
        selector: "edge",
        style: {
          width: 1.6,
          "curve-style": "bezier",
          "target-arrow-shape": "triangle",
          "arrow-scale": 0.9,
          "line-color": css("--all", ink),
          "target-arrow-color": css("--all", ink),
          label: showLabels ? "data(label)" : "",
          "font-size": 11,
          "text-rotation": "autorotate",
          "text-background-color": "#ffffff",
          "text-background-opacity": 0.85,
          "text-background-padding": "1px",
          color: ink,
          "loop-direction": "-45deg",
          "loop-sweep": "-60deg",
        },
      },
      // The dash says "all ports" without colour; the word "all" shows on hover and selection.
      { selector: "edge.all", style: { "line-style": "dashed", "line-dash-pattern": [6, 3], label: "", width: 1.1, opacity: 0.55 } },
      { selector: "edge.all.chosen, edge.all.show-label", style: { opacity: 1 } },
      { selector: "edge.proto-TCP", style: { "line-color": css("--tcp", "#0072b2"), "target-arrow-color": css("--tcp", "#0072b2") } },
      { selector: "edge.proto-UDP", style: { "line-color": css("--udp", "#e69f00"), "target-arrow-color": css("--udp", "#e69f00") } },
      { selector: "edge.proto-SCTP", style: { "line-color": css("--sctp", "#009e73"), "target-arrow-color": css("--sctp", "#009e73") } },
      // A tier talking to itself: the loop must clear the node's box to be drawable.
      { selector: "edge:loop", style: { "control-point-step-size": 80 } },
      { selector: "edge.show-label", style: { label: "data(label)", "z-index": 20 } },
      { selector: ".faded", style: { opacity: 0.15 } },
      { selector: "edge.chosen", style: { width: 4, "z-index": 30, label: "data(label)", "font-size": 12 } },
      { selector: "node.chosen", style: { "border-width": 4, "border-color": css("--accent", "#0b63b6") } },
    ];
  }

  function layoutOptions(nodeCount, edgeCount, fastAbove, aspect) {
    if (nodeCount > fastAbove || edgeCount > fastAbove * 3) {
      // Big graphs: namespace boxes packed into the viewport's shape, each laid out on its
      // own (well under a second for 200 nodes; a layered pass over everything takes ~10 s).
      return {
        name: "elk",
        nodeDimensionsIncludeLabels: true,
        animate: false,
        elk: {
          algorithm: "rectpacking",
          "elk.hierarchyHandling": "SEPARATE_CHILDREN",
          "elk.aspectRatio": aspect, // rows as wide as the drawing area, not one column
          "elk.spacing.nodeNode": 16,
          "elk.padding": "[top=34,left=14,bottom=14,right=14]",
        },
      };
    }
    return {
      name: "elk",
      nodeDimensionsIncludeLabels: true,
      animate: false,
      elk: {
        algorithm: "layered",
        "elk.direction": "RIGHT",
        "elk.hierarchyHandling": "INCLUDE_CHILDREN",
        "elk.spacing.nodeNode": 26,
        "elk.layered.spacing.nodeNodeBetweenLayers": 70,
        "elk.padding": "[top=36,left=16,bottom=16,right=16]",
      },
    };
  }

  function init() {
    var container = document.getElementById("graph");
    var dataNode = document.getElementById("graph-data");
    if (!container || !dataNode || typeof cytoscape === "undefined") return;
    var data = JSON.parse(dataNode.textContent);
    var config = JSON.parse(document.getElementById("graph-config").textContent);
    var status = document.querySelector("[data-graph-status]");
    // Thousands of edges are unreadable and slow to lay out: draw the nodes, and the
    // edges of the node (or edge) the user selects; the filters narrow the rest.
    var focus = data.edges.length > config.draw_limit && new URL(window.location.href).searchParams.get("draw") !== "all";
    var big = focus || data.edges.length > config.label_limit;
    var started = performance.now();

    var hiddenNote = document.querySelector("[data-labels-hidden]");
    if (big && hiddenNote) hiddenNote.hidden = false;

    var cy = cytoscape({
      container: container,
      elements: buildElements(data, config.level, !focus),
      style: style(!big),
      minZoom: 0.05,
      maxZoom: 3,
      textureOnViewport: big,
      hideEdgesOnViewport: big,
      pixelRatio: big ? 1 : "auto",
      boxSelectionEnabled: false,
    });
    zoomOnWheel(cy, container);
    // The status bar above the drawing changes height as its sentence changes, which moves
    // and resizes the container: Cytoscape must learn of it, or clicks land off their target.
    if (typeof ResizeObserver !== "undefined") {
      new ResizeObserver(function () { cy.resize(); }).observe(container);
    }
    var byPair = data.edges;
    var byId = {};
    data.nodes.forEach(function (node) { byId[node.id] = node; });

    function clearChosen() {
      cy.elements().removeClass("chosen faded");
    }

    // focus mode: the drawn edges are those of the last selection only
    var shown = {};
    var focusText = null; // the status sentence, beside the "draw all" button
    function showEdges(indices) {
      if (!focus) return;
      cy.edges().remove();
      shown = {};
      var add = [];
      indices.forEach(function (index) {
        shown[index] = true;
        Array.prototype.push.apply(add, edgeElements(byPair[index], index));
      });
      cy.add(add);
    }

    function chooseEdge(index, options) {
      var edge = byPair[index];
      if (!edge) return;
      if (focus && !shown[index]) showEdges([index]);
      clearChosen();
      offerOpen(null);
      var edges = cy.edges().filter(function (e) { return e.data("pair") === index; });
      cy.elements().addClass("faded");
      edges.removeClass("faded").addClass("chosen");
      edges.connectedNodes().removeClass("faded");
      edges.connectedNodes().ancestors().removeClass("faded");
      window.NetpolPanel.setSelection("edge:" + edge.source + ">" + edge.target);
      return window.NetpolPanel.explainPair(config, edge.source, edge.target, options);
    }

    function chooseNode(id, options) {
      var node = cy.getElementById(id);
      if (!node || node.empty()) return;
      if (focus) {
        var mine = [];
        byPair.forEach(function (edge, index) {
          if (edge.source === id || edge.target === id) mine.push(index);
        });
        showEdges(mine);
        if (focusText) {
          focusText.textContent = "Showing the " + mine.length + " connection" + (mine.length === 1 ? "" : "s") + " of " +
            (node.data("label") || id).split("\n")[0].replace(/^\+ /, "") + " (" + byPair.length + " in all: select another node to see its own).";
        }
      }
      clearChosen();
      cy.elements().addClass("faded");
      var hood = node.closedNeighborhood();
      hood.removeClass("faded");
      hood.nodes().ancestors().removeClass("faded");
      node.addClass("chosen");
      window.NetpolPanel.setSelection("node:" + id);
      offerOpen(node);
      var level = node.data("level");
      return window.NetpolPanel.load(
        config.node_url,
        { id: id, level: level === "tier" || level === "namespace" || level === "workload" ? level : config.level, group_by: config.group_by, direction: config.direction },
        options
      );
    }

    var openButton = document.querySelector("[data-graph-open]");
    // The button keeps its place and its words whatever is selected: a bar that changed
    // height on a click would move the drawing under the pointer between the two clicks
    // of a double-click. Its name says what it opens.
    function offerOpen(node) {
      if (!openButton) return;
      var tierNode = !!node && node.hasClass("collapsed-tier");
      var openable = !!node && (tierNode || node.hasClass("collapsed"));
      var id = openable ? node.id() : "";
      openButton.disabled = !openable;
      openButton.dataset.namespace = openable && !tierNode ? id : "";
      openButton.dataset.tier = tierNode ? id : "";
      var words = !openable ? "Select a namespace or a tier to open it" : tierNode ? "Open " + id + " into its workloads" : "Open " + id + " into its tiers";
      openButton.title = words;
      openButton.setAttribute("aria-label", words);
    }
    // Opening a namespace is a new view (its tiers and their edges): the URL says which
    // namespaces are open, so the breadcrumb above and a shared link show the same.
    function openNamespace(ns) {
      var url = new URL(window.location.href);
      var open = url.searchParams.getAll("expand");
      if (open.indexOf(ns) >= 0) return;
      if (open.length >= config.expand_limit) open.shift();
      open.push(ns);
      url.searchParams.delete("expand");
      open.forEach(function (value) { url.searchParams.append("expand", value); });
      url.searchParams.set("level", "namespace");
      url.searchParams.delete("sel");
      window.location.href = url.toString();
    }
    // Opening a tier of an opened namespace shows its workloads (expand_tier=ns/key=value).
    function openTier(tier) {
      var url = new URL(window.location.href);
      var open = url.searchParams.getAll("expand_tier");
      if (open.indexOf(tier) >= 0) return;
      if (open.length >= config.expand_tier_limit) open.shift();
      open.push(tier);
      url.searchParams.delete("expand_tier");
      open.forEach(function (value) { url.searchParams.append("expand_tier", value); });
      url.searchParams.set("level", "namespace");
      url.searchParams.delete("sel");
      window.location.href = url.toString();
    }
    if (openButton) {
      openButton.addEventListener("click", function () {
        if (openButton.dataset.tier) openTier(openButton.dataset.tier);
        else openNamespace(openButton.dataset.namespace);
      });
    }
    cy.on("dbltap", "node.collapsed", function (event) { openNamespace(event.target.id()); });
    cy.on("dbltap", "node.collapsed-tier", function (event) { openTier(event.target.id()); });
    cy.on("tap", "edge", function (event) { chooseEdge(event.target.data("pair")); });
    cy.on("tap", "node.endpoint", function (event) { chooseNode(event.target.id()); });
    cy.on("tap", function (event) {
      if (event.target === cy) {
        clearChosen();
        offerOpen(null);
        window.NetpolPanel.setSelection("");
      }
    });
    cy.on("mouseover", "edge", function (event) {
      var pair = event.target.data("pair");
      cy.edges().filter(function (e) { return e.data("pair") === pair; }).addClass("show-label");
      container.title = humanName(byPair[pair].source, byId) + " → " + humanName(byPair[pair].target, byId) + ": " + edgeText(byPair[pair]);
    });
    cy.on("mouseout", "edge", function () {
      cy.edges(".show-label").removeClass("show-label");
      container.title = "";
    });

    // Tier and namespace names in the side panel select that node here instead of leaving.
    var sidePanel = document.getElementById("side-panel");
    if (sidePanel) {
      sidePanel.addEventListener("click", function (event) {
        var link = event.target.closest("a[data-node-id]");
        if (!link || cy.getElementById(link.dataset.nodeId).empty()) return;
        event.preventDefault();
        chooseNode(link.dataset.nodeId, { focus: true });
      });
    }

    var labelsOn = !big;
    var labelButton = document.querySelector("[data-graph-labels]");
    if (labelButton) {
      labelButton.setAttribute("aria-pressed", String(labelsOn));
      labelButton.textContent = labelsOn ? "Hide edge labels" : "Show edge labels";
      labelButton.addEventListener("click", function () {
        labelsOn = !labelsOn;
        cy.style().selector("edge").style("label", labelsOn ? "data(label)" : "").update();
        labelButton.setAttribute("aria-pressed", String(labelsOn));
        labelButton.textContent = labelsOn ? "Hide edge labels" : "Show edge labels";
      });
    }
    var fitButton = document.querySelector("[data-graph-fit]");
    if (fitButton) fitButton.addEventListener("click", function () { cy.fit(undefined, 20); });

    // The same nodes and edges as lists of buttons, for the keyboard (filled on first open).
    var lists = document.querySelector("[data-graph-lists]");
    if (lists) {
      lists.addEventListener("toggle", function fill() {
        if (!lists.open || lists.dataset.filled) return;
        lists.dataset.filled = "1";
        var nodeHtml = [];
        data.nodes.forEach(function (node) {
          nodeHtml.push('<li><button type="button" class="link" data-node-id="' + escapeHtml(node.id) + '">' +
            escapeHtml(nodeLabel(node, config.level).replace(/\n/g, " · ")) + "</button></li>");
        });
        document.querySelector("[data-node-list]").innerHTML = nodeHtml.join("");
        var edgeHtml = [];
        data.edges.forEach(function (edge, index) {
          edgeHtml.push('<li><button type="button" class="link" data-edge-index="' + index + '">' +
            escapeHtml(humanName(edge.source, byId) + " → " + humanName(edge.target, byId) + ": " + edgeText(edge)) + "</button></li>");
        });
        document.querySelector("[data-edge-list]").innerHTML = edgeHtml.join("");
      });
      lists.addEventListener("click", function (event) {
        var button = event.target.closest("button");
        if (!button) return;
        if (button.dataset.nodeId !== undefined) chooseNode(button.dataset.nodeId, { focus: true });
        if (button.dataset.edgeIndex !== undefined) chooseEdge(Number(button.dataset.edgeIndex), { focus: true });
      });
    }

    function restoreSelection() {
      var sel = window.NetpolPanel.selection();
      if (sel.indexOf("edge:") === 0) {
        var parts = sel.slice(5).split(">");
        for (var i = 0; i < byPair.length; i++) {
          if (byPair[i].source === parts[0] && byPair[i].target === parts[1]) { chooseEdge(i); return; }
        }
      } else if (sel.indexOf("node:") === 0) {
        chooseNode(sel.slice(5));
      }
    }

    var layoutEdges = cy.edges().not(".all");
    var aspect = Math.max(0.5, container.clientWidth / Math.max(1, container.clientHeight));
    var options = layoutOptions(data.nodes.length, layoutEdges.length, config.fast_layout_nodes, aspect);
    // ELK sees the nodes and the port-specific edges only: "all connections" edges come
    // from nodes no policy isolates and would tie everything into one tangle of layers,
    // while the port-specific ones are the flows policies shape (frontend -> backend -> db).
    var layoutEles = cy.nodes().union(layoutEdges);
    var layout = layoutEles.layout(options);
    layout.one("layoutstop", function () {
      fitReadable(cy);
      container.setAttribute("aria-busy", "false");
      container.dataset.ready = "1";
      var ms = Math.round(performance.now() - started);
      container.dataset.layoutMs = String(ms);
      if (status) {
        status.textContent = !data.nodes.length ? "Nothing to draw: no node matches these filters." : "";
        if (focus && data.nodes.length) {
          status.classList.add("graph-status-focus"); // two lines kept, whatever a selection says
          focusText = document.createElement("span");
          focusText.textContent = byPair.length + " connections are too many to read in one drawing: select a node " +
            "to draw its own, open a namespace, or narrow the filters above.";
          status.appendChild(focusText);
          var all = document.createElement("button");
          all.type = "button";
          all.textContent = "Draw all " + byPair.length + " anyway";
          all.addEventListener("click", function () {
            var url = new URL(window.location.href);
            url.searchParams.set("draw", "all");
            window.location.href = url.toString();
          });
          status.appendChild(document.createTextNode(" "));
          status.appendChild(all);
        }
        cy.resize(); // the sentence may have moved the drawing
      }
      restoreSelection();
    });
    layout.run();

    window.netpoluiGraph = {
      cy: cy, data: data, config: config, chooseEdge: chooseEdge, chooseNode: chooseNode, focus: focus, openNamespace: openNamespace,
    };
  }


  // Node labels are 13 px: below this zoom they are drawn under 10 px and cannot be read.
  var READABLE_ZOOM = 10 / 13;

  // Fit the drawing to the page unless that makes its labels unreadable; then show its
  // top-left corner at the smallest readable zoom ("Fit to screen" still shows it all).
  function fitReadable(cy) {
    cy.fit(undefined, 20);
    if (cy.zoom() >= READABLE_ZOOM) return;
    var box = cy.elements().boundingBox();
    cy.zoom(READABLE_ZOOM);
    cy.pan({ x: 20 - box.x1 * READABLE_ZOOM, y: 20 - box.y1 * READABLE_ZOOM });
  }

  // Cytoscape's own wheel zoom slows a mouse to about 4 % a notch once it recognises one.
  // Here a notch (about 100 px) zooms 20 %, and a trackpad's small deltas zoom in proportion.
  function zoomOnWheel(cy, container) {
    container.parentNode.addEventListener("wheel", function (event) {
      if (!container.contains(event.target)) return;
      event.preventDefault();
      event.stopPropagation(); // Cytoscape listens on the container itself
      var pixels = event.deltaY * (event.deltaMode === 1 ? 33 : event.deltaMode === 2 ? 800 : 1);
      var notches = Math.max(-3, Math.min(3, pixels / 100));
      var rect = container.getBoundingClientRect();
      cy.zoom({
        level: cy.zoom() * Math.pow(1.2, -notches),
        renderedPosition: { x: event.clientX - rect.left, y: event.clientY - rect.top },
      });
    }, { capture: true, passive: false });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
