/* The on-stream overlay: one WebSocket to /ws/streams/:id, a snapshot then coalesced totals; reconnects
   with backoff and resumes with ?since=<seq>. Plain browser JavaScript, no build step, same origin only. */
(function () {
  'use strict';
  var parts = location.pathname.split('/').filter(Boolean);
  var streamId = decodeURIComponent(parts[parts.length - 1] || '');
  var charityId = new URLSearchParams(location.search).get('charity');
  var $ = function (id) { return document.getElementById(id); };
  var seq = -1;
  var totals = null;
  var attempt = 0;
  var units = {}; // product name → unit ("箱"), from the stream's public product list
  var charityNames = {}; // charity id → name of the stream's pledged charities, shown before the first sale
  var seen = {};

  /** 123456 → "¥1,234.56", integer arithmetic on fen as in src/money.ts. */
  function formatYuan(fen) {
    var neg = fen < 0;
    var abs = Math.abs(Math.round(fen));
    var yuan = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    var cents = String(abs % 100);
    if (cents.length < 2) cents = '0' + cents;
    return (neg ? '-' : '') + '¥' + yuan + '.' + cents;
  }

  // counts the displayed amount up to the new value; the final text is always the exact amount
  function animateFen(el, to) {
    var from = Number(el.getAttribute('data-fen')) || 0;
    el.setAttribute('data-fen', String(to));
    if (from === to) { el.textContent = formatYuan(to); return; }
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
      names: Object.keys(names).map(function (id) { return names[id]; }).join('、') || '公益直播',
      donationFen: charityId ? sum(charities, 'donationFen') : t.donationFen,
      matchedFen: charityId ? sum(charities, 'matchedFen') : t.matchedFen,
      matchLeftFen: sum(matches, 'remainingFen'),
    };
  }

  function render() {
    if (!totals) return;
    var v = view(totals);
    $('charity').textContent = v.names;
    animateFen($('donation'), v.donationFen);
    animateFen($('matched'), v.matchedFen);
    $('match-left').textContent = formatYuan(v.matchLeftFen);
    $('units').textContent = String(totals.units);
    $('orders').textContent = String(totals.orders);
    $('goal').textContent = formatYuan(totals.goalFen);
    var pct = totals.goalFen > 0 ? Math.min(100, Math.floor(((v.donationFen + v.matchedFen) * 100) / totals.goalFen)) : 0;
    $('goal-bar').style.width = pct + '%';
    $('goal-pct').textContent = pct + '%';
    renderTicker(totals.recent || []);
    document.body.setAttribute('data-seq', String(seq));
  }

  function renderTicker(recent) {
    var items = recent.slice().sort(function (a, b) { return a.at < b.at ? 1 : a.at > b.at ? -1 : 0; }).slice(0, 5);
    var ul = $('ticker');
    var next = {};
    ul.textContent = '';
    items.forEach(function (r) {
      var key = r.at + '|' + r.buyer + '|' + r.productName + '|' + r.quantity;
      var li = document.createElement('li');
      if (!seen[key]) li.className = 'enter';
      next[key] = true;
      // "张** 购买 2箱 赣南脐橙 5 kg，捐 ¥4.00" (the unit comes from the stream's product list when known)
      var qty = units[r.productName] ? r.quantity + units[r.productName] : r.quantity + ' ×';
      li.appendChild(document.createTextNode(r.buyer + ' 购买 ' + qty + ' ' + r.productName + '，捐 '));
      var gift = document.createElement('span');
      gift.className = 'gift';
      gift.textContent = formatYuan(r.donationFen);
      li.appendChild(gift);
      ul.appendChild(li);
    });
    seen = next;
  }

  function loadProducts() {
    fetch('/api/v1/streams/' + encodeURIComponent(streamId)).then(function (r) { return r.ok ? r.json() : null; }).then(function (s) {
      if (s && s.products) s.products.forEach(function (p) { units[p.name] = p.unit; charityNames[p.pledge.charityId] = p.pledge.charityName; });
      render();
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
      if (e.code === 4404) { setState('retrying', '直播间不存在'); setTimeout(connect, 30000); return; }
      // 0.5 s, 1 s, 2 s … up to 10 s, with jitter so a restarted server is not hit all at once
      var delay = Math.min(10000, 500 * Math.pow(2, attempt++)) * (0.5 + Math.random() / 2);
      setState('retrying', '重新连接中…');
      setTimeout(function () { if (attempt % 5 === 1) loadProducts(); connect(); }, delay);
    };
  }

  loadProducts();
  connect();
  setInterval(watchdog, 15000);
})();
