import mongoose from 'mongoose';
import { newNamespace } from '../helpers/env';

const url = (process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27017/livegive').replace(/\/[^/?]*(\?|$)/, `/${newNamespace('mt')}$1`);

describe('mongodb wire server (real)', () => {
  const conn = mongoose.createConnection(url, { directConnection: true, serverSelectionTimeoutMS: 5000, autoIndex: false });
  const Thing = conn.model('Thing', new mongoose.Schema({ _id: String, code: { type: String, unique: true }, n: Number }));

  beforeAll(async () => { await conn.asPromise(); await Thing.createCollection(); await Thing.createIndexes(); });
  afterAll(async () => { await conn.dropDatabase(); await conn.close(); });

  it('when a duplicate is inserted against a unique index, then it is rejected with code 11000', async () => {
    await Thing.collection.insertOne({ _id: 'a' as never, code: 'x', n: 1 });
    await expect(Thing.collection.insertOne({ _id: 'b' as never, code: 'x', n: 2 })).rejects.toMatchObject({ code: 11000 });
    expect(await Thing.countDocuments()).toBe(1);
  });

  it('when insertMany is unordered, then the rest go in and the duplicates are reported', async () => {
    const docs = [{ _id: 'c', code: 'c', n: 1 }, { _id: 'd', code: 'x', n: 2 }, { _id: 'e', code: 'e', n: 3 }, { _id: 'c', code: 'c2', n: 4 }];
    let err: { code?: number; writeErrors?: unknown[]; result?: { insertedCount?: number }; insertedCount?: number } | undefined;
    try { await Thing.collection.insertMany(docs as never[], { ordered: false }); } catch (e) { err = e as typeof err; }
    expect(err?.code).toBe(11000);
    const writeErrors = (err as { writeErrors?: unknown[] }).writeErrors ?? [];
    expect(Array.isArray(writeErrors) ? writeErrors.length : 1).toBe(2);
    expect((await Thing.find({}, { _id: 1 }).lean()).map((d) => d._id).sort()).toEqual(['a', 'c', 'e']);
  });
});
