// IEEE half precision (f16) on the host: the bits tensors of dtype "f16" hold, converted from and to f32.
//
//   toHalf(data, "q_proj")     // Uint16Array of f16 bits, round to nearest even; a finite value past ±65504 throws
//   fromHalf(bits)             // back to f32, exactly (every f16 is an f32)
//   halfToF32(h) / f32ToHalf(x) // one value
//
// Safetensors reads and writes F16 with the same two conversions (engine/model/safetensors.ts).

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** f16 bits → value. */
export function halfToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** f32 → f16 bits, round to nearest even, subnormals kept, overflow to infinity (as torch's .half()). */
export function f32ToHalf(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const biased = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (biased === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const exp = biased - 127 + 15;
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    return sign | ((mant + (1 << (shift - 1)) - 1 + ((mant >>> shift) & 1)) >>> shift);
  }
  return (sign | (exp << 10)) + ((mant + 0xfff + ((mant >>> 13) & 1)) >>> 13); // a carry into the exponent is right
}

/** The largest finite f16. */
export const HALF_MAX = 65504;

/**
 * `data` as f16 bits for a tensor stored in half precision. A finite value that would round to infinity is an error
 * naming `what` (a weight past ±65504 cannot be stored in f16; keep that model in f32), never a silent infinity.
 */
export function toHalf(data: ArrayLike<number>, what: string): Uint16Array {
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const h = f32ToHalf(data[i]);
    if ((h & 0x7fff) === 0x7c00 && Number.isFinite(data[i])) {
      throw new Error(`${what}: element ${i} = ${data[i]} is outside the f16 range (±${HALF_MAX}); store this model in f32`);
    }
    out[i] = h;
  }
  return out;
}

/** f16 bits back to f32 (exact). */
export function fromHalf(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = halfToF32(bits[i]);
  return out;
}
