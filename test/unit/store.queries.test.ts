import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import mongoose from 'mongoose';
import { registerLedgerModel } from '../../src/allocator/ledger.repository';
import { registerDerivedModels } from '../../src/allocator/ledger-derived.repository';
import { registerOrderModels } from '../../src/orders/orders.models';
import { registerAgreementModels } from '../../src/agreements/agreement.models';
import { registerRemittanceModel } from '../../src/remittances/remittance.models';
import { registerPublishedStatementModel } from '../../src/statements/scheduled-statements';
import { FERRETDB_GIN } from '../../src/infra/ferretdb-indexes';

const root = path.resolve(__dirname, '../..');
/** The repositories of the ledger, its derived documents, statements, receipts, orders and pledge agreements. */
const files = [
  ...['ledger.repository.ts', 'ledger-derived.repository.ts', 'append-entries.ts'].map((f) => `src/allocator/${f}`),
  ...readdirSync(path.join(root, 'src/statements')).filter((f) => f.endsWith('.ts')).map((f) => `src/statements/${f}`),
  'src/orders/orders.models.ts', 'src/orders/get-order.ts',
  'src/agreements/agreements.repository.ts',
  ...readdirSync(path.join(root, 'src/remittances')).filter((f) => f.endsWith('.ts')).map((f) => `src/remittances/${f}`),
  'src/agreements/layers.ts',
];
// a driver call with a filter (an object or a variable named filter), or a bulk operation's filter
const call = /\.(find|findOne|updateOne|updateMany|replaceOne|deleteOne|deleteMany|countDocuments|distinct|aggregate)\(\s*(\{|filter\b|\[)|\bfilter: \{/;

interface Row { name: string; collection: string; mongo: string; ferret: string }
function readmeRows(text: string): Row[] {
  const section = text.slice(text.indexOf('## Queries and their indexes'));
  return section.split('\n').filter((l) => /^\| `[a-z]+\.[A-Za-z]+` \|/.test(l)).map((l) => {
    const [name, collection, , mongo, ferret] = l.split(' | ').map((c) => c.replace(/^\| /, '').trim());
    return { name: name.replace(/`/g, ''), collection, mongo: mongo.replace(/`/g, ''), ferret };
  });
}

/** Each query found in the code, by the name its `// query:` comment gives (same line or the line before). */
function queriesInCode(): Array<{ where: string; name: string | null }> {
  const out: Array<{ where: string; name: string | null }> = [];
  for (const f of files) {
    const lines = readFileSync(path.join(root, f), 'utf8').split('\n');
    lines.forEach((l, i) => {
      if (!call.test(l)) return;
      const named = /query: ([a-z]+\.[A-Za-z]+)/.exec(l) ?? /query: ([a-z]+\.[A-Za-z]+)/.exec(lines[i - 1] ?? '');
      out.push({ where: `${f}:${i + 1}`, name: named?.[1] ?? null });
    });
  }
  return out;
}

/** The indexes the mongoose models create, by collection, named as MongoDB names them (blockKey_1). */
function modelIndexes(): Map<string, Set<string>> {
  const conn = mongoose.createConnection();
  registerLedgerModel(conn);
  registerDerivedModels(conn);
  registerOrderModels(conn);
  registerAgreementModels(conn);
  registerRemittanceModel(conn);
  registerPublishedStatementModel(conn);
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
    expect(found.length).toBeGreaterThan(10);
    expect(found.filter((q) => q.name === null).map((q) => q.where)).toEqual([]);
    expect(found.filter((q) => q.name && !byName.has(q.name)).map((q) => `${q.where} names ${q.name}`)).toEqual([]);
  });

  it('when a row names a MongoDB index, then the models create it; a full pass is allowed only for rebuilds (*.all)', () => {
    const indexes = modelIndexes();
    const problems = rows.flatMap((r) => {
      if (r.mongo.startsWith('— full pass')) return r.name.endsWith('.all') ? [] : [`${r.name}: a full pass outside a rebuild`];
      return indexes.get(r.collection)?.has(r.mongo) ? [] : [`${r.name}: ${r.collection} has no index ${r.mongo}`];
    });
    expect(problems).toEqual([]);
  });

  it('when a row names a FerretDB equality, then that field has its GIN index on that collection', () => {
    const problems = rows.flatMap((r) => {
      if (r.ferret.startsWith('— full pass')) return r.name.endsWith('.all') ? [] : [`${r.name}: a full pass outside a rebuild`];
      const fields = [...r.ferret.matchAll(/eq\(([A-Za-z_]+)\)/g)].map((m) => m[1]);
      if (!fields.length) return [`${r.name}: no equality FerretDB can push down`];
      return fields.filter((f) => !FERRETDB_GIN[r.collection]?.includes(f)).map((f) => `${r.name}: no GIN index on ${r.collection}.${f}`);
    });
    expect(problems).toEqual([]);
  });

  it('when the README lists a query, then the code still issues it (no stale rows)', () => {
    const used = new Set(found.map((q) => q.name));
    expect(rows.map((r) => r.name).filter((n) => !used.has(n))).toEqual([]);
  });
});
