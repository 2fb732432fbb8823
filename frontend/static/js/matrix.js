// The reachability matrix: sources as rows, destinations as columns, drawn on a canvas.
// Only the cells in view are drawn (a 1,729 x 1,729 matrix is three million cells; as
// DOM it took 20 s to build). The page sends the allowed pairs as sparse rows (each
// distinct connection set once); they are unpacked into one typed array here.
(function () {
  "use strict";

  var CELL = 18; // px, a cell's side
  var ROW_HEAD = 220; // px, the row names' width
  var COL_HEAD = 150; // px, the column names' height: their longest, within these bounds
  var COL_HEAD_MIN = 110;
  var COL_HEAD_MAX = 240;
  var FILL = { TCP: "#cfe3f3", UDP: "#fbe3b5", SCTP: "#c4eadc", mixed: "#e1dcef" };
  var INK = { TCP: "#0b3c63", UDP: "#6b4500", SCTP: "#0b4d3a", mixed: "#3b2c66" };

  var connsText = window.Netpolui.connsText;

  // The payload names each node (namespace, name, object_kind): no key is parsed here.
  function shortName(node) {
    if (node.external) {
      return node.name === "0.0.0.0-255.255.255.255" ? "any address (outside)" : rangeName(node.name) + " (outside)";
    }
    return node.object_kind ? node.namespace + "/" + node.name : node.id;
  }

  // An address range as people write it: "10.0.0.0/8" when it is exactly one CIDR (as
  // policies' ipBlocks are), else its first and last addresses.
  function rangeName(range) {
    var ends = range.split("-");
    if (ends.length !== 2) return range;
    var v6 = ends[0].indexOf(":") >= 0;
    var first = addressValue(ends[0], v6);
    var last = addressValue(ends[1], v6);
    if (first === null || last === null) return range;
    var size = last - first + 1n;
    var bits = v6 ? 128 : 32;
    var prefix = bits;
    while (prefix > 0 && (1n << BigInt(bits - prefix)) < size) prefix--;
    if ((1n << BigInt(bits - prefix)) !== size || first % size !== 0n) return ends[0] + " – " + ends[1];
    return ends[0] + "/" + prefix;
  }

  function addressValue(text, v6) {
    var value = 0n;
    if (!v6) {
      var octets = text.split(".");
      if (octets.length !== 4) return null;
      for (var i = 0; i < 4; i++) value = (value << 8n) + BigInt(parseInt(octets[i], 10) || 0);
      return value;
    }
    var halves = text.split("::");
    var head = halves[0] ? halves[0].split(":") : [];
    var tail = halves.length > 1 && halves[1] ? halves[1].split(":") : [];
    var groups = head.concat(new Array(Math.max(0, 8 - head.length - tail.length)).fill("0"), tail);
    if (groups.length !== 8 || halves.length > 2 || text.indexOf(".") >= 0) return null;
    for (var j = 0; j < 8; j++) value = (value << 16n) + BigInt(parseInt(groups[j], 16) || 0);
    return value;
  }

  // "shop/frontend (Deployment)": how people name a node, never "shop/frontend[Deployment]"
  function humanName(node) {
    if (node.external || !node.object_kind) return shortName(node);
    return shortName(node) + " (" + node.object_kind + ")";
  }

  // "c-all", "c-some p-TCP" ...: the legend's names for a connection set
  function kindOf(conns) {
    if (conns === "all") return "c-all";
    var protos = Object.keys(conns);
    return "c-some p-" + (protos.length === 1 ? protos[0] : "mixed");
  }

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function init() {
    var dataNode = document.getElementById("matrix-data");
    var canvas = document.getElementById("matrix");
    var wrap = document.querySelector("[data-matrix-wrap]");
    var sizer = document.querySelector("[data-matrix-sizer]");
    if (!dataNode || !canvas || !wrap || !sizer) return;
    var started = performance.now();
    var data = JSON.parse(dataNode.textContent);
    var config = JSON.parse(document.getElementById("matrix-config").textContent);
    var nodes = data.nodes;
    var conns = data.conns;
    var kinds = conns.map(kindOf);
    var texts = conns.map(connsText);
    var info = document.querySelector("[data-hover-info]");
    var status = document.querySelector("[data-matrix-status]");
    var tooltip = document.querySelector("[data-matrix-tooltip]");
    var announce = document.querySelector("[data-matrix-focus]");

    // External ranges cut by egress ipBlocks are only ever destinations, those cut by
    // ingress ipBlocks only sources: leave out the rows and columns that are always empty.
    var rowIdx = [];
    var colIdx = [];
    var colPos = new Int32Array(nodes.length).fill(-1);
    nodes.forEach(function (node, index) {
      if (!(node.external && node.external_role === "destination")) rowIdx.push(index);
      if (!(node.external && node.external_role === "source")) {
        colPos[index] = colIdx.length;
        colIdx.push(index);
      }
    });
    var nr = rowIdx.length;
    var nc = colIdx.length;
    var names = nodes.map(shortName);
    var Grid = conns.length < 65535 ? Uint16Array : Int32Array;
    var grid = new Grid(nr * nc); // 0 = nothing allowed, k + 1 = conns[k]
    for (var r = 0; r < nr; r++) {
      var packed = data.rows[rowIdx[r]];
      var base = r * nc;
      for (var p = 0; p < packed.length; p += 2) {
        var c = colPos[packed[p]];
        if (c >= 0) grid[base + c] = packed[p + 1] + 1;
      }
    }

    var ctx = canvas.getContext("2d");
    // Column names are written upwards: the header is as tall as the longest needs
    // ("team-001/backend-0201" was cut at 150 px), up to a bound.
    ctx.font = "500 12px system-ui, sans-serif";
    var longest = 0;
    for (var k = 0; k < nc; k++) longest = Math.max(longest, ctx.measureText(names[colIdx[k]]).width);
    COL_HEAD = Math.round(Math.min(COL_HEAD_MAX, Math.max(COL_HEAD_MIN, longest + 18)));
    var totalW = ROW_HEAD + nc * CELL;
    var totalH = COL_HEAD + nr * CELL;
    sizer.style.width = totalW + "px";
    sizer.style.height = totalH + "px";
    var colours = {};
    var fitted = {}; // label text cut to fit its header, per node index and width
    var hover = null; // {r, c} under the mouse
    var cursor = null; // {r, c} the keyboard's cell
    var chosen = null; // {r, c} the explained cell
    var frame = 0;

    function readColours() {
      colours = {
        panel: cssVar("--panel", "#ffffff"),
        ink: cssVar("--ink", "#1d2330"),
        muted: cssVar("--muted", "#5b6475"),
        line: cssVar("--line", "#d8dce3"),
        all: cssVar("--all", "#1d2330"),
        focus: cssVar("--focus", "#ffbf47"),
        head: cssVar("--bg", "#f7f8fa"),
      };
    }

    function fit(text, width, key) {
      var cacheKey = key + ":" + width;
      if (fitted[cacheKey] !== undefined) return fitted[cacheKey];
      var out = text;
      if (ctx.measureText(out).width > width) {
        var lo = 0, hi = text.length;
        while (lo < hi) {
          var mid = (lo + hi + 1) >> 1;
          if (ctx.measureText(text.slice(0, mid) + "…").width <= width) lo = mid; else hi = mid - 1;
        }
        out = text.slice(0, lo) + "…";
      }
      fitted[cacheKey] = out;
      return out;
    }

    function draw() {
      frame = 0;
      var dpr = window.devicePixelRatio || 1;
      var cw = Math.min(wrap.clientWidth, totalW);
      var ch = Math.min(wrap.clientHeight, totalH);
      if (canvas.width !== Math.round(cw * dpr) || canvas.height !== Math.round(ch * dpr)) {
        canvas.width = Math.round(cw * dpr);
        canvas.height = Math.round(ch * dpr);
        canvas.style.width = cw + "px";
        canvas.style.height = ch + "px";
      }
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      var sl = wrap.scrollLeft;
      var st = wrap.scrollTop;
      ctx.fillStyle = colours.panel;
      ctx.fillRect(0, 0, cw, ch);
      var c0 = Math.max(0, Math.floor(sl / CELL));
      var c1 = Math.min(nc, Math.ceil((sl + cw - ROW_HEAD) / CELL));
      var r0 = Math.max(0, Math.floor(st / CELL));
      var r1 = Math.min(nr, Math.ceil((st + ch - COL_HEAD) / CELL));
      var x0 = ROW_HEAD - sl;
      var y0 = COL_HEAD - st;

      // cells
      ctx.font = "11px system-ui, sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      for (var r = r0; r < r1; r++) {
        var y = y0 + r * CELL;
        var i = rowIdx[r];
        var base = r * nc;
        for (var c = c0; c < c1; c++) {
          var v = grid[base + c];
          var x = x0 + c * CELL;
          if (!v) {
            if (colIdx[c] === i) {
              ctx.fillStyle = colours.line;
              ctx.globalAlpha = 0.35;
              ctx.fillRect(x, y, CELL, CELL);
              ctx.globalAlpha = 1;
            }
            continue;
          }
          var kind = kinds[v - 1];
          if (kind === "c-all") {
            ctx.fillStyle = colours.all;
            ctx.fillRect(x, y, CELL, CELL);
            ctx.fillStyle = colours.panel;
            ctx.fillText("●", x + CELL / 2, y + CELL / 2 + 1);
          } else {
            var proto = kind.slice(9);
            ctx.fillStyle = FILL[proto];
            ctx.fillRect(x, y, CELL, CELL);
            ctx.fillStyle = INK[proto];
            ctx.fillText("◐", x + CELL / 2, y + CELL / 2 + 1);
          }
        }
      }
      // grid lines
      ctx.strokeStyle = colours.line;
      ctx.globalAlpha = 0.6;
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (var gr = r0; gr <= r1; gr++) {
        var gy = Math.round(y0 + gr * CELL) + 0.5;
        ctx.moveTo(ROW_HEAD, gy);
        ctx.lineTo(Math.min(cw, x0 + nc * CELL), gy);
      }
      for (var gc = c0; gc <= c1; gc++) {
        var gx = Math.round(x0 + gc * CELL) + 0.5;
        ctx.moveTo(gx, COL_HEAD);
        ctx.lineTo(gx, Math.min(ch, y0 + nr * CELL));
      }
      ctx.stroke();
      ctx.globalAlpha = 1;

      // row and column of the hovered (else the keyboard's) cell
      var lit = hover || cursor;
      if (lit) {
        ctx.fillStyle = colours.focus;
        ctx.globalAlpha = 0.18;
        ctx.fillRect(ROW_HEAD, y0 + lit.r * CELL, cw - ROW_HEAD, CELL);
        ctx.fillRect(x0 + lit.c * CELL, COL_HEAD, CELL, ch - COL_HEAD);
        ctx.globalAlpha = 1;
      }
      [chosen, cursor].forEach(function (cell, n) {
        if (!cell) return;
        ctx.strokeStyle = n === 0 ? colours.ink : colours.focus;
        ctx.lineWidth = 3;
        ctx.strokeRect(x0 + cell.c * CELL + 1.5, y0 + cell.r * CELL + 1.5, CELL - 3, CELL - 3);
      });
      ctx.lineWidth = 1;

      // sticky headers: drawn last, over the cells that scrolled under them
      ctx.fillStyle = colours.head;
      ctx.fillRect(0, COL_HEAD, ROW_HEAD, ch - COL_HEAD);
      ctx.fillRect(ROW_HEAD, 0, cw - ROW_HEAD, COL_HEAD);
      ctx.font = "500 12px system-ui, sans-serif";
      ctx.textAlign = "left";
      ctx.textBaseline = "middle";
      for (var hr = r0; hr < r1; hr++) {
        var hy = y0 + hr * CELL;
        if (lit && lit.r === hr) {
          ctx.fillStyle = colours.focus;
          ctx.globalAlpha = 0.45;
          ctx.fillRect(0, hy, ROW_HEAD, CELL);
          ctx.globalAlpha = 1;
        }
        ctx.fillStyle = colours.ink;
        ctx.fillText(fit(names[rowIdx[hr]], ROW_HEAD - 12, rowIdx[hr]), 6, hy + CELL / 2);
      }
      ctx.save();
      ctx.beginPath();
      ctx.rect(ROW_HEAD, 0, cw - ROW_HEAD, COL_HEAD);
      ctx.clip();
      for (var hc = c0; hc < c1; hc++) {
        var hx = x0 + hc * CELL;
        if (lit && lit.c === hc) {
          ctx.fillStyle = colours.focus;
          ctx.globalAlpha = 0.45;
          ctx.fillRect(hx, 0, CELL, COL_HEAD);
          ctx.globalAlpha = 1;
        }
        ctx.save();
        ctx.translate(hx + CELL / 2, COL_HEAD - 6);
        ctx.rotate(-Math.PI / 2);
        ctx.fillStyle = colours.ink;
        ctx.fillText(fit(names[colIdx[hc]], COL_HEAD - 12, colIdx[hc]), 0, 0);
        ctx.restore();
      }
      ctx.restore();
      ctx.strokeStyle = colours.line;
      ctx.beginPath();
      ctx.moveTo(ROW_HEAD + 0.5, 0);
      ctx.lineTo(ROW_HEAD + 0.5, ch);
      ctx.moveTo(0, COL_HEAD + 0.5);
      ctx.lineTo(cw, COL_HEAD + 0.5);
      ctx.stroke();
      ctx.fillStyle = colours.head;
      ctx.fillRect(0, 0, ROW_HEAD, COL_HEAD);
      ctx.fillStyle = colours.muted;
      ctx.font = "600 12px system-ui, sans-serif";
      ctx.fillText("source ↓ · destination →", 6, COL_HEAD - 12);
    }

    function redraw() {
      if (!frame) frame = window.requestAnimationFrame(draw);
    }

    // (r, c) are matrix positions; rowIdx[r] and colIdx[c] the node indices.
    function connsAt(r, c) {
      var v = grid[r * nc + c];
      return v ? conns[v - 1] : null;
    }

    function describe(r, c) {
      var v = grid[r * nc + c];
      return humanName(nodes[rowIdx[r]]) + " → " + humanName(nodes[colIdx[c]]) + ": " + (v ? texts[v - 1] : "no connection");
    }

    function cellKind(r, c) {
      var v = grid[r * nc + c];
      if (v) return kinds[v - 1];
      return rowIdx[r] === colIdx[c] ? "self" : "empty";
    }

    // what is under a point of the canvas (CSS pixels from its top left corner)
    function hit(x, y) {
      var sl = wrap.scrollLeft;
      var st = wrap.scrollTop;
      var r = y >= COL_HEAD ? Math.floor((y - COL_HEAD + st) / CELL) : -1;
      var c = x >= ROW_HEAD ? Math.floor((x - ROW_HEAD + sl) / CELL) : -1;
      if (r >= nr || c >= nc) return null;
      if (r < 0 && c < 0) return null;
      return { r: r, c: c };
    }

    // scroll so that cell (r, c) is in view beside the headers
    function reveal(r, c) {
      var cw = Math.min(wrap.clientWidth, totalW);
      var ch = Math.min(wrap.clientHeight, totalH);
      var left = c * CELL;
      var top = r * CELL;
      if (left < wrap.scrollLeft) wrap.scrollLeft = left;
      else if (left + CELL > wrap.scrollLeft + cw - ROW_HEAD) wrap.scrollLeft = left + CELL - (cw - ROW_HEAD);
      if (top < wrap.scrollTop) wrap.scrollTop = top;
      else if (top + CELL > wrap.scrollTop + ch - COL_HEAD) wrap.scrollTop = top + CELL - (ch - COL_HEAD);
    }

    // the centre of cell (r, c) in the window's coordinates, after scrolling it into view
    function cellCenter(r, c) {
      reveal(r, c);
      draw();
      var box = canvas.getBoundingClientRect();
      var y = box.top + COL_HEAD + r * CELL - wrap.scrollTop + CELL / 2;
      if (y < 0 || y > window.innerHeight || box.left < 0 || box.right > window.innerWidth) {
        wrap.scrollIntoView({ block: "nearest", inline: "nearest" });
        box = canvas.getBoundingClientRect();
      }
      return {
        x: box.left + ROW_HEAD + c * CELL - wrap.scrollLeft + CELL / 2,
        y: box.top + COL_HEAD + r * CELL - wrap.scrollTop + CELL / 2,
      };
    }

    function say(r, c) {
      if (announce) {
        announce.textContent = "Row " + (r + 1) + " of " + nr + ", column " + (c + 1) + " of " + nc + ": " + describe(r, c);
      }
    }

    function choose(r, c, options) {
      chosen = { r: r, c: c };
      cursor = { r: r, c: c };
      redraw();
      var i = rowIdx[r];
      var j = colIdx[c];
      window.NetpolPanel.setSelection("cell:" + nodes[i].id + ">" + nodes[j].id);
      return window.NetpolPanel.explainPair(config, nodes[i].id, nodes[j].id, options);
    }

    function showTooltip(text, kind, clientX, clientY) {
      if (!tooltip) return;
      tooltip.textContent = text;
      tooltip.dataset.kind = kind;
      tooltip.hidden = false;
      var room = window.innerWidth - clientX - 24;
      tooltip.style.left = (room < 320 ? Math.max(4, clientX - 340) : clientX + 14) + "px";
      tooltip.style.top = (clientY + 16) + "px";
    }

    function hideTooltip() {
      if (tooltip) tooltip.hidden = true;
    }

    canvas.addEventListener("mousemove", function (event) {
      var box = canvas.getBoundingClientRect();
      var at = hit(event.clientX - box.left, event.clientY - box.top);
      if (!at) {
        hideTooltip();
        if (hover) { hover = null; redraw(); }
        return;
      }
      if (at.r >= 0 && at.c >= 0) {
        var text = describe(at.r, at.c);
        showTooltip(text, cellKind(at.r, at.c), event.clientX, event.clientY);
        if (info) info.textContent = text;
        if (!hover || hover.r !== at.r || hover.c !== at.c) { hover = at; redraw(); }
      } else {
        // a row or column name: the whole name, which the header may cut
        var node = at.r >= 0 ? nodes[rowIdx[at.r]] : nodes[colIdx[at.c]];
        showTooltip(humanName(node), "name", event.clientX, event.clientY);
        if (hover) { hover = null; redraw(); }
      }
    });
    canvas.addEventListener("mouseleave", function () {
      hideTooltip();
      hover = null;
      redraw();
    });
    canvas.addEventListener("click", function (event) {
      var box = canvas.getBoundingClientRect();
      var at = hit(event.clientX - box.left, event.clientY - box.top);
      if (at && at.r >= 0 && at.c >= 0) {
        say(at.r, at.c);
        choose(at.r, at.c);
      }
    });
    wrap.addEventListener("scroll", function () {
      hideTooltip();
      redraw();
    }, { passive: true });
    window.addEventListener("resize", redraw);

    function moveTo(r, c) {
      cursor = { r: Math.min(nr - 1, Math.max(0, r)), c: Math.min(nc - 1, Math.max(0, c)) };
      reveal(cursor.r, cursor.c);
      say(cursor.r, cursor.c);
      if (info) info.textContent = describe(cursor.r, cursor.c);
      redraw();
    }

    wrap.addEventListener("keydown", function (event) {
      if (!nr || !nc) return;
      var page = Math.max(1, Math.floor((wrap.clientHeight - COL_HEAD) / CELL) - 1);
      var here = cursor || { r: 0, c: 0 };
      var moves = {
        ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1],
        PageUp: [-page, 0], PageDown: [page, 0],
      };
      if (!cursor && (moves[event.key] || event.key === "Home" || event.key === "End")) {
        event.preventDefault();
        moveTo(0, 0); // the first key shows where the cursor starts
        return;
      }
      if (moves[event.key]) {
        event.preventDefault();
        moveTo(here.r + moves[event.key][0], here.c + moves[event.key][1]);
      } else if (event.key === "Home") {
        event.preventDefault();
        moveTo(event.ctrlKey ? 0 : here.r, 0);
      } else if (event.key === "End") {
        event.preventDefault();
        moveTo(event.ctrlKey ? nr - 1 : here.r, nc - 1);
      } else if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        if (!cursor) moveTo(0, 0);
        choose(cursor.r, cursor.c);
      }
    });
    wrap.addEventListener("focus", function () {
      if (cursor) say(cursor.r, cursor.c);
      else if (announce) announce.textContent = nr + " sources by " + nc + " destinations. Arrow keys move, Enter explains.";
    });

    // the row and column search: jump to the next name containing the text
    var findStatus = document.querySelector("[data-matrix-find-status]");
    function find(input, fromNext) {
      var axis = input.dataset.matrixFind;
      var text = input.value.trim().toLowerCase();
      if (!text) { if (findStatus) findStatus.textContent = ""; return; }
      var order = axis === "row" ? rowIdx : colIdx;
      var matches = [];
      for (var k = 0; k < order.length; k++) {
        var node = nodes[order[k]];
        if (node.id.toLowerCase().indexOf(text) >= 0 || names[order[k]].toLowerCase().indexOf(text) >= 0) matches.push(k);
      }
      if (!matches.length) {
        if (findStatus) findStatus.textContent = "No " + (axis === "row" ? "source" : "destination") + " matches “" + input.value.trim() + "”.";
        return;
      }
      var here = cursor || { r: 0, c: 0 };
      var current = axis === "row" ? here.r : here.c;
      var pick = 0;
      if (fromNext) {
        for (var m = 0; m < matches.length; m++) if (matches[m] > current) { pick = m; break; }
        if (matches[pick] <= current && matches.length) pick = 0;
      }
      var target = matches[pick];
      if (axis === "row") moveTo(target, here.c); else moveTo(here.r, target);
      if (findStatus) {
        findStatus.textContent = (axis === "row" ? "Source " : "Destination ") + names[order[target]] + " (" + (pick + 1) + " of " + matches.length + " matches; Enter for the next).";
      }
    }
    document.querySelectorAll("[data-matrix-find]").forEach(function (input) {
      input.addEventListener("input", function () { find(input, false); });
      input.addEventListener("keydown", function (event) {
        if (event.key === "Enter") {
          event.preventDefault();
          find(input, true);
        }
      });
    });

    readColours();
    if (window.matchMedia) {
      var scheme = window.matchMedia("(prefers-color-scheme: dark)");
      if (scheme.addEventListener) scheme.addEventListener("change", function () { readColours(); redraw(); });
    }
    draw();
    canvas.dataset.ready = "1";
    canvas.dataset.rows = String(nr);
    canvas.dataset.columns = String(nc);
    canvas.dataset.buildMs = String(Math.round(performance.now() - started));
    if (status) {
      status.textContent = nr ? "" : "Nothing to show: no node matches these filters.";
    }

    var sel = window.NetpolPanel.selection();
    if (sel.indexOf("cell:") === 0) {
      var ends = sel.slice(5).split(">");
      var si = -1, di = -1;
      for (var x = 0; x < nr; x++) if (nodes[rowIdx[x]].id === ends[0]) si = x;
      for (var y = 0; y < nc; y++) if (nodes[colIdx[y]].id === ends[1]) di = y;
      if (si >= 0 && di >= 0) {
        reveal(si, di);
        choose(si, di);
      }
    }
    window.netpoluiMatrix = {
      data: data,
      rows: rowIdx,
      columns: colIdx,
      choose: choose,
      describe: describe,
      cellKind: cellKind,
      cellCenter: cellCenter,
      connsAt: connsAt,
      rowIds: function () { return rowIdx.map(function (i) { return nodes[i].id; }); },
      columnIds: function () { return colIdx.map(function (j) { return nodes[j].id; }); },
      rowLabels: function () { return rowIdx.map(function (i) { return names[i]; }); },
      columnLabels: function () { return colIdx.map(function (j) { return names[j]; }); },
      columnHeadHeight: function () { return COL_HEAD; },
      cursor: function () { return cursor; },
    };
  }

  document.addEventListener("DOMContentLoaded", init);
})();
