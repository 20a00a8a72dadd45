// Device objects built per shape (training graphs, decoders), kept for the most recent few: each holds activations
// or KV caches sized for its shape, so an unbounded map would grow with every distinct batch size seen.
export class Recent<V extends { destroy(): void }> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly keep: number) {}

  /** The object for `key`, built by `make` on a miss; the least recently used one beyond `keep` is destroyed. */
  get(key: string, make: () => V): V {
    let value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key); // re-inserted last: the map's order is the recency order
    } else {
      while (this.entries.size >= this.keep) {
        const [oldest, old] = this.entries.entries().next().value as [string, V];
        old.destroy();
        this.entries.delete(oldest);
      }
      value = make();
    }
    this.entries.set(key, value);
    return value;
  }

  destroy(): void {
    for (const v of this.entries.values()) v.destroy();
    this.entries.clear();
  }
}
