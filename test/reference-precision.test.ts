import test from 'ava';
import { exp } from '../src/model/exp.js';
import { modelLayout, stateLength } from '../src/model/cells/cell.js';
import { cellNamed, gatedCellNamed } from '../src/model/cells/registry.js';
import { sigmoid } from '../src/model/cells/sigmoid.js';
import { GATES, maskSize, stackedLayout, stackedViewsOf, stateSize, type CellKind, type StackedDims } from '../src/model/cells/stacked-layout.js';
import { FLOAT32, FLOAT64, type FloatArray, type Precision } from '../src/model/precision.js';
import { Prng } from '../src/model/prng.js';
import { tanh } from '../src/model/tanh.js';
import { GATED_CELLS } from './fixtures/cells.js';

// The gated cells' reference math in float32 (src/model/cells/lstm.ts, gru.ts, mgu.ts, affine.ts): every
// +, -, * and / rounded to float32, exp, tanh and σ the float64 functions rounded once. Checked
// against scalar code worked by hand with Math.fround, against the float64 math on the same
// inputs, and for rounding that is explicit rather than left to Float32Array stores.

const fr = Math.fround;

/** FLOAT32's arithmetic over Float64Array workspaces: a value the code forgot to round shows as not float32. */
const FLOAT32_IN_FLOAT64: Precision = { ...FLOAT32, array: (length) => new Float64Array(length) };

interface Problem {
  readonly dims: StackedDims;
  readonly T: number;
  readonly params: Float64Array; // float32 numbers, from N(0, 0.3^2)
  readonly state0: Float64Array; // float32 numbers: h in (-1, 1), the LSTM's c from N(0, 1)
  readonly ids: Uint32Array; // (T+1)
  readonly masks: Float64Array | null; // 0 or fround(1 / (1 - 0.3)), or none
}

function randomProblem(cell: CellKind, L: number, H: number, K: number, T: number, seed: number, dropout: boolean): Problem {
  const dims = { cell, L, H, K };
  const prng = Prng.fromSeed(seed);
  const params = Float64Array.from({ length: stackedLayout(dims).size }, () => fr(0.3 * prng.nextGaussian()));
  const state0 = Float64Array.from({ length: stateSize(dims) }, (_, i) => fr(i < L * H ? Math.tanh(prng.nextGaussian()) : prng.nextGaussian()));
  const ids = Uint32Array.from({ length: T + 1 }, () => prng.nextUint32() % K);
  const keep = fr(1 / (1 - 0.3));
  const masks = dropout ? Float64Array.from({ length: maskSize(dims, T) }, () => (prng.nextDouble() < 0.3 ? 0 : keep)) : null;
  return { dims, T, params, state0, ids, masks };
}

/** lossAndGrad straight on the cell's module, and every array of its workspace afterwards. */
function run({ dims, T, params, state0, ids, masks }: Problem, precision: Precision) {
  const layout = stackedLayout(dims);
  const copy = (values: Float64Array): FloatArray => {
    const array = precision.array(values.length);
    array.set(values);
    return array;
  };
  const p = stackedViewsOf(copy(params), layout);
  const grad = precision.array(layout.size);
  const g = stackedViewsOf(grad, layout);
  const state = state0.slice();
  const m = masks === null ? null : copy(masks);
  const { math } = gatedCellNamed(dims.cell);
  const ws = math.createWorkspace(dims, T, precision);
  const loss = math.sequenceLossAndGrad(p, dims, ids, 0, state, m, g, ws);
  const arrays = Object.entries(ws).filter((entry): entry is [string, FloatArray] => ArrayBuffer.isView(entry[1]));
  return { loss, grad, state, arrays };
}

function firstNotFloat32(values: ArrayLike<number>): string | null {
  for (let i = 0; i < values.length; i++) if (fr(values[i]) !== values[i]) return `entry ${i} is ${values[i]}`;
  return null;
}

function firstDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): string | null {
  if (actual.length !== expected.length) return `length ${actual.length} vs ${expected.length}`;
  for (let i = 0; i < expected.length; i++) if (!Object.is(actual[i], expected[i])) return `entry ${i}: ${actual[i]} vs ${expected[i]}`;
  return null;
}

const SHAPES = [5, 8].flatMap((H) => GATED_CELLS.flatMap((cell) => [false, true].map((dropout) => ({ cell, H, dropout }))));

for (const { cell, H, dropout } of SHAPES) {
  const label = `${cell} L=2 H=${H} K=7 T=6${dropout ? ' with dropout' : ''}`;

  test(`${label}: float32 rounds every stored value itself, and Float32Array stores change nothing`, (t) => {
    const problem = randomProblem(cell, 2, H, 7, 6, 11 + H, dropout);
    // Float64Array workspaces and gradient: nothing rounds but the code, so every value must be float32 already
    const explicit = run(problem, FLOAT32_IN_FLOAT64);
    t.true(explicit.arrays.length >= 12);
    for (const [name, values] of [...explicit.arrays, ['grad', explicit.grad], ['state', explicit.state]] as const) {
      t.is(firstNotFloat32(values), null, name);
    }
    // and the same bits as the real float32 run, whose Float32Array stores would have hidden a missing round
    const stored = run(problem, FLOAT32);
    t.is(stored.loss, explicit.loss);
    t.is(firstDifference(stored.grad, explicit.grad), null, 'grad');
    t.is(firstDifference(stored.state, explicit.state), null, 'state');
    t.true(stored.grad instanceof Float32Array && stored.arrays.every(([, values]) => values instanceof Float32Array));
  });

  test(`${label}: float32 is close to float64 on the same inputs, and not equal to it`, (t) => {
    const problem = randomProblem(cell, 2, H, 7, 6, 23 + H, dropout);
    const f32 = run(problem, FLOAT32);
    const f64 = run(problem, FLOAT64);
    // float32's unit roundoff is 2^-24 = 6e-8, and each value here is a few dozen rounded
    // operations deep. Measured over 64 random problems of these shapes: the loss within 2.4e-8 of
    // float64's, relatively, and every gradient entry within 6.2e-7 of its tensor's largest entry.
    // The bounds leave a margin of 16 or more and still catch a wrong operand or a dropped term.
    t.true(Math.abs(f32.loss - f64.loss) < 1e-6 * f64.loss, `loss ${f32.loss} vs ${f64.loss}`);
    t.not(f32.loss, f64.loss); // the rounding is really there
    const layout = stackedLayout(problem.dims);
    for (const spec of layout.specs) {
      let scale = 0;
      let worst = 0;
      for (let i = spec.offset; i < spec.offset + spec.size; i++) {
        scale = Math.max(scale, Math.abs(f64.grad[i]));
        worst = Math.max(worst, Math.abs(f32.grad[i] - f64.grad[i]));
      }
      t.true(scale > 0 && worst <= 1e-5 * scale, `${spec.name}: max |float32 - float64| ${worst} of max |grad| ${scale}`);
    }
    for (let i = 0; i < f64.state.length; i++) {
      t.true(Math.abs(f32.state[i] - f64.state[i]) < 1e-5 * (1 + Math.abs(f64.state[i])), `state[${i}] ${f32.state[i]} vs ${f64.state[i]}`);
    }
  });
}

test('float32 reference through the descriptor: the same bits as the module, Float32Array weights required', (t) => {
  for (const cell of GATED_CELLS) {
    const problem = randomProblem(cell, 2, 5, 7, 6, 41, true);
    const want = run(problem, FLOAT32);
    const descriptor = cellNamed(cell);
    const layout = modelLayout(descriptor, problem.dims);
    const math = descriptor.reference(layout, problem.T, FLOAT32);
    const grad = new Float32Array(layout.size);
    const state = problem.state0.slice();
    const loss = math.lossAndGrad(Float32Array.from(problem.params), grad, problem.ids, 0, state, Float32Array.from(problem.masks!));
    t.is(loss, want.loss, cell);
    t.is(firstDifference(grad, want.grad), null, `${cell} grad`);
    t.is(firstDifference(state, want.state), null, `${cell} state`);
    t.throws(() => math.loss(problem.params, problem.ids, 0, problem.state0.slice(), null), { instanceOf: TypeError, message: /Float32Array/ });
  }
});

// ---- worked by hand: layers of one unit, scalar code with every operation rounded --------------

/** Layer l's tensors in the layout's order, G gate rows; In = K for layer 0 (one-hot), 1 above. */
interface ScalarLayer {
  readonly W: number[]; // weight_ih_l (G, In)
  readonly U: number[]; // weight_hh_l (G, 1)
  readonly bi: number[]; // bias_ih_l (G)
  readonly bh: number[]; // bias_hh_l (G)
}

/** A stack of H=1 layers under the output layer. */
interface Scalar {
  readonly layers: ScalarLayer[];
  readonly V: number[]; // (K, 1)
  readonly c: number[]; // (K)
}

interface ByHand {
  loss: number;
  state: number[];
  grad: number[]; // the layout's order
}

const flatten = (w: Scalar): number[] => [...w.layers.flatMap((l) => [...l.W, ...l.U, ...l.bi, ...l.bh]), ...w.V, ...w.c];

function zeros(w: Scalar): Scalar {
  const z = (a: number[]): number[] => a.map(() => 0);
  return { layers: w.layers.map((l) => ({ W: z(l.W), U: z(l.U), bi: z(l.bi), bh: z(l.bh) })), V: z(w.V), c: z(w.c) };
}

/** gi = b_ih + W_ih x (layer 0: column `id` of W_ih; above it x is the scalar below) and gh = b_hh + W_hh h. */
function gatesByHand(p: ScalarLayer, l: number, K: number, id: number, x: number, h: number): { gi: number[]; gh: number[] } {
  const rows = p.bi.map((_, r) => r);
  return {
    gi: rows.map((r) => (l === 0 ? fr(p.bi[r] + p.W[r * K + id]) : fr(p.bi[r] + fr(p.W[r] * x)))),
    gh: rows.map((r) => fr(p.bh[r] + fr(p.U[r] * h))),
  };
}

/** Backward of gatesByHand into g; returns dx (0 for layer 0) and dhPrev plus W_hh^T dgh, each summed over rows ascending. */
function gatesBackByHand(p: ScalarLayer, g: ScalarLayer, l: number, K: number, id: number, x: number, h: number, dgi: number[], dgh: number[], dhPrev: number) {
  let dx = 0;
  for (let r = 0; r < dgi.length; r++) {
    g.bi[r] = fr(g.bi[r] + dgi[r]);
    if (l === 0) g.W[r * K + id] = fr(g.W[r * K + id] + dgi[r]);
    else {
      g.W[r] = fr(g.W[r] + fr(dgi[r] * x));
      dx = fr(dx + fr(p.W[r] * dgi[r]));
    }
    g.bh[r] = fr(g.bh[r] + dgh[r]);
    g.U[r] = fr(g.U[r] + fr(dgh[r] * h));
    dhPrev = fr(dhPrev + fr(p.U[r] * dgh[r]));
  }
  return { dx, dhPrev };
}

/** o = c + V y, p = softmax(o), -log p[target] as rule 3: p and the loss. */
function softmaxByHand(w: Scalar, y: number, target: number): { p: number[]; loss: number } {
  const o = w.c.map((ck, k) => fr(ck + fr(w.V[k] * y)));
  let max = -Infinity;
  for (const ok of o) if (ok > max) max = ok;
  const e = o.map((ok) => fr(exp(fr(ok - max))));
  let total = 0;
  for (const ek of e) total = fr(total + ek);
  const inv = fr(1 / total);
  return { p: e.map((ek) => fr(ek * inv)), loss: Math.log(total) - fr(o[target] - max) };
}

/** Backward of softmaxByHand into g's V and c: returns dL/dy = V^T (p - onehot). */
function softmaxBackByHand(w: Scalar, g: Scalar, y: number, p: number[], target: number): number {
  const d = p.slice();
  d[target] = fr(d[target] - 1);
  let dy = 0;
  for (let k = 0; k < d.length; k++) {
    g.c[k] = fr(g.c[k] + d[k]);
    g.V[k] = fr(g.V[k] + fr(d[k] * y));
    dy = fr(dy + fr(w.V[k] * d[k]));
  }
  return dy;
}

/** masks[l][t]; state0 = [h per layer, c per layer]. */
function lstmByHand(w: Scalar, ids: number[], masks: number[][], state0: number[]): ByHand {
  const L = w.layers.length;
  const K = w.c.length;
  const T = ids.length - 1;
  const hs = w.layers.map((_, l) => [state0[l]]); // hs[l][t]: h entering step t
  const cs = w.layers.map((_, l) => [state0[L + l]]);
  const ys: number[][] = w.layers.map(() => []);
  const acts: number[][][] = w.layers.map(() => []);
  const tcs: number[][] = w.layers.map(() => []);
  const ps: number[][] = [];
  let loss = 0;
  for (let t = 0; t < T; t++) {
    for (let l = 0; l < L; l++) {
      const { gi, gh } = gatesByHand(w.layers[l], l, K, ids[t], l > 0 ? ys[l - 1][t] : 0, hs[l][t]);
      const pre = gi.map((v, r) => fr(v + gh[r]));
      const [ig, f, g, o] = [fr(sigmoid(pre[0])), fr(sigmoid(pre[1])), fr(tanh(pre[2])), fr(sigmoid(pre[3]))];
      const cNew = fr(fr(f * cs[l][t]) + fr(ig * g));
      const tc = fr(tanh(cNew));
      const h = fr(o * tc);
      acts[l].push([ig, f, g, o]);
      tcs[l].push(tc);
      cs[l].push(cNew);
      hs[l].push(h);
      ys[l].push(fr(h * masks[l][t]));
    }
    const out = softmaxByHand(w, ys[L - 1][t], ids[t + 1]);
    ps.push(out.p);
    loss += out.loss;
  }
  const g = zeros(w);
  const dhNext = w.layers.map(() => 0);
  const dcNext = w.layers.map(() => 0);
  for (let t = T - 1; t >= 0; t--) {
    let dUp = softmaxBackByHand(w, g, ys[L - 1][t], ps[t], ids[t + 1]);
    for (let l = L - 1; l >= 0; l--) {
      const [ig, f, gg, o] = acts[l][t];
      const tc = tcs[l][t];
      const dh = fr(fr(dUp * masks[l][t]) + dhNext[l]);
      const dc = fr(fr(fr(dh * o) * fr(1 - fr(tc * tc))) + dcNext[l]);
      const dpre = [
        fr(fr(dc * gg) * fr(ig * fr(1 - ig))),
        fr(fr(dc * cs[l][t]) * fr(f * fr(1 - f))),
        fr(fr(dc * ig) * fr(1 - fr(gg * gg))),
        fr(fr(dh * tc) * fr(o * fr(1 - o))),
      ];
      dcNext[l] = fr(dc * f);
      const back = gatesBackByHand(w.layers[l], g.layers[l], l, K, ids[t], l > 0 ? ys[l - 1][t] : 0, hs[l][t], dpre, dpre, 0);
      dhNext[l] = back.dhPrev;
      dUp = back.dx;
    }
  }
  return { loss, state: [...hs.map((h) => h[T]), ...cs.map((c) => c[T])], grad: flatten(g) };
}

/** masks[l][t]; state0 = [h per layer]. */
function gruByHand(w: Scalar, ids: number[], masks: number[][], state0: number[]): ByHand {
  const L = w.layers.length;
  const K = w.c.length;
  const T = ids.length - 1;
  const hs = w.layers.map((_, l) => [state0[l]]);
  const ys: number[][] = w.layers.map(() => []);
  const acts: { r: number; z: number; n: number; hn: number }[][] = w.layers.map(() => []);
  const ps: number[][] = [];
  let loss = 0;
  for (let t = 0; t < T; t++) {
    for (let l = 0; l < L; l++) {
      const { gi, gh } = gatesByHand(w.layers[l], l, K, ids[t], l > 0 ? ys[l - 1][t] : 0, hs[l][t]);
      const r = fr(sigmoid(fr(gi[0] + gh[0])));
      const z = fr(sigmoid(fr(gi[1] + gh[1])));
      const n = fr(tanh(fr(gi[2] + fr(r * gh[2]))));
      const h = fr(fr(fr(1 - z) * n) + fr(z * hs[l][t]));
      acts[l].push({ r, z, n, hn: gh[2] });
      hs[l].push(h);
      ys[l].push(fr(h * masks[l][t]));
    }
    const out = softmaxByHand(w, ys[L - 1][t], ids[t + 1]);
    ps.push(out.p);
    loss += out.loss;
  }
  const g = zeros(w);
  const dhNext = w.layers.map(() => 0);
  for (let t = T - 1; t >= 0; t--) {
    let dUp = softmaxBackByHand(w, g, ys[L - 1][t], ps[t], ids[t + 1]);
    for (let l = L - 1; l >= 0; l--) {
      const { r, z, n, hn } = acts[l][t];
      const dh = fr(fr(dUp * masks[l][t]) + dhNext[l]);
      const dn = fr(dh * fr(1 - z));
      const dz = fr(dh * fr(hs[l][t] - n));
      const dan = fr(dn * fr(1 - fr(n * n)));
      const dar = fr(fr(dan * hn) * fr(r * fr(1 - r)));
      const daz = fr(dz * fr(z * fr(1 - z)));
      // the direct path h_prev -> h first, then W_hh^T dgh
      const back = gatesBackByHand(w.layers[l], g.layers[l], l, K, ids[t], l > 0 ? ys[l - 1][t] : 0, hs[l][t], [dar, daz, dan], [dar, daz, fr(dan * r)], fr(dh * z));
      dhNext[l] = back.dhPrev;
      dUp = back.dx;
    }
  }
  return { loss, state: hs.map((h) => h[T]), grad: flatten(g) };
}

/** The MGU as mgu.ts states it, scalar by scalar in float32 (H = 1): rows f, h̃; W_hh's h̃ row multiplies f h. */
function mguByHand(w: Scalar, ids: number[], masks: number[][], state0: number[]): ByHand {
  const L = w.layers.length;
  const K = w.c.length;
  const T = ids.length - 1;
  const hs = w.layers.map((_, l) => [state0[l]]);
  const ys: number[][] = w.layers.map(() => []);
  const acts: { f: number; fh: number; ht: number }[][] = w.layers.map(() => []);
  const ps: number[][] = [];
  let loss = 0;
  for (let t = 0; t < T; t++) {
    for (let l = 0; l < L; l++) {
      const p = w.layers[l];
      const h = hs[l][t];
      const { gi, gh } = gatesByHand(p, l, K, ids[t], l > 0 ? ys[l - 1][t] : 0, h); // gh[1] unused: that row reads f h
      const f = fr(sigmoid(fr(gi[0] + gh[0])));
      const fh = fr(f * h);
      const ht = fr(tanh(fr(gi[1] + fr(p.bh[1] + fr(p.U[1] * fh)))));
      const hNew = fr(fr(fr(1 - f) * h) + fr(f * ht));
      acts[l].push({ f, fh, ht });
      hs[l].push(hNew);
      ys[l].push(fr(hNew * masks[l][t]));
    }
    const out = softmaxByHand(w, ys[L - 1][t], ids[t + 1]);
    ps.push(out.p);
    loss += out.loss;
  }
  const g = zeros(w);
  const dhNext = w.layers.map(() => 0);
  for (let t = T - 1; t >= 0; t--) {
    let dUp = softmaxBackByHand(w, g, ys[L - 1][t], ps[t], ids[t + 1]);
    for (let l = L - 1; l >= 0; l--) {
      const { f, fh, ht } = acts[l][t];
      const p = w.layers[l];
      const gl = g.layers[l];
      const h = hs[l][t];
      const x = l > 0 ? ys[l - 1][t] : 0;
      const dh = fr(fr(dUp * masks[l][t]) + dhNext[l]);
      const dah = fr(fr(dh * f) * fr(1 - fr(ht * ht)));
      const dfh = fr(p.U[1] * dah);
      const daf = fr(fr(fr(dh * fr(ht - h)) + fr(dfh * h)) * fr(f * fr(1 - f)));
      const d = [daf, dah];
      let dx = 0;
      for (let r = 0; r < 2; r++) {
        gl.bi[r] = fr(gl.bi[r] + d[r]);
        if (l === 0) gl.W[r * K + ids[t]] = fr(gl.W[r * K + ids[t]] + d[r]);
        else {
          gl.W[r] = fr(gl.W[r] + fr(d[r] * x));
          dx = fr(dx + fr(p.W[r] * d[r]));
        }
        gl.bh[r] = fr(gl.bh[r] + d[r]);
        gl.U[r] = fr(gl.U[r] + fr(d[r] * (r === 0 ? h : fh)));
      }
      // the direct paths through (1 - f) h and f h first, then W_hh[f]^T da_f
      dhNext[l] = fr(fr(fr(dh * fr(1 - f)) + fr(dfh * f)) + fr(p.U[0] * daf));
      dUp = dx;
    }
  }
  return { loss, state: hs.map((h) => h[T]), grad: flatten(g) };
}

/** The descriptor's float32 reference on a scalar problem: loss, final state, gradient. */
function byReference(cell: CellKind, w: Scalar, ids: number[], masks: number[][], state0: number[]): ByHand {
  const descriptor = cellNamed(cell);
  const layout = modelLayout(descriptor, { cell, L: w.layers.length, H: 1, K: w.c.length });
  const grad = new Float32Array(layout.size);
  const state = Float64Array.from(state0);
  const math = descriptor.reference(layout, ids.length - 1, FLOAT32);
  const loss = math.lossAndGrad(Float32Array.from(flatten(w)), grad, ids, 0, state, Float32Array.from(masks.flat()));
  return { loss, state: [...state], grad: [...grad] };
}

function firstByHandDifference(got: ByHand, want: ByHand): string | null {
  if (got.loss !== want.loss) return `loss ${got.loss} vs ${want.loss}`;
  const state = firstDifference(got.state, want.state);
  if (state !== null) return `state ${state}`;
  const grad = firstDifference(got.grad, want.grad);
  return grad === null ? null : `grad ${grad}`;
}

const KEEP = fr(1 / (1 - 0.3));

test('LSTM, L=1, H=1, K=2, T=2: loss, final state and every gradient worked by hand in float32', (t) => {
  const w: Scalar = {
    layers: [
      {
        W: [0.31, -0.52, 0.83, 0.14, -0.47, 0.66, 0.25, -0.38].map(fr), // rows i, f, g, o; a column per symbol
        U: [0.57, -0.29, 0.91, 0.43].map(fr),
        bi: [0.12, 0.95, -0.11, 0.07].map(fr),
        bh: [-0.06, 0.17, 0.23, -0.19].map(fr),
      },
    ],
    V: [1.21, -0.79].map(fr),
    c: [0.13, -0.09].map(fr),
  };
  const ids = [1, 0, 1];
  const state0 = [fr(0.3), fr(-0.7)];
  const want = lstmByHand(w, ids, [[KEEP, KEEP]], state0);
  t.is(firstByHandDifference(byReference('lstm', w, ids, [[KEEP, KEEP]], state0), want), null);
  // float64 differs: the rounding is really there
  const layout = modelLayout(cellNamed('lstm'), { cell: 'lstm', L: 1, H: 1, K: 2 });
  t.not(cellNamed('lstm').reference(layout, 2).loss(Float64Array.from(flatten(w)), ids, 0, Float64Array.from(state0), Float64Array.of(KEEP, KEEP)), want.loss);
});

test('GRU, L=1, H=1, K=2, T=2: loss, final state and every gradient worked by hand in float32', (t) => {
  const w: Scalar = {
    layers: [
      {
        W: [0.32, -0.51, 0.78, 0.11, -0.42, 0.63].map(fr), // rows r, z, n; a column per symbol
        U: [0.52, -0.31, 0.88].map(fr),
        bi: [0.09, 0.21, -0.12].map(fr),
        bh: [-0.05, 0.14, 0.26].map(fr),
      },
    ],
    V: [1.17, -0.83].map(fr),
    c: [0.11, -0.12].map(fr),
  };
  const ids = [1, 0, 1];
  const state0 = [fr(0.35)];
  const want = gruByHand(w, ids, [[KEEP, KEEP]], state0);
  t.is(firstByHandDifference(byReference('gru', w, ids, [[KEEP, KEEP]], state0), want), null);
  const layout = modelLayout(cellNamed('gru'), { cell: 'gru', L: 1, H: 1, K: 2 });
  t.not(cellNamed('gru').reference(layout, 2).loss(Float64Array.from(flatten(w)), ids, 0, Float64Array.from(state0), Float64Array.of(KEEP, KEEP)), want.loss);
});

// A skipped rounding changes a result only where the exact value is not float32 already (1 - z
// is exact for z >= 1/2, for one): many random problems give every rounding its chance to show.
test('L=2, H=1, K=5, T=10, 30 random problems per cell: the scalar code by hand equals the reference bit for bit', (t) => {
  const prng = Prng.fromSeed(77);
  const L = 2;
  const K = 5;
  const draw = (n: number): number[] => Array.from({ length: n }, () => fr(0.8 * prng.nextGaussian()));
  for (const cell of GATED_CELLS) {
    const G = GATES[cell];
    for (let n = 0; n < 30; n++) {
      const w: Scalar = { layers: [K, 1].map((In) => ({ W: draw(G * In), U: draw(G), bi: draw(G), bh: draw(G) })), V: draw(K), c: draw(K) };
      const ids = Array.from({ length: 11 }, () => prng.nextUint32() % K);
      const masks = w.layers.map(() => ids.slice(1).map(() => (prng.nextDouble() < 0.2 ? 0 : KEEP)));
      const state0 = [...Array.from({ length: L }, () => fr(Math.tanh(prng.nextGaussian()))), ...(cell === 'lstm' ? draw(L) : [])];
      const want = { lstm: lstmByHand, gru: gruByHand, mgu: mguByHand }[cell](w, ids, masks, state0);
      const difference = firstByHandDifference(byReference(cell, w, ids, masks, state0), want);
      if (difference !== null) {
        t.fail(`${cell} problem ${n}: ${difference}`);
        return;
      }
    }
  }
  t.pass();
});

test('float32 stepper: the reference forward on the rounded weights, and o = c + V h rounded as it goes', (t) => {
  for (const cell of GATED_CELLS) {
    const dims = { cell, L: 2, H: 8, K: 7 };
    const descriptor = cellNamed(cell);
    const layout = modelLayout(descriptor, dims);
    const prng = Prng.fromSeed(5);
    const params = Float64Array.from({ length: layout.size }, () => 0.3 * prng.nextGaussian()); // not float32: the stepper rounds them
    const state0 = Float64Array.from({ length: stateLength(descriptor, dims) }, () => fr(Math.tanh(prng.nextGaussian())));
    const ids = Uint32Array.from({ length: 7 }, () => prng.nextUint32() % dims.K);

    const stepper = descriptor.createStepper(params, layout, FLOAT32);
    stepper.state.set(state0);
    for (let i = 0; i < 6; i++) stepper.feed(ids[i]);
    const weights = Float32Array.from(params);
    const state = state0.slice();
    descriptor.reference(layout, 6, FLOAT32).loss(weights, ids, 0, state, null);
    t.is(firstDifference(stepper.state, state), null, `${cell} state`);

    const scores = stepper.scores();
    const { V, c } = stackedViewsOf(weights, stackedLayout({ ...dims, cell }));
    const top = (dims.L - 1) * dims.H; // row L - 1 of the state's h
    for (let k = 0; k < dims.K; k++) {
      let o = c[k];
      for (let j = 0; j < dims.H; j++) o = fr(o + fr(V[k * dims.H + j] * state[top + j]));
      t.is(scores[k], o, `${cell} score ${k}`);
    }
    // float64's stepper from the same weights differs, by float32's rounding only
    const wide = descriptor.createStepper(params, layout);
    wide.state.set(state0);
    for (let i = 0; i < 6; i++) wide.feed(ids[i]);
    const scores64 = wide.scores();
    t.true(scores.some((s, k) => s !== scores64[k]));
    t.true(scores.every((s, k) => Math.abs(s - scores64[k]) < 1e-4 * (1 + Math.abs(scores64[k]))));
  }
});

test('the rnn cell computes in float64 only', (t) => {
  const rnn = cellNamed('rnn');
  const layout = modelLayout(rnn, { cell: 'rnn', L: 1, H: 3, K: 4 });
  t.throws(() => rnn.reference(layout, 2, FLOAT32), { message: /float64 only/ });
  t.throws(() => rnn.createStepper(new Float64Array(layout.size), layout, FLOAT32), { message: /float64 only/ });
  t.notThrows(() => rnn.reference(layout, 2, FLOAT64));
});
