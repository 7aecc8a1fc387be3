/* 申报书 editing page (grants/templates/grants/portal/edit.html). Vanilla JS, no library.

   - Budget: each line's amount, the totals, the grant and personnel shares and the call's
     money rules, live as the user types. The arithmetic is grants/rules.py's: money in
     integer fen (BigInt), rounded half up per line; shares in hundredths of a percent. The
     call's limits come from rules.limits_json (the page's #proposal-config).
   - Tables: rows added from the formset's empty form, deleted by their checkbox.
   - Saving: every section saves by itself (its button, or AUTOSAVE_MS after the user stops
     typing) with fetch, sending the revision the page holds; saves run one after another
     and each success moves the page's revision on.
   - Nothing typed is lost: an unsaved section is kept in localStorage under
     gy-proposal-<pk>-<section> until the server has it. A save answered by a log-in page
     (401, 403 or a redirect) keeps it there and asks the user to log in (the link brings
     them back with ?next=); on the page's next opening, kept sections are put back into
     the form and saved. A save refused because another tab or device saved first (409)
     keeps the text here and says so; nothing is overwritten.
   Without JavaScript each section is a plain form: POST, then a redirect back. */
(function () {
  "use strict";

  var root = document.querySelector("[data-proposal]");
  var cfgEl = document.getElementById("proposal-config");
  if (!root || !cfgEl || typeof BigInt === "undefined") return;
  document.documentElement.classList.add("js");

  var cfg = JSON.parse(cfgEl.textContent);
  var AUTOSAVE_MS = 1500;
  var LIVE_KEYS = ["budget", "grant_amount", "grant_share", "personnel_share"];
  var revision = cfg.revision;
  var blocked = null; // "login" | "stale": no more automatic saves until the user acts
  var budgetTouched = false;
  var chain = Promise.resolve();
  var forms = Array.prototype.slice.call(root.querySelectorAll("form[data-section]"));
  var bySection = {};
  var state = {};
  forms.forEach(function (f) {
    bySection[f.dataset.section] = f;
    state[f.dataset.section] = { dirty: false, base: revision, timer: null };
  });

  function $(sel, el) { return (el || root).querySelector(sel); }
  function $$(sel, el) { return Array.prototype.slice.call((el || root).querySelectorAll(sel)); }
  function label(section) { return (cfg.sectionLabels || {})[section] || section; }

  // ---- money, as grants/rules.py computes it -------------------------------------------------

  var NUMBER = /^\s*([+-]?)(\d*)(?:\.(\d*))?\s*$/;

  function cents(value) { // rules.money: to the fen, half up; what is not a number is 0
    var m = NUMBER.exec(value == null ? "" : String(value));
    if (!m || (m[2] === "" && !m[3])) return 0n;
    var frac = m[3] || "";
    var c = BigInt(m[2] || "0") * 100n + BigInt((frac + "00").slice(0, 2));
    if (frac.length > 2 && frac.charAt(2) >= "5") c += 1n;
    return m[1] === "-" ? -c : c;
  }

  function roundDiv(n, d) { // n / d rounded half up (away from zero), d > 0
    var neg = n < 0n;
    if (neg) n = -n;
    var q = (n * 2n + d) / (2n * d);
    return neg ? -q : q;
  }

  function lineAmount(q, p) { return roundDiv(cents(q) * cents(p), 100n); }

  function share(part, total) { return total > 0n ? roundDiv(part * 10000n, total) : null; }

  function fmtMoney(c) { // rules.fmt_money: 12,345.60
    var neg = c < 0n;
    if (neg) c = -c;
    var whole = (c / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var fen = (c % 100n).toString().padStart(2, "0");
    return (neg ? "-" : "") + whole + "." + fen;
  }

  function fmtPct(h) { return h === null ? "—" : fmtMoney(h).replace(/,/g, "") + "%"; }

  function yuan(c) { return "¥" + fmtMoney(c); }

  // ---- the budget, live ------------------------------------------------------------------------

  function field(row, col) { return $("[data-col='" + col + "']", row); }

  function budgetLines() {
    return $$("[data-rows='budget'] [data-row]").map(function (row) {
      var get = function (c) { var el = field(row, c); return el ? el.value : ""; };
      var del = $("input[name$='-DELETE']", row);
      var blank = !get("item").trim() && !get("quantity").trim() && !get("unit_price").trim() && !get("note").trim();
      return {
        row: row, deleted: !!(del && del.checked), blank: blank, item: get("item").trim(),
        category: get("category"), source: get("source"), nature: get("nature"),
        amount: lineAmount(get("quantity"), get("unit_price"))
      };
    });
  }

  function budgetProblems(lines, t) { // rules.budget_problems, message for message
    var L = cfg.limits, errors = {};
    function err(k, m) { (errors[k] = errors[k] || []).push(m); }
    if (!lines.length) { err("budget", "请填写预算明细（至少一行）。"); return errors; }
    var min = cents(L.grant_min), max = cents(L.grant_max);
    if (t.grant < min) err("grant_amount", "申请资助金额为" + fmtMoney(t.grant) + "元，低于本次征集的单个项目最低资助" + fmtMoney(min) + "元。");
    if (t.grant > max) err("grant_amount", "申请资助金额为" + fmtMoney(t.grant) + "元，超过本次征集的单个项目最高资助" + fmtMoney(max) + "元。");
    var gs = share(t.grant, t.total), maxGs = cents(L.max_grant_share);
    if (gs !== null && gs > maxGs) err("grant_share", "申请资助金额占总预算的" + fmtPct(gs) + "，超过本次征集规定的" + fmtPct(maxGs) + "；请增加自筹资金或减少申请金额。");
    var ps = share(t.personnel, t.total), maxPs = cents(L.max_personnel_share);
    if (ps !== null && ps > maxPs) err("personnel_share", "人员费用占总预算的" + fmtPct(ps) + "，超过本次征集规定的" + fmtPct(maxPs) + "。");
    lines.forEach(function (line, i) {
      var n = i + 1, item = line.item || "第" + n + "行";
      if (line.nature === "fixed_asset" && L.forbid_fixed_assets) err("budget", "预算第" + n + "行“" + item + "”属于固定资产购置，本次征集不得列支。");
      if (line.nature === "cash" && L.forbid_cash_handouts) err("budget", "预算第" + n + "行“" + item + "”属于现金或等价物发放，本次征集不得列支。");
    });
    return errors;
  }

  function recalc(showProblems) {
    var all = budgetLines();
    var lines = all.filter(function (l) { return !l.deleted && !l.blank; });
    var t = { total: 0n, grant: 0n, self: 0n, personnel: 0n };
    all.forEach(function (l) {
      var out = $("[data-amount]", l.row);
      if (out) out.textContent = yuan(l.amount);
      l.row.classList.toggle("is-deleted", l.deleted);
      l.row.classList.toggle("pp-row-warn", !l.deleted && (
        (l.nature === "fixed_asset" && cfg.limits.forbid_fixed_assets) || (l.nature === "cash" && cfg.limits.forbid_cash_handouts)));
    });
    lines.forEach(function (l) {
      t.total += l.amount;
      if (l.source === "self") t.self += l.amount; else t.grant += l.amount;
      if (l.category === "personnel") t.personnel += l.amount;
    });
    var gs = share(t.grant, t.total), ps = share(t.personnel, t.total);
    var shown = { total: yuan(t.total), grant: yuan(t.grant), self: yuan(t.self), grant_share: fmtPct(gs), personnel_share: fmtPct(ps) };
    var over = {
      grant_share: gs !== null && gs > cents(cfg.limits.max_grant_share),
      personnel_share: ps !== null && ps > cents(cfg.limits.max_personnel_share),
      grant: t.grant > cents(cfg.limits.grant_max) || (lines.length > 0 && t.grant < cents(cfg.limits.grant_min))
    };
    $$("[data-total]").forEach(function (el) {
      el.textContent = shown[el.dataset.total];
      el.classList.toggle("over", !!over[el.dataset.total]);
    });
    if (!showProblems) return;
    var problems = budgetProblems(lines, t);
    LIVE_KEYS.forEach(function (k) { $$("[data-problems-for='" + k + "']").forEach(function (ul) { setList(ul, problems[k] || []); }); });
    countProblems();
  }

  // ---- lists of messages ----------------------------------------------------------------------

  function setList(ul, messages) {
    if (!ul) return;
    ul.innerHTML = "";
    messages.forEach(function (m) { var li = document.createElement("li"); li.textContent = m; ul.appendChild(li); });
  }

  var lastProblems = null;

  function countProblems() {
    var keys = {};
    $$("[data-problems-for]").forEach(function (ul) { keys[ul.dataset.problemsFor] = ul.children.length; });
    var total = 0;
    Object.keys(keys).forEach(function (k) { total += keys[k]; });
    Object.keys(cfg.sectionKeys || {}).forEach(function (s) {
      var n = 0;
      cfg.sectionKeys[s].forEach(function (k) { n += keys[k] || 0; });
      var badge = $("[data-count-for='" + s + "']");
      if (badge) { badge.textContent = n; badge.hidden = !n; }
    });
    var box = document.getElementById("problems");
    if (box) {
      box.hidden = !total;
      var head = $("[data-problem-total]", box);
      if (head) head.textContent = "还有 " + total + " 处需要完善";
    }
  }

  function showServerProblems(problems) {
    lastProblems = problems;
    $$("[data-problems-for]").forEach(function (ul) {
      var key = ul.dataset.problemsFor;
      if (LIVE_KEYS.indexOf(key) >= 0 && state.budget && state.budget.dirty) return; // the live ones stand
      setList(ul, problems[key] || []);
    });
    countProblems();
  }

  function clearErrors(form) {
    $$("[data-errors-for]", form).forEach(function (ul) { setList(ul, []); });
    $$(".has-error", form).forEach(function (el) { el.classList.remove("has-error"); });
    var msg = $("[data-section-message]", form);
    if (msg) msg.hidden = true;
  }

  function showErrors(form, errors, message) {
    clearErrors(form);
    var first = null;
    Object.keys(errors).forEach(function (name) {
      var ul = form.querySelector("[data-errors-for='" + name + "']") || form.querySelector("[data-errors-for='__all__']");
      setList(ul, errors[name]);
      var input = form.querySelector("[name='" + name + "']");
      var box = input && input.closest(".pp-cell, .field");
      if (box) box.classList.add("has-error");
      if (!first && input) first = input;
    });
    var msg = $("[data-section-message]", form);
    if (msg && message) { msg.textContent = message; msg.hidden = false; }
    return first;
  }

  // ---- rows ------------------------------------------------------------------------------------

  function addRow(prefix) {
    var total = $("input[name='" + prefix + "-TOTAL_FORMS']");
    var max = $("input[name='" + prefix + "-MAX_NUM_FORMS']");
    var tpl = $("template[data-row-template='" + prefix + "']");
    var n = parseInt(total.value, 10);
    if (max && n >= parseInt(max.value, 10)) return null;
    $("[data-rows='" + prefix + "']").insertAdjacentHTML("beforeend", tpl.innerHTML.replace(/__prefix__/g, String(n)));
    total.value = String(n + 1);
    var row = $("[data-rows='" + prefix + "']").lastElementChild;
    refreshRow(row);
    return row;
  }

  function refreshRow(row) {
    var member = field(row, "member");
    if (member) row.classList.toggle("is-member", !!member.value);
    var del = $("input[name$='-DELETE']", row);
    if (del) row.classList.toggle("is-deleted", del.checked);
  }

  $$("[data-add-row]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var row = addRow(btn.dataset.addRow);
      if (row) { var first = $("input, select", row); if (first) first.focus(); }
    });
  });
  $$("[data-row]").forEach(refreshRow);

  // ---- what is kept in the browser -------------------------------------------------------------

  function key(section) { return "gy-proposal-" + cfg.pk + "-" + section; }

  function serialize(form) {
    var out = [];
    new FormData(form).forEach(function (v, k) {
      if (k !== "csrfmiddlewaretoken" && k !== "revision" && typeof v === "string") out.push([k, v]);
    });
    return out;
  }

  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

  function keep(section) {
    try {
      localStorage.setItem(key(section), JSON.stringify({ rev: state[section].base, at: Date.now(), data: serialize(bySection[section]) }));
    } catch (e) { /* private mode or full: the server copy is all there is */ }
  }

  function kept(section) {
    try { var raw = localStorage.getItem(key(section)); return raw ? JSON.parse(raw) : null; } catch (e) { return null; }
  }

  function forget(section) { try { localStorage.removeItem(key(section)); } catch (e) { /* nothing kept */ } }

  function fill(form, pairs) {
    pairs.forEach(function (p) {
      var m = /^(.*)-TOTAL_FORMS$/.exec(p[0]);
      if (!m) return;
      var total = form.querySelector("input[name='" + p[0] + "']");
      while (total && parseInt(total.value, 10) < parseInt(p[1], 10) && addRow(m[1])) { /* add rows */ }
    });
    var values = {}, seen = {};
    pairs.forEach(function (p) { (values[p[0]] = values[p[0]] || []).push(p[1]); });
    $$("input[name], select[name], textarea[name]", form).forEach(function (el) {
      var name = el.name, vals = values[name] || [];
      if (name === "csrfmiddlewaretoken" || name === "revision" || el.type === "file") return;
      if (el.type === "checkbox" || el.type === "radio") el.checked = vals.indexOf(el.value) >= 0;
      else if (el.tagName === "SELECT" && el.multiple) Array.prototype.forEach.call(el.options, function (o) { o.selected = vals.indexOf(o.value) >= 0; });
      else { var i = seen[name] || 0; seen[name] = i + 1; if (i < vals.length) el.value = vals[i]; }
    });
    $$("[data-row]", form).forEach(refreshRow);
  }

  // ---- saving ----------------------------------------------------------------------------------

  function csrf() {
    var m = /(?:^|;\s*)csrftoken=([^;]+)/.exec(document.cookie);
    if (m) return decodeURIComponent(m[1]);
    var input = $("input[name='csrfmiddlewaretoken']");
    return input ? input.value : "";
  }

  function setState(section, kind, text) {
    var el = $("[data-state]", bySection[section]);
    if (el) { el.className = "pp-state small " + kind; el.textContent = text; }
    var dirty = Object.keys(state).filter(function (s) { return state[s].dirty; });
    $$("[data-save-status]").forEach(function (status) {
      status.textContent = kind === "saving" ? "正在保存…" :
        dirty.length ? "有未保存的修改（已暂存在本浏览器）" : text;
    });
  }

  function banner(id, html) {
    var el = document.getElementById(id);
    if (!el) return null;
    el.innerHTML = html;
    el.hidden = !html;
    return el;
  }

  function escapeHtml(s) { var d = document.createElement("div"); d.textContent = s; return d.innerHTML; }

  function sessionExpired(message) {
    blocked = "login";
    var el = banner("session-banner", escapeHtml(message || cfg.loginMessage) +
      ' <a class="btn btn-small" id="login-link" href="' + escapeHtml(cfg.loginUrl) + '">重新登录</a>' +
      ' <button type="button" class="btn btn-small ghost" id="retry-save">已在其他窗口登录，重试保存</button>');
    var retry = el && $("#retry-save", el);
    if (retry) retry.addEventListener("click", function () { blocked = null; banner("session-banner", ""); saveAllDirty(); });
  }

  function stale(message) {
    blocked = "stale";
    var el = banner("stale-banner", escapeHtml(message || cfg.staleMessage) +
      ' <button type="button" class="btn btn-small" id="reload-page">刷新页面</button>');
    var btn = el && $("#reload-page", el);
    if (btn) btn.addEventListener("click", function () { window.location.reload(); });
  }

  function markDirty(section) {
    var st = state[section];
    if (!st.dirty) { st.dirty = true; st.base = revision; }
    keep(section);
    setState(section, "dirty", "有未保存的修改");
  }

  function queueSave(section, force) {
    chain = chain.then(function () { return save(section, force); }).catch(function () { return false; });
    return chain;
  }

  function saveAllDirty() {
    Object.keys(state).forEach(function (s) {
      clearTimeout(state[s].timer);
      if (state[s].dirty) queueSave(s);
    });
    return chain;
  }

  function save(section, force) {
    var st = state[section], form = bySection[section];
    clearTimeout(st.timer);
    if ((!st.dirty && !force) || (blocked && !force)) return Promise.resolve(!st.dirty);
    var sent = serialize(form);
    var body = new FormData(form);
    body.set("revision", String(revision));
    body.set("csrfmiddlewaretoken", csrf());
    setState(section, "saving", "正在保存…");
    return fetch(form.action, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrf() }
    }).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (json) { return handle(section, res, json, sent); });
    }, function () {
      var off = document.getElementById("offline-banner");
      if (off) off.hidden = false;
      setState(section, "failed", "未保存（网络中断，已暂存在本浏览器）");
      return false;
    });
  }

  function handle(section, res, json, sent) {
    var st = state[section], form = bySection[section];
    var off = document.getElementById("offline-banner");
    if (off) off.hidden = true;
    var toLogin = res.redirected && /\/accounts\/login\//.test(res.url);
    if (res.status === 401 || toLogin || (res.status === 403 && !(json && json.error === "forbidden"))) {
      sessionExpired(json && json.message);
      setState(section, "failed", "未保存（需要重新登录，已暂存在本浏览器）");
      return false;
    }
    if (res.status === 409 && json && json.error === "stale") {
      stale(json.message);
      setState(section, "failed", "未保存（已暂存在本浏览器）");
      return false;
    }
    if (res.status === 400 && json && json.errors) {
      showErrors(form, json.errors, json.message);
      setState(section, "failed", "有内容没有保存，请按提示修改");
      return false;
    }
    if (!res.ok || !json || !json.ok) {
      var msg = $("[data-section-message]", form);
      if (msg) { msg.textContent = (json && json.message) || "保存失败，请稍后再试；内容已暂存在本浏览器。"; msg.hidden = false; }
      setState(section, "failed", "未保存");
      return false;
    }
    var before = revision;
    revision = json.revision;
    $$("[data-revision]").forEach(function (i) { i.value = String(revision); });
    if (blocked === "login") { blocked = null; banner("session-banner", ""); }
    clearErrors(form);
    if (same(serialize(form), sent)) { st.dirty = false; forget(section); } else { st.base = revision; keep(section); }
    // this tab's other unsaved sections were typed on top of what it just saved: still current
    Object.keys(state).forEach(function (s) {
      if (s !== section && state[s].dirty && state[s].base === before) { state[s].base = revision; keep(s); }
    });
    setState(section, st.dirty ? "dirty" : "saved", st.dirty ? "有未保存的修改" : json.message);
    showServerProblems(json.problems || {});
    var title = section === "basic" && $("input[name='title']", form);
    if (title && title.value.trim()) $$(".pp-title").forEach(function (h) { h.textContent = title.value.trim(); });
    if (state.budget && state.budget.dirty) recalc(true);
    return true;
  }

  // ---- wiring ----------------------------------------------------------------------------------

  forms.forEach(function (form) {
    var section = form.dataset.section;
    function edited(ev) {
      if (ev.target && ev.target.name === "revision") return;
      if (ev.target && ev.target.closest) { var row = ev.target.closest("[data-row]"); if (row) refreshRow(row); }
      markDirty(section);
      if (section === "budget") { budgetTouched = true; recalc(true); }
      clearTimeout(state[section].timer);
      if (!blocked) state[section].timer = setTimeout(function () { queueSave(section); }, AUTOSAVE_MS);
    }
    form.addEventListener("input", edited);
    form.addEventListener("change", edited);
    form.addEventListener("submit", function (ev) { ev.preventDefault(); queueSave(section, true); });
  });

  // before leaving for the submission, an upload or the profile: save what is unsaved first
  function flushThen(go) {
    saveAllDirty().then(function () {
      var dirty = Object.keys(state).filter(function (s) { return state[s].dirty; });
      if (dirty.length && blocked) {
        var first = bySection[dirty[0]];
        if (first) first.scrollIntoView({ behavior: "smooth" });
        return;
      }
      go();
    });
  }
  $$("[data-submit], [data-flush-link]").forEach(function (a) {
    a.addEventListener("click", function (ev) { ev.preventDefault(); flushThen(function () { window.location.href = a.href; }); });
  });
  $$("form[data-flush]").forEach(function (f) {
    f.addEventListener("submit", function (ev) {
      if (!Object.keys(state).some(function (s) { return state[s].dirty; })) return;
      ev.preventDefault();
      flushThen(function () { f.submit(); });
    });
  });
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden" && !blocked) saveAllDirty(); });
  window.addEventListener("online", function () { if (!blocked) saveAllDirty(); });

  // ---- on opening: put back what was kept and not saved --------------------------------------------

  function restore() {
    var current = [], behind = [];
    forms.forEach(function (form) {
      var s = form.dataset.section, entry = kept(s);
      if (!entry || !Array.isArray(entry.data)) return;
      if (same(entry.data, serialize(form))) { forget(s); return; }
      (entry.rev === revision ? current : behind).push([s, entry]);
    });
    current.forEach(function (p) { fill(bySection[p[0]], p[1].data); markDirty(p[0]); queueSave(p[0]); });
    if (current.length) {
      var names = current.map(function (p) { return "“" + label(p[0]) + "”"; }).join("、");
      banner("restore-banner", "已恢复您上次未保存的内容（" + names + "），正在保存。");
      chain.then(function () {
        var left = current.filter(function (p) { return state[p[0]].dirty; });
        if (!left.length) banner("restore-banner", "已恢复并保存您上次未保存的内容（" + names + "）。");
      });
    }
    if (behind.length) {
      var list = behind.map(function (p) {
        var t = new Date(p[1].at);
        return "“" + label(p[0]) + "”（暂存于 " + t.getHours() + ":" + String(t.getMinutes()).padStart(2, "0") + "）";
      }).join("、");
      var el = banner("kept-banner", "本浏览器中暂存有未保存的内容：" + escapeHtml(list) +
        "。这份申报书之后已在其他窗口或设备上保存过，恢复会用暂存的内容替换这些部分现在的内容。" +
        ' <button type="button" class="btn btn-small" id="restore-kept">恢复并保存暂存的内容</button>' +
        ' <button type="button" class="btn btn-small ghost" id="drop-kept">不恢复，删除暂存</button>');
      $("#restore-kept", el).addEventListener("click", function () {
        behind.forEach(function (p) { fill(bySection[p[0]], p[1].data); state[p[0]].dirty = false; markDirty(p[0]); queueSave(p[0], true); });
        banner("kept-banner", "");
        banner("restore-banner", "已恢复暂存的内容，正在保存。");
        recalc(true);
      });
      $("#drop-kept", el).addEventListener("click", function () { behind.forEach(function (p) { forget(p[0]); }); banner("kept-banner", ""); });
    }
    if (current.length || behind.length) recalc(true);
  }

  recalc(!!cfg.showProblems);
  restore();
})();
