// One task type's program buffer (spec §5): programs in insertion order, each tagged with the step that added it,
// a cap that keeps the oldest (reference) or evicts them (fifo), and optional dedup. Plain data, so a checkpoint
// stores it as JSON and a resumed run sees exactly the same list.
import type { CapPolicy } from "../config/schema.ts";

export interface BufferOptions {
  cap: number;
  capPolicy: CapPolicy;
  dedup: boolean;
}

export type AddOutcome = "added" | "duplicate" | "full";

export class ProgramBuffer<P extends { step: number }> {
  private items: P[] = [];
  private readonly keys = new Set<string>();

  constructor(
    private readonly opts: BufferOptions,
    /** Identity of a program for dedup (e.g. snippet + input). */
    private readonly keyOf: (p: P) => string,
  ) {}

  get size(): number {
    return this.items.length;
  }

  /** A copy of the current entries, oldest first: what a step samples from before its own proposals land. */
  snapshot(): P[] {
    return this.items.slice();
  }

  add(p: P): AddOutcome {
    const key = this.keyOf(p);
    if (this.opts.dedup && this.keys.has(key)) return "duplicate";
    if (this.items.length >= this.opts.cap) {
      if (this.opts.capPolicy === "keep_oldest") return "full";
      const evicted = this.items.shift() as P;
      if (!this.items.some((q) => this.keyOf(q) === this.keyOf(evicted))) this.keys.delete(this.keyOf(evicted));
    }
    this.items.push(p);
    this.keys.add(key);
    return "added";
  }

  toJSON(): P[] {
    return this.items;
  }

  /** Replaces the contents with saved entries (a checkpoint), keeping only those added at or before `step`. */
  restore(entries: readonly P[], step: number): void {
    this.items = entries.filter((p) => p.step <= step).map((p) => structuredClone(p));
    this.keys.clear();
    for (const p of this.items) this.keys.add(this.keyOf(p));
  }
}
