/* The overlay's settings, read once from the query string as OBS browser sources are configured, and its
   texts in Chinese and English. Loaded before overlay.js; plain browser JavaScript, no build step. */
(function () {
  'use strict';
  var q = new URLSearchParams(location.search);
  var pick = function (v, allowed, dflt) { return allowed.indexOf(v) >= 0 ? v : dflt; };
  var off = function (v) { return v === 'off' || v === '0' || v === 'false'; };

  /** "10" or "10.5" yuan → fen, parsed as a string (never a float); null when it is not an amount. */
  function parseYuan(text) {
    var m = /^(\d{1,9})(?:\.(\d{1,2}))?$/.exec(String(text || '').trim());
    if (!m) return null;
    var c = m[2] || '00';
    return Number(m[1]) * 100 + Number(c.length === 1 ? c + '0' : c);
  }

  var settings = {
    layout: pick(q.get('layout'), ['card', 'bar', 'compact'], 'card'),
    theme: pick(q.get('theme'), ['dark', 'light'], 'dark'),
    lang: pick(q.get('lang'), ['zh', 'en'], 'zh'),
    ticker: !off(q.get('ticker')),
    alerts: !off(q.get('alerts')),
    accent: /^([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(q.get('accent') || '') ? '#' + q.get('accent') : null,
    charityId: /^[A-Za-z0-9_-]{1,64}$/.test(q.get('charity') || '') ? q.get('charity') : null,
    nameMinFen: parseYuan(q.get('nameMin')) || 0,
    test: q.get('test') === '1' || q.get('test') === 'on',
    // the agreements' caps ("¥X / ¥cap", "cap reached"): only when asked, so existing layouts are unchanged
    cap: q.get('cap') === '1' || q.get('cap') === 'on',
    milestones: (q.get('milestones') || '25,50,75,100').split(',').map(Number).filter(function (n) { return n > 0 && n <= 100 && Math.floor(n) === n; }).slice(0, 10),
  };

  var T = {
    zh: { badge: '公益', raised: '已筹善款', goal: '目标', matched: '配捐', left: '剩余额度', sold: '已售', units: '件', orders: '单', reconnecting: '重新连接中…',
      fallback: '公益直播', someone: '一位爱心观众', bought: ' 购买 ', gives: '，捐 ', alertGives: ' 捐出 ', milestone: '达成目标 {p}%！', test: '测试', sample: '示例商品', nostream: '直播间不存在', cap: '认捐上限', reached: '已达上限' },
    en: { badge: 'Charity', raised: 'Raised', goal: 'Goal', matched: 'Matched', left: 'left', sold: 'Sold', units: 'units', orders: 'orders', reconnecting: 'Reconnecting…',
      fallback: 'Charity live', someone: 'A kind viewer', bought: ' bought ', gives: ', gives ', alertGives: ' gives ', milestone: '{p}% of the goal reached!', test: 'TEST', sample: 'Sample product', nostream: 'No such stream', cap: 'Pledge cap', reached: 'Cap reached' },
  }[settings.lang];

  window.LGOverlay = { settings: settings, T: T };
})();
