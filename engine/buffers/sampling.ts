// How a step draws from the buffers (docs/reference.md §5, "Growth and sampling"): K references without replacement for a
// deduction/abduction proposer, one snippet from the union of those two buffers for an induction proposer, and the
// solve batch by the max_new mix. All draws come from the caller's Rng so a resumed run repeats them.
import type { RecentSet, SolveMix } from "../config/schema.ts";
import type { Rng } from "../rng.ts";
import type { OfferedCounts } from "./buffer.ts";

/** min(k, n) distinct entries, uniformly (numpy choice(replace=False, p=uniform)). */
export function drawReferences<T>(entries: readonly T[], k: number, rng: Rng): T[] {
  return rng.sample(entries, Math.min(k, entries.length));
}

/** One snippet from abduction ∪ deduction as a multiset: a seed that sits in both buffers counts twice. */
export function drawInductionSource<T>(abduction: readonly T[], deduction: readonly T[], rng: Rng): T {
  return rng.pick([...abduction, ...deduction]);
}

/**
 * k uniform draws, without replacement while the pool lasts: when k exceeds the pool, it is drawn again in whole
 * shuffled rounds (Python's random.sample would raise instead; a tiny zero-seed buffer needs this).
 */
export function drawRounds<T>(pool: readonly T[], k: number, rng: Rng): T[] {
  if (pool.length === 0) throw new Error("cannot draw a solve batch from an empty buffer");
  const out: T[] = [];
  while (out.length < k) out.push(...rng.sample(pool, Math.min(pool.length, k - out.length)));
  return out;
}

/**
 * The entries max_new prefers at step t: those of steps s with t − s ≤ window (seeds count at t ≤ window).
 * last_offered (the reference's `full_dataset[-total_recent:]`): the buffer's last N entries, N = programs offered at
 * those steps, kept or not, so a full keep_oldest buffer keeps calling its last kept programs recent. step_tag: the
 * entries tagged with those steps, which is none once a keep_oldest buffer is full.
 */
export function recentEntries<T extends { step: number }>(
  entries: readonly T[],
  offered: OfferedCounts,
  step: number,
  window: number,
  set: RecentSet,
): T[] {
  if (set === "step_tag") return entries.filter((p) => step - p.step <= window);
  const n = offered.reduce((acc, [s, count]) => acc + (step - s <= window ? count : 0), 0);
  return n > 0 ? entries.slice(-n) : [];
}

/**
 * The solve batch. max_new: up to `size` of the recent entries, then a uniform fill from the whole buffer, which may
 * repeat the recent picks. uniform_total: uniform.
 */
export function drawSolveBatch<T>(entries: readonly T[], recent: readonly T[], size: number, mix: SolveMix, rng: Rng): T[] {
  if (mix === "uniform_total") return drawRounds(entries, size, rng);
  const picked = rng.sample(recent, Math.min(recent.length, size));
  return picked.length === size ? picked : [...picked, ...drawRounds(entries, size - picked.length, rng)];
}
