import { Kafka, logLevel, Consumer } from 'kafkajs';
import { newNamespace, waitFor } from '../helpers/env';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

describe('kafka (real broker)', () => {
  const kafka = new Kafka({ clientId: 'infra-test', brokers, logLevel: logLevel.NOTHING });
  const topic = `${newNamespace('kt')}.probe`;
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 4, replicationFactor: 1 }], waitForLeaders: true });
    await admin.disconnect();
  });
  afterAll(async () => { await Promise.all(consumers.map((c) => c.disconnect())); });

  it('when messages are produced with acks=all, then a consumer group receives every one, and a second member gets partitions after a rebalance', async () => {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const groupId = `${topic}.group`;
    const seen = new Map<string, Set<string>>();
    const assigned = new Map<string, number[]>();
    const make = async (name: string) => {
      const c = kafka.consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 500, rebalanceTimeout: 10000 });
      consumers.push(c);
      seen.set(name, new Set());
      c.on(c.events.GROUP_JOIN, (e) => assigned.set(name, e.payload.memberAssignment[topic] ?? []));
      await c.connect();
      await c.subscribe({ topic, fromBeginning: true });
      await c.run({ eachMessage: async ({ message }) => { seen.get(name)!.add(message.value!.toString()); } });
    };
    await make('a');
    await producer.send({ topic, acks: -1, messages: Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `m${i}` })) });
    await waitFor(async () => seen.get('a')!.size === 40, 'first consumer to read 40 messages');
    await make('b');
    await waitFor(async () => (assigned.get('b')?.length ?? 0) > 0 && (assigned.get('a')?.length ?? 0) < 4, 'rebalance to give b partitions', 30000);
    expect(assigned.get('a')!.length + assigned.get('b')!.length).toBe(4);
    await producer.send({ topic, acks: -1, messages: Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `n${i}` })) });
    await waitFor(async () => [...seen.values()].reduce((n, s) => n + [...s].filter((v) => v.startsWith('n')).length, 0) === 40, 'both members to read the second round', 30000);
    expect(seen.get('b')!.size).toBeGreaterThan(0);
    await producer.disconnect();
  });
});
