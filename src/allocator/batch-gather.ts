/**
 * Gathers what is submitted within one turn of the event loop and hands it over as one group. kafkajs starts the
 * eachBatch calls of one fetch (one per partition holding events) in the same turn, so the allocator allocates a
 * fetch's small batches together: one read of the heads, one ledger insert, one set of derived writes, instead of
 * one of each per partition. Whatever arrives in a later turn forms its own group; grouping changes how many
 * round trips a fetch costs, never what is allocated.
 */
export class TurnGather<T, R> {
  private waiting: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];

  /** run answers one result per item, in the items' order */
  constructor(private readonly run: (items: T[]) => Promise<R[]>) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (this.waiting.push({ item, resolve, reject }) === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const group = this.waiting;
    this.waiting = [];
    this.run(group.map((g) => g.item)).then(
      (rs) => group.forEach((g, i) => g.resolve(rs[i])),
      (err: unknown) => group.forEach((g) => g.reject(err)),
    );
  }
}
