// A small seedable PRNG (sfc32) whose whole state is four uint32s, so buffers and samplers can save it in a
// checkpoint and a resumed run draws exactly the numbers an uninterrupted one would.

export type RngState = [number, number, number, number];

export class Rng {
  private s: Uint32Array;

  private constructor(state: RngState) {
    this.s = Uint32Array.from(state);
  }

  /** A generator seeded from any integer; equal seeds give equal streams. */
  static seeded(seed: number): Rng {
    if (!Number.isSafeInteger(seed)) throw new Error(`Rng seed must be a safe integer, got ${seed}`);
    // splitmix32 spreads a small seed over all four words; 12 warm-up draws decorrelate nearby seeds.
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    const rng = new Rng([next(), next(), next(), (Math.floor(seed / 2 ** 32) ^ next()) >>> 0]);
    for (let i = 0; i < 12; i++) rng.uint32();
    return rng;
  }

  static fromState(state: RngState): Rng {
    if (state.length !== 4 || state.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)) {
      throw new Error(`Rng state must be four uint32 words, got ${JSON.stringify(state)}`);
    }
    return new Rng(state);
  }

  state(): RngState {
    return [this.s[0], this.s[1], this.s[2], this.s[3]];
  }

  uint32(): number {
    const s = this.s;
    const t = (s[0] + s[1] + s[3]) >>> 0;
    s[3] = (s[3] + 1) >>> 0;
    s[0] = s[1] ^ (s[1] >>> 9);
    s[1] = (s[2] + (s[2] << 3)) >>> 0;
    s[2] = ((s[2] << 21) | (s[2] >>> 11)) >>> 0;
    s[2] = (s[2] + t) >>> 0;
    return t;
  }

  /** Uniform float in [0, 1) with 32 bits of resolution. */
  float(): number {
    return this.uint32() / 2 ** 32;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new Error(`Rng.int needs a positive integer bound, got ${n}`);
    return Math.floor(this.float() * n);
  }

  /** k distinct indices of [0, n), uniformly, in draw order (partial Fisher–Yates). */
  sampleIndices(n: number, k: number): number[] {
    if (k > n) throw new Error(`cannot draw ${k} distinct items from ${n}`);
    const pool = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + this.int(n - i);
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    return pool.slice(0, k);
  }

  /** k distinct items of xs, uniformly (numpy `choice(replace=False)` / Python `random.sample`). */
  sample<T>(xs: readonly T[], k: number): T[] {
    return this.sampleIndices(xs.length, k).map((i) => xs[i]);
  }

  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error("cannot pick from an empty list");
    return xs[this.int(xs.length)];
  }
}
