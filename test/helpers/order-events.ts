import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { eventTransition, type OrderEvent, type OrderEventType } from '../../src/events';

export interface OrderSpec { orderId?: string; charityId: string; streamId: string; productId?: string; hostId?: string; quantity: number; pledgePerUnitFen: number; unitPriceFen?: number }

/** A valid order event as the orders slice produces it (schema-checked by the allocator). */
export function orderEvent(type: OrderEventType, o: OrderSpec & { orderId: string }, at = new Date()): OrderEvent {
  const unit = o.unitPriceFen ?? o.pledgePerUnitFen * 4;
  const t = eventTransition[type];
  return {
    eventId: `${o.orderId}.${type}`, type, version: 1, occurredAt: at.toISOString(), orderId: o.orderId, orderVersion: t.orderVersion, status: t.status,
    charityId: o.charityId, charityName: `慈善${o.charityId}`, streamId: o.streamId, productId: o.productId ?? 'p1', productName: '赣南脐橙 5 kg',
    hostId: o.hostId ?? 'h1', viewerId: 'v1', buyerMasked: '张**', quantity: o.quantity, unitPriceFen: unit, pledgePerUnitFen: o.pledgePerUnitFen,
    totalFen: unit * o.quantity, pledgeTotalFen: o.pledgePerUnitFen * o.quantity, createdAt: at.toISOString(), expiresAt: new Date(at.getTime() + 900_000).toISOString(),
    ...(type === 'order.paid' || type === 'order.refunded' ? { paidAt: at.toISOString(), paymentId: `pay_${o.orderId}` } : {}),
    idempotencyKey: `k-${o.orderId}`, bodyHash: 'h',
  };
}

export const newOrderId = () => `o_${randomBytes(6).toString('hex')}`;

/** A plain producer onto the namespace's order-events topic, keyed by charity like the orders slice. */
export class EventWriter {
  private readonly kafka = new Kafka({ clientId: 'allocator-test', brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), logLevel: logLevel.NOTHING });
  private producer: Producer | null = null;
  constructor(readonly topic: string) {}
  async send(events: OrderEvent[]): Promise<void> {
    await this.raw(events.map((e) => ({ key: e.charityId, value: JSON.stringify(e) })));
  }
  async raw(messages: { key: string | null; value: string | Buffer | null }[]): Promise<void> {
    if (!this.producer) { this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 }); await this.producer.connect(); }
    for (let i = 0; i < messages.length; i += 2000) await this.producer.send({ topic: this.topic, acks: -1, messages: messages.slice(i, i + 2000) });
  }
  async close(): Promise<void> { await this.producer?.disconnect(); }
}
