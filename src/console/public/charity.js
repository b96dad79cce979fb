/* The charity console: ledger pages and search by order, statements for any period downloaded through fetch
   with the bearer header (then a blob), and verify run on the server, all with the charity's own token. */
(function () {
  'use strict';
  var LG = window.LG, $ = LG.$, yuan = LG.yuan;
  var me = null, afters = [0], next = null;

  Object.assign(LG.texts.zh, {
    skip: '跳到内容', title: '公益机构控制台', head: '公开账本', 'fig.total': '账本总额', 'fig.entries': '条目数', 'fig.head': '链头哈希',
    ledger: '账本', 'search.label': '按订单号查找', 'search.go': '查找', 'search.clear': '显示全部', 'page.size': '每页', 'page.prev': '上一页', 'page.next': '下一页',
    'col.seq': '序号', 'col.time': '时间（北京时间）', 'col.kind': '类型', 'col.amount': '金额', 'col.order': '订单', 'col.hash': '哈希',
    'kind.allocation': '认捐', 'kind.reversal': '退款冲回', 'kind.match': '配捐', 'kind.match_reversal': '配捐冲回',
    statements: '对账单', 'period.from': '起始日期（含）', 'period.to': '结束日期（含）', 'period.month': '本月', 'period.lastmonth': '上月',
    'dl.json': '下载 JSON', 'dl.csv': '下载 CSV', 'dl.pdf': '下载 PDF', 'dl.done': '已下载：', 'bad.period': '请选择起止日期，结束不早于起始。',
    'st.opening': '期初', 'st.allocated': '认捐', 'st.reversed': '冲回', 'st.matched': '配捐', 'st.matchreversed': '配捐冲回', 'st.closing': '期末', 'st.entries': '本期条目', 'st.period': '期间（北京时间，不含结束时刻）',
    verify: '校验', 'verify.note': '在服务器上重算整条哈希链、默克尔根和总额，与公开值比对；并按上面的期间重算对账单逐项比对。', 'verify.run': '运行校验', 'verify.running': '校验中…',
    'verify.ok': '校验通过：哈希链、默克尔根、总额与公开值一致，对账单逐项相符。', 'verify.bad': '发现不一致：', 'verify.summary': '条目 {n} · 链头 #{seq} · 总额 {total} · 校验时间 {at}',
    'page.info': '第 {p} 页', 'search.none': '此订单在本机构账本中没有条目。', 'none': '暂无条目',
  });
  Object.assign(LG.texts.en, {
    skip: 'Skip to content', title: 'Charity console', head: 'Published ledger', 'fig.total': 'Ledger total', 'fig.entries': 'Entries', 'fig.head': 'Head hash',
    ledger: 'Ledger', 'search.label': 'Find by order id', 'search.go': 'Find', 'search.clear': 'Show all', 'page.size': 'Per page', 'page.prev': 'Previous', 'page.next': 'Next',
    'col.seq': 'Seq', 'col.time': 'Time (Beijing)', 'col.kind': 'Kind', 'col.amount': 'Amount', 'col.order': 'Order', 'col.hash': 'Hash',
    'kind.allocation': 'Pledge', 'kind.reversal': 'Refund reversal', 'kind.match': 'Match', 'kind.match_reversal': 'Match reversal',
    statements: 'Statements', 'period.from': 'From (inclusive)', 'period.to': 'To (inclusive)', 'period.month': 'This month', 'period.lastmonth': 'Last month',
    'dl.json': 'Download JSON', 'dl.csv': 'Download CSV', 'dl.pdf': 'Download PDF', 'dl.done': 'Downloaded: ', 'bad.period': 'Choose both dates; the end may not be before the start.',
    'st.opening': 'Opening', 'st.allocated': 'Pledged', 'st.reversed': 'Reversed', 'st.matched': 'Matched', 'st.matchreversed': 'Match reversed', 'st.closing': 'Closing', 'st.entries': 'Entries in period', 'st.period': 'Period (Beijing time, end excluded)',
    verify: 'Verify', 'verify.note': 'Recomputes the whole hash chain, Merkle root and total on the server and compares them with the published values, and recomputes the statement for the period above figure by figure.', 'verify.run': 'Run verify', 'verify.running': 'Verifying…',
    'verify.ok': 'Verified: the hash chain, Merkle root and total match the published values and the statement matches figure by figure.', 'verify.bad': 'Mismatches found:', 'verify.summary': '{n} entries · head #{seq} · total {total} · checked {at}',
    'page.info': 'Page {p}', 'search.none': 'This order has no entries in your ledger.', 'none': 'No entries',
  });

  function fill(tpl, v) { return tpl.replace(/\{(\w+)\}/g, function (_m, k) { return v[k]; }); }
  function cell(tr, text, cls) { var td = LG.el('td', cls ? { class: cls } : {}, text); tr.appendChild(td); return td; }

  function loadHead() {
    LG.api('GET', '/api/v1/public/charities/' + encodeURIComponent(me.id)).then(function (h) {
      $('f-total').textContent = yuan(h.totalFen);
      $('f-entries').textContent = String(h.entries);
      $('f-head').textContent = h.headHash;
    }).catch(function (e) { $('ledger-msg').textContent = LG.errorText(e); });
  }

  function rows(entries) {
    var tb = $('ledger');
    tb.textContent = '';
    if (!entries.length) { var tr0 = LG.el('tr'); cell(tr0, LG.t('none')).colSpan = 6; tb.appendChild(tr0); }
    entries.forEach(function (e) {
      var tr = LG.el('tr', { 'data-seq': String(e.seq), 'data-order': e.orderId });
      cell(tr, String(e.seq), 'num');
      cell(tr, LG.time(e.at));
      cell(tr, LG.t('kind.' + e.kind));
      cell(tr, yuan(e.amountFen), 'num amount');
      cell(tr, e.orderId, 'mono');
      var h = cell(tr, e.hash.slice(0, 12) + '…', 'mono');
      h.title = e.hash;
      tb.appendChild(tr);
    });
  }

  function loadPage() {
    var after = afters[afters.length - 1];
    var limit = $('page-size').value;
    $('ledger-msg').textContent = '';
    LG.api('GET', '/api/v1/charities/' + encodeURIComponent(me.id) + '/ledger?after=' + after + '&limit=' + limit).then(function (p) {
      rows(p.entries);
      next = p.next;
      $('next').disabled = next === null;
      $('prev').disabled = afters.length <= 1;
      $('page-info').textContent = fill(LG.t('page.info'), { p: afters.length });
      document.body.setAttribute('data-ledger', 'page');
    }).catch(function (e) { $('ledger-msg').textContent = LG.errorText(e); });
  }

  function search(orderId) {
    LG.api('GET', '/api/v1/charities/' + encodeURIComponent(me.id) + '/ledger/orders/' + encodeURIComponent(orderId)).then(function (r) {
      rows(r.entries);
      $('next').disabled = true; $('prev').disabled = true;
      $('page-info').textContent = '';
      $('ledger-msg').textContent = r.entries.length ? '' : LG.t('search.none');
      document.body.setAttribute('data-ledger', 'search');
    }).catch(function (e) { $('ledger-msg').textContent = LG.errorText(e); });
  }

  /** The chosen Shanghai days as the API's [from, to): midnight of the first day to midnight after the last. */
  function period() {
    var f = $('from').value, t = $('to').value;
    if (!f || !t || t < f) return null;
    var end = new Date(t + 'T00:00:00+08:00');
    end.setUTCDate(end.getUTCDate() + 1);
    return { from: LG.shanghaiMidnight(f), to: end.toISOString() };
  }

  function setMonth(back) {
    var today = LG.shanghaiToday().split('-').map(Number);
    var y = today[0], m = today[1] - back;
    if (m < 1) { m += 12; y -= 1; }
    var pad = function (n) { return (n < 10 ? '0' : '') + n; };
    var last = new Date(Date.UTC(y, m, 0)).getUTCDate();
    $('from').value = y + '-' + pad(m) + '-01';
    $('to').value = back === 0 ? LG.shanghaiToday() : y + '-' + pad(m) + '-' + pad(last);
  }

  function statementPath(format, p) {
    return '/api/v1/charities/' + encodeURIComponent(me.id) + '/statements?from=' + encodeURIComponent(p.from) + '&to=' + encodeURIComponent(p.to) + '&format=' + format;
  }

  function showStatement(s) {
    var dl = $('stmt');
    dl.textContent = '';
    [['st.period', LG.time(s.from) + ' – ' + LG.time(s.to)], ['st.opening', yuan(s.openingFen)], ['st.allocated', yuan(s.allocatedFen)], ['st.reversed', yuan(s.reversedFen)],
      ['st.matched', yuan(s.matchedFen)], ['st.matchreversed', yuan(s.matchReversedFen || 0)], ['st.closing', yuan(s.closingFen)], ['st.entries', String(s.entries)]].forEach(function (kv) {
      dl.appendChild(LG.el('dt', {}, LG.t(kv[0])));
      dl.appendChild(LG.el('dd', { 'data-figure': kv[0].slice(3) }, kv[1]));
    });
  }

  function download(format) {
    var p = period();
    if (!p) { $('stmt-msg').textContent = LG.t('bad.period'); return; }
    $('stmt-msg').textContent = '';
    // named as the API names its CSV and PDF (the JSON answer carries no file name)
    var name = 'statement-' + me.id + '-' + p.from.slice(0, 10) + '-' + p.to.slice(0, 10) + '.' + format;
    LG.download(statementPath(format, p), name).then(function (f) {
      LG.say('stmt-msg', LG.t('dl.done') + f.name, true);
      if (format === 'json') f.blob.text().then(function (t) { showStatement(JSON.parse(t)); });
    }).catch(function (e) { $('stmt-msg').textContent = LG.errorText(e); });
  }

  function verify() {
    var out = $('verify-result');
    out.textContent = LG.t('verify.running');
    out.setAttribute('data-result', 'running');
    var p = period();
    var q = p ? '?from=' + encodeURIComponent(p.from) + '&to=' + encodeURIComponent(p.to) : '';
    $('verify-run').disabled = true;
    LG.api('GET', '/api/v1/charities/' + encodeURIComponent(me.id) + '/verify' + q).then(function (r) {
      out.textContent = '';
      out.setAttribute('data-result', r.ok ? 'ok' : 'mismatch');
      out.appendChild(LG.el('p', { class: r.ok ? 'ok' : 'bad' }, r.ok ? '✔ ' + LG.t('verify.ok') : '✘ ' + LG.t('verify.bad')));
      out.appendChild(LG.el('p', {}, fill(LG.t('verify.summary'), { n: r.entries, seq: r.headSeq, total: yuan(r.totalFen), at: LG.time(r.checkedAt) })));
      out.appendChild(LG.el('p', { class: 'mono' }, 'Merkle root ' + r.merkleRoot));
      if (r.period) out.appendChild(LG.el('p', {}, LG.t('st.period') + ' ' + LG.time(r.period.from) + ' – ' + LG.time(r.period.to) + ' · ' + LG.t('st.opening') + ' ' + yuan(r.period.openingFen) + ' · ' + LG.t('st.closing') + ' ' + yuan(r.period.closingFen)));
      var ul = LG.el('ul', { class: 'problems' });
      r.problems.forEach(function (x) { ul.appendChild(LG.el('li', {}, x)); });
      if (r.problems.length) out.appendChild(ul);
    }).catch(function (e) { out.textContent = LG.errorText(e); out.setAttribute('data-result', 'error'); })
      .then(function () { $('verify-run').disabled = false; });
  }

  $('search').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var id = $('order').value.trim();
    if (id) search(id); else { afters = [0]; loadPage(); }
  });
  $('search-clear').addEventListener('click', function () { $('order').value = ''; afters = [0]; loadPage(); });
  $('page-size').addEventListener('change', function () { afters = [0]; loadPage(); });
  $('next').addEventListener('click', function () { if (next !== null) { afters.push(next); loadPage(); } });
  $('prev').addEventListener('click', function () { if (afters.length > 1) { afters.pop(); loadPage(); } });
  $('period').addEventListener('submit', function (ev) { ev.preventDefault(); });
  $('this-month').addEventListener('click', function () { setMonth(0); });
  $('last-month').addEventListener('click', function () { setMonth(1); });
  ['json', 'csv', 'pdf'].forEach(function (f) { $('dl-' + f).addEventListener('click', function () { download(f); }); });
  $('verify-run').addEventListener('click', verify);
  LG.onLang.push(function () { if (me) loadPage(); });

  setMonth(0);
  LG.signIn('charity', function (who) { me = who; loadHead(); loadPage(); });
})();
