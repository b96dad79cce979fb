import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

// 1 ms to 10 s: stages of the payment → screen path, whose target is 250 ms end to end
const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.35, 0.5, 0.75, 1, 1.5, 2.5, 5, 10];

/** One registry per process; every slice records through these named instruments. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'livegive_' });
  const m = {
    registry,
    httpRequests: new Counter({ name: 'livegive_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] }),
    httpDuration: new Histogram({
      name: 'livegive_http_request_duration_seconds', help: 'HTTP latency by route', labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry],
    }),
    ordersPlaced: new Counter({ name: 'livegive_orders_placed_total', help: 'Orders reserved', registers: [registry] }),
    ordersRefused: new Counter({ name: 'livegive_orders_refused_total', help: 'Orders refused by code', labelNames: ['code'], registers: [registry] }),
    unitsHeldUnpaid: new Gauge({ name: 'livegive_units_held_unpaid', help: 'Units held by unpaid reservations (all shards; set by the sweeper)', registers: [registry] }),
    orderTransitions: new Counter({ name: 'livegive_order_transitions_total', help: 'Order state transitions', labelNames: ['type'], registers: [registry] }),
    eventsProduced: new Counter({ name: 'livegive_events_produced_total', help: 'Kafka messages produced', labelNames: ['topic'], registers: [registry] }),
    produceBatchSize: new Histogram({ name: 'livegive_produce_batch_size', help: 'Messages per Kafka send', buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000], registers: [registry] }),
    produceSeconds: new Histogram({ name: 'livegive_produce_seconds', help: 'One Kafka send (acks=all), request to acknowledgement', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry] }),
    produceWaitSeconds: new Histogram({ name: 'livegive_produce_wait_seconds', help: 'A message from being queued to its acknowledgement (queue + linger + send)', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry] }),
    produceFailures: new Counter({ name: 'livegive_produce_failures_total', help: 'Kafka sends that failed', registers: [registry] }),
    eventsConsumed: new Counter({ name: 'livegive_events_consumed_total', help: 'Kafka messages consumed by group', labelNames: ['group'], registers: [registry] }),
    deadLetters: new Counter({ name: 'livegive_dead_letters_total', help: 'Messages sent to the dead-letter topic', labelNames: ['group', 'reason'], registers: [registry] }),
    ledgerEntries: new Counter({ name: 'livegive_ledger_entries_total', help: 'Ledger entries appended', labelNames: ['kind'], registers: [registry] }),
    consumerLag: new Gauge({ name: 'livegive_consumer_lag', help: 'Kafka consumer lag (messages) by group and partition', labelNames: ['group', 'partition'], registers: [registry] }),
    wsClients: new Gauge({ name: 'livegive_ws_clients', help: 'Open WebSocket feed connections', registers: [registry] }),
    wsFramesSent: new Counter({ name: 'livegive_ws_frames_sent_total', help: 'Feed frames sent', registers: [registry] }),
    providerNotifications: new Counter({ name: 'livegive_provider_notifications_total', help: 'Payment provider notifications by provider and outcome (taken or the error code)', labelNames: ['provider', 'outcome'], registers: [registry] }),
    reconciliationDifferences: new Counter({ name: 'livegive_reconciliation_differences_total', help: 'Differences found by reconciliation runs, by provider, kind and action', labelNames: ['provider', 'kind', 'action'], registers: [registry] }),
    wsFramesDropped: new Counter({ name: 'livegive_ws_frames_dropped_total', help: 'Feed frames skipped for slow clients', registers: [registry] }),
    redisScriptSeconds: new Histogram({ name: 'livegive_redis_script_seconds', help: 'One Redis Lua script call, request to reply, by script', labelNames: ['script'], buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25], registers: [registry] }),
    allocatorBatchSize: new Histogram({ name: 'livegive_allocator_batch_size', help: 'Kafka messages per allocator batch', buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000], registers: [registry] }),
    allocatorBatchSeconds: new Histogram({ name: 'livegive_allocator_batch_seconds', help: 'One allocator batch, fetched to offset committed (retries included)', buckets: [...latencyBuckets, 30], registers: [registry] }),
    // the payment → screen path stage by stage (the produce and HTTP stages have their own histograms above)
    allocatorEventAgeSeconds: new Histogram({ name: 'livegive_allocator_event_age_seconds', help: "An order event from its producer's timestamp to the start of the allocator batch that holds it (Kafka, fetch wait, earlier batches)", buckets: latencyBuckets, registers: [registry] }),
    feedNotifyToSendSeconds: new Histogram({ name: 'livegive_feed_notify_to_send_seconds', help: 'A totals notification to the frame carrying it written to every local socket of the stream (coalescing, the totals read, the fan-out)', buckets: latencyBuckets, registers: [registry] }),
    ready: new Gauge({ name: 'livegive_ready', help: '1 when the last readiness check (/readyz) passed, 0 when it failed', registers: [registry] }),
    storeReachable: new Gauge({ name: 'livegive_store_reachable', help: 'Per store, 1 when the last readiness check reached it', labelNames: ['store'], registers: [registry] }),
    redisRebuilding: new Gauge({ name: 'livegive_redis_rebuilding', help: '1 while this process refuses orders because Redis state is being rebuilt', registers: [registry] }),
    paymentAnomalies: new Counter({ name: 'livegive_payment_anomalies_total', help: 'Payment anomalies recorded (duplicate charges and the like) by kind', labelNames: ['kind'], registers: [registry] }),
    chainVerifyFailures: new Counter({ name: 'livegive_chain_verify_failures_total', help: 'Charity chain verifications that found a break', registers: [registry] }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
