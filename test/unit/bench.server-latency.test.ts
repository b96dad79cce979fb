import { bucketPercentileMs, parseBuckets } from '../../scripts/bench/server-latency';

const scrape = (counts: number[]) => ['0.005', '0.025', '0.1', '+Inf'].map((le, i) =>
  `livegive_http_request_duration_seconds_bucket{le="${le}",method="POST",route="/api/v1/orders"} ${counts[i]}`).join('\n') +
  '\nlivegive_http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/api/v1/orders"} 999\n';

describe('server-side order latency from two /metrics scrapes', () => {
  it('counts only the requests between the scrapes, of the one method and route', () => {
    const before = parseBuckets(scrape([10, 10, 10, 10]), 'POST', '/api/v1/orders');
    const after = parseBuckets(scrape([60, 100, 109, 110]), 'POST', '/api/v1/orders');
    // 100 new requests: 50 ≤ 5 ms, 40 more ≤ 25 ms, 9 more ≤ 100 ms, 1 above
    expect(bucketPercentileMs(before, after, 0.5)).toBe(5);
    expect(bucketPercentileMs(before, after, 0.9)).toBe(25);
    expect(bucketPercentileMs(before, after, 0.99)).toBe(100);
    expect(bucketPercentileMs(before, after, 1)).toBe(Infinity);
  });

  it('has no percentile when no request of that route was served', () => {
    const s = parseBuckets(scrape([1, 1, 1, 1]), 'POST', '/api/v1/orders');
    expect(bucketPercentileMs(s, s, 0.5)).toBeNull();
    expect(parseBuckets(scrape([1, 1, 1, 1]), 'POST', '/nope').size).toBe(0);
  });
});

describe('other histograms and gauges of the same scrape', () => {
  it('reads the Kafka send histogram and the event-loop lag gauge', () => {
    const text = [
      'livegive_produce_seconds_bucket{le="0.005"} 3', 'livegive_produce_seconds_bucket{le="0.05"} 9', 'livegive_produce_seconds_bucket{le="+Inf"} 10',
      'livegive_nodejs_eventloop_lag_p99_seconds 0.042',
    ].join('\n');
    const { histogramBuckets, gaugeValue } = jest.requireActual('../../scripts/bench/server-latency');
    const b = histogramBuckets(text, 'livegive_produce_seconds');
    expect(bucketPercentileMs(new Map(), b, 0.5)).toBe(50);
    expect(gaugeValue(text, 'livegive_nodejs_eventloop_lag_p99_seconds')).toBe(0.042);
    expect(gaugeValue(text, 'livegive_missing')).toBeNaN();
  });
});
