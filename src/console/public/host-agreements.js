/* The host console's agreements: propose a pledge agreement to a charity, follow each one's status, cap and four
   layers (pledged, confirmed, remitted, acknowledged; overdue marked), and record remittances. Amounts are typed
   in yuan and parsed to fen as strings (LG.parseYuan), never through a float; a bad amount stops at the page. */
(function () {
  'use strict';
  var LG = window.LG, $ = LG.$, yuan = LG.yuan;
  var me = null, agreements = [], timer = null, lastSeen = '', lastRemitted = '';

  Object.assign(LG.texts.zh, {
    agreements: '认捐协议与汇款', 'ag.col.terms': '条款', 'ag.col.valid': '有效期（北京时间）', 'ag.col.cap': '上限已用',
    'ag.propose': '向公益机构提出协议', 'ag.charity': '公益机构编号', 'ag.per': '每件捐赠 (¥)', 'ag.capfen': '捐赠上限 (¥，可空)', 'ag.capunits': '上限件数（可空）',
    'ag.oncap': '达到上限后', 'ag.productsel': '适用商品（不选：全部认捐该机构的商品）', 'ag.streamsel': '适用直播（不选：全部直播）',
    'ag.from': '生效日（含）', 'ag.to': '截止日（含）', 'ag.days': '确认后几天内汇出', 'ag.submit': '提出协议', 'ag.proposed': '协议已提出，等待公益机构答复。',
    'bad.charity': '请填写公益机构编号。', 'bad.per': '每件捐赠金额格式不对：请写成 100 或 100.50（最多两位小数，不能为负）。',
    'bad.capfen': '捐赠上限格式不对：请写成 500000 或 500,000.00，或留空。', 'bad.capunits': '上限件数须为 1 以上的整数，或留空。',
    'bad.dates': '请选择生效日和截止日，截止日不早于生效日。', 'bad.days': '汇出天数须为 1 到 365 的整数。',
    'rm.record': '登记一笔汇款', 'rm.agreement': '协议', 'rm.amount': '金额 (¥)', 'rm.date': '汇款日期', 'rm.ref': '银行或支付流水号', 'rm.submit': '登记汇款',
    'rm.list': '汇款记录', 'rm.done': '已登记汇款 {a}，等待公益机构确认。', 'bad.amount': '汇款金额格式不对：请写成 1000 或 1,000.00（最多两位小数，须大于零）。',
    'bad.date': '请选择汇款日期（不能晚于今天）。', 'bad.ref': '请填写银行或支付流水号。', 'bad.agreement': '请选择一份已生效的协议。', 'none': '暂无',
    'ov.cap': '协议上限',
  });
  Object.assign(LG.texts.en, {
    agreements: 'Pledge agreements and remittances', 'ag.col.terms': 'Terms', 'ag.col.valid': 'Valid (Beijing)', 'ag.col.cap': 'Cap used',
    'ag.propose': 'Propose an agreement to a charity', 'ag.charity': 'Charity id', 'ag.per': 'Gift per unit (¥)', 'ag.capfen': 'Cap (¥, optional)', 'ag.capunits': 'Cap in units (optional)',
    'ag.oncap': 'Once the cap is reached', 'ag.productsel': 'Products (none chosen: all pledging to this charity)', 'ag.streamsel': 'Streams (none chosen: all)',
    'ag.from': 'From (inclusive)', 'ag.to': 'To (inclusive)', 'ag.days': 'Remit within days of confirmation', 'ag.submit': 'Propose', 'ag.proposed': 'Proposed; awaiting the charity\'s answer.',
    'bad.charity': 'Enter the charity id.', 'bad.per': 'Gift per unit is not an amount: write 100 or 100.50 (two decimals at most, not negative).',
    'bad.capfen': 'Cap is not an amount: write 500000 or 500,000.00, or leave it empty.', 'bad.capunits': 'Cap in units must be a whole number from 1, or empty.',
    'bad.dates': 'Choose both days; the last may not be before the first.', 'bad.days': 'Days to remit must be a whole number from 1 to 365.',
    'rm.record': 'Record a remittance', 'rm.agreement': 'Agreement', 'rm.amount': 'Amount (¥)', 'rm.date': 'Paid on', 'rm.ref': 'Bank or payment reference', 'rm.submit': 'Record remittance',
    'rm.list': 'Remittances', 'rm.done': 'Recorded a remittance of {a}; awaiting the charity.', 'bad.amount': 'Amount is not an amount: write 1000 or 1,000.00 (two decimals at most, above zero).',
    'bad.date': 'Choose the day it was paid (not after today).', 'bad.ref': 'Enter the bank or payment reference.', 'bad.agreement': 'Choose an agreement in force.', 'none': 'None',
    'ov.cap': 'Agreement cap',
  });

  var say = LG.say, cell = LG.cell;
  function label(a) { return (a.charityName || a.charityId) + ' · ' + LG.yuan(a.perUnitFen) + LG.t('ag.perunit') + ' · ' + LG.validity(a); }

  function render() {
    var tb = $('agreements');
    LG.clearTable(tb, !agreements.length, 10, LG.t('none'));
    agreements.forEach(function (a) {
      var tr = LG.agreementRow(a);
      cell(tr, a.charityName || a.charityId);
      cell(tr, LG.terms(a));
      cell(tr, LG.validity(a));
      cell(tr, LG.t('ag.st.' + a.status), 'ag-status');
      cell(tr, LG.capText(a), 'num cap');
      LG.layerCells(tr, a);
      tb.appendChild(tr);
    });
    var sel = $('rm-agreement');
    var was = sel.value;
    sel.textContent = '';
    agreements.filter(function (a) { return a.status === 'accepted' || a.status === 'suspended'; }).forEach(function (a) {
      sel.appendChild(LG.el('option', { value: a.id }, label(a)));
    });
    if (was) sel.value = was;
    if (!sel.value && sel.options.length) sel.selectedIndex = 0;
  }

  /** The remittances of this host's agreements, from each charity's public agreements page (the charity's answers with them). */
  function loadRemittances() {
    var charities = [];
    agreements.forEach(function (a) { if ((a.status === 'accepted' || a.status === 'suspended') && charities.indexOf(a.charityId) < 0) charities.push(a.charityId); });
    return Promise.all(charities.map(function (id) { return LG.api('GET', '/api/v1/public/charities/' + encodeURIComponent(id) + '/agreements'); })).then(function (pages) {
      var rows = [];
      pages.forEach(function (p) {
        p.agreements.filter(function (a) { return a.hostId === me.id; }).forEach(function (a) {
          a.remittances.forEach(function (r) { rows.push({ r: r, charity: p.name }); });
        });
      });
      rows.sort(function (x, y) { return x.r.createdAt < y.r.createdAt ? 1 : -1; });
      var tb = $('remittances');
      LG.clearTable(tb, !rows.length, 5, LG.t('none'));
      rows.forEach(function (x) {
        var tr = LG.el('tr', { 'data-remittance': x.r.id, 'data-status': x.r.status });
        cell(tr, x.charity);
        cell(tr, LG.time(x.r.paidAt).slice(0, 10));
        cell(tr, yuan(x.r.amountFen), 'num');
        cell(tr, x.r.reference);
        cell(tr, LG.t('rm.st.' + x.r.status) + (x.r.reason ? '：' + x.r.reason : '') + (x.r.answeredAt ? ' · ' + LG.time(x.r.answeredAt) : ''), 'rm-status');
        tb.appendChild(tr);
      });
    });
  }

  function load() {
    return LG.api('GET', '/api/v1/agreements').then(function (r) {
      // redrawn only when something changed: the form's agreement choice and the focus stay put
      var seen = JSON.stringify(r);
      if (seen !== lastSeen) { lastSeen = seen; agreements = r.agreements; render(); }
      document.body.setAttribute('data-agreements', String(agreements.length));
      return loadRemittances();
    }).catch(function (e) { say('propose-msg', LG.errorText(e)); });
  }

  /** The choices of the form: this host's products (and the charities they pledge to) and streams. */
  function loadChoices() {
    var base = '/api/v1/hosts/' + encodeURIComponent(me.id);
    return Promise.all([LG.api('GET', base + '/products'), LG.api('GET', base + '/streams')]).then(function (r) {
      var ps = $('ag-products'), ss = $('ag-streams'), dl = $('ag-charities');
      // what was chosen stays chosen when the lists are read again
      var keep = chosen(ps).concat(chosen(ss));
      ps.textContent = ''; ss.textContent = ''; dl.textContent = '';
      var seen = {};
      r[0].products.forEach(function (p) {
        var o = LG.el('option', { value: p.id }, p.name + ' · ' + yuan(p.priceFen) + ' · ' + p.pledge.charityName);
        o.selected = keep.indexOf(p.id) >= 0;
        ps.appendChild(o);
        if (!seen[p.pledge.charityId]) { seen[p.pledge.charityId] = true; dl.appendChild(LG.el('option', { value: p.pledge.charityId }, p.pledge.charityName)); }
      });
      r[1].streams.forEach(function (s) { var o = LG.el('option', { value: s.id }, s.title); o.selected = keep.indexOf(s.id) >= 0; ss.appendChild(o); });
    }).catch(function () { /* the lists are a help; ids can be typed */ });
  }

  function chosen(sel) { return Array.prototype.filter.call(sel.options, function (o) { return o.selected; }).map(function (o) { return o.value; }); }

  /** The form as the API's body, or the first problem in words (nothing is sent then). */
  function proposal() {
    var charityId = $('ag-charity').value.trim();
    if (!charityId) return { error: 'bad.charity' };
    var per = LG.parseYuan($('ag-per').value);
    if (per === null || per <= 0) return { error: 'bad.per' };
    var body = { charityId: charityId, perUnitFen: per, onCap: $('ag-oncap').value };
    var capText = $('ag-capfen').value.trim();
    if (capText) {
      var cap = LG.parseYuan(capText);
      if (cap === null || cap <= 0) return { error: 'bad.capfen' };
      body.capFen = cap;
    }
    var unitsText = $('ag-capunits').value.trim();
    if (unitsText) {
      var units = LG.parseCount(unitsText, 1, 1000000000);
      if (units === null) return { error: 'bad.capunits' };
      body.capUnits = units;
    }
    var products = chosen($('ag-products')), streams = chosen($('ag-streams'));
    if (products.length) body.productIds = products;
    if (streams.length) body.streamIds = streams;
    var f = $('ag-from').value, t = $('ag-to').value;
    if (!f || !t || t < f) return { error: 'bad.dates' };
    // Shanghai days: from midnight of the first to midnight after the last
    var end = new Date(t + 'T00:00:00+08:00');
    end.setUTCDate(end.getUTCDate() + 1);
    body.validFrom = LG.shanghaiMidnight(f);
    body.validTo = end.toISOString();
    var days = LG.parseCount($('ag-days').value, 1, 365);
    if (days === null) return { error: 'bad.days' };
    body.remitWithinDays = days;
    return { body: body };
  }

  function remittance() {
    var agreementId = $('rm-agreement').value;
    if (!agreementId) return { error: 'bad.agreement' };
    var amount = LG.parseYuan($('rm-amount').value);
    if (amount === null || amount <= 0) return { error: 'bad.amount' };
    var day = $('rm-date').value;
    if (!day || day > LG.shanghaiToday()) return { error: 'bad.date' };
    var reference = $('rm-ref').value.trim();
    if (!reference) return { error: 'bad.ref' };
    // paid on a Shanghai day: its midnight there (never in the future, as the API requires)
    return { body: { agreementId: agreementId, amountFen: amount, paidAt: LG.shanghaiMidnight(day), reference: reference } };
  }

  $('propose').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var p = proposal();
    if (p.error) { say('propose-msg', LG.t(p.error)); document.body.setAttribute('data-propose', 'refused'); return; }
    LG.api('POST', '/api/v1/agreements', p.body).then(function (a) {
      say('propose-msg', LG.t('ag.proposed'), true);
      document.body.setAttribute('data-propose', a.id);
      return load();
    }).catch(function (e) { say('propose-msg', LG.errorText(e)); document.body.setAttribute('data-propose', 'error'); });
  });

  $('remit').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var r = remittance();
    if (r.error) { say('remit-msg', LG.t(r.error)); document.body.setAttribute('data-remit', 'refused'); return; }
    LG.api('POST', '/api/v1/remittances', r.body).then(function (x) {
      say('remit-msg', LG.t('rm.done').replace('{a}', yuan(x.amountFen)), true);
      $('rm-amount').value = ''; $('rm-ref').value = '';
      document.body.setAttribute('data-remit', x.id);
      return load();
    }).catch(function (e) { say('remit-msg', LG.errorText(e)); document.body.setAttribute('data-remit', 'error'); });
  });

  // products and streams listed since sign-in: read again when the form is started (its first field)
  $('ag-charity').addEventListener('focus', function () { if (me) loadChoices(); });
  LG.onLang.push(function () { if (me) { lastRemitted = ''; render(); loadRemittances(); } });
  LG.onSignIn = LG.onSignIn || [];
  LG.onSignIn.push(function (who) {
    me = who;
    $('ag-from').value = LG.shanghaiToday();
    $('rm-date').value = LG.shanghaiToday();
    loadChoices();
    load();
    // the layers move as orders are paid, confirmed and remitted, and as the charity answers
    if (timer) clearInterval(timer);
    timer = setInterval(load, 3000);
  });
})();
