import { Kafka, logLevel } from 'kafkajs';
import { PrivateKafka } from '../helpers/private-kafka';
import { BatchingProducer } from '../../src/infra/kafka';

/**
 * The promise the whole order path rests on: a send the producer acknowledged is in the log. This drives
 * sends straight through a broker stop and restart and reads the log back. (The loss that made us leave
 * kafkajs's idempotent mode needs a request written but unanswered at the moment the broker goes; the
 * chaos scenario hit it about once in five runs, this test did not in four: it guards the property, it
 * does not reproduce that race.)
 */
describe('the producer across a broker crash', () => {
  let kafka: PrivateKafka;
  beforeAll(async () => { kafka = await PrivateKafka.start(); }, 120_000);
  afterAll(async () => { await kafka?.destroy(); });

  it('when the broker is killed and restarted under load, then every acknowledged message is in the log', async () => {
    const client = new Kafka({ clientId: 'outage-test', brokers: [kafka.brokers], logLevel: logLevel.NOTHING, connectionTimeout: 1000, requestTimeout: 5000, retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 500 } });
    const admin = client.admin();
    await admin.connect();
    const topic = 'outage-probe';
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    const producer = BatchingProducer.create(client, 2);
    await producer.connect();

    const acked = new Set<string>();
    let failed = 0;
    let running = true;
    // 12 senders, each one message at a time, keys spread over the partitions
    const senders = Array.from({ length: 12 }, async (_, s) => {
      for (let i = 0; running; i++) {
        const id = `${s}-${i}`;
        try { await producer.send(topic, { key: `k${i % 3}`, value: id }); acked.add(id); } catch { failed++; await new Promise((r) => setTimeout(r, 50)); }
      }
    });
    await new Promise((r) => setTimeout(r, 1500));
    await kafka.down();
    await new Promise((r) => setTimeout(r, 3000));
    await kafka.up();
    await new Promise((r) => setTimeout(r, 4000));
    running = false;
    await Promise.all(senders);
    await producer.close();

    const offsets = await admin.fetchTopicOffsets(topic);
    const total = offsets.reduce((n, o) => n + Number(o.high), 0);
    const seen = new Set<string>();
    const consumer = client.consumer({ groupId: `outage-reader-${Date.now()}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let count = 0;
    await new Promise<void>((resolve) => {
      void consumer.run({ eachMessage: async ({ message }) => { seen.add(message.value!.toString()); if (++count >= total) resolve(); } });
    });
    await consumer.disconnect();
    await admin.disconnect();

    const missing = [...acked].filter((id) => !seen.has(id));
    console.log(`acknowledged ${acked.size}, failed ${failed}, in the log ${seen.size} distinct of ${total} records; missing ${missing.length}`);
    expect(failed).toBeGreaterThan(0); // the broker really was away while sends were made
    expect(acked.size).toBeGreaterThan(100);
    expect(missing).toEqual([]);
  }, 120_000);
});
