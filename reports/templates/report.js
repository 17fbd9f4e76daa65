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

  function saveToUrl() {
    if (!hasUrl) { return; }
    var params = new URLSearchParams();
    Object.keys(selects).forEach(function (name) { if (selects[name].value) { params.set(name, selects[name].value); } });
    if (state.search) { params.set("q", state.search); }
    if (state.sort !== "severity-desc") { params.set("sort", state.sort); }
    if (state.group) { params.set("group", "rule"); }
    if (state.idsKey) { params.set("ids", state.idsKey); }
    var text = params.toString();
    var hash = text ? URL_PREFIX + text : "";
    if (hash === location.hash || (!hash && location.hash.indexOf(URL_PREFIX) !== 0)) { return; }
    try {
      history.replaceState(null, "", hash || location.pathname + location.search);
    } catch (error) {
      location.hash = hash;
    }
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
    if (f.evidence && Array.isArray(f.evidence.hops) && f.evidence.hops.length) {
      parts = parts.concat(section("Hops", hopList(f.evidence.hops)));
    }
    if (f.remediation) { parts = parts.concat(section("Remediation", el("p", { "class": "remediation", text: f.remediation }))); }
    var frameworks = Object.keys(f.compliance || {});
    if (frameworks.length) {
      parts = parts.concat(section("Compliance", el("ul", { "class": "compliance" }, frameworks.map(function (name) {
        return el("li", { text: name + ": " + f.compliance[name].join(", ") });
      }))));
    }
    parts = parts.concat(section("Evidence", el("pre", { "class": "evidence", text: pretty(f.evidence) })));
    parts.push(el("p", { "class": "muted" }, ["Finding ", el("code", { text: f.id }), " · resource ",
      el("code", { text: f.resource_arn }), " · region " + f.region]));
    return el("tr", { "class": "details-row", "data-details-for": f.id, id: "details-" + f.id }, [
      el("td", { colspan: String(COLUMNS) }, [el("div", { "class": "details" }, parts)])
    ]);
  }

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

  loadFromUrl();
  applyFilters();
})();
