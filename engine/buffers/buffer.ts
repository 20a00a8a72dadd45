// One task type's program buffer (docs/reference.md §5): programs in insertion order, each tagged with the step that
// added it, a cap that keeps the oldest (reference) or evicts them (fifo), optional dedup, and the count of programs
// offered per step, kept or not (the reference's *_steps_counter, which max_new reads). Plain data, so a checkpoint
// stores it as JSON and a resumed run sees exactly the same list.
import type { CapPolicy } from "../config/schema.ts";

export interface BufferOptions {
  cap: number;
  capPolicy: CapPolicy;
  dedup: boolean;
}

export type AddOutcome = "added" | "duplicate" | "full" | "held_out";
/** [step, programs offered at that step] pairs, oldest step first. */
export type OfferedCounts = Array<[step: number, count: number]>;

export class ProgramBuffer<P extends { step: number }> {
  private items: P[] = [];
  private readonly keys = new Set<string>();
  private offered = new Map<number, number>();

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

  /** Programs offered per step, kept or dropped by the cap (duplicates under dedup are not counted). */
  offeredCounts(): OfferedCounts {
    return [...this.offered].sort((a, b) => a[0] - b[0]);
  }

  add(p: P): AddOutcome {
    const key = this.keyOf(p);
    if (this.opts.dedup && this.keys.has(key)) return "duplicate";
    this.offered.set(p.step, (this.offered.get(p.step) ?? 0) + 1);
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

  /**
   * Replaces the contents with saved entries and counts (a checkpoint), keeping only those of steps ≤ `step`. A
   * checkpoint without counts (written before they existed) gets them from the entries' own steps.
   */
  restore(entries: readonly P[], step: number, offered?: OfferedCounts): void {
    this.items = entries.filter((p) => p.step <= step).map((p) => structuredClone(p));
    this.keys.clear();
    for (const p of this.items) this.keys.add(this.keyOf(p));
    this.offered = new Map();
    if (offered === undefined) for (const p of this.items) this.offered.set(p.step, (this.offered.get(p.step) ?? 0) + 1);
    else for (const [s, n] of offered) if (s <= step) this.offered.set(s, n);
  }
}
