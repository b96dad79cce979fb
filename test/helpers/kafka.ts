import { Kafka, logLevel } from 'kafkajs';
import { randomBytes } from 'node:crypto';

export interface Read { key: string | null; value: string; partition: number; offset: string }

/** Reads a topic from the beginning with a throwaway group until `done(messages)` or the timeout. */
export async function readTopic(topic: string, done: (msgs: Read[]) => boolean, timeoutMs = 20000): Promise<Read[]> {
  const kafka = new Kafka({ clientId: 'test-reader', brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `reader-${randomBytes(6).toString('hex')}` });
  const msgs: Read[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let resolve!: () => void;
  const finished = new Promise<void>((r) => { resolve = r; });
  await consumer.run({ eachMessage: async ({ message, partition }) => {
    msgs.push({ key: message.key?.toString() ?? null, value: message.value!.toString(), partition, offset: message.offset });
    if (done(msgs)) resolve();
  } });
  await Promise.race([finished, new Promise((r) => setTimeout(r, timeoutMs))]);
  await consumer.disconnect();
  return msgs;
}
