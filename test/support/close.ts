// Element-by-element comparison of a computed tensor with its reference: every index must satisfy
// |got − want| ≤ abs + rel·|want| (NaN matches only NaN, an infinity only the same infinity). A norm ratio
// ‖a−b‖/‖b‖ lets one wrong element hide in a large tensor; this check does not. The one validator of kernel and
// model tests, and of bench/kernels.ts before it times an op.

export interface Tolerance {
  /** Absolute slack: what rounding leaves on elements near zero (cancellation in a sum scales with its terms). */
  readonly abs: number;
  /** Relative slack: what rounding leaves per unit of |want|. */
  readonly rel: number;
}

interface Miss {
  readonly index: number;
  readonly got: number;
  readonly want: number;
}

/** float64 against float64 computed in another order (TS reference vs torch): rounding only. */
export const FLOAT64: Tolerance = { abs: 1e-12, rel: 1e-12 };

const SHOWN = 5;

function within(got: number, want: number, tol: Tolerance): boolean {
  if (Number.isNaN(want)) return Number.isNaN(got);
  if (!Number.isFinite(want)) return got === want;
  return Math.abs(got - want) <= tol.abs + tol.rel * Math.abs(want);
}

/** The misses of `got` against `want`: their count and the first few. */
function findMisses(got: ArrayLike<number>, want: ArrayLike<number>, tol: Tolerance): { count: number; first: Miss[] } {
  if (got.length !== want.length) throw new Error(`length mismatch: got ${got.length} values, the reference has ${want.length}`);
  const first: Miss[] = [];
  let count = 0;
  for (let i = 0; i < got.length; i++) {
    if (within(got[i], want[i], tol)) continue;
    count += 1;
    if (first.length < SHOWN) first.push({ index: i, got: got[i], want: want[i] });
  }
  return { count, first };
}

/** Undefined when every element is within `tol`; otherwise a message naming `what`, the count and the first misses. */
export function describeMisses(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: Tolerance): string | undefined {
  const { count, first } = findMisses(got, want, tol);
  if (count === 0) return undefined;
  const shown = first.map((m) => `[${m.index}] got ${m.got}, want ${m.want}`).join("; ");
  return `${what}: ${count} of ${got.length} elements outside abs ${tol.abs} + rel ${tol.rel}; first: ${shown}`;
}

/** Throws (failing the test) unless every element of `got` is within `tol` of `want`; `note` is appended (the seed). */
export function expectClose(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: Tolerance, note = ""): void {
  const message = describeMisses(what, got, want, tol);
  if (message) throw new Error(note ? `${message} (${note})` : message);
}

/** A kernel's three-way check: its float64 TS reference against torch to rounding, the WGSL result against both. */
export function expectThreeWay(
  what: string,
  values: { readonly wgsl: ArrayLike<number>; readonly reference: ArrayLike<number>; readonly torch: ArrayLike<number> },
  tol: Tolerance,
  note = "",
): void {
  expectClose(`${what} (TS reference vs torch)`, values.reference, values.torch, FLOAT64, note);
  expectClose(`${what} (WGSL vs torch)`, values.wgsl, values.torch, tol, note);
  expectClose(`${what} (WGSL vs TS reference)`, values.wgsl, values.reference, tol, note);
}
