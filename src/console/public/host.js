/* The host console: streams, start/end, pins, and the sale as it happens over the same WebSocket the overlay
   uses (/ws/streams/:id). Every action is an ordinary API call with the host's own token. */
(function () {
  'use strict';
  var LG = window.LG, $ = LG.$, yuan = LG.yuan;
  var me = null, streams = [], products = [], current = null, totals = null, seq = -1;
  var socket = null, attempt = 0, timers = [], samples = [];

  Object.assign(LG.texts.zh, {
    skip: '跳到内容', title: '主播控制台', streams: '我的直播', 'col.title': '标题', 'col.status': '状态', 'col.created': '创建时间', 'col.goal': '目标', 'col.open': '打开',
    'new.title': '新直播标题', 'new.goal': '目标金额 (¥)', 'new.create': '创建直播', start: '开始直播', end: '结束直播', open: '管理',
    live: '实时数据', 'fig.donation': '已筹善款', 'fig.matched': '配捐', 'fig.sales': '销售额', 'fig.units': '已售件数', 'fig.orders': '订单', 'fig.opm': '近 1 分钟订单',
    products: '商品与上架', 'col.pin': '上架', 'col.product': '商品', 'col.price': '单价', 'col.pledge': '每件捐赠', 'col.charity': '公益机构', 'col.sold': '本场已售', 'col.left': '剩余',
    'pins.save': '保存上架商品', bycharity: '各公益机构善款（本场）', 'col.donation': '主播认捐（应付）', 'col.matched': '赞助方配捐', 'col.owed': '合计',
    matches: '配捐额度', 'col.sponsor': '赞助方', 'col.ratio': '比例', 'col.cap': '上限', reservations: '待支付预订', 'resv.orders': '单', 'resv.units': '件',
    overlay: '直播画面叠加层 (OBS)', 'ov.layout': '布局', 'ov.theme': '主题', 'ov.lang': '语言', 'ov.ticker': '购买滚动', 'ov.accent': '强调色',
    'ov.url': '叠加层网址（粘贴到 OBS 浏览器源，1920×1080 或 1280×720）', 'ov.copy': '复制', 'ov.copied': '已复制',
    'st.scheduled': '未开始', 'st.live': '直播中', 'st.ended': '已结束', 'feed.live': '实时连接', 'feed.retrying': '重新连接中…', 'feed.idle': '',
    'pins.saved': '上架商品已保存。', 'none': '暂无', 'expires': '到期', 'bad.goal': '目标金额格式不对，例如 5000 或 5,000.00',
    'owed.live': '直播进行中：金额随支付和退款变动。', 'owed.ended': '直播已结束：以上为本场应付各公益机构的善款（扣除退款）。其中已过退款期（已确认）：',
    'owed.remit': '已汇出、机构确认和逾期金额见下方“认捐协议与汇款”。',
  });
  Object.assign(LG.texts.en, {
    skip: 'Skip to content', title: 'Host console', streams: 'My streams', 'col.title': 'Title', 'col.status': 'Status', 'col.created': 'Created', 'col.goal': 'Goal', 'col.open': 'Open',
    'new.title': 'New stream title', 'new.goal': 'Goal (¥)', 'new.create': 'Create stream', start: 'Start stream', end: 'End stream', open: 'Manage',
    live: 'Live figures', 'fig.donation': 'Donations raised', 'fig.matched': 'Matched', 'fig.sales': 'Sales', 'fig.units': 'Units sold', 'fig.orders': 'Orders', 'fig.opm': 'Orders, last minute',
    products: 'Products on air', 'col.pin': 'On air', 'col.product': 'Product', 'col.price': 'Price', 'col.pledge': 'Gift per unit', 'col.charity': 'Charity', 'col.sold': 'Sold here', 'col.left': 'Left',
    'pins.save': 'Save products on air', bycharity: 'Donations per charity (this stream)', 'col.donation': 'Pledged by you (owed)', 'col.matched': 'Matched by sponsors', 'col.owed': 'Total',
    matches: 'Match budgets', 'col.sponsor': 'Sponsor', 'col.ratio': 'Ratio', 'col.cap': 'Cap', reservations: 'Unpaid reservations', 'resv.orders': 'orders', 'resv.units': 'units',
    overlay: 'Stream overlay (OBS)', 'ov.layout': 'Layout', 'ov.theme': 'Theme', 'ov.lang': 'Language', 'ov.ticker': 'Buyer ticker', 'ov.accent': 'Accent',
    'ov.url': 'Overlay URL (paste into an OBS browser source, 1920×1080 or 1280×720)', 'ov.copy': 'Copy', 'ov.copied': 'Copied',
    'st.scheduled': 'Scheduled', 'st.live': 'Live', 'st.ended': 'Ended', 'feed.live': 'Live feed', 'feed.retrying': 'Reconnecting…', 'feed.idle': '',
    'pins.saved': 'Products on air saved.', 'none': 'None', 'expires': 'expires', 'bad.goal': 'Goal is not an amount, e.g. 5000 or 5,000.00',
    'owed.live': 'The stream is live: amounts move with payments and refunds.', 'owed.ended': 'The stream has ended: above is what it owes each charity (net of refunds). Past the refund window (confirmed):',
    'owed.remit': 'Remitted, acknowledged and overdue amounts: see "Pledge agreements and remittances" below.',
  });

  function cell(tr, text, cls) { var td = LG.el('td', cls ? { class: cls } : {}, text); tr.appendChild(td); return td; }
  var say = LG.say;

  function loadStreams() {
    return LG.api('GET', '/api/v1/hosts/' + encodeURIComponent(me.id) + '/streams').then(function (r) {
      streams = r.streams;
      var tb = $('streams');
      tb.textContent = '';
      if (!streams.length) { var tr = LG.el('tr'); cell(tr, LG.t('none')).colSpan = 5; tb.appendChild(tr); }
      streams.forEach(function (s) {
        var tr = LG.el('tr', { 'data-stream': s.id });
        cell(tr, s.title);
        cell(tr, LG.t('st.' + s.status)).className = 'st-' + s.status;
        cell(tr, LG.time(s.createdAt));
        cell(tr, yuan(s.goalFen), 'num');
        var b = LG.el('button', { type: 'button', class: 'open' }, LG.t('open'));
        b.setAttribute('aria-label', LG.t('open') + ' ' + s.title);
        b.addEventListener('click', function () { openStream(s.id); });
        cell(tr, '').appendChild(b);
        tb.appendChild(tr);
      });
      if (current) current = streams.find(function (s) { return s.id === current.id; }) || current;
    }).catch(function (e) { say('streams-msg', LG.errorText(e)); });
  }

  function loadProducts() {
    return LG.api('GET', '/api/v1/hosts/' + encodeURIComponent(me.id) + '/products').then(function (r) { products = r.products; renderProducts(); })
      .catch(function (e) { say('stream-msg', LG.errorText(e)); });
  }

  function soldHere(productId) {
    var p = totals && totals.byProduct.find(function (x) { return x.productId === productId; });
    return p ? p.units : 0;
  }

  function renderProducts() {
    if (!current) return;
    var tb = $('products');
    var checked = {};
    Array.prototype.forEach.call(tb.querySelectorAll('input[type=checkbox]'), function (c) { checked[c.value] = c.checked; });
    var fresh = tb.getAttribute('data-stream') !== current.id;
    tb.setAttribute('data-stream', current.id);
    tb.textContent = '';
    products.forEach(function (p) {
      var tr = LG.el('tr', { 'data-product': p.id });
      var box = LG.el('input', { type: 'checkbox', value: p.id, id: 'pin-' + p.id });
      box.checked = fresh || checked[p.id] === undefined ? current.productIds.indexOf(p.id) >= 0 : checked[p.id];
      box.disabled = current.status === 'ended';
      box.setAttribute('aria-label', LG.t('col.pin') + ' ' + p.name);
      cell(tr, '').appendChild(box);
      var name = LG.el('label', { for: 'pin-' + p.id }, p.name);
      cell(tr, '').appendChild(name);
      cell(tr, yuan(p.priceFen), 'num');
      cell(tr, yuan(p.pledge.perUnitFen), 'num');
      cell(tr, p.pledge.charityName);
      cell(tr, String(soldHere(p.id)), 'num sold');
      cell(tr, String(p.remaining), 'num left');
      tb.appendChild(tr);
    });
    $('save-pins').disabled = current.status === 'ended';
  }

  function renderStream() {
    $('stream').hidden = false;
    $('stream-title').textContent = current.title;
    var st = $('stream-status');
    st.textContent = LG.t('st.' + current.status);
    st.className = 'status st-' + current.status;
    $('start').disabled = current.status !== 'scheduled';
    $('end').disabled = current.status !== 'live';
    overlayUrl();
  }

  function renderTotals() {
    if (!totals) return;
    $('f-donation').textContent = yuan(totals.donationFen);
    $('f-matched').textContent = yuan(totals.matchedFen);
    $('f-sales').textContent = yuan(totals.salesFen);
    $('f-units').textContent = String(totals.units);
    $('f-orders').textContent = String(totals.orders);
    // orders per minute: paid orders counted over the last 60 s of frames this page has seen
    var now = Date.now();
    samples.push({ at: now, orders: totals.orders });
    samples = samples.filter(function (s) { return now - s.at <= 60000; });
    $('f-opm').textContent = String(Math.max(0, totals.orders - samples[0].orders));
    var tb = $('bycharity');
    tb.textContent = '';
    totals.byCharity.forEach(function (c) {
      var tr = LG.el('tr', { 'data-charity': c.charityId });
      cell(tr, c.name); cell(tr, yuan(c.donationFen), 'num'); cell(tr, yuan(c.matchedFen), 'num'); cell(tr, yuan(c.donationFen + c.matchedFen), 'num');
      tb.appendChild(tr);
    });
    // the stream's own status moves at once; totals only say so with their next change
    var ended = (current && current.status === 'ended') || totals.status === 'ended';
    $('owed-note').textContent = (ended ? LG.t('owed.ended') + ' ' + yuan(totals.confirmedDonationFen || 0) + '。' : LG.t('owed.live')) + ' ' + LG.t('owed.remit');
    var mb = $('matches');
    mb.textContent = '';
    if (!(totals.matches || []).length) { var none = LG.el('tr'); cell(none, LG.t('none')).colSpan = 4; mb.appendChild(none); }
    (totals.matches || []).forEach(function (m) {
      var tr = LG.el('tr');
      cell(tr, m.sponsorName); cell(tr, (m.ratioPercent / 100).toFixed(2).replace(/\.?0+$/, '') + ':1', 'num'); cell(tr, yuan(m.capFen), 'num'); cell(tr, yuan(m.remainingFen), 'num');
      mb.appendChild(tr);
    });
    Array.prototype.forEach.call($('products').querySelectorAll('tr[data-product]'), function (tr) {
      tr.querySelector('.sold').textContent = String(soldHere(tr.getAttribute('data-product')));
    });
    document.body.setAttribute('data-seq', String(seq));
  }

  function loadReservations() {
    // after the end too: reservations placed while live can still be paid until they expire
    if (!current || current.status === 'scheduled') return;
    LG.api('GET', '/api/v1/streams/' + encodeURIComponent(current.id) + '/reservations').then(function (r) {
      $('resv-open').textContent = String(r.open);
      $('resv-units').textContent = String(r.units);
      var ul = $('resv');
      ul.textContent = '';
      r.expiring.forEach(function (x) { ul.appendChild(LG.el('li', {}, x.productName + ' × ' + x.quantity + ' · ' + LG.t('expires') + ' ' + LG.time(x.expiresAt, false))); });
    }).catch(function () { /* shown again on the next poll */ });
  }

  function setFeed(state) {
    var f = $('feed-state');
    f.setAttribute('data-state', state);
    f.textContent = LG.t('feed.' + state);
  }

  function connect() {
    if (!current) return;
    var id = current.id;
    var ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws/streams/' + encodeURIComponent(id) + (seq >= 0 ? '?since=' + seq : ''));
    socket = ws;
    ws.onopen = function () { attempt = 0; setFeed('live'); };
    ws.onmessage = function (e) {
      var f;
      try { f = JSON.parse(e.data); } catch (err) { return; }
      if (!f || typeof f.seq !== 'number' || !f.totals || f.seq <= seq || !current || current.id !== id) return;
      seq = f.seq;
      totals = f.totals;
      renderTotals();
    };
    ws.onclose = function () {
      if (socket !== ws) return; // replaced by another stream's socket
      setFeed('retrying');
      var delay = Math.min(10000, 500 * Math.pow(2, attempt++)) * (0.5 + Math.random() / 2);
      setTimeout(function () { if (socket === ws) connect(); }, delay);
    };
  }

  function openStream(id) {
    current = streams.find(function (s) { return s.id === id; });
    if (!current) return;
    if (socket) { var old = socket; socket = null; old.close(); }
    timers.forEach(clearInterval);
    seq = -1; totals = null; samples = [];
    say('stream-msg', '');
    renderStream();
    loadProducts();
    connect();
    loadReservations();
    // stock left moves with reservations, which no totals frame announces: ask while the page is open
    timers = [setInterval(loadProducts, 3000), setInterval(loadReservations, 10000)];
    document.body.setAttribute('data-open', id);
  }

  function act(verb) {
    LG.api('POST', '/api/v1/streams/' + encodeURIComponent(current.id) + '/' + verb).then(function (s) {
      current = Object.assign({}, current, s);
      say('stream-msg', '');
      return loadStreams().then(function () { renderStream(); renderProducts(); renderTotals(); loadReservations(); });
    }).catch(function (e) { say('stream-msg', LG.errorText(e)); });
  }

  function savePins() {
    var ids = Array.prototype.filter.call($('products').querySelectorAll('input[type=checkbox]'), function (c) { return c.checked; }).map(function (c) { return c.value; });
    LG.api('PUT', '/api/v1/streams/' + encodeURIComponent(current.id) + '/products', { productIds: ids }).then(function (s) {
      current = Object.assign({}, current, s);
      say('stream-msg', LG.t('pins.saved'), true);
      return loadStreams();
    }).catch(function (e) { say('stream-msg', LG.errorText(e)); });
  }

  function overlayUrl() {
    if (!current) return;
    var q = new URLSearchParams({ layout: $('ov-layout').value, theme: $('ov-theme').value, lang: $('ov-lang').value, ticker: $('ov-ticker').value, accent: $('ov-accent').value.replace('#', '') });
    // the agreement cap line is asked for, never there by default: existing overlay URLs keep their look
    if ($('ov-cap').value === 'on') q.set('cap', 'on');
    var url = location.origin + '/overlay/' + encodeURIComponent(current.id) + '?' + q.toString();
    $('ov-url').value = url;
    if ($('ov-frame').getAttribute('src') !== url) $('ov-frame').setAttribute('src', url);
  }

  $('new-stream').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var goalText = $('new-goal').value.trim();
    var goal = goalText ? LG.parseYuan(goalText) : 0;
    if (goal === null) { say('streams-msg', LG.t('bad.goal')); return; }
    LG.api('POST', '/api/v1/streams', { title: $('new-title').value.trim(), goalFen: goal }).then(function (s) {
      $('new-title').value = ''; $('new-goal').value = ''; say('streams-msg', '');
      return loadStreams().then(function () { openStream(s.id); });
    }).catch(function (e) { say('streams-msg', LG.errorText(e)); });
  });
  $('start').addEventListener('click', function () { act('start'); });
  $('end').addEventListener('click', function () { act('end'); });
  $('save-pins').addEventListener('click', savePins);
  ['ov-layout', 'ov-theme', 'ov-lang', 'ov-ticker', 'ov-accent', 'ov-cap'].forEach(function (id) { $(id).addEventListener('change', overlayUrl); });
  $('ov-copy').addEventListener('click', function () {
    $('ov-url').select();
    var done = function () { say('stream-msg', LG.t('ov.copied'), true); };
    if (navigator.clipboard) navigator.clipboard.writeText($('ov-url').value).then(done, done); else done();
  });
  LG.onLang.push(function () { loadStreams(); if (current) { renderStream(); renderProducts(); renderTotals(); } });

  LG.signIn('host', function (who) { me = who; loadStreams(); });
})();
