import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import mongoose from 'mongoose';
import { slices } from '../../src/slices';
import { FERRETDB_GIN } from '../../src/infra/ferretdb-indexes';

const root = path.resolve(__dirname, '../..');
const walk = (dir: string): string[] => readdirSync(dir).flatMap((n) => {
  const p = path.join(dir, n);
  return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') && !p.endsWith('.lua.ts') ? [path.relative(root, p)] : [];
});
/** Every source file of the service: any of them may issue a store query. */
const files = walk(path.join(root, 'src'));
// a driver call with a filter (an object or a variable named filter), or a bulk operation's filter
const call = /\.(find|findOne|findOneAndUpdate|updateOne|updateMany|replaceOne|deleteOne|deleteMany|countDocuments|distinct|aggregate)\(\s*(\{|filter\b|\[)|\bfilter: \{/;

/**
 * Queries in files this test's owners do not edit (catalog, orders, payments, console, infra, recovery, the
 * allocator's match and totals code): named here by a piece of their line instead of a `// query:` comment.
 * A piece that no longer matches a line fails the test, as does a new query with neither.
 */
const namedHere: Record<string, Array<[string, string]>> = {
  'src/allocator/create-match.ts': [[`collection<{ _id: string }>('streams').findOne({ _id:`, 'streams.byId'], [`collection<{ _id: string }>('charities').findOne({ _id:`, 'charities.byId'], ['(MATCH_COLLECTION).findOne({ _id: id })', 'matches.byId']],
  'src/allocator/rebuild-totals.ts': [['(MATCH_COLLECTION).find({})', 'matches.all']],
  'src/allocator/totals.read.ts': [[`('streams').findOne({ _id: streamId }`, 'streams.byId']],
  'src/catalog/catalog.repository.ts': [['charities.findOne({ _id: charityId }', 'charities.byId'], ['charities.find({ _id: { $in:', 'charities.byIds']],
  'src/catalog/catalog.routes.ts': [['streams.findOne({ _id: params.id })', 'streams.byId'], ['products.find({ _id: { $in:', 'products.byIds']],
  'src/catalog/catalog.service.ts': [
    ['charities.findOneAndUpdate({ _id: charityId }', 'charities.byId'], [`products.find({ 'pledge.charityId': charityId })`, 'products.byCharity'],
    ['charities.findOne({ _id: charityId })', 'charities.byId'], ['products.findOne({ _id: productId })', 'products.byId'],
    ['charities.findOne({ _id: p.pledge.charityId })', 'charities.byId'], ['products.replaceOne({ _id: p._id }', 'products.byId'],
    ['streams.findOne({ _id: streamId })', 'streams.byId'], ['products.find({ _id: { $in: ids } }', 'products.byIds'],
    ['streams.updateOne({ _id: s._id }, { $set: { productIds', 'streams.byId'], ['streams.updateOne({ _id: s._id }, { $set: { status', 'streams.byId'],
  ],
  'src/catalog/index.ts': [['charities.find({ _id: { $in:', 'charities.byIds'], ['products.find({ _id: { $in:', 'products.byIds'], ['streams.find({ _id: { $in:', 'streams.byIds'], ['hosts.find({ _id: { $in:', 'hosts.byIds']],
  'src/console/console.routes.ts': [['coll.find({ orderId: params.orderId, charityId: params.id })', 'ledger.byOrder']],
  'src/console/host-views.ts': [
    ['hosts.findOne({ _id: p.id })', 'hosts.byId'], ['viewers.findOne({ _id: p.id })', 'viewers.byId'], ['streams.find({ hostId })', 'streams.byHost'],
    ['products.find({ hostId })', 'products.byHost'], ['streams.findOne({ _id: streamId }', 'streams.byId'],
  ],
  'src/infra/auth.ts': [['coll.findOne({ _id: h })', 'principals.byId']],
  'src/orders/payment-anomalies.ts': [['(PAYMENT_ANOMALIES).find({}).sort({ at: -1', 'anomalies.latest']],
  'src/orders/rebuild-order-state.ts': [['streams.find({})', 'streams.all'], ['viewers.find({})', 'viewers.all'], ['products.find({})', 'products.all']],
  'src/orders/refund-order.ts': [['products.findOne({ _id: o.productId }', 'products.byId']],
  'src/payments/merchants.ts': [
    ['hosts.findOne({ _id: doc.hostId })', 'hosts.byId'], ['merchants(deps).findOne({ _id: doc._id }', 'merchants.byId'], ['merchants(deps).replaceOne({ _id: doc._id }', 'merchants.byId'],
    ['merchants(deps).findOne({ _id: `${provider}:${id}` })', 'merchants.byId'], ['merchants(deps).findOne({ provider, billAccount: account })', 'merchants.byBillAccount'],
  ],
  'src/payments/run-reconciliation.ts': [['(PAYMENT_COLLECTIONS.payments).find({ merchantId: m._id, day: date })', 'payments.byMerchantDay'], ['(PAYMENT_COLLECTIONS.refunds).find({ merchantId: m._id, day: date', 'refunds.byMerchantDay']],
  'src/payments/settle.ts': [['(PAYMENT_COLLECTIONS.refunds).findOne({ _id:', 'refunds.byId']],
  'src/recovery/redis-watch.ts': [[`marker.findOne({ _id: 'deployment' })`, 'recovery.byId']],
};

/**
 * Rows FerretDB 1.24 cannot serve from an index, known and listed in the README with why: `$in` and dotted
 * paths are filtered in its memory, and a sort with a limit reads the whole collection. Exactly these: a new
 * one fails the test until it is listed here (and in the README).
 */
const ferretGaps = ['charities.byIds', 'products.byIds', 'streams.byIds', 'hosts.byIds', 'products.byCharity', 'anomalies.latest'];

interface Row { name: string; collection: string; mongo: string; ferret: string }
function readmeRows(text: string): Row[] {
  const section = text.slice(text.indexOf('## Queries and their indexes'));
  return section.split('\n').filter((l) => /^\| `[a-z]+\.[A-Za-z]+` \|/.test(l)).map((l) => {
    const [name, collection, , mongo, ferret] = l.split(' | ').map((c) => c.replace(/^\| /, '').trim());
    return { name: name.replace(/`/g, ''), collection, mongo: mongo.replace(/`/g, ''), ferret };
  });
}

/** Each query found in the code, by the name its `// query:` comment gives (same line or the line before), or `namedHere`. */
function queriesInCode(): Array<{ where: string; name: string | null }> {
  const out: Array<{ where: string; name: string | null }> = [];
  for (const f of files) {
    const lines = readFileSync(path.join(root, f), 'utf8').split('\n');
    lines.forEach((l, i) => {
      if (!call.test(l)) return;
      const named = /query: ([a-z]+\.[A-Za-z]+)/.exec(l) ?? /query: ([a-z]+\.[A-Za-z]+)/.exec(lines[i - 1] ?? '');
      out.push({ where: `${f}:${i + 1}`, name: named?.[1] ?? namedHere[f]?.find(([piece]) => l.includes(piece))?.[1] ?? null });
    });
  }
  return out;
}

/** The indexes the mongoose models create, by collection, named as MongoDB names them (blockKey_1). */
function modelIndexes(): Map<string, Set<string>> {
  const conn = mongoose.createConnection();
  for (const sl of slices) sl.models?.(conn);
  const out = new Map<string, Set<string>>();
  for (const m of Object.values(conn.models)) {
    const names = new Set(['_id_', ...m.schema.indexes().map(([keys]) => Object.entries(keys).map(([k, v]) => `${k}_${String(v)}`).join('_'))]);
    out.set(m.collection.collectionName, names);
  }
  return out;
}

describe('every repository query has a serving index, listed in the README', () => {
  const rows = readmeRows(readFileSync(path.join(root, 'README.md'), 'utf8'));
  const byName = new Map(rows.map((r) => [r.name, r]));
  const found = queriesInCode();

  it('when the code is read, then each query names its row in the README table', () => {
    expect(found.length).toBeGreaterThan(40);
    expect(found.filter((q) => q.name === null).map((q) => q.where)).toEqual([]);
    expect(found.filter((q) => q.name && !byName.has(q.name)).map((q) => `${q.where} names ${q.name}`)).toEqual([]);
  });

  it('when a row names a MongoDB index, then the models create it; a full pass is allowed only for rebuilds (*.all)', () => {
    const indexes = modelIndexes();
    const problems = rows.flatMap((r) => {
      if (r.mongo.startsWith('— full pass')) return r.name.endsWith('.all') ? [] : [`${r.name}: a full pass outside a rebuild`];
      // every collection has _id_, model or not (principals, recovery are plain collections)
      return r.mongo === '_id_' || indexes.get(r.collection)?.has(r.mongo) ? [] : [`${r.name}: ${r.collection} has no index ${r.mongo}`];
    });
    expect(problems).toEqual([]);
  });

  it('when a row names a FerretDB equality, then that field has its GIN index on that collection', () => {
    const problems = rows.flatMap((r) => {
      if (r.ferret.startsWith('— full pass')) return r.name.endsWith('.all') ? [] : [`${r.name}: a full pass outside a rebuild`];
      if (r.ferret.startsWith('— not served')) return ferretGaps.includes(r.name) ? [] : [`${r.name}: not served on FerretDB, and not a known gap`];
      const fields = [...r.ferret.matchAll(/eq\(([A-Za-z_]+)\)/g)].map((m) => m[1]);
      if (!fields.length) return [`${r.name}: no equality FerretDB can push down`];
      return fields.filter((f) => !FERRETDB_GIN[r.collection]?.includes(f)).map((f) => `${r.name}: no GIN index on ${r.collection}.${f}`);
    });
    expect(problems).toEqual([]);
  });

  it('when FerretDB cannot serve a query, then it is one of the known gaps, each listed as such', () => {
    expect(rows.filter((r) => r.ferret.startsWith('— not served')).map((r) => r.name).sort()).toEqual([...ferretGaps].sort());
  });

  it('when a query is named here rather than in its file, then the line is still there (no stale names)', () => {
    const stale = Object.entries(namedHere).flatMap(([f, pieces]) => {
      const text = files.includes(f) ? readFileSync(path.join(root, f), 'utf8') : '';
      return pieces.filter(([piece]) => !text.includes(piece)).map(([piece]) => `${f}: ${piece}`);
    });
    expect(stale).toEqual([]);
  });

  it('when the README lists a query, then the code still issues it (no stale rows)', () => {
    const used = new Set(found.map((q) => q.name));
    expect(rows.map((r) => r.name).filter((n) => !used.has(n))).toEqual([]);
  });
});
