import test from 'ava';
import { initParams, INIT_SIGMA } from '../src/model/cells/rnn-init.js';
import { paramLayout, viewsOf } from '../src/model/cells/rnn-layout.js';
import { Prng } from '../src/model/prng.js';

test('paramLayout: sizes H*H + H*K + K*H + H + K in the order W, U, V, b, c', (t) => {
  for (const [H, K] of [
    [3, 5],
    [1, 2],
    [100, 98],
  ]) {
    const layout = paramLayout({ H, K });
    t.is(layout.size, H * H + H * K + K * H + H + K, `H=${H} K=${K}`);
    t.deepEqual(
      layout.specs.map((s) => [s.name, s.rows, s.cols, s.offset, s.size]),
      [
        ['W', H, H, 0, H * H],
        ['U', H, K, H * H, H * K],
        ['V', K, H, H * H + H * K, K * H],
        ['b', H, 1, H * H + 2 * H * K, H],
        ['c', K, 1, H * H + 2 * H * K + H, K],
      ],
    );
  }
});

test('viewsOf: views share the flat buffer at the offsets of W, U, V, b, c', (t) => {
  const H = 3;
  const K = 5;
  const layout = paramLayout({ H, K });
  const flat = new Float64Array(new SharedArrayBuffer(47 * 8)); // 9 + 15 + 15 + 3 + 5
  const views = viewsOf(flat, layout);
  const expected = { W: [0, 9], U: [9, 15], V: [24, 15], b: [39, 3], c: [42, 5] } as const;
  for (const name of ['W', 'U', 'V', 'b', 'c'] as const) {
    const [offset, length] = expected[name];
    const view = views[name];
    t.is(view.buffer, flat.buffer, `${name} shares the buffer`);
    t.is(view.byteOffset, offset * 8, `${name} offset`);
    t.is(view.length, length, `${name} length`);
    view[0] = 100 + offset; // writes through the view...
    view[length - 1] = -(100 + offset);
    t.is(flat[offset], 100 + offset, `${name}[0] is flat[${offset}]`); // ...land in the flat array
    t.is(flat[offset + length - 1], -(100 + offset));
  }
  // Writes through the flat array are seen by the views too.
  flat[24 + 2 * H + 1] = 7; // V[2][1], row-major
  t.is(views.V[2 * H + 1], 7);
});

test('viewsOf: a buffer of the wrong length throws', (t) => {
  const layout = paramLayout({ H: 3, K: 5 });
  t.throws(() => viewsOf(new Float64Array(46), layout), { instanceOf: RangeError, message: /46.*47/ });
  t.throws(() => viewsOf(new Float64Array(48), layout), { instanceOf: RangeError });
});

test('initParams: b and c are zero, W, U, V are small Gaussians drawn in layout order', (t) => {
  const H = 40;
  const K = 30;
  const layout = paramLayout({ H, K });
  const flat = new Float64Array(layout.size).fill(1);
  initParams(flat, layout, Prng.fromSeed(5));
  const { W, U, V, b, c } = viewsOf(flat, layout);
  t.true(b.every((v) => v === 0) && c.every((v) => v === 0));
  const matrices = Float64Array.from([...W, ...U, ...V]);
  const rms = Math.sqrt(matrices.reduce((sum, v) => sum + v * v, 0) / matrices.length);
  t.true(Math.abs(rms / INIT_SIGMA - 1) < 0.05, `rms ${rms}`);
  // Layout order: W's first entry is the first draw.
  t.is(W[0], INIT_SIGMA * Prng.fromSeed(5).nextGaussian());
});

test('Prng: the same seed gives the same sequence, another seed another one', (t) => {
  const a = Prng.fromSeed(123);
  const b = Prng.fromSeed(123);
  const c = Prng.fromSeed(124);
  const seqA = Array.from({ length: 100 }, () => a.nextUint32());
  const seqB = Array.from({ length: 100 }, () => b.nextUint32());
  const seqC = Array.from({ length: 100 }, () => c.nextUint32());
  t.deepEqual(seqA, seqB);
  t.notDeepEqual(seqA, seqC);
  t.true(seqA.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32));
  t.true(new Set(seqA).size > 95, 'the words are not stuck');
});

test('Prng: state() then fromState() continues identically; state() is a copy', (t) => {
  const a = Prng.fromSeed(9);
  for (let i = 0; i < 17; i++) a.nextDouble();
  const saved = a.state();
  const b = Prng.fromState(saved);
  saved.fill(0); // mutating the copy must not touch either generator
  for (let i = 0; i < 50; i++) t.is(b.nextUint32(), a.nextUint32());
  t.is(b.nextGaussian(), a.nextGaussian());
  t.throws(() => Prng.fromState([0, 0, 0, 0]), { instanceOf: RangeError });
  t.throws(() => Prng.fromState([1, 2, 3]), { instanceOf: RangeError });
});

test('Prng: nextDouble lies in [0, 1) and is roughly uniform', (t) => {
  const prng = Prng.fromSeed(1);
  const n = 20000;
  let sum = 0;
  const bins = new Array<number>(10).fill(0);
  const outside: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = prng.nextDouble();
    if (!(u >= 0 && u < 1)) outside.push(u);
    sum += u;
    bins[Math.floor(u * 10)]++;
  }
  t.deepEqual(outside, []);
  t.true(Math.abs(sum / n - 0.5) < 0.01, `mean ${sum / n}`);
  for (const count of bins) t.true(Math.abs(count - n / 10) < 0.1 * (n / 10), `bins ${bins}`);
});

test('Prng: 20000 nextGaussian draws have mean ~0 and variance ~1', (t) => {
  const prng = Prng.fromSeed(2);
  const n = 20000;
  const xs = Array.from({ length: n }, () => prng.nextGaussian());
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
  t.true(Math.abs(mean) < 0.03, `mean ${mean}`);
  t.true(Math.abs(variance - 1) < 0.05, `variance ${variance}`);
  t.true(xs.every(Number.isFinite));
});
