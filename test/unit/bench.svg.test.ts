import { escapeXml, lineChart, niceTicks } from '../../scripts/bench/svg';

describe('bench SVG chart writer', () => {
  it('when given a range, then ticks are round numbers covering it', () => {
    expect(niceTicks(0, 4000)).toEqual([0, 1000, 2000, 3000, 4000]);
    expect(niceTicks(0, 7)).toEqual([0, 2, 4, 6, 8]); // the last tick covers the maximum
    const t = niceTicks(0, 263);
    expect(t[0]).toBe(0);
    expect(t[t.length - 1]).toBeGreaterThanOrEqual(263);
  });

  it('when series are drawn, then the SVG is well-formed, names each series and skips points that are not numbers', () => {
    const svg = lineChart({
      title: 'Latency <p99> & more', xLabel: 'offered/s', yLabel: 'ms',
      series: [{ name: 'orders p99', points: [[250, 10], [500, NaN], [1000, 40]] }, { name: 'express', points: [[250, 2], [1000, 3]], dashed: true }],
      hLines: [{ y: 250, label: 'limit' }],
    });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('Latency &lt;p99&gt; &amp; more');
    expect(svg).toContain('orders p99');
    expect(svg).toContain('stroke-dasharray="6 3"');
    expect(svg).not.toContain('NaN');
    // one path per series: the NaN point is dropped, the two others joined
    const paths = svg.match(/<path d="([^"]+)"/g)!;
    expect(paths).toHaveLength(2);
    expect(paths[0].match(/[ML]/g)).toHaveLength(2);
  });

  it('when the y axis is logarithmic, then zero and negative values are skipped and the axis is labelled', () => {
    const svg = lineChart({ title: 't', xLabel: 'x', yLabel: 'ms', logY: true, series: [{ name: 's', points: [[1, 0], [2, 10], [3, 1000]] }] });
    expect(svg).toContain('ms (log scale)');
    expect(svg.match(/<circle/g)).toHaveLength(2);
    expect(svg).not.toMatch(/NaN|Infinity/);
  });

  it('when there is no data at all, then it still draws an empty, valid chart', () => {
    const svg = lineChart({ title: 'empty', xLabel: 'x', yLabel: 'y', series: [] });
    expect(svg).toContain('</svg>');
    expect(svg).not.toMatch(/NaN|Infinity/);
  });

  it('escapes every XML special character', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });
});
