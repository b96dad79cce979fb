// Concurrent batched writes against MongoDB-wire servers named on the command line (name=url …):
// 4 writers × 10 batches of 90 unordered inserts (the ledger's pattern), then 4 × 10 bulk upserts
// guarded by a version (the projection's pattern), then a by-_id $in read of 250 keys (the allocator's
// existence check). Prints docs/s per backend and the ratio against the first.
import { MongoClient } from 'mongodb';

async function measure(url: string) {
  const client = await new MongoClient(url, { directConnection: true }).connect();
  const db = client.db();
  await db.dropDatabase();
  const c = db.collection<{ _id: string; [k: string]: unknown }>('w');
  await c.createIndex({ charityId: 1, seq: 1 }, { unique: true });
  const writers = 4, batches = Number(process.env.BATCHES ?? 10), size = 90; // FerretDB 1.24 never answers an update command of 100 or more statements
  let t = Date.now();
  await Promise.all(Array.from({ length: writers }, async (_, w) => {
    for (let b = 0; b < batches; b++) {
      await c.insertMany(Array.from({ length: size }, (_, i) => ({ _id: `e${w}_${b}_${i}`, charityId: `c${w}`, seq: b * size + i, amountFen: 200, hash: 'x'.repeat(64) })), { ordered: false });
    }
  }));
  const insertRate = (writers * batches * size) / ((Date.now() - t) / 1000);
  t = Date.now();
  await Promise.all(Array.from({ length: writers }, async (_, w) => {
    for (let b = 0; b < batches; b++) {
      await c.bulkWrite(Array.from({ length: size }, (_, i) => ({ updateOne: { filter: { _id: `o${w}_${b}_${i}`, v: { $lt: 1 } }, update: { $set: { v: 1, status: 'paid' } }, upsert: true } })), { ordered: false });
    }
  }));
  const upsertRate = (writers * batches * size) / ((Date.now() - t) / 1000);
  t = Date.now();
  for (let r = 0; r < 10; r++) await c.find({ _id: { $in: Array.from({ length: 250 }, (_, i) => `e1_${r}_${i}`) } }).toArray();
  const inReadMs = (Date.now() - t) / 10;
  await client.close();
  return { insertRate, upsertRate, inReadMs };
}

async function main() {
  const targets = process.argv.slice(2).map((a) => a.split(/=(.*)/s).slice(0, 2) as [string, string]);
  const results: Record<string, Awaited<ReturnType<typeof measure>>> = {};
  for (const [name, url] of targets) results[name] = await measure(url);
  const base = results[targets[0][0]];
  for (const [name, r] of Object.entries(results)) {
    console.log(`${name.padEnd(11)} inserts ${r.insertRate.toFixed(0).padStart(7)} docs/s (×${(r.insertRate / base.insertRate).toFixed(2)})  upserts ${r.upsertRate.toFixed(0).padStart(7)} docs/s (×${(r.upsertRate / base.upsertRate).toFixed(2)})  $in read of 250 ids ${r.inReadMs.toFixed(1)} ms`);
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
