/* Findings table of report.html: filter, sort, page and expand the findings embedded in #data.
   Builds every node with createElement/textContent: data is never parsed as HTML. */
(function () {
  "use strict";

  var SEVERITIES = ["critical", "high", "medium", "low", "info"];
  var RANK = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };
  var COLUMNS = 7;

  var doc = JSON.parse(document.getElementById("data").textContent);
  // Each rule's title, remediation and compliance are embedded once; give every finding its own again.
  var ruleTexts = doc.rule_texts || {};
  doc.findings.forEach(function (f) {
    var texts = ruleTexts[f.rule_id];
    if (!texts) { return; }
    Object.keys(texts).forEach(function (key) { if (!(key in f)) { f[key] = texts[key]; } });
  });
  var findings = doc.findings;
  var accounts = new Map();
  doc.accounts.forEach(function (a) { accounts.set(a.id, a); });

  var table = document.getElementById("findings-table");
  var tbody = document.getElementById("findings-body");
  var pageSize = parseInt(table.getAttribute("data-page-size"), 10) || 100;
  var $ = function (id) { return document.getElementById(id); };
  var selects = {
    severity: $("filter-severity"),
    category: $("filter-category"),
    account: $("filter-account"),
    environment: $("filter-environment"),
    rule: $("filter-rule")
  };
  // With --history: keep only the findings new since the previous run (or only the persisting ones).
  if (doc.history) {
    selects.history = $("filter-history");
    selects.history.hidden = false;
  }

  var state = { search: "", ids: null, idsLabel: "", idsKey: "", sort: "severity-desc", group: false, page: 0 };
  var expanded = new Set();
  var haystacks = null;   // lower-case search text per finding, built on first search
  var orders = {};        // sort key -> array of finding indexes, built once per key
  var visible = [];       // indexes of the findings that pass the current filters, in sort order

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        if (name === "text") { node.textContent = attrs[name]; } else { node.setAttribute(name, attrs[name]); }
      });
    }
    (children || []).forEach(function (child) {
      if (child !== null && child !== undefined) {
        node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
      }
    });
    return node;
  }

  function accountLabel(id) {
    var account = accounts.get(id);
    return account && account.name ? account.name : id;
  }

  function compare(a, b) { return a < b ? -1 : (a > b ? 1 : 0); }

  function bySeverity(i, j) {
    var f = findings[i], g = findings[j];
    return (RANK[g.severity] - RANK[f.severity]) || compare(f.rule_id, g.rule_id) ||
      compare(f.account_id, g.account_id) || compare(f.resource_arn, g.resource_arn) || compare(f.id, g.id);
  }

  var SORTS = {
    "severity-desc": bySeverity,
    "severity-asc": function (i, j) { return -bySeverity(i, j); },
    "account": function (i, j) {
      return compare(accountLabel(findings[i].account_id), accountLabel(findings[j].account_id)) || bySeverity(i, j);
    },
    "rule": function (i, j) { return compare(findings[i].rule_id, findings[j].rule_id) || bySeverity(i, j); },
    "resource": function (i, j) { return compare(findings[i].resource_arn, findings[j].resource_arn) || bySeverity(i, j); }
  };

  function order(key) {
    if (!orders[key]) {
      var indexes = findings.map(function (_, i) { return i; });
      indexes.sort(SORTS[key] || bySeverity);
      orders[key] = indexes;
    }
    return orders[key];
  }

  function haystack(i) {
    if (!haystacks) {
      haystacks = findings.map(function (f) {
        var account = accounts.get(f.account_id);
        return [f.id, f.rule_id, f.title, f.message, f.resource_arn, f.account_id, account ? account.name : "",
          f.region, f.environment, f.category, f.severity, f.path.join(" ")].join("\n").toLowerCase();
      });
    }
    return haystacks[i];
  }

  function fillSelect(select, values, label) {
    var counts = new Map();
    if (select === selects.severity) { SEVERITIES.forEach(function (s) { counts.set(s, 0); }); }
    findings.forEach(function (f) { var v = values(f); counts.set(v, (counts.get(v) || 0) + 1); });
    var keys = Array.from(counts.keys());
    if (select === selects.severity) {
      keys.sort(function (a, b) { return RANK[b] - RANK[a]; });
    } else {
      keys.sort(function (a, b) { return compare(label(a), label(b)); });
    }
    keys.forEach(function (key) {
      select.appendChild(el("option", { value: key, text: label(key) + " (" + counts.get(key) + ")" }));
    });
  }

  function identity(v) { return v; }
  fillSelect(selects.severity, function (f) { return f.severity; }, identity);
  fillSelect(selects.category, function (f) { return f.category; }, identity);
  fillSelect(selects.account, function (f) { return f.account_id; }, function (id) {
    var account = accounts.get(id);
    return account && account.name ? account.name + " (" + id + ")" : id;
  });
  fillSelect(selects.environment, function (f) { return f.environment; }, identity);
  fillSelect(selects.rule, function (f) { return f.rule_id; }, identity);
  var HISTORY_LABELS = { "new": "New since last run", "persisting": "Persisting" };
  if (selects.history) {
    fillSelect(selects.history, function (f) { return f.history_status || "persisting"; }, function (key) {
      return HISTORY_LABELS[key] || key;
    });
  }

  function applyFilters() {
    var terms = state.search.toLowerCase().split(/\s+/).filter(Boolean);
    var wanted = {};
    Object.keys(selects).forEach(function (name) { wanted[name] = selects[name].value; });
    visible = order(state.group ? "rule" : state.sort).filter(function (i) {
      var f = findings[i];
      if (wanted.severity && f.severity !== wanted.severity) { return false; }
      if (wanted.category && f.category !== wanted.category) { return false; }
      if (wanted.account && f.account_id !== wanted.account) { return false; }
      if (wanted.environment && f.environment !== wanted.environment) { return false; }
      if (wanted.rule && f.rule_id !== wanted.rule) { return false; }
      if (wanted.history && (f.history_status || "persisting") !== wanted.history) { return false; }
      if (state.ids && !state.ids.has(f.id)) { return false; }
      if (terms.length) {
        var text = haystack(i);
        for (var t = 0; t < terms.length; t++) { if (text.indexOf(terms[t]) < 0) { return false; } }
      }
      return true;
    });
    var pages = Math.max(1, Math.ceil(visible.length / pageSize));
    state.page = Math.min(state.page, pages - 1);
    render();
    saveToUrl();
  }

  // --- the view in the URL (#f:severity=high&q=...), so a reload or a shared link shows the same findings --------
  var URL_PREFIX = "#f:";
  var hasUrl = typeof location !== "undefined" && typeof history !== "undefined" &&
    typeof URLSearchParams !== "undefined";

  // Keys of the view each part of the page owns in the URL; a part rewrites only its own and keeps the rest.
  var FINDING_KEYS = ["severity", "category", "account", "environment", "rule", "history", "q", "sort", "group", "ids"];

  function writeHash(own, keys) {
    if (!hasUrl) { return; }
    var params = location.hash.indexOf(URL_PREFIX) === 0 ?
      new URLSearchParams(location.hash.slice(URL_PREFIX.length)) : new URLSearchParams();
    keys.forEach(function (key) { params.delete(key); });
    own.forEach(function (value, key) { params.append(key, value); });
    var text = params.toString();
    var hash = text ? URL_PREFIX + text : "";
    if (hash === location.hash || (!hash && location.hash.indexOf(URL_PREFIX) !== 0)) { return; }
    try {
      history.replaceState(null, "", hash || location.pathname + location.search);
    } catch (error) {
      location.hash = hash;
    }
  }

  function saveToUrl() {
    if (!hasUrl) { return; }
    var params = new URLSearchParams();
    Object.keys(selects).forEach(function (name) { if (selects[name].value) { params.set(name, selects[name].value); } });
    if (state.search) { params.set("q", state.search); }
    if (state.sort !== "severity-desc") { params.set("sort", state.sort); }
    if (state.group) { params.set("group", "rule"); }
    if (state.idsKey) { params.set("ids", state.idsKey); }
    writeHash(params, FINDING_KEYS);
  }

  function loadFromUrl() {
    if (!hasUrl || location.hash.indexOf(URL_PREFIX) !== 0) { return; }
    var params = new URLSearchParams(location.hash.slice(URL_PREFIX.length));
    Object.keys(selects).forEach(function (name) {
      var value = params.get(name);
      if (value && Array.prototype.some.call(selects[name].options, function (o) { return o.value === value; })) {
        selects[name].value = value;
      }
    });
    state.search = params.get("q") || "";
    $("search").value = state.search;
    if (SORTS[params.get("sort")]) { state.sort = params.get("sort"); $("sort").value = state.sort; }
    state.group = params.get("group") === "rule";
    $("group-by-rule").checked = state.group;
    var key = params.get("ids");
    if (key) { restoreIds(key); }
  }

  function pretty(value) { return JSON.stringify(value, null, 2); }

  function section(title, body) { return [el("h4", { text: title }), body]; }

  function pathList(path) {
    return el("ol", { "class": "path" }, path.map(function (hop) { return el("li", { text: hop }); }));
  }

  function hopList(hops) {
    return el("ol", { "class": "hops" }, hops.map(function (hop) {
      hop = hop || {};
      var item = el("li", null, [
        el("code", { text: String(hop.source === undefined ? "?" : hop.source) }),
        " → ",
        el("code", { text: String(hop.target === undefined ? "?" : hop.target) }),
        hop.kind ? el("span", { "class": "hop-kind", text: String(hop.kind) }) : null
      ]);
      if (hop.evidence !== undefined && hop.evidence !== null) {
        item.appendChild(el("pre", { "class": "hop-evidence", text: pretty(hop.evidence) }));
      }
      return item;
    }));
  }

  function details(f) {
    var parts = [el("p", { "class": "message", text: f.message })];
    if (f.path && f.path.length) { parts = parts.concat(section("Access path", pathList(f.path))); }
    var examples = Array.isArray(f.example_paths) ? f.example_paths : [];
    if (examples.length) {
      parts = parts.concat(section("Example paths", examplePaths(examples)));
    } else if (f.evidence && Array.isArray(f.evidence.hops) && f.evidence.hops.length) {
      parts = parts.concat(section("Hops", hopList(f.evidence.hops)));
    }
    if (f.remediation) { parts = parts.concat(section("Remediation", el("p", { "class": "remediation", text: f.remediation }))); }
    var frameworks = Object.keys(f.compliance || {});
    if (frameworks.length) {
      parts = parts.concat(section("Compliance", el("ul", { "class": "compliance" }, frameworks.map(function (name) {
        return el("li", { text: name + ": " + f.compliance[name].join(", ") });
      }))));
    }
    parts.push(evidenceBlock(f, examples));
    parts.push(el("p", { "class": "muted" }, ["Finding ", el("code", { text: f.id }), " · resource ",
      el("code", { text: f.resource_arn }), " · region " + f.region]));
    return el("tr", { "class": "details-row", "data-details-for": f.id, id: "details-" + f.id }, [
      el("td", { colspan: String(COLUMNS) }, [el("div", { "class": "details" }, parts)])
    ]);
  }

  // --- path chains (issue 12 §4): each access path as boxes (principal, account, environment) joined by
  // arrows (permission, statement), in inline SVG built node by node; the words come from chain.py ---------------
  var SVG_NS = "http://www.w3.org/2000/svg";
  var CHAIN = { boxW: 180, boxH: 62, gap: 220, pad: 10, nameChars: 22, subChars: 26, labelChars: 36 };

  function svgEl(tag, attrs, children) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") { node.textContent = attrs[name]; } else { node.setAttribute(name, String(attrs[name])); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function clip(text, limit) {
    text = text === undefined || text === null ? "" : String(text);
    return text.length <= limit ? text : text.slice(0, limit - 1) + "\u2026";
  }

  function cssName(value) { return String(value || "unknown").toLowerCase().replace(/[^a-z0-9-]/g, "-"); }

  function nodeAccount(node) {
    if (!node.account_id) { return node.kind === "anyone" ? "any AWS principal" : "outside any account"; }
    var account = accounts.get(node.account_id);
    return account ? (account.name || node.account_id) : "account " + node.account_id + " (outside the organisation)";
  }

  function chainNode(node, x, y) {
    var environment = node.environment || "unknown";
    var account = nodeAccount(node);
    var badgeW = Math.min(CHAIN.boxW - 16, 12 + 7 * environment.length);
    return svgEl("g", { "class": "chain-node chain-kind-" + cssName(node.kind), transform: "translate(" + x + "," + y + ")",
      "data-node": node.id }, [
      svgEl("title", { text: node.label + " (" + node.kind + ")\n" + node.id + "\n" + account +
        (node.account_id ? " " + node.account_id : "") + ", " + environment }),
      svgEl("rect", { "class": "chain-box env-" + cssName(environment), width: CHAIN.boxW, height: CHAIN.boxH, rx: 6 }),
      svgEl("text", { "class": "chain-name", x: 8, y: 17, text: clip(node.label, CHAIN.nameChars) }),
      svgEl("text", { "class": "chain-account", x: 8, y: 33, text: clip(account, CHAIN.subChars) }),
      svgEl("rect", { "class": "chain-badge env-" + cssName(environment), x: 8, y: 40, width: badgeW, height: 16, rx: 3 }),
      svgEl("text", { "class": "chain-env", x: 14, y: 52, text: clip(environment, 22) })
    ]);
  }

  function chainArrow(arrow, x0, y) {
    var x1 = x0 + CHAIN.gap, mid = (x0 + x1) / 2;
    var classes = "chain-arrow" + (arrow.conditional ? " conditional" : "") + (arrow.blocked_by ? " blocked" : "") +
      (arrow.root_cause ? " root-cause" : "");
    var words = [arrow.permission, arrow.statement].concat(arrow.conditional ? ["only if its conditions hold"] : [])
      .concat(arrow.blocked_by ? ["blocked by " + arrow.blocked_by] : []).concat(arrow.root_cause ? ["root cause"] : []);
    return svgEl("g", { "class": classes }, [
      svgEl("title", { text: words.filter(Boolean).join("\n") }),
      svgEl("line", { x1: x0 + 4, y1: y, x2: x1 - 10, y2: y }),
      svgEl("path", { "class": "chain-head", d: "M" + (x1 - 12) + "," + (y - 6) + " L" + (x1 - 2) + "," + y + " L" +
        (x1 - 12) + "," + (y + 6) + " z" }),
      svgEl("text", { "class": "chain-permission", x: mid, y: y - 8, "text-anchor": "middle",
        text: clip(arrow.permission, CHAIN.labelChars) }),
      svgEl("text", { "class": "chain-statement", x: mid, y: y + 16, "text-anchor": "middle",
        text: clip(arrow.statement, CHAIN.labelChars) }),
      arrow.blocked_by ? svgEl("text", { "class": "chain-blocked", x: mid, y: y + 32, "text-anchor": "middle",
        text: clip("blocked by " + arrow.blocked_by, CHAIN.labelChars) }) : null,
      arrow.root_cause ? svgEl("text", { "class": "chain-root-label", x: mid, y: y + 32, "text-anchor": "middle",
        text: "root cause" }) : null
    ]);
  }

  function chainSvg(chain) {
    var nodes = (chain && chain.nodes) || [], arrows = (chain && chain.arrows) || [];
    var width = 2 * CHAIN.pad + nodes.length * CHAIN.boxW + Math.max(0, nodes.length - 1) * CHAIN.gap;
    var height = 2 * CHAIN.pad + CHAIN.boxH + 20;
    var svg = svgEl("svg", { "class": "chain", width: width, height: height, viewBox: "0 0 " + width + " " + height,
      role: "img" }, [svgEl("title", { text: nodes.map(function (n) { return n.label; }).join(" \u2192 ") })]);
    nodes.forEach(function (node, i) { svg.appendChild(chainNode(node, CHAIN.pad + i * (CHAIN.boxW + CHAIN.gap), CHAIN.pad)); });
    arrows.slice(0, Math.max(0, nodes.length - 1)).forEach(function (arrow, i) {
      svg.appendChild(chainArrow(arrow, CHAIN.pad + (i + 1) * CHAIN.boxW + i * CHAIN.gap, CHAIN.pad + CHAIN.boxH / 2));
    });
    return el("div", { "class": "chain-scroll" }, [svg]);
  }

  function examplePaths(paths) {
    return el("div", { "class": "example-paths" }, paths.map(function (path) {
      var target = accountLabel(path.target_account_id);
      return el("figure", { "class": "example-path" }, [
        path.chain ? chainSvg(path.chain) : null,
        el("figcaption", { "class": "muted", text: "From " + path.source + " (" + path.source_environment +
          ") to administrator of " + target + " (" + path.target_account_id + ", " + path.target_environment + ")" +
          (path.conditional ? ": only if its conditions hold" : "") })
      ]);
    }));
  }

  // The evidence once, collapsed: the finding's own, then its example paths hop by hop.
  function evidenceBlock(f, examples) {
    var body = [el("pre", { "class": "evidence", text: pretty(f.evidence) })];
    if (examples.length) {
      body.push(el("pre", { "class": "paths-evidence", text: pretty(examples.map(function (path) {
        var copy = {};
        Object.keys(path).forEach(function (key) { if (key !== "chain") { copy[key] = path[key]; } });
        return copy;
      })) }));
    }
    return el("details", { "class": "evidence-json" }, [el("summary", { text: "Evidence (JSON)" })].concat(body));
  }

  // The "Controls that hold" view: each example path a control blocks, drawn where the page left it a slot.
  var controlsById = new Map();
  (doc.controls || []).forEach(function (control) { controlsById.set(control.id, control); });
  document.querySelectorAll(".chain-slot[data-control]").forEach(function (slot) {
    var control = controlsById.get(slot.getAttribute("data-control"));
    var path = control && control.paths[parseInt(slot.getAttribute("data-path"), 10)];
    if (path && path.chain) { slot.appendChild(chainSvg(path.chain)); }
  });
  // --- end of path chains ---------------------------------------------------------------------------------------

  function row(f) {
    var open = expanded.has(f.id);
    var button = el("button", {
      type: "button", "class": "toggle-details", "aria-expanded": String(open), "aria-controls": "details-" + f.id,
      text: open ? "Hide" : "Details"
    });
    return el("tr", { "class": "finding-row" + (open ? " expanded" : ""), "data-finding-id": f.id, "data-severity": f.severity }, [
      el("td", null, [el("span", { "class": "sev sev-" + f.severity, text: f.severity })]),
      el("td", null, [
        el("div", { "class": "finding-title", text: f.title }),
        el("div", { "class": "rule-id", text: f.rule_id + (f.history_status === "new" ? " · new since last run" : (f.first_seen ? " · open since " + f.first_seen.slice(0, 10) : "")) })
      ]),
      el("td", null, [el("div", { text: accountLabel(f.account_id) }), el("div", { "class": "muted mono", text: f.account_id })]),
      el("td", null, [el("span", { "class": "env env-" + f.environment, text: f.environment })]),
      el("td", { text: f.region }),
      el("td", null, [el("code", { text: f.resource_arn })]),
      el("td", null, [button])
    ]);
  }

  var ruleTitles = {};
  findings.forEach(function (f) { if (!(f.rule_id in ruleTitles)) { ruleTitles[f.rule_id] = f.title; } });

  function groupRow(ruleId) {
    var count = visible.filter(function (i) { return findings[i].rule_id === ruleId; }).length;
    return el("tr", { "class": "group-row", "data-group-rule": ruleId }, [
      el("td", { colspan: String(COLUMNS), text: ruleId + " · " + (ruleTitles[ruleId] || "") + " (" + count + ")" })
    ]);
  }

  function render() {
    var start = state.page * pageSize;
    var slice = visible.slice(start, start + pageSize);
    var fragment = document.createDocumentFragment();
    var lastRule = null;
    slice.forEach(function (i) {
      var f = findings[i];
      if (state.group && f.rule_id !== lastRule) { fragment.appendChild(groupRow(f.rule_id)); lastRule = f.rule_id; }
      fragment.appendChild(row(f));
      if (expanded.has(f.id)) { fragment.appendChild(details(f)); }
    });
    if (!slice.length) {
      fragment.appendChild(el("tr", { "class": "no-results" }, [
        el("td", { colspan: String(COLUMNS), "class": "empty", text: "No findings match these filters." })
      ]));
    }
    tbody.replaceChildren(fragment);

    var pages = Math.max(1, Math.ceil(visible.length / pageSize));
    var shown = visible.length ? (start + 1) + "–" + (start + slice.length) : "0";
    $("result-count").textContent = "Showing " + shown + " of " + visible.length.toLocaleString() + " findings" +
      (visible.length !== findings.length ? " (filtered from " + findings.length.toLocaleString() + ")" : "");
    $("page-info").textContent = "Page " + (state.page + 1) + " of " + pages;
    $("page-first").disabled = $("page-prev").disabled = state.page === 0;
    $("page-last").disabled = $("page-next").disabled = state.page >= pages - 1;
  }

  function toggle(id) {
    if (expanded.has(id)) { expanded.delete(id); } else { expanded.add(id); }
    render();
  }

  function setIdFilter(ids, label, key) {
    state.ids = ids ? new Set(ids) : null;
    state.idsKey = ids ? (key || "") : "";
    $("id-filter").hidden = !ids;
    $("id-filter-label").textContent = ids ? label + " (" + ids.length + ")" : "";
    document.querySelectorAll("#matrix td.selected").forEach(function (cell) { cell.classList.remove("selected"); });
  }

  function showFindings() {
    state.page = 0;
    applyFilters();
    $("findings").scrollIntoView({ behavior: "auto", block: "start" });
  }

  // A shortcut (severity card, matrix cell, link) starts a fresh view: no leftover search or selects.
  function resetFilters() {
    Object.keys(selects).forEach(function (key) { selects[key].value = ""; });
    state.group = false;
    $("group-by-rule").checked = false;
    $("search").value = "";
    state.search = "";
  }

  function setFilter(name, value) {
    resetFilters();
    if (selects[name]) { selects[name].value = value; }
    setIdFilter(null, "");
    showFindings();
  }

  // --- events -----------------------------------------------------------------------------------
  tbody.addEventListener("click", function (event) {
    var button = event.target.closest(".toggle-details");
    if (button) { toggle(button.closest("tr").getAttribute("data-finding-id")); }
  });

  var searchTimer = null;
  $("search").addEventListener("input", function (event) {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () {
      state.search = event.target.value;
      state.page = 0;
      applyFilters();
    }, 150);
  });
  Object.keys(selects).forEach(function (name) {
    selects[name].addEventListener("change", function () { state.page = 0; applyFilters(); });
  });
  $("sort").addEventListener("change", function (event) { state.sort = event.target.value; state.page = 0; applyFilters(); });
  $("group-by-rule").addEventListener("change", function (event) {
    state.group = event.target.checked;
    state.page = 0;
    applyFilters();
  });
  $("clear-filters").addEventListener("click", function () {
    resetFilters();
    setIdFilter(null, "");
    state.page = 0;
    applyFilters();
  });
  $("clear-id-filter").addEventListener("click", function () { setIdFilter(null, ""); state.page = 0; applyFilters(); });
  $("page-first").addEventListener("click", function () { state.page = 0; render(); });
  $("page-prev").addEventListener("click", function () { state.page = Math.max(0, state.page - 1); render(); });
  $("page-next").addEventListener("click", function () { state.page += 1; applyFilters(); });
  $("page-last").addEventListener("click", function () { state.page = Number.MAX_SAFE_INTEGER; applyFilters(); });

  function selectCell(cell) {
    var ids = cell.getAttribute("data-finding-ids").split(" ").filter(Boolean);
    resetFilters();
    var target = cell.getAttribute("data-target");
    setIdFilter(ids, "Matrix: " + cell.getAttribute("data-source") + " → " + accountLabel(target) + " (" + target + ")",
      "cell:" + cell.getAttribute("data-source") + ":" + target);
    cell.classList.add("selected");
    showFindings();
  }
  document.querySelectorAll("#matrix td[data-finding-ids]").forEach(function (cell) {
    cell.addEventListener("click", function () { selectCell(cell); });
    cell.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); selectCell(cell); }
    });
  });

  // An expired suppression's "findings reported again": the table shows exactly those.
  function showIds(button) {
    resetFilters();
    var ids = button.getAttribute("data-show-ids").split(" ").filter(Boolean);
    setIdFilter(ids, button.getAttribute("data-show-label"), "entry:" + button.closest("tr").getAttribute("data-entry"));
    showFindings();
  }
  document.querySelectorAll("button.show-ids").forEach(function (button) {
    button.addEventListener("click", function () { showIds(button); });
  });

  // The id filter of a saved view: a matrix cell or an expired suppression entry, found again by its key.
  function restoreIds(key) {
    if (key.indexOf("cell:") === 0) {
      var parts = key.slice(5).split(":");
      document.querySelectorAll("#matrix td[data-finding-ids]").forEach(function (cell) {
        if (cell.getAttribute("data-source") === parts[0] && cell.getAttribute("data-target") === parts[1]) {
          var ids = cell.getAttribute("data-finding-ids").split(" ").filter(Boolean);
          setIdFilter(ids, "Matrix: " + parts[0] + " → " + accountLabel(parts[1]) + " (" + parts[1] + ")", key);
          cell.classList.add("selected");
        }
      });
    } else if (key.indexOf(CONTROL_KEY) === 0) {
      var cellIds = complianceFindingIds(key);
      if (cellIds) { setIdFilter(cellIds.ids, cellIds.label, key); }
    } else if (key.indexOf("entry:") === 0) {
      document.querySelectorAll("tr[data-entry] button.show-ids").forEach(function (button) {
        if ("entry:" + button.closest("tr").getAttribute("data-entry") === key) {
          setIdFilter(button.getAttribute("data-show-ids").split(" ").filter(Boolean),
            button.getAttribute("data-show-label"), key);
        }
      });
    }
  }

  ["severity", "category", "account", "environment", "rule", "history"].forEach(function (name) {
    document.querySelectorAll("[data-filter-" + name + "]").forEach(function (node) {
      node.addEventListener("click", function () { setFilter(name, node.getAttribute("data-filter-" + name)); });
    });
  });

  // --- compliance view (issue 13): framework -> control -> account matrix drawn from #compliance-data ------------
  // Statuses come from the assessment as they are; nothing here turns a gap into a pass.
  var COMPLIANCE_KEYS = ["cframework", "cstatus", "caccount", "ccell"];
  var CONTROL_KEY = "control:";
  var STATUS_ORDER = ["pass", "fail", "incomplete", "not collected", "manual"];
  var STATUS_MARKS = { "pass": "\u2713", "fail": "\u2717", "incomplete": "?", "not collected": "\u2298", "manual": "\u270e" };
  var cv = null;  // the view's data and state, once #compliance-data is read

  function statusClass(status) { return "cstatus cstatus-" + status.replace(/ /g, "-"); }

  function statusBadge(status) {
    return el("span", { "class": statusClass(status), text: STATUS_MARKS[status] + " " + status });
  }

  function percentText(score) {
    return score.percent === null ? "\u2013" : score.percent.toFixed(1) + "%";
  }

  function scoreText(score) {
    return percentText(score) + " passed (" + score.passed + " of " + score.assessed + " assessed)";
  }

  function cAccountLabel(account) {
    return account.name ? account.name + " (" + account.id + ")" : account.id;
  }

  function cellKey(framework, control, accountId) { return [framework, control, accountId].join("|"); }

  function findControl(framework, controlId) {
    var fw = cv.frameworks.get(framework);
    if (!fw) { return null; }
    for (var n = 0; n < fw.controls.length; n++) { if (fw.controls[n].id === controlId) { return fw.controls[n]; } }
    return null;
  }

  // One cell: its status, evidence and the ids of its findings (suppressed ones included), or null.
  function complianceCell(key) {
    var parts = key.split("|");
    var control = parts.length === 3 ? findControl(parts[0], parts[1]) : null;
    var index = cv && control ? cv.accountIndex.get(parts[2]) : undefined;
    if (!control || index === undefined) { return null; }
    var evidence = cv.data.evidence[control.evidence[index]] || {};
    return { framework: parts[0], control: control, account: cv.data.accounts[index], index: index,
      status: cv.data.statuses[control.cells.charAt(index)], evidence: evidence,
      findingIds: evidence.finding_ids || [] };
  }

  // The findings table's id filter for a compliance cell (a saved view's "ids=control:..." key).
  function complianceFindingIds(key) {
    var cell = cv ? complianceCell(key.slice(CONTROL_KEY.length)) : null;
    if (!cell) { return null; }
    var live = cell.findingIds.filter(function (id) { return liveIds.has(id); });
    return { ids: live, label: cell.framework + " " + cell.control.id + " in " + cAccountLabel(cell.account) };
  }

  var liveIds = new Set(findings.map(function (f) { return f.id; }));

  function initCompliance() {
    var node = $("compliance-data");
    if (!node) { return; }
    var data = JSON.parse(node.textContent);
    cv = { data: data, frameworks: new Map(), accountIndex: new Map(), open: new Set(), cell: "",
      selects: { framework: $("compliance-framework"), status: $("compliance-status"), account: $("compliance-account") },
      root: $("compliance-frameworks"), details: new Map() };
    data.frameworks.forEach(function (fw) { cv.frameworks.set(fw.id, fw); });
    data.accounts.forEach(function (a, n) { cv.accountIndex.set(a.id, n); });

    data.frameworks.forEach(function (fw) {
      cv.selects.framework.appendChild(el("option", { value: fw.id, text: fw.id + " \u2013 " + percentText(fw.score) }));
    });
    STATUS_ORDER.forEach(function (status) {
      cv.selects.status.appendChild(el("option", { value: status, text: STATUS_MARKS[status] + " " + status }));
    });
    data.accounts.forEach(function (a) { cv.selects.account.appendChild(el("option", { value: a.id, text: cAccountLabel(a) })); });

    var summary = document.querySelector("#compliance-summary tbody");
    data.frameworks.forEach(function (fw) {
      var s = fw.score;
      summary.appendChild(el("tr", { "data-framework": fw.id }, [
        el("td", null, [el("button", { type: "button", "class": "link", "data-compliance-framework": fw.id, text: fw.id })]),
        el("td", { "class": "num cpercent", text: percentText(s) }),
        el("td", { "class": "num", text: String(s.passed) }), el("td", { "class": "num", text: String(s.failed) }),
        el("td", { "class": "num", text: String(s.incomplete) }), el("td", { "class": "num", text: String(s.not_collected) }),
        el("td", { "class": "num", text: String(s.manual) })
      ]));
      var body = el("div", { "class": "cframework-body" });
      var details = el("details", { "class": "cframework", "data-framework": fw.id }, [
        el("summary", null, [el("span", { "class": "cframework-name", text: fw.id }), " ",
          el("span", { "class": "cframework-score muted" })]),
        body
      ]);
      details.addEventListener("toggle", function () {
        if (details.open) { cv.open.add(fw.id); renderFramework(fw); } else { cv.open.delete(fw.id); body.replaceChildren(); }
      });
      cv.details.set(fw.id, { node: details, body: body });
      cv.root.appendChild(details);
    });

    summary.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-compliance-framework]");
      if (!button) { return; }
      cv.selects.framework.value = button.getAttribute("data-compliance-framework");
      applyCompliance();
      cv.details.get(cv.selects.framework.value).node.scrollIntoView({ behavior: "auto", block: "start" });
    });
    Object.keys(cv.selects).forEach(function (name) {
      cv.selects[name].addEventListener("change", function () { applyCompliance(); });
    });
    $("compliance-clear").addEventListener("click", function () {
      Object.keys(cv.selects).forEach(function (name) { cv.selects[name].value = ""; });
      cv.cell = "";
      applyCompliance();
    });
    cv.root.addEventListener("click", function (event) {
      var show = event.target.closest("button.show-control-findings");
      if (show) { showCellFindings(show.getAttribute("data-cell")); return; }
      var cell = event.target.closest("td.ccell");
      if (cell) { toggleCell(cell.getAttribute("data-cell")); }
    });
    cv.root.addEventListener("keydown", function (event) {
      var cell = event.target.closest("td.ccell");
      if (cell && (event.key === "Enter" || event.key === " ")) { event.preventDefault(); toggleCell(cell.getAttribute("data-cell")); }
    });
    loadComplianceFromUrl();
    applyCompliance();
  }

  function loadComplianceFromUrl() {
    if (!hasUrl || location.hash.indexOf(URL_PREFIX) !== 0) { return; }
    var params = new URLSearchParams(location.hash.slice(URL_PREFIX.length));
    [["framework", "cframework"], ["status", "cstatus"], ["account", "caccount"]].forEach(function (pair) {
      var value = params.get(pair[1]);
      var select = cv.selects[pair[0]];
      if (value && Array.prototype.some.call(select.options, function (o) { return o.value === value; })) { select.value = value; }
    });
    var key = params.get("ccell");
    var cell = key ? complianceCell(key) : null;
    if (cell) { cv.cell = key; cv.open.add(cell.framework); }
  }

  function saveComplianceToUrl() {
    var params = new URLSearchParams();
    if (cv.selects.framework.value) { params.set("cframework", cv.selects.framework.value); }
    if (cv.selects.status.value) { params.set("cstatus", cv.selects.status.value); }
    if (cv.selects.account.value) { params.set("caccount", cv.selects.account.value); }
    if (cv.cell) { params.set("ccell", cv.cell); }
    writeHash(params, COMPLIANCE_KEYS);
  }

  // Filters: a framework shows only its own table (opened); a status keeps the controls with a cell of that
  // status among the accounts shown; an account shows only its column.
  function applyCompliance() {
    var framework = cv.selects.framework.value;
    var accountId = cv.selects.account.value;
    var accountAt = accountId ? cv.accountIndex.get(accountId) : undefined;
    if (framework) { cv.open.add(framework); }
    if (cv.cell) {
      var open = complianceCell(cv.cell);
      if (!open || (framework && open.framework !== framework) || (accountId && open.account.id !== accountId)) { cv.cell = ""; }
    }
    document.querySelectorAll("#compliance-summary tbody tr").forEach(function (row) {
      row.classList.toggle("selected", row.getAttribute("data-framework") === framework);
    });
    cv.data.frameworks.forEach(function (fw) {
      var entry = cv.details.get(fw.id);
      entry.node.hidden = Boolean(framework) && fw.id !== framework;
      var label = scoreText(fw.score);
      if (accountAt !== undefined) { label += "; " + cAccountLabel(cv.data.accounts[accountAt]) + ": " + scoreText(fw.accounts[accountAt]); }
      entry.node.querySelector(".cframework-score").textContent = label;
      var shouldOpen = cv.open.has(fw.id) && !entry.node.hidden;
      if (shouldOpen && !entry.node.open) {
        entry.node.open = true;  // its toggle event draws it
        renderFramework(fw);
      } else if (entry.node.open) {
        renderFramework(fw);
      }
    });
    saveComplianceToUrl();
  }

  function visibleAccounts() {
    var accountId = cv.selects.account.value;
    var all = cv.data.accounts.map(function (_, n) { return n; });
    return accountId ? all.filter(function (n) { return cv.data.accounts[n].id === accountId; }) : all;
  }

  function renderFramework(fw) {
    var entry = cv.details.get(fw.id);
    var columns = visibleAccounts();
    var wanted = cv.selects.status.value;
    var head = el("tr", null, [el("th", { scope: "col", "class": "ccontrol", text: "Control" })].concat(columns.map(function (n) {
      var account = cv.data.accounts[n];
      var score = fw.accounts[n];
      return el("th", { scope: "col", "data-account-id": account.id, "class": "caccount" }, [
        el("div", { "class": "caccount-name", text: account.name || account.id }),
        el("div", { "class": "muted mono", text: account.id }),
        el("div", { "class": "caccount-score", "data-percent": score.percent === null ? "" : String(score.percent),
          title: scoreText(score), text: percentText(score) })
      ]);
    })));
    var rows = document.createDocumentFragment();
    fw.controls.forEach(function (control) {
      var statuses = columns.map(function (n) { return cv.data.statuses[control.cells.charAt(n)]; });
      if (wanted && statuses.indexOf(wanted) < 0) { return; }
      var cells = columns.map(function (n, k) {
        var status = statuses[k];
        var key = cellKey(fw.id, control.id, cv.data.accounts[n].id);
        return el("td", { "class": "ccell cstatus-" + status.replace(/ /g, "-") + (wanted && status !== wanted ? " dimmed" : "") +
          (cv.cell === key ? " selected" : ""), "data-cell": key, "data-account-id": cv.data.accounts[n].id,
          "data-status": status, tabindex: "0", role: "button", "aria-expanded": String(cv.cell === key),
          title: fw.id + " " + control.id + " in " + cAccountLabel(cv.data.accounts[n]) + ": " + status,
          text: STATUS_MARKS[status] + " " + status });
      });
      rows.appendChild(el("tr", { "class": "ccontrol-row", "data-control": control.id }, [
        el("th", { scope: "row", "class": "ccontrol" }, [
          el("span", { "class": "ccontrol-id", text: control.id }),
          control.automated === false ? el("span", { "class": "ctag", text: "manual in the benchmark" }) : null,
          el("div", { "class": "ccontrol-title", text: control.title }),
          el("div", { "class": "muted rule-id", text: control.rules.length ? "rules: " + control.rules.join(", ") : "no rule" })
        ])
      ].concat(cells)));
      var open = cv.cell ? complianceCell(cv.cell) : null;
      if (open && open.framework === fw.id && open.control.id === control.id && columns.indexOf(open.index) >= 0) {
        rows.appendChild(cellDetails(open, columns.length + 1));
      }
    });
    if (!rows.childNodes.length) {
      rows.appendChild(el("tr", { "class": "no-results" }, [
        el("td", { colspan: String(columns.length + 1), "class": "empty", text: "No control of this framework matches these filters." })
      ]));
    }
    entry.body.replaceChildren(el("div", { "class": "scroll" }, [
      el("table", { "class": "cmatrix", "data-framework": fw.id }, [el("thead", null, [head]), el("tbody", null, [rows])])
    ]));
  }

  function definitionList(pairs) {
    return el("dl", { "class": "cfacts" }, pairs.filter(function (pair) { return pair[1]; }).map(function (pair) {
      return el("div", null, [el("dt", { text: pair[0] }), el("dd", { text: pair[1] })]);
    }));
  }

  function cellDetails(cell, span) {
    var e = cell.evidence;
    var key = cellKey(cell.framework, cell.control.id, cell.account.id);
    var parts = [
      el("h4", null, [cell.framework + " " + cell.control.id + " in " + cAccountLabel(cell.account) + " ", statusBadge(cell.status)]),
      el("p", { "class": "ccontrol-title", text: cell.control.title }),
      el("p", { "class": "creason", text: e.reason || "" }),
      definitionList([
        ["Rules", cell.control.rules.join(", ")],
        ["Regions judged", Array.isArray(e.regions) ? e.regions.join(", ") || "none" : ""],
        ["Regions not collected", Array.isArray(e.regions_not_collected) ? e.regions_not_collected.join(", ") : ""]
      ])
    ];
    if (Array.isArray(e.findings) && e.findings.length) {
      parts.push(el("h5", { text: "Findings (" + (e.total_findings || e.findings.length) + ")" }));
      parts.push(el("table", { "class": "cfindings" }, [
        el("thead", null, [el("tr", null, ["Rule", "Resource", "Region", "Message", ""].map(function (h) { return el("th", { text: h }); }))]),
        el("tbody", null, e.findings.map(function (f) {
          return el("tr", { "data-finding-id": String(f.id) }, [
            el("td", { text: String(f.rule_id) }), el("td", null, [el("code", { text: String(f.resource_arn) })]),
            el("td", { text: String(f.region || "") }), el("td", { text: String(f.message || "") }),
            el("td", { text: f.suppressed ? "suppressed (accepted)" : "" })
          ]);
        }))
      ]));
      if (e.total_findings > e.findings.length) {
        parts.push(el("p", { "class": "muted", text: "and " + (e.total_findings - e.findings.length) + " more (compliance-" + cell.framework + ".json lists their ids)" }));
      }
      var live = cell.findingIds.filter(function (id) { return liveIds.has(id); });
      if (live.length) {
        parts.push(el("button", { type: "button", "class": "show-control-findings", "data-cell": key,
          text: "Show " + (live.length === 1 ? "this finding" : "these " + live.length + " findings") + " in the findings table" }));
      }
    }
    if (Array.isArray(e.gaps) && e.gaps.length) {
      parts.push(el("h5", { text: "What was not collected or not decidable" }));
      parts.push(el("table", { "class": "cgaps" }, [
        el("thead", null, [el("tr", null, ["Service", "Region", "Operation", "Error", "Message"].map(function (h) { return el("th", { text: h }); }))]),
        el("tbody", null, e.gaps.map(function (g) {
          return el("tr", null, [g.service, g.region, g.operation, g.error_code, g.message].map(function (v) {
            return el("td", { text: String(v === undefined || v === null ? "" : v) });
          }));
        }))
      ]));
    }
    parts.push(el("h5", { text: "Evidence" }));
    parts.push(el("pre", { "class": "cevidence", text: pretty(e) }));
    return el("tr", { "class": "cdetails-row", "data-details-for": key }, [
      el("td", { colspan: String(span) }, [el("div", { "class": "details" }, parts)])
    ]);
  }

  function toggleCell(key) {
    cv.cell = cv.cell === key ? "" : key;
    var cell = complianceCell(key);
    if (cell) { renderFramework(cv.frameworks.get(cell.framework)); }
    saveComplianceToUrl();
    var focus = cv.root.querySelector('td.ccell[data-cell="' + CSS.escape(key) + '"]');
    if (focus) { focus.focus(); }
  }

  function showCellFindings(key) {
    var found = complianceFindingIds(CONTROL_KEY + key);
    if (!found) { return; }
    resetFilters();
    setIdFilter(found.ids, found.label, CONTROL_KEY + key);
    showFindings();
  }

  initCompliance();

  loadFromUrl();
  applyFilters();
})();
