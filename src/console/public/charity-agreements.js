/* The charity console's agreements: proposals to accept or decline, accepted ones to suspend (after a confirm
   step), remittances received to acknowledge or dispute with a reason, the four layers and overdue amounts.
   Agreements come from GET /api/v1/agreements (this charity's own); remittances from the charity's public
   agreements page, which lists each with its answer. Every action is the ordinary API route. */
(function () {
  'use strict';
  var LG = window.LG, $ = LG.$, yuan = LG.yuan;
  var me = null, agreements = [], remittances = [], confirming = null, disputing = null, timer = null, lastSeen = '';

  Object.assign(LG.texts.zh, {
    agreements: '认捐协议', 'ag.awaiting': '待答复的协议', 'ag.all': '全部协议', 'ag.host': '主播', 'ag.col.terms': '条款', 'ag.col.capdef': '上限', 'ag.col.valid': '有效期（北京时间）',
    'ag.col.status': '状态', 'ag.col.cap': '上限已用', 'ag.col.act': '操作', 'ag.accept': '接受', 'ag.decline': '拒绝', 'ag.suspend': '暂停',
    'ag.suspend.ask': '暂停后新订单不再认捐（已下订单不受影响）。确定暂停？', 'ag.suspend.yes': '确定暂停', 'ag.cancel': '取消',
    'ag.done.accepted': '已接受协议。', 'ag.done.declined': '已拒绝协议。', 'ag.done.suspended': '已暂停协议。', 'ag.noproposals': '没有待答复的协议',
    'rm.received': '收到的汇款', 'rm.date': '汇款日期', 'rm.amount': '金额', 'rm.ref': '银行或支付流水号', 'rm.ack': '确认收款', 'rm.dispute': '提出异议',
    'rm.reason': '异议理由', 'rm.dispute.send': '提交异议', 'rm.done.acknowledged': '已确认收款。', 'rm.done.disputed': '已提出异议。', 'bad.reason': '请写明异议理由。',
    'kind.remittance': '汇款', 'kind.acknowledgement': '收款答复', none: '暂无条目',
  });
  Object.assign(LG.texts.en, {
    agreements: 'Pledge agreements', 'ag.awaiting': 'Awaiting your answer', 'ag.all': 'All agreements', 'ag.host': 'Host', 'ag.col.terms': 'Terms', 'ag.col.capdef': 'Cap', 'ag.col.valid': 'Valid (Beijing)',
    'ag.col.status': 'Status', 'ag.col.cap': 'Cap used', 'ag.col.act': 'Actions', 'ag.accept': 'Accept', 'ag.decline': 'Decline', 'ag.suspend': 'Suspend',
    'ag.suspend.ask': 'Once suspended, new orders donate nothing under it (orders placed keep theirs). Suspend?', 'ag.suspend.yes': 'Yes, suspend', 'ag.cancel': 'Cancel',
    'ag.done.accepted': 'Agreement accepted.', 'ag.done.declined': 'Agreement declined.', 'ag.done.suspended': 'Agreement suspended.', 'ag.noproposals': 'No proposals awaiting an answer',
    'rm.received': 'Remittances received', 'rm.date': 'Paid on', 'rm.amount': 'Amount', 'rm.ref': 'Bank or payment reference', 'rm.ack': 'Acknowledge', 'rm.dispute': 'Dispute',
    'rm.reason': 'Reason for the dispute', 'rm.dispute.send': 'Send dispute', 'rm.done.acknowledged': 'Remittance acknowledged.', 'rm.done.disputed': 'Remittance disputed.', 'bad.reason': 'Write the reason for the dispute.',
    'kind.remittance': 'Remittance', 'kind.acknowledgement': 'Answer to a remittance', none: 'No entries',
  });

  var say = LG.say, cell = LG.cell;
  function button(text, label, cls, onClick) {
    var b = LG.el('button', { type: 'button', class: cls || '' }, text);
    b.setAttribute('aria-label', label);
    b.addEventListener('click', onClick);
    return b;
  }
  function capDef(a) {
    var parts = [];
    if (a.capFen !== null) parts.push(yuan(a.capFen));
    if (a.capUnits !== null) parts.push(a.capUnits + ' ' + LG.t('ag.units'));
    return parts.length ? parts.join(' · ') : LG.t('ag.nocap');
  }

  /** One answer through its ordinary route (agreements/:id/accept…, remittances/:id/acknowledge…), said under its table. */
  function post(what, id, verb, body) {
    var msg = what === 'agreements' ? 'agreements-msg' : 'remittances-msg';
    LG.api('POST', '/api/v1/' + what + '/' + encodeURIComponent(id) + '/' + verb, body).then(function (x) {
      confirming = null; disputing = null;
      say(msg, LG.t((what === 'agreements' ? 'ag' : 'rm') + '.done.' + x.status), true);
      return load();
    }).catch(function (e) { say(msg, LG.errorText(e)); });
  }
  function step(a, verb) { post('agreements', a.id, verb); }

  function renderProposals() {
    var tb = $('proposals');
    var open = agreements.filter(function (a) { return a.status === 'proposed'; });
    LG.clearTable(tb, !open.length, 5, LG.t('ag.noproposals'));
    open.forEach(function (a) {
      var tr = LG.el('tr', { 'data-agreement': a.id });
      var who = a.hostName || a.hostId;
      cell(tr, who); cell(tr, LG.terms(a)); cell(tr, capDef(a), 'num'); cell(tr, LG.validity(a));
      var td = cell(tr, '', 'actions');
      td.appendChild(button(LG.t('ag.accept'), LG.t('ag.accept') + ' ' + who, '', function () { step(a, 'accept'); }));
      td.appendChild(button(LG.t('ag.decline'), LG.t('ag.decline') + ' ' + who, 'danger', function () { step(a, 'decline'); }));
      tb.appendChild(tr);
    });
  }

  function renderAgreements() {
    var tb = $('agreements');
    LG.clearTable(tb, !agreements.length, 11, LG.t('none'));
    agreements.forEach(function (a) {
      var tr = LG.agreementRow(a);
      var who = a.hostName || a.hostId;
      cell(tr, who); cell(tr, LG.terms(a)); cell(tr, LG.validity(a)); cell(tr, LG.t('ag.st.' + a.status), 'ag-status'); cell(tr, LG.capText(a), 'num cap');
      LG.layerCells(tr, a);
      var td = cell(tr, '', 'actions');
      if (a.status === 'accepted' && confirming === a.id) {
        // the confirm step: a suspension stops new pledges at once
        var box = LG.el('span', { class: 'confirm', role: 'group' });
        box.appendChild(LG.el('span', { class: 'note' }, LG.t('ag.suspend.ask')));
        box.appendChild(button(LG.t('ag.suspend.yes'), LG.t('ag.suspend.yes') + ' ' + who, 'danger', function () { step(a, 'suspend'); }));
        box.appendChild(button(LG.t('ag.cancel'), LG.t('ag.cancel'), '', function () { confirming = null; renderAgreements(); }));
        setTimeout(function () { box.querySelector('button').focus(); }, 0);
        td.appendChild(box);
      } else if (a.status === 'accepted') {
        td.appendChild(button(LG.t('ag.suspend'), LG.t('ag.suspend') + ' ' + who, 'danger', function () { confirming = a.id; renderAgreements(); }));
      }
      tb.appendChild(tr);
    });
    var sum = {};
    LG.layerKeys.forEach(function (k) { sum[k] = agreements.reduce(function (n, a) { return n + (a[k] || 0); }, 0); });
    LG.layerKeys.forEach(function (k) { $('l-' + k.replace('Fen', '')).textContent = yuan(sum[k]); });
    $('l-overdue').parentNode.classList.toggle('overdue', sum.overdueFen > 0);
  }

  function answer(r, verb, body) { post('remittances', r.id, verb, body); }

  function renderRemittances() {
    var tb = $('remittances');
    LG.clearTable(tb, !remittances.length, 6, LG.t('none'));
    remittances.forEach(function (x) {
      var r = x.r;
      var tr = LG.el('tr', { 'data-remittance': r.id, 'data-status': r.status });
      cell(tr, x.host); cell(tr, LG.time(r.paidAt).slice(0, 10)); cell(tr, yuan(r.amountFen), 'num'); cell(tr, r.reference);
      cell(tr, LG.t('rm.st.' + r.status) + (r.reason ? '：' + r.reason : '') + (r.answeredAt ? ' · ' + LG.time(r.answeredAt) : ''), 'rm-status');
      var td = cell(tr, '', 'actions');
      if (r.status === 'sent' && disputing === r.id) {
        var id = 'reason-' + r.id;
        var lab = LG.el('label', { for: id }, LG.t('rm.reason'));
        var input = LG.el('input', { id: id, maxlength: '500' });
        td.appendChild(lab); td.appendChild(input);
        td.appendChild(button(LG.t('rm.dispute.send'), LG.t('rm.dispute.send'), 'danger', function () {
          var reason = input.value.trim();
          if (!reason) { say('remittances-msg', LG.t('bad.reason')); return; }
          answer(r, 'dispute', { reason: reason });
        }));
        td.appendChild(button(LG.t('ag.cancel'), LG.t('ag.cancel'), '', function () { disputing = null; renderRemittances(); }));
      } else if (r.status === 'sent') {
        var what = x.host + ' ' + yuan(r.amountFen);
        td.appendChild(button(LG.t('rm.ack'), LG.t('rm.ack') + ' ' + what, '', function () { answer(r, 'acknowledge'); }));
        td.appendChild(button(LG.t('rm.dispute'), LG.t('rm.dispute') + ' ' + what, 'danger', function () { disputing = r.id; renderRemittances(); }));
      }
      tb.appendChild(tr);
    });
  }

  function load() {
    return Promise.all([LG.api('GET', '/api/v1/agreements'), LG.api('GET', '/api/v1/public/charities/' + encodeURIComponent(me.id) + '/agreements')]).then(function (r) {
      // redrawn only when something changed: a button under the pointer or the keyboard focus stays where it is
      var seen = JSON.stringify(r);
      if (seen === lastSeen) return;
      lastSeen = seen;
      agreements = r[0].agreements;
      remittances = [];
      r[1].agreements.forEach(function (a) { a.remittances.forEach(function (x) { remittances.push({ r: x, host: a.hostName || a.hostId }); }); });
      remittances.sort(function (x, y) { return x.r.createdAt < y.r.createdAt ? 1 : -1; });
      // a form being filled in is not redrawn under the user's hands
      if (!disputing) renderRemittances();
      renderProposals();
      renderAgreements();
      document.body.setAttribute('data-agreements', String(agreements.length));
    }).catch(function (e) { say('agreements-msg', LG.errorText(e)); });
  }

  LG.onLang.push(function () { if (me) { lastSeen = ''; renderProposals(); renderAgreements(); renderRemittances(); } });
  LG.onSignIn = LG.onSignIn || [];
  LG.onSignIn.push(function (who) {
    me = who;
    load();
    if (timer) clearInterval(timer);
    timer = setInterval(load, 3000);
  });
})();
