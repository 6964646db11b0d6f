import test from 'ava';
import { createCellStream, kernelOffsets, type CellStream } from '../src/model/cell-kernels.js';
import { modelLayout } from '../src/model/cells/cell.js';
import { cellNamed } from '../src/model/cells/registry.js';
import { maskSize, stackedLayout, stateSize, type CellKind, type StackedDims } from '../src/model/cells/stacked-layout.js';
import { Prng } from '../src/model/prng.js';
import type { FloatArray } from '../src/model/precision.js';
import { GATED_CELLS } from './fixtures/cells.js';

// The gated cells' WebAssembly kernels (assembly/cells/) against the TypeScript reference
// (src/model/cells/lstm.ts, gru.ts, mgu.ts): the same operations in the same order, so the loss, the
// final state and every gradient entry must match bit for bit.

type Masks = Float64Array | null;

/** The reference's two entry points for one cell (its descriptor's, from the registry), over a fresh workspace of T steps. */
function reference(dims: StackedDims, T: number) {
  const cell = cellNamed(dims.cell);
  const math = cell.reference(modelLayout(cell, dims), T);
  return {
    loss: (flat: Float64Array, ids: ArrayLike<number>, start: number, state: Float64Array, masks: Masks) => math.loss(flat, ids, start, state, masks),
    lossAndGrad: (flat: Float64Array, ids: ArrayLike<number>, start: number, state: Float64Array, masks: Masks, grad: Float64Array) =>
      math.lossAndGrad(flat, grad, ids, start, state, masks),
  };
}

interface Problem {
  readonly dims: StackedDims;
  readonly T: number;
  readonly flat: Float64Array;
  readonly grad0: Float64Array; // the gradient buffer's content before the call: backward adds
  readonly state0: Float64Array;
  readonly ids: Int32Array; // (T+1)
  readonly masks: Masks; // inverted dropout with p = 0.3, or none
}

/** Parameters from N(0, scale^2), so that gates leave their linear parts; h in (-1, 1), the LSTM's c from N(0, 1). */
function randomProblem(cell: CellKind, L: number, H: number, K: number, T: number, seed: number, dropout: boolean, scale = 0.3): Problem {
  const dims = { cell, L, H, K };
  const prng = Prng.fromSeed(seed);
  const size = stackedLayout(dims).size;
  const flat = Float64Array.from({ length: size }, () => scale * prng.nextGaussian());
  const grad0 = Float64Array.from({ length: size }, () => prng.nextGaussian());
  const state0 = Float64Array.from({ length: stateSize(dims) }, (_, i) => (i < L * H ? Math.tanh(prng.nextGaussian()) : prng.nextGaussian()));
  const ids = Int32Array.from({ length: T + 1 }, () => prng.nextUint32() % K);
  const masks = dropout ? Float64Array.from({ length: maskSize(dims, T) }, () => (prng.nextDouble() < 0.3 ? 0 : 1 / 0.7)) : null;
  return { dims, T, flat, grad0, state0, ids, masks };
}

/** A kernel stream loaded with the problem's parameters, gradient buffer, state, ids and masks. */
function loadStream({ dims, T, flat, grad0, state0, ids, masks }: Problem): CellStream {
  const stream = createCellStream(dims, T);
  stream.params.set(flat);
  stream.pack();
  stream.grad.set(grad0);
  stream.state.set(state0);
  stream.ids.set(ids);
  if (masks !== null) stream.masks.set(masks);
  return stream;
}

/** null when every entry is the same float64 (Object.is: 0 and -0 differ), else the first difference. */
function firstDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): string | null {
  if (actual.length !== expected.length) return `length ${actual.length} vs ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) return `entry ${i}: ${actual[i]} vs ${expected[i]}`;
  }
  return null;
}

/** The first differing gradient entry, named by tensor and index within it. */
function firstGradientDifference(dims: StackedDims, actual: FloatArray, expected: FloatArray): string | null {
  for (const spec of stackedLayout(dims).specs) {
    const where = firstDifference(actual.subarray(spec.offset, spec.offset + spec.size), expected.subarray(spec.offset, spec.offset + spec.size));
    if (where !== null) return `${spec.name} ${JSON.stringify(spec.shape)}, ${where}`;
  }
  return null;
}

const SHAPES: [H: number, K: number, T: number][] = [
  [7, 5, 6],
  [9, 13, 17],
  [33, 5, 1],
  [33, 13, 17],
];

for (const cell of GATED_CELLS) {
  for (const L of [1, 3]) {
    for (const [H, K, T] of SHAPES) {
      for (const dropout of [false, true]) {
        const label = `${cell}, L=${L}, H=${H}, K=${K}, T=${T}, ${dropout ? 'dropout masks' : 'no dropout'}`;
        test(`${label}: loss, final state and every gradient entry equal the reference's, bit for bit`, (t) => {
          const problem = randomProblem(cell, L, H, K, T, 1000 * L + 10 * H + K + T + (dropout ? 1 : 0) + (cell === 'gru' ? 7 : 0), dropout);
          const { dims, flat, grad0, state0, ids, masks } = problem;
          const ref = reference(dims, T);
          const expectedState = state0.slice();
          const expectedGrad = grad0.slice();
          const expectedLoss = ref.lossAndGrad(flat, ids, 0, expectedState, masks, expectedGrad);

          const stream = loadStream(problem);
          const loss = stream.lossAndGrad(dropout);
          t.true(Object.is(loss, expectedLoss), `loss ${loss} vs ${expectedLoss}`);
          t.is(firstDifference(stream.state, expectedState), null, 'final state');
          t.is(firstGradientDifference(dims, stream.grad, expectedGrad), null, 'gradient');
          t.not(firstDifference(stream.grad, grad0), null, 'the gradient changed');

          // Forward only, from the same starting state: the same loss and state.
          stream.state.set(state0);
          const forward = stream.loss(dropout);
          t.true(Object.is(forward, ref.loss(flat, ids, 0, state0.slice(), masks)), `forward-only loss ${forward}`);
          t.is(firstDifference(stream.state, expectedState), null, 'forward-only final state');
        });
      }
    }
  }
}

test('large parameters and biases of ±800: saturated gates, the exp beyond its SIMD range, still bit for bit', (t) => {
  for (const cell of GATED_CELLS) {
    const problem = randomProblem(cell, 2, 9, 5, 8, cell === 'lstm' ? 41 : 42, true, 3);
    const { dims, flat, grad0, state0, ids, masks, T } = problem;
    const layout = stackedLayout(dims);
    for (const spec of layout.specs.filter((s) => s.name.startsWith('bias_'))) {
      for (let i = 0; i < spec.size; i += 3) flat[spec.offset + i] = i % 2 === 0 ? -800 : 800;
    }
    const expectedState = state0.slice();
    const expectedGrad = grad0.slice();
    const expectedLoss = reference(dims, T).lossAndGrad(flat, ids, 0, expectedState, masks, expectedGrad);
    const stream = loadStream(problem);
    const loss = stream.lossAndGrad(true);
    t.true(Object.is(loss, expectedLoss), `${cell}: loss ${loss} vs ${expectedLoss}`);
    t.is(firstDifference(stream.state, expectedState), null, `${cell}: final state`);
    t.is(firstGradientDifference(dims, stream.grad, expectedGrad), null, `${cell}: gradient`);
  }
});

/** Rows t in [from, to) of each layer of masks (L, T, H). */
function maskRows(masks: Masks, L: number, T: number, H: number, from: number, to: number): Masks {
  if (masks === null) return null;
  const out = new Float64Array(L * (to - from) * H);
  for (let l = 0; l < L; l++) out.set(masks.subarray((l * T + from) * H, (l * T + to) * H), l * (to - from) * H);
  return out;
}

for (const cell of GATED_CELLS) {
  for (const dropout of [false, true]) {
    test(`${cell}, ${dropout ? 'dropout masks' : 'no dropout'}: two calls of T/2 hand the state over as the reference's two calls do, bit for bit`, (t) => {
      const T = 16;
      const half = T / 2;
      const problem = randomProblem(cell, 3, 9, 13, T, dropout ? 77 : 78, dropout);
      const { dims, flat, grad0, state0, ids, masks } = problem;
      const { L, H } = dims;
      const ref = reference(dims, half);
      const expectedState = state0.slice();
      const expectedGrad = grad0.slice();
      const expected = [0, half].map((start) =>
        ref.lossAndGrad(flat, ids, start, expectedState, maskRows(masks, L, T, H, start, start + half), expectedGrad),
      );

      const stream = loadStream({ ...problem, T: half, ids: ids.subarray(0, half + 1), masks: maskRows(masks, L, T, H, 0, half) });
      const losses = [stream.lossAndGrad(dropout)];
      stream.ids.set(ids.subarray(half));
      const second = maskRows(masks, L, T, H, half, T);
      if (second !== null) stream.masks.set(second);
      losses.push(stream.lossAndGrad(dropout));

      t.true(Object.is(losses[0], expected[0]) && Object.is(losses[1], expected[1]), `losses ${losses} vs ${expected}`);
      t.is(firstDifference(stream.state, expectedState), null, 'final state');
      t.is(firstGradientDifference(dims, stream.grad, expectedGrad), null, 'gradient after both calls');
    });
  }
}

for (const cell of GATED_CELLS) {
  for (const [H, K, T] of [[7, 5, 6], [12, 13, 5]] as const) {
    test(`${cell}, H=${H}, K=${K}: groups of 1 to 4 streams in one call equal the reference stream by stream, pairs adding into one slot, bit for bit`, (t) => {
      const L = 2;
      for (let n = 1; n <= 4; n++) {
        const problems = Array.from({ length: n }, (_, s) => randomProblem(cell, L, H, K, T, 97 * n + 13 * s + H, s % 2 === 0));
        const { dims } = problems[0];
        const P = stackedLayout(dims).size;
        const S = stateSize(dims);
        const M = maskSize(dims, T);
        const group = createCellStream(dims, T, n);
        group.params.set(problems[0].flat);
        group.pack();
        const ref = reference(dims, T);
        const expectedGrad = new Float64Array(Math.ceil(n / 2) * P);
        const expectedState = new Float64Array(n * S);
        const expectedLosses: number[] = [];
        const dropout = true; // even streams carry masks, odd ones all-ones masks: both kinds in one call
        problems.forEach((problem, s) => {
          const masks = problem.masks ?? new Float64Array(M).fill(1);
          group.ids.set(problem.ids, s * (T + 1));
          group.state.set(problem.state0, s * S);
          group.masks.set(masks, s * M);
          const state = problem.state0.slice();
          expectedLosses.push(ref.lossAndGrad(problems[0].flat, problem.ids, 0, state, masks, expectedGrad.subarray((s >> 1) * P, ((s >> 1) + 1) * P)));
          expectedState.set(state, s * S);
        });
        const total = group.lossAndGrad(dropout);
        t.is(firstDifference(group.losses, expectedLosses), null, `${n} streams: each stream's loss`);
        t.true(Object.is(total, expectedLosses.reduce((a, b) => a + b, 0)), `${n} streams: the summed loss`);
        t.is(firstDifference(group.state, expectedState), null, `${n} streams: final states`);
        for (let slot = 0; slot < Math.ceil(n / 2); slot++) {
          t.is(firstGradientDifference(dims, group.grad.subarray(slot * P, (slot + 1) * P), expectedGrad.subarray(slot * P, (slot + 1) * P)), null, `${n} streams: slot ${slot}`);
        }
      }
    });
  }
}

test('the packed copy holds each matrix in forward and backward panels', (t) => {
  const dims = { cell: 'lstm', L: 2, H: 3, K: 5 } as const;
  const layout = stackedLayout(dims);
  const stream = createCellStream(dims, 2);
  const prng = Prng.fromSeed(5);
  for (let i = 0; i < stream.params.length; i++) stream.params[i] = prng.nextGaussian();
  stream.packed.fill(Number.NaN); // lanes past a matrix's edge are neither written nor read
  stream.pack();
  const panelsOf = (rows: number, cols: number, at: (r: number, o: number) => number, n: number, R: number): number[] => {
    const out: number[] = [];
    for (let b = 0; b < Math.ceil(n / 4); b++) for (let r = 0; r < R; r++) for (let lane = 0; lane < 4; lane++) out.push(4 * b + lane < n ? at(r, 4 * b + lane) : Number.NaN);
    return out;
  };
  const expected: number[] = [];
  for (const name of ['weight_ih_l0', 'weight_hh_l0', 'weight_ih_l1', 'weight_hh_l1', 'V']) {
    const spec = layout.specs.find((s) => s.name === name)!;
    const [rows, cols] = spec.shape;
    const A = (i: number, j: number): number => stream.params[spec.offset + i * cols + j];
    expected.push(...panelsOf(rows, cols, (j, i) => A(i, j), rows, cols)); // W x: outputs are rows
    if (name !== 'weight_ih_l0') expected.push(...panelsOf(rows, cols, (i, j) => A(i, j), cols, rows)); // W^T y: outputs are columns
  }
  t.is(firstDifference(stream.packed, expected), null);
});

test('the offset table follows the layout table by name, and bad symbol ids are refused', (t) => {
  const dims = { cell: 'gru', L: 2, H: 3, K: 4 } as const;
  const layout = stackedLayout(dims);
  const offsets = Array.from(kernelOffsets(layout));
  const at = (name: string): number => layout.specs.find((s) => s.name === name)!.offset;
  // G·H = 9: forward panels of (9, In) take 12·In entries, backward ones of (9, 3) take 4·9
  t.deepEqual(offsets, [
    at('weight_ih_l0'), at('weight_hh_l0'), at('bias_ih_l0'), at('bias_hh_l0'), 0, -1, 48, 84,
    at('weight_ih_l1'), at('weight_hh_l1'), at('bias_ih_l1'), at('bias_hh_l1'), 120, 156, 192, 228,
    at('V'), at('c'), 264, 276,
  ]);
  const stream = createCellStream(dims, 2);
  stream.ids.set([0, 4, 1]);
  t.throws(() => stream.lossAndGrad(false), { instanceOf: RangeError, message: /ids\[1\] is 4; symbol ids must lie in \[0, 4\)/ });
});
