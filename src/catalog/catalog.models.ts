import { Schema, Connection, Model } from 'mongoose';

/** Catalog documents as plain objects (repositories return these, never mongoose documents). */
export interface CharityDoc { _id: string; name: string; registrationNo: string; active: boolean; createdAt: Date }
export interface HostDoc { _id: string; name: string; createdAt: Date }
export interface ViewerDoc { _id: string; nickname: string; createdAt: Date }
export interface ProductDoc {
  _id: string;
  hostId: string;
  name: string;
  origin: string;
  unit: string;
  priceFen: number;
  /** total units ever put on sale (initial stock plus additions); remaining lives in Redis */
  stock: number;
  /**
   * agreementId (issue 15): the agreement the pledge sells under; null: none (not sold); absent: listed before
   * agreements existed (sold as before until the migration at start gives it one)
   */
  pledge: { charityId: string; perUnitFen: number; agreementId?: string | null };
  buyerLimit: number;
  /** refunded units return to stock (absent: false) */
  restockOnRefund?: boolean;
  createdAt: Date;
  updatedAt: Date;
}
export type StreamStatus = 'scheduled' | 'live' | 'ended';
export interface StreamDoc { _id: string; hostId: string; title: string; status: StreamStatus; goalFen: number; productIds: string[]; createdAt: Date; startedAt?: Date; endedAt?: Date; paymentWindowSeconds?: number }

export const catalogCollections = { charities: 'charities', hosts: 'hosts', viewers: 'viewers', products: 'products', streams: 'streams' } as const;

const opts = { versionKey: false, _id: false } as const;

export function registerCatalogModels(conn: Connection): void {
  if (conn.models.Charity) return;
  // registration numbers are unique: one charity, one record
  conn.model('Charity', new Schema<CharityDoc>({ _id: String, name: String, registrationNo: { type: String, unique: true }, active: Boolean, createdAt: Date }, { ...opts, collection: catalogCollections.charities }));
  conn.model('Host', new Schema<HostDoc>({ _id: String, name: String, createdAt: Date }, { ...opts, collection: catalogCollections.hosts }));
  conn.model('Viewer', new Schema<ViewerDoc>({ _id: String, nickname: String, createdAt: Date }, { ...opts, collection: catalogCollections.viewers }));
  const product = new Schema<ProductDoc>({
    _id: String, hostId: String, name: String, origin: String, unit: String, priceFen: Number, stock: Number,
    pledge: { charityId: String, perUnitFen: Number, agreementId: String }, buyerLimit: Number, restockOnRefund: Boolean, createdAt: Date, updatedAt: Date,
  }, { ...opts, collection: catalogCollections.products });
  product.index({ hostId: 1 }); // a host's product list
  product.index({ 'pledge.charityId': 1 }); // the products pledging to a charity (deactivation stops them selling)
  conn.model('Product', product);
  const stream = new Schema<StreamDoc>({
    _id: String, hostId: String, title: String, status: String, goalFen: Number, productIds: [String], createdAt: Date, startedAt: Date, endedAt: Date, paymentWindowSeconds: Number,
  }, { ...opts, collection: catalogCollections.streams });
  stream.index({ hostId: 1 }); // a host's streams
  conn.model('Stream', stream);
}

export const catalogModel = <T>(conn: Connection, name: 'Charity' | 'Host' | 'Viewer' | 'Product' | 'Stream') => conn.models[name] as Model<T>;
