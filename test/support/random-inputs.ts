// Fresh random test inputs on every run, reproducible on demand: the seed comes from TEST_SEED when set, otherwise
// from the clock, and every test names it in its failure message (`seedNote`).
export const TEST_SEED = Number(process.env.TEST_SEED ?? Date.now() % 2 ** 31);
export const seedNote = `(TEST_SEED=${TEST_SEED} reproduces this run)`;

/** A small seeded generator (mulberry32): uniform floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** `n` samples of N(0, scale²) (Box–Muller). */
export function normals(next: () => number, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = 1 - next();
    out[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  }
  return out;
}

/** `n` integers uniform in [0, max). */
export function ints(next: () => number, n: number, max: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(next() * max);
  return out;
}
