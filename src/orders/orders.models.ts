import { Schema, Connection } from 'mongoose';
import type { OrderEvent } from '../events';

/** The query side of orders: one document per order, the latest state the projection has seen. */
export type OrderDoc = Omit<OrderEvent, 'eventId' | 'type' | 'version' | 'occurredAt'> & { _id: string; lastEventId: string; updatedAt: Date };

export function registerOrderModels(conn: Connection): void {
  if (conn.models.Order) return;
  const s = new Schema({ _id: String }, { strict: false, versionKey: false, collection: 'orders' });
  s.index({ viewerId: 1 }); // a viewer's orders
  s.index({ streamId: 1 }); // a stream's orders (reconciliation, rebuild)
  conn.model('Order', s);
}
