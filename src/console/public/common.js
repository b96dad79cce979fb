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
  function ApiError(status, code, message) { this.status = status; this.code = code; this.message = message; }
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
          throw new ApiError(r.status, e.code || 'HTTP_' + r.status, e.message || r.statusText);
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
      if (err.status === 401) return LG.t('err.401');
      if (err.status === 403 || err.status === 404) return LG.t('err.403') + ' (' + err.code + ')';
      return err.code + ': ' + err.message;
    }
    return LG.t('err.network');
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
  });
  Object.assign(LG.texts.en, {
    'signin.label': 'Access token', 'signin.button': 'Sign in', 'signout': 'Sign out', 'err.401': 'This token is not valid; enter it again.',
    'err.403': 'This token may not see this', 'err.network': 'Network error; try again shortly.', 'err.empty': 'Enter a token.',
    'err.role.host': 'This is not a host token: the host console is for hosts only.', 'err.role.charity': 'This is not a charity token: the charity console is for charities only.',
    'signin.note': 'The token stays in this tab only, is cleared when it closes and never appears in a URL.',
  });
})();
