/* Shared by both consoles: money and time formatting, zh/en texts, sign-in with a bearer token kept in this
   tab's sessionStorage (never in a URL), and fetch with that token. Plain browser JavaScript, no build step. */
(function () {
  'use strict';
  var LG = {};
  window.LG = LG;

  /** 123456 → "¥1,234.56": integer fen, as src/money.ts formats it. */
  LG.yuan = function (fen) {
    fen = Number(fen) || 0;
    var neg = fen < 0;
    var abs = Math.abs(Math.round(fen));
    var y = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    var c = String(abs % 100);
    return (neg ? '-' : '') + '¥' + y + '.' + (c.length < 2 ? '0' + c : c);
  };

  /** "1,234.5" or "¥12" → fen, parsed as a string (never through a float); null when it is not an amount. */
  LG.parseYuan = function (text) {
    var m = /^\s*¥?\s*(\d{1,12}(?:,\d{3})*|\d+)(?:\.(\d{1,2}))?\s*$/.exec(String(text || ''));
    if (!m) return null;
    var cents = (m[2] || '').length === 1 ? m[2] + '0' : (m[2] || '00');
    return Number(m[1].replace(/,/g, '')) * 100 + Number(cents);
  };

  var timeFmt = {};
  /** An ISO time shown in Asia/Shanghai: "2026-12-02 14:05:09". */
  LG.time = function (iso, withDate) {
    if (!iso) return '—';
    var key = withDate === false ? 't' : 'dt';
    timeFmt[key] = timeFmt[key] || new Intl.DateTimeFormat('zh-CN', withDate === false
      ? { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }
      : { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
    return timeFmt[key].format(new Date(iso)).replace(/\//g, '-');
  };

  /** A Shanghai calendar day ("2026-12-02") → the UTC instant of its midnight there. */
  LG.shanghaiMidnight = function (day) {
    return new Date(day + 'T00:00:00+08:00').toISOString();
  };
  LG.shanghaiToday = function () {
    return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
  };

  LG.$ = function (id) { return document.getElementById(id); };
  /** A message under a form: red for a problem, green (ok) for a done action; both are read out (role=alert). */
  LG.say = function (id, text, ok) {
    var e = LG.$(id);
    e.textContent = text || '';
    e.classList.toggle('ok', !!ok);
  };
  LG.el = function (tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  };

  // --- languages: Chinese first, English on request (remembered per browser, not sensitive) ---
  LG.texts = { zh: {}, en: {} };
  LG.lang = (function () { try { return localStorage.getItem('lg.lang') === 'en' ? 'en' : 'zh'; } catch (e) { return 'zh'; } })();
  LG.t = function (key) { return (LG.texts[LG.lang] && LG.texts[LG.lang][key]) || LG.texts.zh[key] || key; };
  LG.translate = function () {
    document.documentElement.lang = LG.lang === 'en' ? 'en' : 'zh-CN';
    Array.prototype.forEach.call(document.querySelectorAll('[data-i18n]'), function (e) { e.textContent = LG.t(e.getAttribute('data-i18n')); });
    Array.prototype.forEach.call(document.querySelectorAll('[data-i18n-label]'), function (e) { e.setAttribute('aria-label', LG.t(e.getAttribute('data-i18n-label'))); });
    var b = LG.$('lang');
    if (b) b.textContent = LG.lang === 'en' ? '中文' : 'English';
  };
  LG.onLang = [];
  LG.toggleLang = function () {
    LG.lang = LG.lang === 'en' ? 'zh' : 'en';
    try { localStorage.setItem('lg.lang', LG.lang); } catch (e) { /* private mode: this page only */ }
    LG.translate();
    LG.onLang.forEach(function (f) { f(); });
  };

  // --- the token: this tab only, sent only in the Authorization header ---
  var store = null;
  LG.session = function (name) {
    var key = 'lg.console.' + name + '.token';
    var memory = null;
    store = {
      get: function () { try { return sessionStorage.getItem(key) || memory; } catch (e) { return memory; } },
      set: function (t) { memory = t; try { sessionStorage.setItem(key, t); } catch (e) { /* memory only */ } },
      clear: function () { memory = null; try { sessionStorage.removeItem(key); } catch (e) { /* nothing kept */ } },
    };
    return store;
  };

  /** An API error with its stable code, so the page can say what went wrong. */
  function ApiError(status, code, message, details) { this.status = status; this.code = code; this.message = message; this.details = details; }
  LG.ApiError = ApiError;

  /** fetch against this origin with the bearer token; JSON in and out unless raw is asked for. */
  LG.api = function (method, path, body, raw) {
    var headers = { Accept: raw ? '*/*' : 'application/json' };
    var token = store && store.get();
    if (token) headers.Authorization = 'Bearer ' + token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'omit', cache: 'no-store' })
      .then(function (r) {
        if (r.ok) return raw ? r : r.status === 204 ? null : r.json();
        return r.json().catch(function () { return {}; }).then(function (b) {
          var e = (b && b.error) || {};
          throw new ApiError(r.status, e.code || 'HTTP_' + r.status, e.message || r.statusText, e.details);
        });
      });
  };

  /** Downloads a protected file: fetched with the header, saved from a blob URL (the token never goes in a URL). */
  LG.download = function (path, fallbackName) {
    return LG.api('GET', path, undefined, true).then(function (r) {
      var cd = r.headers.get('Content-Disposition') || '';
      var m = /filename="([^"]+)"/.exec(cd);
      var name = m ? m[1] : fallbackName;
      return r.blob().then(function (blob) {
        var url = URL.createObjectURL(blob);
        var a = LG.el('a', { href: url, download: name });
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
        return { name: name, blob: blob };
      });
    });
  };

  LG.errorText = function (err) {
    if (err instanceof ApiError) {
      // refusals people meet in the agreement screens, said in words (the code stays beside them)
      if (err.code === 'REMITTANCE_EXCEEDS_UNREMITTED') return LG.t('err.exceeds').replace('{a}', LG.yuan((err.details && err.details.availableFen) || 0)) + ' (' + err.code + ')';
      if (LG.texts.zh['err.' + err.code]) return LG.t('err.' + err.code) + ' (' + err.code + ')';
      if (err.status === 401) return LG.t('err.401');
      if (err.status === 403 || err.status === 404) return LG.t('err.403') + ' (' + err.code + ')';
      var fields = Array.isArray(err.details) ? err.details.map(function (d) { return (d.field || '') + ' ' + (d.message || ''); }).join('; ') : '';
      return err.code + ': ' + err.message + (fields ? ' — ' + fields : '');
    }
    return LG.t('err.network');
  };

  /** "12" → 12: a whole number within [min, max] typed as digits only; null otherwise. */
  LG.parseCount = function (text, min, max) {
    var m = /^\s*(\d{1,10})\s*$/.exec(String(text || ''));
    if (!m) return null;
    var n = Number(m[1]);
    return n >= min && n <= max ? n : null;
  };

  /** A table cell with its text, appended to the row. */
  LG.cell = function (tr, text, cls) { var td = LG.el('td', cls ? { class: cls } : {}, text); tr.appendChild(td); return td; };
  /** Empties a table body and, when there is nothing to list, says so in one row across its columns. */
  LG.clearTable = function (tb, empty, columns, text) {
    tb.textContent = '';
    if (empty) { var tr = LG.el('tr'); LG.cell(tr, text).colSpan = columns; tb.appendChild(tr); }
  };

  // --- pledge agreements: one way of showing them in both consoles ---
  /** An agreement's row, named by its id and status, marked once its cap is reached. */
  LG.agreementRow = function (a) {
    var tr = LG.el('tr', { 'data-agreement': a.id, 'data-status': a.status });
    if (LG.capReached(a)) tr.classList.add('reached');
    return tr;
  };
  LG.layerKeys = ['pledgedFen', 'confirmedFen', 'remittedFen', 'acknowledgedFen', 'overdueFen'];
  /** The four layers and the overdue amount as table cells; an overdue amount is marked so it stands out. */
  LG.layerCells = function (tr, a) {
    LG.layerKeys.forEach(function (k) {
      var td = LG.el('td', { class: 'num layer', 'data-layer': k.replace('Fen', '') }, LG.yuan(a[k] || 0));
      if (k === 'overdueFen' && a[k] > 0) { td.classList.add('overdue'); td.textContent = '⚠ ' + td.textContent; }
      tr.appendChild(td);
    });
  };
  /** "¥X / ¥cap" and/or "n / N units" of a capped agreement, "reached" once used up; "—" without a cap. */
  LG.capText = function (a) {
    var parts = [];
    if (a.capFen !== null && a.capFen !== undefined) parts.push(LG.yuan(a.capUsedFen || 0) + ' / ' + LG.yuan(a.capFen));
    if (a.capUnits !== null && a.capUnits !== undefined) parts.push((a.capUsedUnits || 0) + ' / ' + a.capUnits + ' ' + LG.t('ag.units'));
    if (!parts.length) return LG.t('ag.nocap');
    return parts.join(' · ') + (LG.capReached(a) ? ' · ' + LG.t('ag.reached') : '');
  };
  LG.capReached = function (a) {
    return (a.capFen !== null && a.capFen !== undefined && (a.capUsedFen || 0) >= a.capFen) || (a.capUnits !== null && a.capUnits !== undefined && (a.capUsedUnits || 0) >= a.capUnits);
  };
  /** Validity as Shanghai days: "2026-12-01 – 2026-12-31" (the end shown as the last day it covers). */
  LG.validity = function (a) {
    var day = function (iso) { return LG.time(iso).slice(0, 10); };
    return day(a.validFrom) + ' – ' + day(new Date(Date.parse(a.validTo) - 1).toISOString());
  };
  /** An agreement's terms in a line: per unit, cap mode, what it covers, when it is due. */
  LG.terms = function (a) {
    var covers = (a.productIds ? a.productIds.length + ' ' + LG.t('ag.products') : LG.t('ag.allproducts')) + ' · ' + (a.streamIds ? a.streamIds.length + ' ' + LG.t('ag.streams') : LG.t('ag.allstreams'));
    return LG.yuan(a.perUnitFen) + LG.t('ag.perunit') + ' · ' + LG.t('oncap.' + a.onCap) + ' · ' + covers + ' · ' + LG.t('ag.remit').replace('{d}', a.remitWithinDays);
  };

  /** Wires the sign-in form: checks the token with GET /api/v1/me and the role this console is for. */
  LG.signIn = function (role, onReady) {
    var s = LG.session(role);
    var form = LG.$('signin');
    var msg = LG.$('signin-msg');
    function fail(text) { s.clear(); msg.textContent = text; LG.$('app').hidden = true; form.hidden = false; LG.$('who').textContent = ''; LG.$('signout').hidden = true; }
    function check() {
      return LG.api('GET', '/api/v1/me').then(function (me) {
        if (me.role !== role) { fail(LG.t('err.role.' + role)); document.body.setAttribute('data-signin', 'refused'); return; }
        msg.textContent = '';
        form.hidden = true;
        LG.$('app').hidden = false;
        LG.$('who').textContent = me.name || me.id;
        LG.$('signout').hidden = false;
        document.body.setAttribute('data-signin', 'ok');
        onReady(me);
        (LG.onSignIn || []).forEach(function (f) { f(me); });
      }).catch(function (err) { fail(LG.errorText(err)); document.body.setAttribute('data-signin', 'refused'); });
    }
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var input = LG.$('token');
      var t = input.value.trim();
      input.value = '';
      if (!t) { msg.textContent = LG.t('err.empty'); return; }
      s.set(t);
      check();
    });
    LG.$('signout').addEventListener('click', function () { s.clear(); location.reload(); });
    LG.$('lang').addEventListener('click', LG.toggleLang);
    LG.translate();
    if (s.get()) check();
  };

  Object.assign(LG.texts.zh, {
    'signin.label': '访问令牌', 'signin.button': '登录', 'signout': '退出', 'err.401': '令牌无效，请重新输入。',
    'err.403': '此令牌无权查看', 'err.network': '网络错误，请稍后重试。', 'err.empty': '请输入令牌。',
    'err.role.host': '这不是主播令牌：主播控制台只对主播开放。', 'err.role.charity': '这不是公益机构令牌：机构控制台只对公益机构开放。',
    'signin.note': '令牌只保存在本标签页中，关闭即清除，不会出现在网址里。',
    'ag.units': '件', 'ag.nocap': '不设上限', 'ag.reached': '已达上限', 'ag.products': '件商品', 'ag.allproducts': '全部认捐商品', 'ag.streams': '场直播', 'ag.allstreams': '全部直播',
    'ag.perunit': '/件', 'ag.remit': '确认后 {d} 天内汇出', 'oncap.continue_without_donation': '达上限后照常销售不再捐赠', 'oncap.stop_selling': '达上限后停止销售',
    'ag.st.proposed': '待机构答复', 'ag.st.accepted': '已生效', 'ag.st.declined': '已拒绝', 'ag.st.suspended': '已暂停',
    'rm.st.sent': '待机构确认', 'rm.st.acknowledged': '机构已确认收款', 'rm.st.disputed': '机构有异议',
    'layer.pledged': '认捐', 'layer.confirmed': '已确认（过退款期）', 'layer.remitted': '已汇出', 'layer.acknowledged': '机构确认收款', 'layer.overdue': '逾期未汇',
    'err.exceeds': '汇款金额超过该协议已确认且尚未汇出的善款：目前最多可汇 {a}。',
    'err.AGREEMENT_OVERLAP': '与现有协议重叠：同一商品和直播在同一期间只能有一份协议。', 'err.CHARITY_INACTIVE': '该公益机构已停用。',
    'err.INVALID_STATE': '状态已变化，无法执行此操作；请刷新。', 'err.REMITTANCE_ALREADY_ANSWERED': '这笔汇款已经答复过。',
  });
  Object.assign(LG.texts.en, {
    'signin.label': 'Access token', 'signin.button': 'Sign in', 'signout': 'Sign out', 'err.401': 'This token is not valid; enter it again.',
    'err.403': 'This token may not see this', 'err.network': 'Network error; try again shortly.', 'err.empty': 'Enter a token.',
    'err.role.host': 'This is not a host token: the host console is for hosts only.', 'err.role.charity': 'This is not a charity token: the charity console is for charities only.',
    'signin.note': 'The token stays in this tab only, is cleared when it closes and never appears in a URL.',
    'ag.units': 'units', 'ag.nocap': 'no cap', 'ag.reached': 'cap reached', 'ag.products': 'products', 'ag.allproducts': 'all pledged products', 'ag.streams': 'streams', 'ag.allstreams': 'all streams',
    'ag.perunit': ' per unit', 'ag.remit': 'remitted within {d} days of confirmation', 'oncap.continue_without_donation': 'at the cap: sells on without a donation', 'oncap.stop_selling': 'at the cap: stops selling',
    'ag.st.proposed': 'Awaiting the charity', 'ag.st.accepted': 'In force', 'ag.st.declined': 'Declined', 'ag.st.suspended': 'Suspended',
    'rm.st.sent': 'Awaiting the charity', 'rm.st.acknowledged': 'Acknowledged', 'rm.st.disputed': 'Disputed',
    'layer.pledged': 'Pledged', 'layer.confirmed': 'Confirmed', 'layer.remitted': 'Remitted', 'layer.acknowledged': 'Acknowledged', 'layer.overdue': 'Overdue',
    'err.exceeds': 'The amount is more than the agreement has confirmed and not yet remitted: at most {a} now.',
    'err.AGREEMENT_OVERLAP': 'Overlaps an existing agreement: one product and stream can have one agreement in a period.', 'err.CHARITY_INACTIVE': 'This charity is inactive.',
    'err.INVALID_STATE': 'The state has changed; this cannot be done now. Refresh.', 'err.REMITTANCE_ALREADY_ANSWERED': 'This remittance was already answered.',
  });
})();
