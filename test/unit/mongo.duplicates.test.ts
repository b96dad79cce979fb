import { MongoBulkWriteError, MongoNetworkError, MongoServerError } from 'mongodb';
import { onlyDuplicates } from '../../src/infra/mongo';

// The driver's own error shapes, built without a server: what a bulk insert throws in each case.
const bulkOf = (error: ConstructorParameters<typeof MongoBulkWriteError>[0]) =>
  new MongoBulkWriteError(error, {} as ConstructorParameters<typeof MongoBulkWriteError>[1]);

describe('onlyDuplicates (is a failed insert nothing but already-stored documents?)', () => {
  it('names the refused positions when every refusal is a duplicate key', () => {
    const e = bulkOf({ message: 'dup', code: 11000, writeErrors: [{ index: 1, code: 11000 }, { index: 4, code: 11000 }] } as never);
    expect(onlyDuplicates(e, 5)).toEqual([1, 4]);
  });

  it('is null when any refusal is something else', () => {
    const e = bulkOf({ message: 'mixed', code: 11000, writeErrors: [{ index: 1, code: 11000 }, { index: 2, code: 2 }] } as never);
    expect(onlyDuplicates(e, 5)).toBeNull();
  });

  it('is null for a network error during the bulk insert (empty writeErrors: nothing is known stored)', () => {
    const e = bulkOf(new MongoNetworkError('connection closed'));
    expect(e.writeErrors).toEqual([]);
    expect(onlyDuplicates(e, 3)).toBeNull();
  });

  it('accepts a lone duplicate key on a one-document insert, not on a many-document one', () => {
    const e = new MongoServerError({ message: 'E11000', code: 11000 });
    expect(onlyDuplicates(e, 1)).toEqual([0]);
    expect(onlyDuplicates(e, 2)).toBeNull();
  });

  it('is null for anything that is not a write error', () => {
    expect(onlyDuplicates(new Error('boom'), 1)).toBeNull();
    expect(onlyDuplicates(undefined, 1)).toBeNull();
  });
});
