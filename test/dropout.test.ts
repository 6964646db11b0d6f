import test from 'ava';
import { DROPOUT_TAG, dropoutMask, mulHi32, philox4x32, type DropoutKey } from '../src/model/dropout.js';
import { Prng } from '../src/model/prng.js';

// Random123's tests/kat_vectors, the "philox4x32 7" and "philox4x32 10" lines:
// counter (4 words), key (2 words) -> output (4 words).
const KAT: ReadonlyArray<{ rounds: number; counter: number[]; key: number[]; expected: number[] }> = [
  { rounds: 10, counter: [0, 0, 0, 0], key: [0, 0], expected: [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8] },
  {
    rounds: 10,
    counter: [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
    key: [0xffffffff, 0xffffffff],
    expected: [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
  },
  {
    rounds: 10,
    counter: [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
    key: [0xa4093822, 0x299f31d0],
    expected: [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
  },
  { rounds: 7, counter: [0, 0, 0, 0], key: [0, 0], expected: [0x5f6fb709, 0x0d893f64, 0x4f121f81, 0x4f730a48] },
  {
    rounds: 7,
    counter: [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
    key: [0xffffffff, 0xffffffff],
    expected: [0x5207ddc2, 0x45165e59, 0x4d8ee751, 0x8c52f662],
  },
  {
    rounds: 7,
    counter: [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
    key: [0xa4093822, 0x299f31d0],
    expected: [0x4dfccaba, 0x190a87f0, 0xc47362ba, 0xb6b5242a],
  },
];

const hex = (words: ArrayLike<number>) => Array.from(words, (w) => w.toString(16).padStart(8, '0')).join(' ');

/** Philox4x32-R with exact BigInt products: an oracle for the Number arithmetic, itself checked on KAT. */
function philoxBigInt(counter: readonly number[], key: readonly number[], rounds = 10): number[] {
  const mask = 0xffffffffn;
  let [x0, x1, x2, x3] = counter.map(BigInt);
  let [k0, k1] = key.map(BigInt);
  for (let r = 0; r < rounds; r++) {
    if (r > 0) {
      k0 = (k0 + 0x9e3779b9n) & mask;
      k1 = (k1 + 0xbb67ae85n) & mask;
    }
    const p0 = 0xd2511f53n * x0;
    const p1 = 0xcd9e8d57n * x2;
    [x0, x1, x2, x3] = [(p1 >> 32n) ^ x1 ^ k0, p1 & mask, (p0 >> 32n) ^ x3 ^ k1, p0 & mask];
  }
  return [x0, x1, x2, x3].map(Number);
}

const BASE: DropoutKey = { seed: 1, step: 0, stream: 0, layer: 0, t: 0, p: 0.5 };

function mask(key: Partial<DropoutKey>, H = 256): Float64Array {
  return dropoutMask(new Float64Array(H), { ...BASE, ...key });
}

/** |observed - expected| in standard deviations of a binomial(n, q) count. */
function binomialZ(count: number, n: number, q: number): number {
  return Math.abs(count - n * q) / Math.sqrt(n * q * (1 - q));
}

test('Philox4x32 reproduces the Random123 known-answer vectors for 10 and 7 rounds', (t) => {
  for (const { rounds, counter, key, expected } of KAT) {
    t.is(hex(philox4x32(counter, key, new Uint32Array(4), rounds)), hex(expected), `philox4x32-${rounds} ${hex(counter)} / ${hex(key)}`);
    t.is(hex(philoxBigInt(counter, key, rounds)), hex(expected), 'the BigInt oracle');
  }
  t.is(hex(philox4x32([0, 0, 0, 0], [0, 0])), hex(KAT[0].expected), '10 rounds by default');
});

test('mulHi32 is the high word of the exact 64-bit product, at the edges and at random, given uint32 or int32 bits', (t) => {
  const edges = [0, 1, 2, 0xffff, 0x10000, 0x10001, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff];
  const pairs: Array<[number, number]> = [];
  for (const a of edges) for (const b of edges) pairs.push([a, b]);
  const prng = Prng.fromSeed(11);
  for (let i = 0; i < 20_000; i++) pairs.push([prng.nextUint32(), prng.nextUint32()]);
  for (const m of [0xd2511f53, 0xcd9e8d57]) for (let i = 0; i < 5_000; i++) pairs.push([m, prng.nextUint32()]);
  let wrong = 0;
  let example = '';
  for (const [a, b] of pairs) {
    const expected = Number((BigInt(a) * BigInt(b)) >> 32n);
    if (mulHi32(a, b) !== expected || mulHi32(a | 0, b | 0) !== expected) {
      wrong++;
      example ||= `${a} * ${b}: ${mulHi32(a, b)} instead of ${expected}`;
    }
  }
  t.is(wrong, 0, example);
});

test('Philox4x32-10 equals the BigInt oracle on random counters and keys', (t) => {
  const prng = Prng.fromSeed(12);
  for (let i = 0; i < 2_000; i++) {
    const counter = [prng.nextUint32(), prng.nextUint32(), prng.nextUint32(), prng.nextUint32()];
    const key = [prng.nextUint32(), prng.nextUint32()];
    t.is(hex(philox4x32(counter, key)), hex(philoxBigInt(counter, key)), `${hex(counter)} / ${hex(key)}`);
  }
});

test('dropoutMask follows the documented key and counter layout, using all four words of each block', (t) => {
  const cases: DropoutKey[] = [
    { seed: 0, step: 0, stream: 0, layer: 0, t: 0, p: 0.5 },
    { seed: 0xffffffff, step: 0xffffffff, stream: 0xffffffff, layer: 255, t: 2 ** 24 - 1, p: 0.25 },
    { seed: 1234, step: 77, stream: 31, layer: 1, t: 63, p: 0.9 },
  ];
  for (const key of cases) {
    const H = 23; // not a multiple of 4: the last block is used in part
    const out = dropoutMask(new Float64Array(H), key);
    for (let u = 0; u < H; u++) {
      const counter = [u >>> 2, key.layer * 2 ** 24 + key.t, key.stream, DROPOUT_TAG];
      const x = philoxBigInt(counter, [key.seed, key.step])[u & 3];
      const expected = x / 2 ** 32 < key.p ? 0 : 1 / (1 - key.p);
      t.is(out[u], expected, `unit ${u} of ${JSON.stringify(key)}`);
    }
  }
});

test('the kept fraction is within 5 binomial standard deviations of 1 - p, and values are exactly 0 or 1/(1-p)', (t) => {
  for (const p of [0.01, 0.1, 0.25, 1 / 3, 0.5, 0.9, 0.999]) {
    const kept = 1 / (1 - p);
    let n = 0;
    let keptCount = 0;
    let other = 0;
    for (let stream = 0; stream < 4; stream++) {
      for (let layer = 0; layer < 2; layer++) {
        for (let step = 0; step < 64; step++) {
          const out = mask({ seed: 5, step, stream, layer, t: step % 7, p });
          for (const v of out) {
            if (v === kept) keptCount++;
            else if (v !== 0) other++;
          }
          n += out.length;
        }
      }
    }
    t.is(other, 0, `p = ${p}: values other than 0 and ${kept}`);
    const z = binomialZ(keptCount, n, 1 - p);
    t.true(z < 5, `p = ${p}: kept ${keptCount} of ${n}, z = ${z.toFixed(2)}`);
  }
});

test('the same key gives the same mask bit for bit, and a shorter mask is a prefix of a longer one', (t) => {
  const key: DropoutKey = { seed: 42, step: 1000, stream: 17, layer: 1, t: 33, p: 0.3 };
  const a = dropoutMask(new Float64Array(300), key);
  const b = dropoutMask(new Float64Array(300).fill(7), key);
  t.deepEqual(Array.from(b), Array.from(a));
  const short = dropoutMask(new Float64Array(13), key);
  t.deepEqual(Array.from(short), Array.from(a.subarray(0, 13)));
});

test('changing any one of seed, step, stream, layer and t changes the mask', (t) => {
  const base: DropoutKey = { seed: 9, step: 100, stream: 3, layer: 1, t: 10, p: 0.5 };
  const changes: Array<Partial<DropoutKey>> = [
    { seed: 10 }, { seed: 0 }, { seed: 0xffffffff },
    { step: 101 }, { step: 0 }, { step: 0xffffffff },
    { stream: 4 }, { stream: 0 }, { stream: 2 ** 16 + 3 }, { stream: 0xffffffff },
    { layer: 0 }, { layer: 2 }, { layer: 255 },
    { t: 11 }, { t: 0 }, { t: 2 ** 24 - 1 },
  ];
  const reference = mask(base);
  for (const change of changes) {
    const other = mask({ ...base, ...change });
    const differing = other.reduce((count, v, u) => count + (v !== reference[u] ? 1 : 0), 0);
    // Unrelated masks differ in half the units at p = 0.5: 128 of 256, a standard deviation of 8.
    t.true(binomialZ(differing, 256, 0.5) < 5, `${JSON.stringify(change)}: ${differing} of 256 units differ`);
  }
});

test('masks show no obvious correlation between units, time steps, streams, layers, steps or seeds', (t) => {
  const p = 0.3;
  const q = p * p + (1 - p) * (1 - p); // the agreement rate of two independent units
  const H = 256;
  const agreement = new Map<string, { agree: number; n: number }>();
  const count = (name: string, a: Float64Array, ia: number, b: Float64Array, ib: number) => {
    const entry = agreement.get(name) ?? { agree: 0, n: 0 };
    entry.agree += a[ia] === b[ib] ? 1 : 0;
    entry.n++;
    agreement.set(name, entry);
  };
  for (let stream = 0; stream < 8; stream++) {
    for (let step = 0; step < 32; step++) {
      const key: DropoutKey = { seed: 3, step, stream, layer: 0, t: step % 5, p };
      const here = mask(key, H);
      const neighbours: Record<string, Float64Array> = {
        't + 1': mask({ ...key, t: key.t + 1 }, H),
        'stream + 1': mask({ ...key, stream: stream + 1 }, H),
        'layer + 1': mask({ ...key, layer: 1 }, H),
        'step + 1': mask({ ...key, step: step + 1 }, H),
        'seed + 1': mask({ ...key, seed: 4 }, H),
      };
      for (let u = 0; u < H; u++) {
        for (const lag of [1, 2, 3, 4, 5, 8]) if (u + lag < H) count(`unit + ${lag}`, here, u, here, u + lag);
        for (const [name, other] of Object.entries(neighbours)) count(name, here, u, other, u);
      }
    }
  }
  for (const [name, { agree, n }] of agreement) {
    const z = binomialZ(agree, n, q);
    t.true(z < 5, `${name}: agreement ${(agree / n).toFixed(4)} against ${q.toFixed(4)} over ${n} pairs, z = ${z.toFixed(2)}`);
  }
});

test('p = 0 gives all ones, whatever the key and whatever the array held', (t) => {
  for (const seed of [0, 1, 0xffffffff]) {
    const out = dropoutMask(new Float64Array(37).fill(-3), { ...BASE, seed, p: 0 });
    t.true(out.every((v) => v === 1));
  }
  t.is(dropoutMask(new Float64Array(0), { ...BASE, p: 0.5 }).length, 0);
});

test('a p outside [0, 1) or a field outside its bounds throws a RangeError that names it', (t) => {
  for (const p of [-0.1, 1, 1.5, Number.NaN, Infinity, -Infinity]) {
    const error = t.throws(() => mask({ p }), { instanceOf: RangeError }, `p = ${p}`);
    t.regex(error?.message ?? '', /dropout p/);
  }
  const bad: Array<[keyof DropoutKey, number]> = [
    ['seed', -1], ['seed', 2 ** 32], ['seed', 1.5], ['seed', Number.NaN],
    ['step', -1], ['step', 2 ** 32], ['step', 0.5],
    ['stream', -1], ['stream', 2 ** 32],
    ['layer', -1], ['layer', 256],
    ['t', -1], ['t', 2 ** 24], ['t', 2.5],
  ];
  for (const [field, value] of bad) {
    const error = t.throws(() => mask({ [field]: value }), { instanceOf: RangeError }, `${field} = ${value}`);
    t.regex(error?.message ?? '', new RegExp(`dropout ${field} must be an integer`));
    t.throws(() => mask({ [field]: value, p: 0 }), { instanceOf: RangeError }, `${field} = ${value} with p = 0`);
  }
  t.notThrows(() => mask({ seed: 2 ** 32 - 1, step: 2 ** 32 - 1, stream: 2 ** 32 - 1, layer: 255, t: 2 ** 24 - 1 }));
  t.throws(() => philox4x32([0, 0, 0], [0, 0]), { instanceOf: RangeError });
  t.throws(() => philox4x32([0, 0, 0, 0], [0, 2 ** 32]), { instanceOf: RangeError });
});
