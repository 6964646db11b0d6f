import test from 'ava';
import { Prng } from '../src/model/prng.js';
import { createGruWorkspace, gruSequenceLoss } from '../src/model/cells/gru.js';
import { createLstmWorkspace, lstmSequenceLoss } from '../src/model/cells/lstm.js';
import { gatedCellNamed } from '../src/model/cells/registry.js';
import { FLOAT64 } from '../src/model/precision.js';
import { sigmoid } from '../src/model/cells/sigmoid.js';
import {
  GATES,
  maskSize,
  stackedLayout,
  stackedShapeTable,
  stackedViewsOf,
  stateShapeTable,
  stateSize,
  type CellKind,
  type StackedDims,
  type StackedViews,
} from '../src/model/cells/stacked-layout.js';
import { GATED_CELLS } from './fixtures/cells.js';

// ---- helpers ------------------------------------------------------------------------------------

type Masks = Float64Array | null;

/** The two entry points of a cell behind one shape (its reference math, from the registry), each with a fresh workspace of T steps. */
function cellOf(dims: StackedDims, T: number) {
  const { math } = gatedCellNamed(dims.cell);
  const ws = math.createWorkspace(dims, T, FLOAT64);
  return {
    loss: (p: StackedViews, ids: ArrayLike<number>, start: number, state: Float64Array, masks: Masks) => math.sequenceLoss(p, dims, ids, start, state, masks, ws),
    lossAndGrad: (p: StackedViews, ids: ArrayLike<number>, start: number, state: Float64Array, masks: Masks, g: StackedViews) =>
      math.sequenceLossAndGrad(p, dims, ids, start, state, masks, g, ws),
    ps: ws.ps,
  };
}

interface Problem {
  readonly dims: StackedDims;
  readonly T: number;
  readonly flat: Float64Array; // parameters from N(0, 0.3^2): gates off their flat ends
  readonly state0: Float64Array; // h in (-1, 1), the LSTM's c from N(0, 1)
  readonly ids: Uint32Array; // (T+1)
  readonly masks: Masks; // inverted dropout with p = 0.3, or none
}

function randomProblem(cell: CellKind, L: number, H: number, K: number, T: number, seed: number, dropout: boolean): Problem {
  const dims = { cell, L, H, K };
  const prng = Prng.fromSeed(seed);
  const flat = Float64Array.from({ length: stackedLayout(dims).size }, () => 0.3 * prng.nextGaussian());
  const state0 = new Float64Array(stateSize(dims));
  for (let i = 0; i < state0.length; i++) state0[i] = i < L * H ? Math.tanh(prng.nextGaussian()) : prng.nextGaussian();
  const ids = Uint32Array.from({ length: T + 1 }, () => prng.nextUint32() % K);
  const p = 0.3;
  const masks = dropout ? Float64Array.from({ length: maskSize(dims, T) }, () => (prng.nextDouble() < p ? 0 : 1 / (1 - p))) : null;
  return { dims, T, flat, state0, ids, masks };
}

/** Every entry's analytic gradient against a centered difference (step 1e-5); max |error| per tensor. */
function gradcheckEveryEntry({ dims, T, flat, state0, ids, masks }: Problem): { name: string; checked: number; maxAbsError: number; maxGradient: number }[] {
  const layout = stackedLayout(dims);
  const params = stackedViewsOf(flat, layout);
  const cell = cellOf(dims, T);
  const before = 0.5; // backward ADDS: the buffer's previous content must survive under the gradient
  const grad = new Float64Array(layout.size).fill(before);
  cell.lossAndGrad(params, ids, 0, state0.slice(), masks, stackedViewsOf(grad, layout));
  const lossAt = (index: number, value: number): number => {
    const saved = flat[index];
    flat[index] = value;
    const loss = cell.loss(params, ids, 0, state0.slice(), masks);
    flat[index] = saved;
    return loss;
  };
  const step = 1e-5;
  return layout.specs.map((spec) => {
    let maxAbsError = 0;
    let maxGradient = 0;
    for (let index = spec.offset; index < spec.offset + spec.size; index++) {
      const x = flat[index];
      const numeric = (lossAt(index, x + step) - lossAt(index, x - step)) / (2 * step);
      const analytic = grad[index] - before;
      maxAbsError = Math.max(maxAbsError, Math.abs(analytic - numeric));
      maxGradient = Math.max(maxGradient, Math.abs(analytic));
    }
    return { name: spec.name, checked: spec.size, maxAbsError, maxGradient };
  });
}

// ---- gradient checks ------------------------------------------------------------------------------

for (const cell of GATED_CELLS) {
  for (const L of [1, 3]) {
    for (const dropout of [false, true]) {
      const title = `${cell}, L=${L}, H=7, K=5, T=6, ${dropout ? 'dropout masks (p=0.3)' : 'no dropout'}: every entry of every tensor within 1e-8 of centered differences`;
      test(title, (t) => {
        const problem = randomProblem(cell, L, 7, 5, 6, 100 * L + (dropout ? 1 : 0) + (cell === 'gru' ? 7 : 0), dropout);
        const checks = gradcheckEveryEntry(problem);
        const expectedNames = stackedShapeTable(problem.dims).map(([name]) => name);
        t.deepEqual(
          checks.map((c) => c.name),
          expectedNames,
          'every parameter kind is checked',
        );
        let worst = 0;
        for (const c of checks) {
          t.true(c.maxAbsError < 1e-8, `${c.name}: max abs error ${c.maxAbsError}`);
          t.true(c.maxGradient > 1e-3, `${c.name}: an all-zero gradient would pass trivially (max ${c.maxGradient})`);
          worst = Math.max(worst, c.maxAbsError);
        }
        t.log(`max abs error ${worst.toExponential(2)} over ${checks.reduce((n, c) => n + c.checked, 0)} entries; per tensor: ${checks.map((c) => `${c.name} ${c.maxAbsError.toExponential(1)}`).join(', ')}`);
      });
    }
  }
}

test('dropout changes the loss, and masks of all ones are no dropout, bit for bit', (t) => {
  for (const cell of GATED_CELLS) {
    const { dims, T, flat, state0, ids, masks } = randomProblem(cell, 2, 4, 3, 5, 9, true);
    const layout = stackedLayout(dims);
    const p = stackedViewsOf(flat, layout);
    const run = (m: Masks) => {
      const state = state0.slice();
      const grad = new Float64Array(layout.size);
      const loss = cellOf(dims, T).lossAndGrad(p, ids, 0, state, m, stackedViewsOf(grad, layout));
      return { loss, state, grad };
    };
    const none = run(null);
    const ones = run(new Float64Array(maskSize(dims, T)).fill(1));
    t.is(ones.loss, none.loss, cell);
    t.deepEqual(ones.state, none.state, cell);
    t.deepEqual(ones.grad, none.grad, cell);
    t.not(run(masks).loss, none.loss, `${cell}: the masks are applied`);
  }
});

// ---- forward pass worked by hand --------------------------------------------------------------------

const sig = (x: number): number => 1 / (1 + Math.exp(-x));

/** -log softmax([o0, o1])[y] */
function crossEntropy2(o0: number, o1: number, y: number): number {
  return -Math.log(Math.exp(y === 0 ? o0 : o1) / (Math.exp(o0) + Math.exp(o1)));
}

test('LSTM, L=1, H=1, K=2, T=2: the loss worked by hand, scalar by scalar', (t) => {
  // weight_ih_l0 (4, 2): row per gate i, f, g, o; column per input symbol
  const Wi = [0.3, -0.5];
  const Wf = [0.8, 0.1];
  const Wg = [-0.4, 0.6];
  const Wo = [0.2, -0.7];
  const [Ui, Uf, Ug, Uo] = [0.5, -0.3, 0.9, 0.4]; // weight_hh_l0 (4, 1)
  const [bi, bf, bg, bo] = [0.1, 0.2, -0.1, 0.05]; // bias_ih_l0
  const [ci, cf, cg, co] = [-0.05, 0.15, 0.25, -0.2]; // bias_hh_l0
  const V = [1.2, -0.8]; // (2, 1)
  const c = [0.1, -0.1];
  const h0 = 0.3;
  const c0 = -0.6;
  const ids = [1, 0, 1]; // x0=1 -> y0=0, x1=0 -> y1=1

  let h = h0;
  let cell = c0;
  let expected = 0;
  for (const step of [0, 1]) {
    const x = ids[step];
    const i = sig(Wi[x] + bi + Ui * h + ci);
    const f = sig(Wf[x] + bf + Uf * h + cf);
    const g = Math.tanh(Wg[x] + bg + Ug * h + cg);
    const o = sig(Wo[x] + bo + Uo * h + co);
    cell = f * cell + i * g;
    h = o * Math.tanh(cell);
    expected += crossEntropy2(V[0] * h + c[0], V[1] * h + c[1], ids[step + 1]);
  }

  const dims = { cell: 'lstm', L: 1, H: 1, K: 2 } as const;
  const flat = Float64Array.from([Wi, Wf, Wg, Wo].flat().concat([Ui, Uf, Ug, Uo, bi, bf, bg, bo, ci, cf, cg, co], V, c));
  const state = Float64Array.of(h0, c0);
  const loss = lstmSequenceLoss(stackedViewsOf(flat, stackedLayout(dims)), dims, ids, 0, state, null, createLstmWorkspace(dims, 2));
  t.true(Math.abs(loss - expected) < 1e-12, `${loss} vs ${expected}`);
  t.true(Math.abs(state[0] - h) < 1e-15 && Math.abs(state[1] - cell) < 1e-15, `final (h, c) ${state[0]}, ${state[1]} vs ${h}, ${cell}`);
});

test('GRU, L=1, H=1, K=2, T=2: the loss worked by hand, scalar by scalar', (t) => {
  // weight_ih_l0 (3, 2): row per gate r, z, n; column per input symbol
  const Wr = [0.3, -0.5];
  const Wz = [0.8, 0.1];
  const Wn = [-0.4, 0.6];
  const [Ur, Uz, Un] = [0.5, -0.3, 0.9]; // weight_hh_l0 (3, 1)
  const [br, bz, bn] = [0.1, 0.2, -0.1]; // bias_ih_l0
  const [cr, cz, cn] = [-0.05, 0.15, 0.25]; // bias_hh_l0
  const V = [1.2, -0.8];
  const c = [0.1, -0.1];
  const h0 = 0.3;
  const ids = [1, 0, 1];

  let h = h0;
  let expected = 0;
  for (const step of [0, 1]) {
    const x = ids[step];
    const r = sig(Wr[x] + br + Ur * h + cr);
    const z = sig(Wz[x] + bz + Uz * h + cz);
    const n = Math.tanh(Wn[x] + bn + r * (Un * h + cn)); // the reset gate multiplies W_hn h + b_hn
    h = (1 - z) * n + z * h;
    expected += crossEntropy2(V[0] * h + c[0], V[1] * h + c[1], ids[step + 1]);
  }

  const dims = { cell: 'gru', L: 1, H: 1, K: 2 } as const;
  const flat = Float64Array.from([Wr, Wz, Wn].flat().concat([Ur, Uz, Un, br, bz, bn, cr, cz, cn], V, c));
  const state = Float64Array.of(h0);
  const loss = gruSequenceLoss(stackedViewsOf(flat, stackedLayout(dims)), dims, ids, 0, state, null, createGruWorkspace(dims, 2));
  t.true(Math.abs(loss - expected) < 1e-12, `${loss} vs ${expected}`);
  t.true(Math.abs(state[0] - h) < 1e-15, `final h ${state[0]} vs ${h}`);
});

/** Row-major (rows, cols) from a flat list, as nested arrays: M[r][j]. */
function matrix(values: number[], rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, (_, r) => values.slice(r * cols, (r + 1) * cols));
}

/** Made-up but irregular parameter values, so that a swapped row, column or gate shows. */
function madeUp(count: number, salt: number): number[] {
  return Array.from({ length: count }, (_, i) => 0.6 * Math.sin(1.7 * i + salt) + 0.1 * Math.cos(0.3 * i * i));
}

test('L=2, H=2, K=2, T=2 with dropout masks: the loss from the equations, pinning row-major gate blocks, stacking and dropout', (t) => {
  const H = 2;
  const K = 2;
  const ids = [1, 0, 1];
  // masks (L, T, H): row (l, t) multiplies layer l's h_t on its way up
  const mask = [
    [
      [1 / 0.7, 0],
      [0, 1 / 0.7],
    ],
    [
      [1 / 0.7, 1 / 0.7],
      [0, 1 / 0.7],
    ],
  ];
  for (const cell of GATED_CELLS) {
    const G = GATES[cell];
    // The flat vector in PyTorch's order: per layer weight_ih, weight_hh, bias_ih, bias_hh; then V, c.
    const flatList: number[] = [];
    const take = (count: number, salt: number): number[] => {
      const values = madeUp(count, salt);
      flatList.push(...values);
      return values;
    };
    const layers = [0, 1].map((l) => {
      const In = l === 0 ? K : H;
      const Wih = matrix(take(G * H * In, 10 * l + 1), G * H, In);
      const Whh = matrix(take(G * H * H, 10 * l + 2), G * H, H);
      const bih = take(G * H, 10 * l + 3);
      const bhh = take(G * H, 10 * l + 4);
      return { Wih, Whh, bih, bhh };
    });
    const V = matrix(take(K * H, 50), K, H);
    const c = take(K, 60);
    const h0 = [
      [0.2, -0.4],
      [0.5, 0.1],
    ];
    const c0 = [
      [-0.3, 0.7],
      [0.25, -0.6],
    ];

    // Gate k of unit u is row k·H + u: W_i·x is (rows 0..H-1) x, and so on, by the equations.
    const affine = (W: number[][], x: number[], b: number[], k: number, u: number): number =>
      b[k * H + u] + W[k * H + u].reduce((s, w, j) => s + w * x[j], 0);
    const h = h0.map((row) => row.slice());
    const cs = c0.map((row) => row.slice());
    let expected = 0;
    for (let step = 0; step < 2; step++) {
      let x = [0, 0];
      x[ids[step]] = 1; // one-hot
      for (let l = 0; l < 2; l++) {
        const { Wih, Whh, bih, bhh } = layers[l];
        const hp = h[l];
        // the MGU's h̃ rows multiply f ⊙ h, so every unit's f comes first
        const fs = [0, 1].map((u) => sig(affine(Wih, x, bih, 0, u) + affine(Whh, hp, bhh, 0, u)));
        const next = [0, 1].map((u) => {
          if (cell === 'mgu') {
            const ht = Math.tanh(affine(Wih, x, bih, 1, u) + affine(Whh, hp.map((hj, j) => fs[j] * hj), bhh, 1, u));
            return [(1 - fs[u]) * hp[u] + fs[u] * ht, 0];
          }
          if (cell === 'lstm') {
            const i = sig(affine(Wih, x, bih, 0, u) + affine(Whh, hp, bhh, 0, u));
            const f = sig(affine(Wih, x, bih, 1, u) + affine(Whh, hp, bhh, 1, u));
            const g = Math.tanh(affine(Wih, x, bih, 2, u) + affine(Whh, hp, bhh, 2, u));
            const o = sig(affine(Wih, x, bih, 3, u) + affine(Whh, hp, bhh, 3, u));
            const cNew = f * cs[l][u] + i * g;
            return [o * Math.tanh(cNew), cNew];
          }
          const r = sig(affine(Wih, x, bih, 0, u) + affine(Whh, hp, bhh, 0, u));
          const z = sig(affine(Wih, x, bih, 1, u) + affine(Whh, hp, bhh, 1, u));
          const n = Math.tanh(affine(Wih, x, bih, 2, u) + r * affine(Whh, hp, bhh, 2, u));
          return [(1 - z) * n + z * hp[u], 0];
        });
        h[l] = next.map(([hu]) => hu);
        cs[l] = next.map(([, cu]) => cu);
        x = h[l].map((hu, u) => hu * mask[l][step][u]); // dropout on the way up
      }
      const o = [0, 1].map((k) => c[k] + V[k][0] * x[0] + V[k][1] * x[1]);
      expected += crossEntropy2(o[0], o[1], ids[step + 1]);
    }

    const dims = { cell, L: 2, H, K };
    const layout = stackedLayout(dims);
    t.is(flatList.length, layout.size);
    const state = Float64Array.from(cell === 'lstm' ? [...h0.flat(), ...c0.flat()] : h0.flat());
    const flatMask = Float64Array.from(mask.flat(2));
    const p = stackedViewsOf(Float64Array.from(flatList), layout);
    const loss = cellOf(dims, 2).loss(p, ids, 0, state, flatMask);
    t.true(Math.abs(loss - expected) < 1e-12, `${cell}: ${loss} vs ${expected}`);
    const finalState = cell === 'lstm' ? [...h.flat(), ...cs.flat()] : h.flat();
    for (let i = 0; i < finalState.length; i++) t.true(Math.abs(state[i] - finalState[i]) < 1e-14, `${cell} state[${i}]: ${state[i]} vs ${finalState[i]}`);
  }
});

// ---- the state carried between sequences -------------------------------------------------------------

test('T=6 in one call equals 3 + 3 with the state handed over, bit for bit (with and without dropout)', (t) => {
  for (const cell of GATED_CELLS) {
    for (const dropout of [false, true]) {
      const { dims, flat, state0, ids, masks } = randomProblem(cell, 3, 5, 4, 6, 21, dropout);
      const { L, H, K } = dims;
      const p = stackedViewsOf(flat, stackedLayout(dims));
      const half = (m: Masks, first: boolean): Masks => {
        if (m === null) return null;
        const out = new Float64Array(L * 3 * H); // rows t < 3 or t >= 3 of each layer
        for (let l = 0; l < L; l++) out.set(m.subarray((l * 6 + (first ? 0 : 3)) * H, (l * 6 + (first ? 3 : 6)) * H), l * 3 * H);
        return out;
      };
      const whole = cellOf(dims, 6);
      const stateWhole = state0.slice();
      const lossWhole = whole.loss(p, ids, 0, stateWhole, masks);

      const parts = cellOf(dims, 3);
      const stateParts = state0.slice();
      const loss1 = parts.loss(p, ids, 0, stateParts, half(masks, true));
      const ps1 = parts.ps.slice();
      const loss2 = parts.loss(p, ids, 3, stateParts, half(masks, false));
      const label = `${cell}, ${dropout ? 'dropout' : 'no dropout'}`;
      t.deepEqual(stateParts, stateWhole, `${label}: final state`);
      t.deepEqual(ps1, whole.ps.slice(0, 3 * K), `${label}: p of steps 0-2`);
      t.deepEqual(parts.ps, whole.ps.slice(3 * K), `${label}: p of steps 3-5`);
      t.true(Math.abs(loss1 + loss2 - lossWhole) < 1e-12, `${label}: ${loss1 + loss2} vs ${lossWhole}`);

      // The backward pass leaves the same final state and loss as the forward pass alone.
      const stateGrad = state0.slice();
      const gradFlat = new Float64Array(flat.length);
      const lossGrad = cellOf(dims, 6).lossAndGrad(p, ids, 0, stateGrad, masks, stackedViewsOf(gradFlat, stackedLayout(dims)));
      t.is(lossGrad, lossWhole, label);
      t.deepEqual(stateGrad, stateWhole, label);
    }
  }
});

// ---- the layout table ---------------------------------------------------------------------------------

test("the layout table has PyTorch's parameter names, shapes and order", (t) => {
  const H = 256;
  const K = 98;
  t.deepEqual(stackedShapeTable({ cell: 'lstm', L: 2, H, K }), [
    ['weight_ih_l0', [4 * H, K]],
    ['weight_hh_l0', [4 * H, H]],
    ['bias_ih_l0', [4 * H]],
    ['bias_hh_l0', [4 * H]],
    ['weight_ih_l1', [4 * H, H]],
    ['weight_hh_l1', [4 * H, H]],
    ['bias_ih_l1', [4 * H]],
    ['bias_hh_l1', [4 * H]],
    ['V', [K, H]],
    ['c', [K]],
  ]);
  t.deepEqual(stackedShapeTable({ cell: 'gru', L: 1, H, K }), [
    ['weight_ih_l0', [3 * H, K]],
    ['weight_hh_l0', [3 * H, H]],
    ['bias_ih_l0', [3 * H]],
    ['bias_hh_l0', [3 * H]],
    ['V', [K, H]],
    ['c', [K]],
  ]);
  const lstm = stackedLayout({ cell: 'lstm', L: 2, H, K });
  const layer0 = 4 * H * K + 4 * H * H + 2 * 4 * H;
  const layer1 = 4 * H * H + 4 * H * H + 2 * 4 * H;
  t.is(lstm.size, layer0 + layer1 + K * H + K);
  t.is(lstm.specs[4].offset, layer0, 'layer 1 starts where layer 0 ends');
  const gru = stackedLayout({ cell: 'gru', L: 3, H, K });
  t.is(gru.size, 3 * H * K + 3 * H * H + 2 * 3 * H + 2 * (3 * H * H + 3 * H * H + 2 * 3 * H) + K * H + K);
  t.deepEqual(stateShapeTable({ cell: 'lstm', L: 2, H, K }), [
    ['h', [2, H]],
    ['c', [2, H]],
  ]);
  t.is(stateSize({ cell: 'gru', L: 3, H, K }), 3 * H);
  t.is(maskSize({ cell: 'gru', L: 3, H, K }, 50), 3 * 50 * H);
});

test('the named views do not overlap and cover the buffer', (t) => {
  for (const dims of [
    { cell: 'lstm', L: 3, H: 7, K: 5 },
    { cell: 'gru', L: 2, H: 4, K: 9 },
  ] as const) {
    const layout = stackedLayout(dims);
    const flat = new Float64Array(layout.size);
    const views = stackedViewsOf(flat, layout);
    const all = [...views.layers.flatMap((v) => [v.Wih, v.Whh, v.bih, v.bhh]), views.V, views.c];
    t.is(all.length, layout.specs.length);
    all.forEach((view, index) => {
      t.is(view.buffer, flat.buffer);
      t.is(view.length, layout.specs[index].size, layout.specs[index].name);
      for (let i = 0; i < view.length; i++) view[i] += index + 1; // each entry written once
    });
    let expectedOffset = 0;
    for (const [index, spec] of layout.specs.entries()) {
      t.is(spec.offset, expectedOffset, spec.name);
      for (let i = spec.offset; i < spec.offset + spec.size; i++) if (flat[i] !== index + 1) t.fail(`${spec.name}: entry ${i} is ${flat[i]}`);
      expectedOffset += spec.size;
    }
    t.is(expectedOffset, flat.length);
  }
  t.throws(() => stackedViewsOf(new Float64Array(3), stackedLayout({ cell: 'gru', L: 1, H: 2, K: 2 })), { instanceOf: RangeError });
  t.throws(() => stackedLayout({ cell: 'gru', L: 0, H: 2, K: 2 }), { message: /L must be a positive integer/ });
});

test('wrong state or mask sizes throw a RangeError that names the expected shape', (t) => {
  const dims = { cell: 'lstm', L: 2, H: 3, K: 4 } as const;
  const p = stackedViewsOf(new Float64Array(stackedLayout(dims).size), stackedLayout(dims));
  const ws = createLstmWorkspace(dims, 2);
  t.throws(() => lstmSequenceLoss(p, dims, [0, 1, 2], 0, new Float64Array(6), null, ws), { message: /needs 12 \(S, L, H\)/ });
  t.throws(() => lstmSequenceLoss(p, dims, [0, 1, 2], 0, new Float64Array(12), new Float64Array(5), ws), { message: /needs 12 \(L, T, H\)/ });
  t.throws(() => lstmSequenceLoss(p, dims, [0, 1], 0, new Float64Array(12), null, ws), { message: /need 3 symbols/ });
});

// ---- sigmoid ---------------------------------------------------------------------------------------------

test('sigmoid: close to 1 / (1 + Math.exp(-x)), and no NaN at either end', (t) => {
  for (let x = -40; x <= 40; x += 0.37) {
    const expected = 1 / (1 + Math.exp(-x));
    t.true(Math.abs(sigmoid(x) - expected) <= 4 * Number.EPSILON * expected, `x = ${x}: ${sigmoid(x)} vs ${expected}`);
  }
  t.is(sigmoid(0), 0.5);
  for (const x of [-1e308, -1000, -745, -710]) t.is(sigmoid(x), 0, `x = ${x}`);
  for (const x of [40, 710, 1000, 1e308]) t.is(sigmoid(x), 1, `x = ${x}`);
  t.is(sigmoid(-Infinity), 0);
  t.is(sigmoid(Infinity), 1);
  t.true(Number.isNaN(sigmoid(Number.NaN)));
});
