// The reachability matrix: sources as rows, destinations as columns. Built in one
// innerHTML pass with one delegated listener per event type: 300 x 300 cells stay quick.
(function () {
  "use strict";

  var N = window.Netpolui;
  var escapeHtml = N.escapeHtml;
  var connsText = N.connsText;

  function shortName(node) {
    if (node.external) {
      var body = node.name;
      return body === "0.0.0.0-255.255.255.255" ? "any address (outside)" : body + " (outside)";
    }
    if (node.object_kind) return node.namespace + "/" + node.name;
    return node.id;
  }

  function cellClass(conns) {
    if (conns === "all") return "c-all";
    var protos = Object.keys(conns);
    return "c-some " + (protos.length === 1 ? "p-" + protos[0] : "p-mixed");
  }

  function init() {
    var dataNode = document.getElementById("matrix-data");
    var table = document.getElementById("matrix");
    if (!dataNode || !table) return;
    var started = performance.now();
    var data = JSON.parse(dataNode.textContent);
    var config = JSON.parse(document.getElementById("matrix-config").textContent);
    var nodes = data.nodes;
    var matrix = data.matrix;
    // External ranges cut by egress ipBlocks are only ever destinations, those cut by
    // ingress ipBlocks only sources: leave out the rows and columns that are always empty.
    var rowIdx = [];
    var colIdx = [];
    nodes.forEach(function (node, index) {
      if (!(node.external && node.external_role === "destination")) rowIdx.push(index);
      if (!(node.external && node.external_role === "source")) colIdx.push(index);
    });
    var nr = rowIdx.length;
    var nc = colIdx.length;
    var wrap = document.querySelector("[data-matrix-wrap]");
    var info = document.querySelector("[data-hover-info]");
    var status = document.querySelector("[data-matrix-status]");

    var head = ['<tr><th class="corner" scope="col">source ↓ · destination →</th>'];
    var names = nodes.map(shortName);
    for (var c = 0; c < nc; c++) {
      var j = colIdx[c];
      head.push('<th scope="col" title="' + escapeHtml(nodes[j].id) + '"><span class="col-label">' + escapeHtml(names[j]) + "</span></th>");
    }
    head.push("</tr>");
    var body = [];
    for (var r = 0; r < nr; r++) {
      var i = rowIdx[r];
      var row = matrix[i];
      var parts = ['<tr><th scope="row" title="' + escapeHtml(nodes[i].id) + '">' + escapeHtml(names[i]) + "</th>"];
      for (var cc = 0; cc < nc; cc++) {
        var k = colIdx[cc];
        var conns = row[k];
        if (conns === null) parts.push(i === k ? '<td class="self"></td>' : "<td></td>");
        else if (conns === "all") parts.push('<td class="c-all">●</td>');
        else parts.push('<td class="' + cellClass(conns) + '">◐</td>');
      }
      parts.push("</tr>");
      body.push(parts.join(""));
    }
    table.tHead.innerHTML = head.join("");
    table.tBodies[0].innerHTML = body.join("");
    table.dataset.ready = "1";
    table.dataset.buildMs = String(Math.round(performance.now() - started));
    if (status) {
      status.textContent = nr ? "" : "Nothing to show: no node matches these filters.";
    }

    var rows = table.tBodies[0].rows;
    var headCells = table.tHead.rows.length ? table.tHead.rows[0].cells : [];
    var highlighted = [];
    var cursor = null;
    var chosen = null;

    // (r, c) are table positions; rowIdx[r] and colIdx[c] the node indices.
    function cellAt(r, c) {
      var row = rows[r];
      return row ? row.cells[c + 1] : null;
    }

    function describe(r, c) {
      var i = rowIdx[r];
      var j = colIdx[c];
      var conns = matrix[i][j];
      return nodes[i].id + " → " + nodes[j].id + ": " + (conns === null ? "no connection" : connsText(conns));
    }

    function highlight(i, j) {
      highlighted.forEach(function (el) { el.classList.remove("hl"); });
      highlighted = [];
      if (i === null) return;
      var rowHead = rows[i] && rows[i].cells[0];
      var colHead = headCells[j + 1];
      [rowHead, colHead].forEach(function (el) {
        if (el) { el.classList.add("hl"); highlighted.push(el); }
      });
      if (info) info.textContent = describe(i, j);
    }

    function position(td) {
      if (!td || td.tagName !== "TD") return null;
      return { i: td.parentNode.sectionRowIndex, j: td.cellIndex - 1 };
    }

    function choose(r, c, options) {
      if (chosen) chosen.classList.remove("chosen");
      chosen = cellAt(r, c);
      if (chosen) chosen.classList.add("chosen");
      cursor = { i: r, j: c };
      var i = rowIdx[r];
      var j = colIdx[c];
      window.NetpolPanel.setSelection("cell:" + nodes[i].id + ">" + nodes[j].id);
      return window.NetpolPanel.explainPair(config, nodes[i].id, nodes[j].id, options);
    }

    // One listener per event type on the table body: no per-cell handlers.
    table.tBodies[0].addEventListener("mouseover", function (event) {
      var pos = position(event.target);
      if (!pos) return;
      event.target.title = describe(pos.i, pos.j);
      highlight(pos.i, pos.j);
    });
    table.addEventListener("mouseleave", function () { highlight(null); });
    table.tBodies[0].addEventListener("click", function (event) {
      var pos = position(event.target.closest("td"));
      if (pos) choose(pos.i, pos.j);
    });
    if (wrap) {
      wrap.addEventListener("keydown", function (event) {
        if (!nr || !nc) return;
        var moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
        if (!cursor) cursor = { i: 0, j: 0 };
        if (moves[event.key]) {
          event.preventDefault();
          var next = {
            i: Math.min(nr - 1, Math.max(0, cursor.i + moves[event.key][0])),
            j: Math.min(nc - 1, Math.max(0, cursor.j + moves[event.key][1])),
          };
          if (chosen) chosen.classList.remove("chosen");
          chosen = cellAt(next.i, next.j);
          if (chosen) {
            chosen.classList.add("chosen");
            chosen.scrollIntoView({ block: "nearest", inline: "nearest" });
          }
          cursor = next;
          highlight(next.i, next.j);
        } else if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          choose(cursor.i, cursor.j);
        }
      });
    }

    var sel = window.NetpolPanel.selection();
    if (sel.indexOf("cell:") === 0) {
      var ends = sel.slice(5).split(">");
      var si = -1, di = -1;
      for (var x = 0; x < nr; x++) if (nodes[rowIdx[x]].id === ends[0]) si = x;
      for (var y = 0; y < nc; y++) if (nodes[colIdx[y]].id === ends[1]) di = y;
      if (si >= 0 && di >= 0) {
        choose(si, di);
        var target = cellAt(si, di);
        if (target) target.scrollIntoView({ block: "nearest", inline: "nearest" });
      }
    }
    window.netpoluiMatrix = { data: data, rows: rowIdx, columns: colIdx, choose: choose };
  }

  document.addEventListener("DOMContentLoaded", init);
})();
