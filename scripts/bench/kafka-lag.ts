import { Kafka, Admin, logLevel } from 'kafkajs';

export interface LagSample { tMs: number; total: number; byGroup: Record<string, number>; produced: number }

/**
 * Consumer lag of every consumer group of the service's namespace on the order-events topic: the
 * topic's high watermarks minus the group's committed offsets (kafkajs admin), summed over partitions.
 */
export class LagMonitor {
  private admin: Admin;
  readonly samples: LagSample[] = [];

  constructor(brokers: string[], private readonly topic: string, private readonly groupPrefix: string) {
    this.admin = new Kafka({ clientId: 'livegive-bench-lag', brokers, logLevel: logLevel.NOTHING }).admin();
  }

  connect(): Promise<void> {
    return this.admin.connect();
  }

  async groups(): Promise<string[]> {
    const { groups } = await this.admin.listGroups();
    return groups.map((g) => g.groupId).filter((g) => g.startsWith(this.groupPrefix)).sort();
  }

  /** One reading; tMs is the caller's clock. */
  async sample(tMs: number): Promise<LagSample> {
    const [high, groups] = await Promise.all([this.admin.fetchTopicOffsets(this.topic), this.groups()]);
    const highBy = new Map(high.map((p) => [p.partition, Number(p.high)]));
    const lowBy = new Map(high.map((p) => [p.partition, Number(p.low)]));
    const produced = [...highBy.values()].reduce((a, b) => a + b, 0);
    const byGroup: Record<string, number> = {};
    for (const groupId of groups) {
      const [t] = await this.admin.fetchOffsets({ groupId, topics: [this.topic] });
      let lag = 0;
      for (const p of t?.partitions ?? []) {
        const committed = Number(p.offset) < 0 ? lowBy.get(p.partition) ?? 0 : Number(p.offset);
        lag += Math.max(0, (highBy.get(p.partition) ?? 0) - committed);
      }
      byGroup[groupId] = lag;
    }
    const total = Object.values(byGroup).reduce((a, b) => a + b, 0);
    const s = { tMs, total, byGroup, produced };
    this.samples.push(s);
    return s;
  }

  disconnect(): Promise<void> {
    return this.admin.disconnect();
  }
}
