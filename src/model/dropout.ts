import type { FloatArray } from './precision.js';
/**
 * Dropout masks from Philox4x32-10 (Salmon, Moraes, Dror and Shaw, "Parallel random numbers: as
 * easy as 1, 2, 3", SC 2011; the Random123 library). A counter-based generator is a pure function
 * of (counter, key), so a mask depends only on where it is used, never on which thread draws it or
 * on what was drawn before: the thread count cannot change the numbers.
 *
 * The draw for unit u of the mask at (seed, step, stream, layer, t):
 *   key     = [seed, step]
 *   counter = [u >>> 2, layer * 2^24 + t, stream, DROPOUT_TAG]
 *   x       = philox4x32_10(counter, key)[u & 3]          one uint32; all four words are used
 *   unit u is dropped iff x / 2^32 < p                     so P(drop) is within 2^-32 of p
 * Each field has its own bits, so two different (seed, step, stream, layer, t, u) never share a
 * draw, for seed, step, stream < 2^32, layer < 2^8, t < 2^24 and u < 2^32; outside these bounds
 * dropoutMask throws a RangeError. DROPOUT_TAG keeps any other use of Philox keyed by the same
 * seed (it must pick another tag) from reusing these counters. Unit u's draw does not depend on
 * the mask's length, so a shorter mask is a prefix of a longer one.
 */

export interface DropoutKey {
  /** The run's seed, an integer in [0, 2^32). */
  readonly seed: number;
  /** Optimizer step, an integer in [0, 2^32). */
  readonly step: number;
  /** Stream (batch row), an integer in [0, 2^32). */
  readonly stream: number;
  /** Layer, an integer in [0, 2^8). */
  readonly layer: number;
  /** Time step within the sequence, an integer in [0, 2^24). */
  readonly t: number;
  /** Probability of dropping a unit, in [0, 1). */
  readonly p: number;
}

/** 'drop' in ASCII: the fourth counter word of every dropout draw. */
export const DROPOUT_TAG = 0x64726f70;

export const PHILOX_ROUNDS = 10;

/**
 * Fills out (H) with an inverted-dropout mask: 0 where a unit is dropped, 1 / (1 - p) where it is
 * kept, so that the expected value of mask * h is h. p = 0 gives all ones without drawing. A
 * Float32Array holds the float32 kernels' masks: 1 / (1 - p) rounded to float32.
 */
export function dropoutMask<A extends FloatArray>(out: A, key: DropoutKey): A {
  const { seed, step, stream, layer, t, p } = key;
  if (typeof p !== 'number' || !(p >= 0 && p < 1)) {
    throw new RangeError(`dropout p must be a number in [0, 1), got ${String(p)}`);
  }
  checkField('dropout seed', seed, 2 ** 32);
  checkField('dropout step', step, 2 ** 32);
  checkField('dropout stream', stream, 2 ** 32);
  checkField('dropout layer', layer, 2 ** 8);
  checkField('dropout t', t, 2 ** 24);
  const n = out.length;
  if (n > 2 ** 32) throw new RangeError(`a dropout mask has at most 2^32 units, got ${n}`);
  if (p === 0) {
    out.fill(1);
    return out;
  }

  const kept = 1 / (1 - p);
  const threshold = p * 4294967296; // x / 2^32 < p  <=>  x < p * 2^32, exactly: 2^32 is a power of two
  const c1 = layer * 16777216 + t;
  const words = new Uint32Array(4);
  for (let u = 0; u < n; u += 4) {
    philoxBlock(words, u >>> 2, c1, stream, DROPOUT_TAG, seed, step, PHILOX_ROUNDS);
    const lanes = Math.min(4, n - u);
    for (let lane = 0; lane < lanes; lane++) {
      out[u + lane] = words[lane] < threshold ? 0 : kept;
    }
  }
  return out;
}

/**
 * Fills out (L, T, H) with the masks of one stream's sequence: row (l, t) is dropoutMask for
 * (seed, step, stream, layer l, t), the layout the cells (src/model/cells/) take.
 */
export function sequenceMasks<A extends FloatArray>(out: A, { L, T, H }: { L: number; T: number; H: number }, key: Omit<DropoutKey, 'layer' | 't'>): A {
  if (out.length !== L * T * H) throw new RangeError(`sequence masks need L*T*H = ${L * T * H} numbers, got ${out.length}`);
  for (let l = 0; l < L; l++) {
    for (let t = 0; t < T; t++) dropoutMask(out.subarray((l * T + t) * H, (l * T + t + 1) * H) as A, { ...key, layer: l, t });
  }
  return out;
}

/**
 * Philox4x32-R on a 4-word counter and a 2-word key (uint32 words, in Random123's order); R = 10
 * is the standard generator. Writes the 4 output words into out and returns it.
 */
export function philox4x32(
  counter: ArrayLike<number>,
  key: ArrayLike<number>,
  out: Uint32Array = new Uint32Array(4),
  rounds: number = PHILOX_ROUNDS,
): Uint32Array {
  if (counter.length !== 4) throw new RangeError(`a Philox4x32 counter is 4 words, got ${counter.length}`);
  if (key.length !== 2) throw new RangeError(`a Philox4x32 key is 2 words, got ${key.length}`);
  if (out.length < 4) throw new RangeError(`a Philox4x32 output needs 4 words, got ${out.length}`);
  for (let i = 0; i < 4; i++) checkField(`Philox counter[${i}]`, counter[i], 2 ** 32);
  for (let i = 0; i < 2; i++) checkField(`Philox key[${i}]`, key[i], 2 ** 32);
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`Philox rounds must be a positive integer, got ${rounds}`);
  philoxBlock(out, counter[0], counter[1], counter[2], counter[3], key[0], key[1], rounds);
  return out;
}

/**
 * The high word of the 64-bit product of two uint32s (Math.imul gives only the low word); an int32
 * stands for the uint32 with the same bits. With 16-bit halves a = a1 2^16 + a0 and
 * b = b1 2^16 + b0, every partial product is below 2^32, and
 *   a b = a1 b1 2^32 + (a1 b0 + a0 b1) 2^16 + a0 b0
 * so the high word is a1 b1 + the high halves of the middle products + the carry out of the sum of
 * their low halves and the high half of a0 b0 (that sum stays below 3 * 2^16).
 */
export function mulHi32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const mid1 = a1 * b0;
  const mid2 = a0 * b1;
  const carry = (((a0 * b0) >>> 16) + (mid1 & 0xffff) + (mid2 & 0xffff)) >>> 16;
  return (a1 * b1 + (mid1 >>> 16) + (mid2 >>> 16) + carry) >>> 0;
}

// Random123's Philox4x32 multipliers, and its Weyl key increments: 2^32 (golden ratio - 1), 2^32 (sqrt(3) - 1).
const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/**
 * Philox4x32-R on words already known to be uint32s; writes out[0..3]. The state is kept as int32
 * (`| 0`), which V8 keeps in registers; the xors and Math.imul do not care about the sign.
 */
function philoxBlock(
  out: Uint32Array,
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  rounds: number,
): void {
  let x0 = c0 | 0;
  let x1 = c1 | 0;
  let x2 = c2 | 0;
  let x3 = c3 | 0;
  k0 |= 0;
  k1 |= 0;
  for (let r = 0; r < rounds; r++) {
    if (r > 0) {
      k0 = (k0 + W0) | 0; // the key is bumped before every round but the first
      k1 = (k1 + W1) | 0;
    }
    const hi0 = mulHi32(M0, x0);
    const lo0 = Math.imul(M0, x0);
    const hi1 = mulHi32(M1, x2);
    const lo1 = Math.imul(M1, x2);
    x0 = hi1 ^ x1 ^ k0;
    x1 = lo1;
    x2 = hi0 ^ x3 ^ k1;
    x3 = lo0;
  }
  out[0] = x0;
  out[1] = x1;
  out[2] = x2;
  out[3] = x3;
}

function checkField(what: string, value: number, bound: number): void {
  if (!Number.isInteger(value) || value < 0 || value >= bound) {
    throw new RangeError(`${what} must be an integer in [0, 2^${Math.log2(bound)}), got ${String(value)}`);
  }
}
