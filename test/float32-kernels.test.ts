import test from 'ava';
import { createCellStream } from '../src/model/cell-kernels.js';
import { modelLayout } from '../src/model/cells/cell.js';
import { cellNamed } from '../src/model/cells/registry.js';
import { maskSize, stackedLayout, stateSize, type CellKind, type StackedDims } from '../src/model/cells/stacked-layout.js';
import { FLOAT32, type FloatArray } from '../src/model/precision.js';
import { Prng } from '../src/model/prng.js';
import { GATED_CELLS } from './fixtures/cells.js';

// The float32 kernels (assembly/kernels-f32.ts: the gated kernels built with precision-f32.ts)
// against the float32 reference (the cells' reference math with Math.fround after every
// operation): loss, final state and every gradient entry bit for bit, for groups of 1 to 4
// streams, panel and lane tails of every width (panels of 8 outputs, vectors of 4 lanes).

interface Problem {
  readonly dims: StackedDims;
  readonly T: number;
  readonly params: Float64Array; // the float64 master weights: the kernels and the reference read them rounded
  readonly streams: { ids: Int32Array; state: Float64Array; masks: Float32Array | null }[];
  readonly grad0: Float32Array; // the slots' content before the call: the kernels add
}

function problem(cell: CellKind, L: number, H: number, K: number, T: number, n: number, seed: number, biases = 0): Problem {
  const dims = { cell, L, H, K };
  const prng = Prng.fromSeed(seed);
  const layout = stackedLayout(dims);
  const params = Float64Array.from({ length: layout.size }, () => 0.3 * prng.nextGaussian());
  if (biases > 0) {
    for (const spec of layout.specs.filter((s) => s.name.startsWith('bias_'))) {
      for (let i = 0; i < spec.size; i += 3) params[spec.offset + i] = i % 2 === 0 ? -biases : biases;
    }
  }
  const streams = Array.from({ length: n }, (_, s) => ({
    ids: Int32Array.from({ length: T + 1 }, () => prng.nextUint32() % K),
    state: Float64Array.from({ length: stateSize(dims) }, (_, i) => Math.fround(i < L * H ? Math.tanh(prng.nextGaussian()) : prng.nextGaussian())),
    // even streams drop with p = 0.3, odd ones keep everything: both kinds in one call
    masks: s % 2 === 0 ? Float32Array.from({ length: maskSize(dims, T) }, () => (prng.nextDouble() < 0.3 ? 0 : 1 / 0.7)) : new Float32Array(maskSize(dims, T)).fill(1),
  }));
  const grad0 = Float32Array.from({ length: Math.ceil(n / 2) * layout.size }, () => prng.nextGaussian());
  return { dims, T, params, streams, grad0 };
}

function firstDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): string | null {
  if (actual.length !== expected.length) return `length ${actual.length} vs ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) return `entry ${i}: ${actual[i]} vs ${expected[i]}`;
  }
  return null;
}

/** The reference's run of every stream in turn: losses, final states, and the slots after adding. */
function expected({ dims, T, params, streams, grad0 }: Problem, dropout: boolean) {
  const layout = modelLayout(cellNamed(dims.cell), dims);
  const ref = cellNamed(dims.cell).reference(layout, T, FLOAT32);
  const weights = Float32Array.from(params);
  const grad = grad0.slice();
  const P = layout.size;
  const losses: number[] = [];
  const states = streams.map(({ ids, state, masks }, s) => {
    const carried = state.slice();
    losses.push(ref.lossAndGrad(weights, grad.subarray((s >> 1) * P, ((s >> 1) + 1) * P), ids, 0, carried, dropout ? masks : null));
    return carried;
  });
  return { losses, states, grad };
}

function check(t: import('ava').ExecutionContext, p: Problem, dropout: boolean, label: string): void {
  const { dims, T, streams } = p;
  const n = streams.length;
  const S = stateSize(dims);
  const M = maskSize(dims, T);
  const stream = createCellStream(dims, T, n, 'float32');
  stream.params.set(p.params);
  stream.pack();
  stream.grad.set(p.grad0);
  streams.forEach(({ ids, state, masks }, s) => {
    stream.ids.set(ids, s * (T + 1));
    stream.state.set(state, s * S);
    if (masks !== null) stream.masks.set(masks, s * M);
  });
  const want = expected(p, dropout);
  const total = stream.lossAndGrad(dropout);
  t.is(firstDifference(stream.losses, want.losses), null, `${label}: each stream's loss`);
  t.true(Object.is(total, want.losses.reduce((a, b) => a + b, 0)), `${label}: the summed loss`);
  want.states.forEach((state, s) => t.is(firstDifference(stream.state.subarray(s * S, (s + 1) * S), state), null, `${label}: stream ${s}'s final state`));
  t.is(firstDifference(stream.grad, want.grad), null, `${label}: the gradient slots`);
  t.not(firstDifference(stream.grad, p.grad0), null, `${label}: the gradient changed`);
  t.true(stream.grad instanceof Float32Array && want.states.every((state) => state.every((v) => Math.fround(v) === v)), `${label}: float32 numbers`);
}

// H and K around the widths: 8 outputs a panel, 4 lanes a vector, 16 columns a weight-gradient tile
const SHAPES: [H: number, K: number, T: number][] = [
  [5, 7, 6],
  [8, 16, 4],
  [9, 13, 5],
  [17, 5, 3],
  [33, 30, 7],
];

for (const cell of GATED_CELLS) {
  for (const [H, K, T] of SHAPES) {
    test(`${cell}, H=${H}, K=${K}, T=${T}: groups of 1 to 4 streams in float32 equal the float32 reference, bit for bit`, (t) => {
      for (const L of [1, 2]) {
        for (let n = 1; n <= 4; n++) {
          for (const dropout of [false, true]) {
            check(t, problem(cell, L, H, K, T, n, 1000 * n + 100 * L + H + K + (dropout ? 1 : 0)), dropout, `L=${L}, ${n} streams${dropout ? ', dropout' : ''}`);
          }
        }
      }
    });
  }
}

test('float32: biases of ±800 saturate the gates and leave the exp\'s SIMD range, still bit for bit', (t) => {
  for (const cell of GATED_CELLS) check(t, problem(cell, 2, 9, 5, 8, 3, cell === 'lstm' ? 41 : 42, 800), true, cell);
});

test('float32 forward-only scoring equals the float32 reference\'s loss and state', (t) => {
  for (const cell of GATED_CELLS) {
    const p = problem(cell, 2, 11, 9, 10, 1, 7);
    const stream = createCellStream(p.dims, p.T, 1, 'float32');
    stream.params.set(p.params);
    stream.pack();
    stream.ids.set(p.streams[0].ids);
    stream.state.set(p.streams[0].state);
    const loss = stream.loss(false);
    const state = p.streams[0].state.slice();
    const layout = modelLayout(cellNamed(cell), p.dims);
    const want = cellNamed(cell).reference(layout, p.T, FLOAT32).loss(Float32Array.from(p.params), p.streams[0].ids, 0, state, null);
    t.true(Object.is(loss, want), `${cell}: ${loss} vs ${want}`);
    t.is(firstDifference(stream.state, state), null, `${cell}: final state`);
  }
});

test('float32 differs from float64 in the low bits only: the same model\'s losses agree to 1e-5', (t) => {
  for (const cell of GATED_CELLS) {
    const p = problem(cell, 2, 16, 12, 20, 1, 9);
    const losses = (['float64', 'float32'] as const).map((dtype) => {
      const stream = createCellStream(p.dims, p.T, 1, dtype);
      stream.params.set(p.params);
      stream.pack();
      stream.ids.set(p.streams[0].ids);
      stream.state.set(p.streams[0].state);
      return stream.loss(false);
    });
    t.not(losses[0], losses[1], `${cell}: float32 rounds`);
    t.true(Math.abs(losses[0] - losses[1]) < 1e-5 * losses[0], `${cell}: ${losses[0]} vs ${losses[1]}`);
  }
});

test('the float32 copy is what the float32 kernels read: panels of 8 outputs, and the biases rounded', (t) => {
  const dims = { cell: 'lstm', L: 1, H: 3, K: 5 } as const;
  const stream = createCellStream(dims, 2, 1, 'float32');
  const layout = stackedLayout(dims);
  stream.params.set(Float64Array.from({ length: layout.size }, (_, i) => 1 + i / 3));
  stream.pack();
  const packed: FloatArray = stream.packed;
  t.true(packed instanceof Float32Array);
  // weight_ih_l0 (12, 5) comes first: its forward form M[j, i] = W[i, j] packs 8 outputs i per
  // row j, so panel 0 row 0 is W[0..7, 0] and panel 1 row 0 holds W[8..11, 0] in its first 4 lanes
  const ih = layout.specs.find((s) => s.name === 'weight_ih_l0')!;
  const W = (i: number, j: number): number => Math.fround(stream.params[ih.offset + i * 5 + j]);
  t.deepEqual(Array.from(packed.subarray(0, 8)), Array.from({ length: 8 }, (_, i) => W(i, 0)));
  t.deepEqual(Array.from(packed.subarray(8, 16)), Array.from({ length: 8 }, (_, i) => W(i, 1)));
  t.deepEqual(Array.from(packed.subarray(40, 44)), Array.from({ length: 4 }, (_, i) => W(8 + i, 0)));
});
