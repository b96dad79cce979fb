/* The on-stream overlay: one WebSocket to /ws/streams/:id, a snapshot then coalesced totals; reconnects
   with backoff and resumes with ?since=<seq>. Settings (overlay.settings.js) come from the query string:
   layout=card|bar|compact, theme=dark|light, accent=<hex>, charity=<id>, lang=zh|en, ticker=on|off,
   alerts=on|off, nameMin=<yuan> (no name below it), milestones=25,50,75,100, test=1, cap=on (agreement caps).
   Plain browser JavaScript, no build step, same origin only. */
(function () {
  'use strict';
  var parts = location.pathname.split('/').filter(Boolean);
  var streamId = decodeURIComponent(parts[parts.length - 1] || '');
  var settings = window.LGOverlay.settings;
  var T = window.LGOverlay.T;
  var charityId = settings.charityId;

  var $ = function (id) { return document.getElementById(id); };
  var seq = -1;
  var totals = null;
  var attempt = 0;
  var units = {}; // product name → unit ("箱"), from the stream's public product list
  var charityNames = {}; // charity id → name of the stream's pledged charities, shown before the first sale
  var productCharity = {}; // product id → the charity its pledge goes to (units sold for one charity)
  var seen = null; // ticker keys already shown; null until the first snapshot (which never raises alerts)
  var lastPct = null;
  var shown = false; // whether totals have been on screen yet

  /** 123456 → "¥1,234.56", integer arithmetic on fen as in src/money.ts. */
  function formatYuan(fen) {
    var neg = fen < 0;
    var abs = Math.abs(Math.round(fen));
    var yuan = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    var cents = String(abs % 100);
    if (cents.length < 2) cents = '0' + cents;
    return (neg ? '-' : '') + '¥' + yuan + '.' + cents;
  }
  var clock = new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', hour12: false });

  function applySettings() {
    var b = document.body;
    b.setAttribute('data-layout', settings.layout);
    b.setAttribute('data-theme', settings.theme);
    b.setAttribute('data-ticker', settings.ticker ? 'on' : 'off');
    b.setAttribute('data-test', settings.test ? 'on' : 'off');
    document.documentElement.lang = settings.lang === 'en' ? 'en' : 'zh-CN';
    Array.prototype.forEach.call(document.querySelectorAll('[data-i18n]'), function (e) { e.textContent = T[e.getAttribute('data-i18n')]; });
    if (settings.accent) {
      // CSSOM, not a style attribute: allowed under the page's CSP; the badge text takes black or white by luminance
      var hex = settings.accent.length === 4 ? '#' + settings.accent.slice(1).split('').map(function (c) { return c + c; }).join('') : settings.accent;
      var rgb = [1, 3, 5].map(function (i) { return parseInt(hex.slice(i, i + 2), 16) / 255; }).map(function (c) { return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); });
      var lum = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
      document.documentElement.style.setProperty('--accent', hex);
      document.documentElement.style.setProperty('--accent-ink', lum > 0.18 ? '#1a0a00' : '#ffffff');
    }
    var marks = $('marks');
    settings.milestones.forEach(function (m) {
      var d = document.createElement('div');
      d.className = 'mark';
      d.setAttribute('data-pct', String(m));
      d.style.left = m + '%';
      marks.appendChild(d);
    });
  }

  // counts the displayed amount up to the new value; the final text is always the exact amount
  function animateFen(el, to) {
    var from = Number(el.getAttribute('data-fen')) || 0;
    el.setAttribute('data-fen', String(to));
    // the first totals after a (re)load are shown as they are: OBS reloads mid-stream should not count up from zero
    if (from === to || !shown) { el.textContent = formatYuan(to); return; }
    el.classList.add('bump');
    var start = performance.now();
    var token = String(start);
    el.setAttribute('data-anim', token);
    function step(now) {
      if (el.getAttribute('data-anim') !== token) return;
      var k = Math.min(1, (now - start) / 600);
      var eased = 1 - Math.pow(1 - k, 3);
      el.textContent = formatYuan(k >= 1 ? to : Math.round(from + (to - from) * eased));
      if (k < 1) requestAnimationFrame(step); else setTimeout(function () { el.classList.remove('bump'); }, 400);
    }
    requestAnimationFrame(step);
  }

  function view(t) {
    var charities = charityId ? t.byCharity.filter(function (c) { return c.charityId === charityId; }) : t.byCharity;
    var names = {};
    Object.keys(charityNames).forEach(function (id) { if (!charityId || id === charityId) names[id] = charityNames[id]; });
    charities.forEach(function (c) { names[c.charityId] = c.name; });
    var matches = charityId ? t.matches.filter(function (m) { return m.charityId === charityId; }) : t.matches;
    var sum = function (xs, f) { return xs.reduce(function (a, x) { return a + x[f]; }, 0); };
    return {
      names: Object.keys(names).map(function (id) { return names[id]; }).join(settings.lang === 'en' ? ', ' : '、') || T.fallback,
      donationFen: charityId ? sum(charities, 'donationFen') : t.donationFen,
      matchedFen: charityId ? sum(charities, 'matchedFen') : t.matchedFen,
      matchLeftFen: sum(matches, 'remainingFen'),
      units: charityId ? sum(t.byProduct.filter(function (p) { return productCharity[p.productId] === charityId; }), 'units') : t.units,
    };
  }

  function render() {
    if (!totals) return;
    var v = view(totals);
    $('charity').textContent = v.names;
    animateFen($('donation'), v.donationFen);
    animateFen($('matched'), v.matchedFen);
    $('match-left').textContent = formatYuan(v.matchLeftFen);
    $('units').textContent = String(v.units);
    $('orders').textContent = String(totals.orders);
    // orders are counted per stream only: with one charity chosen, the count would mislead
    $('orders').parentNode.hidden = !!charityId;
    $('goal').textContent = formatYuan(totals.goalFen);
    var pct = totals.goalFen > 0 ? Math.min(100, Math.floor(((v.donationFen + v.matchedFen) * 100) / totals.goalFen)) : 0;
    $('goal-bar').style.width = pct + '%';
    $('goal-pct').textContent = pct + '%';
    $('bar').setAttribute('aria-valuenow', String(pct));
    Array.prototype.forEach.call(document.querySelectorAll('.mark'), function (m) {
      var at = Number(m.getAttribute('data-pct'));
      m.classList.toggle('reached', pct >= at);
      if (lastPct !== null && lastPct < at && pct >= at) alert(null, T.milestone.replace('{p}', String(at)));
    });
    lastPct = pct;
    // with one charity chosen, only purchases of its products (matched by name: recent entries carry no ids)
    renderTicker((totals.recent || []).filter(function (r) { return !charityId || productCharity['name:' + r.productName] === charityId; }));
    // the first picture after a (re)load appears as it is; only later changes slide
    if (!shown) requestAnimationFrame(function () { document.body.setAttribute('data-shown', '1'); });
    shown = true;
    document.body.setAttribute('data-seq', String(seq));
  }

  function buyerName(r) { return r.donationFen >= settings.nameMinFen ? r.buyer : T.someone; }

  function renderTicker(recent) {
    var items = recent.slice().sort(function (a, b) { return a.at < b.at ? 1 : a.at > b.at ? -1 : 0; });
    var ul = $('ticker');
    var next = {};
    var fresh = [];
    ul.textContent = '';
    items.forEach(function (r, i) {
      var key = r.at + '|' + r.buyer + '|' + r.productName + '|' + r.quantity;
      if (seen && !seen[key]) fresh.push(r);
      next[key] = true;
      if (i >= 5) return;
      var li = document.createElement('li');
      if (seen && !seen[key]) li.className = 'enter';
      // "张** 购买 2箱 赣南脐橙 5 kg，捐 ¥4.00" (the unit comes from the stream's product list when known)
      var qty = settings.lang === 'en' ? r.quantity + ' ×' : units[r.productName] ? r.quantity + units[r.productName] : r.quantity + ' ×';
      li.appendChild(document.createTextNode(buyerName(r) + T.bought + qty + ' ' + r.productName + T.gives));
      var gift = document.createElement('span');
      gift.className = 'gift';
      gift.textContent = formatYuan(r.donationFen);
      li.appendChild(gift);
      li.appendChild(document.createTextNode(' '));
      var time = document.createElement('time');
      time.setAttribute('datetime', r.at);
      time.textContent = clock.format(new Date(r.at));
      li.appendChild(time);
      ul.appendChild(li);
    });
    seen = next;
    // a reconnect after a long gap can bring many: alert the newest three, oldest first
    fresh.slice(0, 3).reverse().forEach(function (r) { alert(r); });
  }

  var queue = [];
  var showing = false;
  /** A short alert (4 s) for a new donation or a milestone, one at a time. */
  function alert(r, text, isTest) {
    if (!settings.alerts) return;
    queue.push({ r: r, text: text, test: !!isTest });
    if (queue.length > 4) queue.shift();
    if (!showing) nextAlert();
  }
  function nextAlert() {
    var a = queue.shift();
    if (!a) { showing = false; return; }
    showing = true;
    var box = document.createElement('div');
    box.className = 'alert' + (a.test ? ' test' : '') + (a.r ? '' : ' milestone');
    if (a.test) { var tag = document.createElement('span'); tag.className = 'tag'; tag.textContent = T.test; box.appendChild(tag); }
    if (a.r) {
      var who = document.createElement('span');
      who.className = 'who';
      who.textContent = buyerName(a.r);
      box.appendChild(who);
      box.appendChild(document.createTextNode(T.alertGives));
      var amt = document.createElement('span');
      amt.className = 'amt';
      amt.textContent = formatYuan(a.r.donationFen);
      box.appendChild(amt);
      var what = document.createElement('div');
      what.className = 'what';
      what.textContent = a.r.productName + ' × ' + a.r.quantity;
      box.appendChild(what);
    } else {
      box.textContent = a.text;
    }
    $('alerts').appendChild(box);
    setTimeout(function () { box.classList.add('leave'); }, 3600);
    setTimeout(function () { box.remove(); nextAlert(); }, 4000);
  }

  // test-alert mode: a sample donation every 6 s (alternately above and below nameMin), totals untouched
  function testAlerts() {
    var n = 0;
    var fire = function () {
      var small = n++ % 2 === 1 && settings.nameMinFen > 0;
      alert({ buyer: settings.lang === 'en' ? 'L**' : '李**', productName: T.sample, quantity: 1, donationFen: small ? Math.max(1, settings.nameMinFen - 1) : Math.max(500, settings.nameMinFen), at: new Date().toISOString() }, null, true);
    };
    fire();
    setInterval(fire, 6000);
  }

  var agreementIds = []; // the agreements the stream's products sell under (of the chosen charity, when one is)

  /**
   * cap=on: the stream's capped agreements from each charity's public agreements page (a public read, cached 5 s):
   * what was pledged under each (paid, net of refunds) against its cap in fen — a cap in units is capUnits × per-unit
   * amount in fen, since every donating unit gives exactly that — and "cap reached" once the pledges meet it.
   */
  function loadCaps() {
    var charities = [];
    Object.keys(productCharity).forEach(function (k) { var c = productCharity[k]; if (k.indexOf('name:') !== 0 && charities.indexOf(c) < 0 && (!charityId || c === charityId)) charities.push(c); });
    Promise.all(charities.map(function (id) {
      return fetch('/api/v1/public/charities/' + encodeURIComponent(id) + '/agreements').then(function (r) { return r.ok ? r.json() : { agreements: [] }; });
    })).then(function (pages) {
      var lines = [];
      pages.forEach(function (p) {
        p.agreements.forEach(function (a) {
          if (agreementIds.indexOf(a.id) < 0) return;
          var t = a.terms;
          var caps = [t.capFen, t.capUnits === null ? null : t.capUnits * t.perUnitFen].filter(function (c) { return c !== null && c !== undefined; });
          if (!caps.length) return;
          var capFen = Math.min.apply(null, caps);
          lines.push({ id: a.id, usedFen: a.layers.pledgedFen, capFen: capFen });
        });
      });
      renderCaps(lines);
    }).catch(function () { /* kept as last shown; asked again shortly */ });
  }

  function renderCaps(lines) {
    var box = $('caps');
    box.textContent = '';
    box.hidden = !lines.length;
    lines.forEach(function (l) {
      var reached = l.usedFen >= l.capFen;
      var d = document.createElement('div');
      d.className = 'cap';
      d.setAttribute('data-agreement', l.id);
      d.setAttribute('data-reached', reached ? '1' : '0');
      var label = document.createElement('span');
      label.className = 'cap-label';
      label.textContent = T.cap;
      var track = document.createElement('span');
      track.className = 'cap-track';
      var fill = document.createElement('span');
      fill.className = 'cap-fill';
      fill.style.width = Math.min(100, Math.floor((l.usedFen * 100) / l.capFen)) + '%';
      track.appendChild(fill);
      var amt = document.createElement('span');
      amt.className = 'cap-amt';
      amt.textContent = formatYuan(Math.min(l.usedFen, l.capFen)) + ' / ' + formatYuan(l.capFen);
      var flag = document.createElement('span');
      flag.className = 'cap-reached';
      flag.textContent = T.reached;
      [label, track, amt, flag].forEach(function (e) { d.appendChild(e); });
      box.appendChild(d);
    });
    document.body.setAttribute('data-caps', String(lines.length));
  }

  function loadProducts() {
    fetch('/api/v1/streams/' + encodeURIComponent(streamId)).then(function (r) { return r.ok ? r.json() : null; }).then(function (s) {
      if (s && s.products) s.products.forEach(function (p) {
        units[p.name] = p.unit; charityNames[p.pledge.charityId] = p.pledge.charityName; productCharity[p.id] = p.pledge.charityId; productCharity['name:' + p.name] = p.pledge.charityId;
        if (p.pledge.agreementId && agreementIds.indexOf(p.pledge.agreementId) < 0 && (!charityId || p.pledge.charityId === charityId)) agreementIds.push(p.pledge.agreementId);
      });
      render();
      if (settings.cap) loadCaps();
    }).catch(function () { /* units are a nicety; totals still show */ });
  }

  function setState(state, notice) {
    document.body.setAttribute('data-state', state);
    $('status').title = state;
    var n = $('notice');
    n.hidden = !notice;
    n.textContent = notice || '';
  }

  var socket = null;
  var lastFrameAt = 0;

  // a dropped network can leave a socket looking open for minutes: every 15 s compare with the HTTP totals,
  // show them if newer, and replace a socket that missed a change
  function watchdog() {
    fetch('/api/v1/streams/' + encodeURIComponent(streamId) + '/totals').then(function (r) { return r.ok ? r.json() : null; }).then(function (t) {
      if (!t || typeof t.seq !== 'number' || t.seq <= seq || Date.now() - lastFrameAt < 2000) return;
      seq = t.seq;
      totals = t;
      render();
      if (socket && socket.readyState === WebSocket.OPEN) socket.close(4000, 'missed a change');
    }).catch(function () { /* the socket's own reconnect handles an unreachable server */ });
  }

  function connect() {
    var url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws/streams/' + encodeURIComponent(streamId) + (seq >= 0 ? '?since=' + seq : '');
    var ws = new WebSocket(url);
    socket = ws;
    ws.onopen = function () { attempt = 0; setState('live'); };
    ws.onmessage = function (e) {
      var frame;
      try { frame = JSON.parse(e.data); } catch (err) { return; }
      if (!frame || typeof frame.seq !== 'number' || !frame.totals) return;
      lastFrameAt = Date.now();
      if (frame.seq <= seq) return; // seq never goes backwards on screen
      seq = frame.seq;
      totals = frame.totals;
      render();
    };
    ws.onclose = function (e) {
      if (e.code === 4404) { setState('retrying', T.nostream); setTimeout(connect, 30000); return; }
      // 0.5 s, 1 s, 2 s … up to 10 s, with jitter so a restarted server is not hit all at once
      var delay = Math.min(10000, 500 * Math.pow(2, attempt++)) * (0.5 + Math.random() / 2);
      setState('retrying');
      setTimeout(function () { if (attempt % 5 === 1) loadProducts(); connect(); }, delay);
    };
  }

  applySettings();
  loadProducts();
  connect();
  setInterval(watchdog, 15000);
  if (settings.test) testAlerts();
  // the pledges under a cap move with payments and refunds; the public page is cached 5 s, so asking more often gains nothing
  if (settings.cap) setInterval(loadCaps, 5000);
})();
