import type { Deps } from '../deps';
import type { DeadLetter } from '../events';

interface Source { groupId: string; topic: string; partition: number }
interface Raw { key: Buffer | null; value: Buffer | null; offset: string }

/** The dead letter of one message: its reason and its original bytes, never silently dropped. */
export function deadLetterOf(src: Source, m: Raw, reason: string): DeadLetter {
  return {
    reason, group: src.groupId, topic: src.topic, partition: src.partition, offset: m.offset,
    key: m.key?.toString('utf8') ?? null, valueBase64: m.value?.toString('base64') ?? null, at: new Date().toISOString(),
  };
}

/** Publishes dead letters to the dead-letter topic, counted and logged under the consumer's label. */
export async function publishDeadLetters(deps: Deps, label: string, dead: DeadLetter[]): Promise<void> {
  if (!dead.length) return;
  await deps.producer.sendMany(deps.config.kafka.topics.deadLetter, dead.map((d) => ({ key: d.key, value: JSON.stringify(d) })));
  for (const d of dead) deps.metrics.deadLetters.inc({ group: label, reason: d.reason.split(':')[0].slice(0, 40) });
  deps.logger.warn({ label, offsets: dead.map((d) => `${d.partition}:${d.offset}`), reasons: dead.map((d) => d.reason.slice(0, 120)) }, 'dead-lettered messages');
}
