/**
 * xoshiro128** (Blackman and Vigna): 32-bit arithmetic only, so it is fast in JavaScript, and its
 * whole state is four uint32 words that a checkpoint can store and restore.
 */
export class Prng {
  private readonly s: Uint32Array;

  private constructor(state: Uint32Array) {
    this.s = state;
  }

  /** Expands an integer seed with splitmix32 so that nearby seeds give unrelated streams. */
  static fromSeed(seed: number): Prng {
    let x = seed >>> 0;
    const state = new Uint32Array(4);
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      state[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (state.every((word) => word === 0)) state[0] = 1; // the all-zero state is a fixed point
    return new Prng(state);
  }

  static fromState(state: ArrayLike<number>): Prng {
    if (state.length !== 4) throw new RangeError('a PRNG state is four uint32 words');
    const words = Uint32Array.from(state);
    if (words.every((word) => word === 0)) throw new RangeError('the all-zero PRNG state is invalid');
    return new Prng(words);
  }

  state(): Uint32Array {
    return Uint32Array.from(this.s);
  }

  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  nextDouble(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** Standard normal by Box-Muller; the second value is dropped so the state alone is the whole story. */
  nextGaussian(): number {
    const u1 = 1 - this.nextDouble(); // (0, 1]: log(0) cannot happen
    const u2 = this.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
