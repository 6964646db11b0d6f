import test from 'ava';
import { gradcheck } from '../src/gradcheck.js';
import { paramLayout, viewsOf } from '../src/model/layout.js';
import { Prng } from '../src/model/prng.js';
import { createEvalWorkspace, createWorkspace, evaluate, sequenceLoss, sequenceLossAndGrad } from '../src/model/rnn.js';

test("the seed's problem size (H=100, K=98, T=25), 200 samples per matrix: every check passes below 1e-8", (t) => {
  const H = 100;
  const K = 98;
  const checks = gradcheck({ H, K, T: 25, seed: 1, samplesPerMatrix: 200 });
  t.deepEqual(
    checks.map((c) => [c.name, c.checked]),
    [['W', 200], ['U', 200], ['V', 200], ['b', H], ['c', K]],
  );
  for (const c of checks) {
    t.true(c.passed, `${c.name}: abs ${c.maxAbsError}, rel ${c.maxRelError}`);
    t.true(c.maxAbsError < 1e-8, `${c.name}: max abs error ${c.maxAbsError}`);
    t.true(c.maxGradient > 0, `${c.name}: an all-zero gradient would pass trivially`);
  }
  // The relative bound was applied to some entries, not vacuously.
  t.true(checks.some((c) => c.judgedRelative > 0));
});

test('every entry of a small problem (H=12, K=7, T=9), several seeds', (t) => {
  for (const seed of [1, 2, 3, 42]) {
    const checks = gradcheck({ H: 12, K: 7, T: 9, seed, samplesPerMatrix: Infinity });
    t.deepEqual(
      checks.map((c) => [c.name, c.checked]),
      [['W', 144], ['U', 84], ['V', 84], ['b', 12], ['c', 7]],
      `seed ${seed}`,
    );
    for (const c of checks) {
      t.true(c.passed && c.maxAbsError < 1e-8, `seed ${seed} ${c.name}: abs ${c.maxAbsError}, rel ${c.maxRelError}`);
    }
  }
});

/** -log softmax(o)[y], written out for two logits. */
function crossEntropy2(o0: number, o1: number, y: 0 | 1): number {
  const p = Math.exp(y === 0 ? o0 : o1) / (Math.exp(o0) + Math.exp(o1));
  return -Math.log(p);
}

test('H=1, K=2, T=2: the loss worked by hand from the equations', (t) => {
  // a = W h + U[:,x] + b, h = tanh(a), o = V h + c, p = softmax(o), loss = -log p[y]
  const W = 0.5;
  const U = [0.3, -0.7]; // U[0][x]
  const V = [0.8, -0.4]; // V[k][0]
  const b = 0.1;
  const c = [0.2, -0.3];
  const h0 = 0.25;
  const ids = [1, 0, 1]; // x0=1 -> y0=0, x1=0 -> y1=1
  const h1 = Math.tanh(W * h0 + U[1] + b);
  const loss1 = crossEntropy2(V[0] * h1 + c[0], V[1] * h1 + c[1], 0);
  const h2 = Math.tanh(W * h1 + U[0] + b);
  const loss2 = crossEntropy2(V[0] * h2 + c[0], V[1] * h2 + c[1], 1);

  const dims = { H: 1, K: 2 };
  const layout = paramLayout(dims);
  const flat = Float64Array.from([W, ...U, ...V, b, ...c]); // layout order W, U, V, b, c
  const ws = createWorkspace(dims, 2);
  const loss = sequenceLoss(viewsOf(flat, layout), dims, ids, 0, [h0], ws);
  t.true(Math.abs(loss - (loss1 + loss2)) < 1e-12, `${loss} vs ${loss1 + loss2}`);
  t.true(Math.abs(ws.hs[2] - h2) < 1e-15, 'h_{T-1} is left in hs row T');

  // evaluate() is the forward pass the validation uses: same loss, h updated in place to h2.
  const h = Float64Array.of(h0);
  const evalLoss = evaluate(viewsOf(flat, layout), dims, ids, 0, 2, h, createEvalWorkspace(dims));
  t.true(Math.abs(evalLoss - (loss1 + loss2)) < 1e-12, `${evalLoss} vs ${loss1 + loss2}`);
  t.true(Math.abs(h[0] - h2) < 1e-15);
});

test('H=2, K=3, T=2: the loss by hand pins the row-major orientation of W, U and V', (t) => {
  // Row-major: W[i][j] multiplies h_j into a_i; U[i][x] is column x; V[k][j] multiplies h_j into o_k.
  const W = [
    [0.3, -0.6],
    [0.9, 0.2],
  ];
  const U = [
    [0.1, -0.2, 0.5],
    [-0.4, 0.7, 0.05],
  ];
  const V = [
    [0.6, -0.1],
    [-0.8, 0.4],
    [0.25, 0.9],
  ];
  const b = [0.05, -0.15];
  const c = [0.1, 0, -0.2];
  const h0 = [0.5, -0.3];
  const ids = [2, 0, 1]; // x0=2 -> y0=0, x1=0 -> y1=1
  const step = (h: number[], x: number): number[] => [
    Math.tanh(W[0][0] * h[0] + W[0][1] * h[1] + U[0][x] + b[0]),
    Math.tanh(W[1][0] * h[0] + W[1][1] * h[1] + U[1][x] + b[1]),
  ];
  const ce = (h: number[], y: number): number => {
    const o = [0, 1, 2].map((k) => V[k][0] * h[0] + V[k][1] * h[1] + c[k]);
    return -Math.log(Math.exp(o[y]) / (Math.exp(o[0]) + Math.exp(o[1]) + Math.exp(o[2])));
  };
  const h1 = step(h0, ids[0]);
  const h2 = step(h1, ids[1]);
  const expected = ce(h1, ids[1]) + ce(h2, ids[2]);

  const dims = { H: 2, K: 3 };
  const flat = Float64Array.from([...W.flat(), ...U.flat(), ...V.flat(), ...b, ...c]);
  const loss = sequenceLoss(viewsOf(flat, paramLayout(dims)), dims, ids, 0, h0, createWorkspace(dims, 2));
  t.true(Math.abs(loss - expected) < 1e-12, `${loss} vs ${expected}`);
});

test('H=1, K=2, T=1: the gradient worked by hand, added on top of what the buffer held', (t) => {
  const W = 0.5;
  const U = [0.3, -0.7];
  const V = [0.8, -0.4];
  const b = 0.1;
  const c = [0.2, -0.3];
  const h0 = 0.25;
  const x = 1;
  const y = 0;
  const h1 = Math.tanh(W * h0 + U[x] + b);
  const e = [Math.exp(V[0] * h1 + c[0]), Math.exp(V[1] * h1 + c[1])];
  const p = [e[0] / (e[0] + e[1]), e[1] / (e[0] + e[1])];
  const dy = [p[0] - 1, p[1]]; // p - onehot(y)
  const da = (V[0] * dy[0] + V[1] * dy[1]) * (1 - h1 * h1);
  // Layout order W, U[0], U[1], V[0], V[1], b, c[0], c[1]; U's column 0 was not the input.
  const expected = [da * h0, 0, da, dy[0] * h1, dy[1] * h1, da, dy[0], dy[1]];

  const dims = { H: 1, K: 2 };
  const layout = paramLayout(dims);
  const flat = Float64Array.from([W, ...U, ...V, b, ...c]);
  const grad = new Float64Array(layout.size).fill(1); // backward adds: expect 1 + dL/dparam
  sequenceLossAndGrad(viewsOf(flat, layout), dims, [x, y], 0, [h0], viewsOf(grad, layout), createWorkspace(dims, 1));
  for (let i = 0; i < expected.length; i++) {
    t.true(Math.abs(grad[i] - (1 + expected[i])) < 1e-12, `entry ${i}: ${grad[i] - 1} vs ${expected[i]}`);
  }
});

test('the 1e-8 tolerance is meaningful: a centered difference matches its own entry, not a neighbour', (t) => {
  const dims = { H: 6, K: 5 };
  const T = 7;
  const layout = paramLayout(dims);
  const prng = Prng.fromSeed(7);
  const flat = Float64Array.from({ length: layout.size }, () => 0.3 * prng.nextGaussian());
  const h0 = Float64Array.from({ length: dims.H }, () => Math.tanh(prng.nextGaussian()));
  const ids = [0, 3, 1, 4, 4, 2, 0, 1];
  const params = viewsOf(flat, layout);
  const ws = createWorkspace(dims, T);
  const grad = new Float64Array(layout.size);
  sequenceLossAndGrad(params, dims, ids, 0, h0, viewsOf(grad, layout), ws);

  const centered = (index: number): number => {
    const step = 1e-5;
    const saved = flat[index];
    flat[index] = saved + step;
    const plus = sequenceLoss(params, dims, ids, 0, h0, ws);
    flat[index] = saved - step;
    const minus = sequenceLoss(params, dims, ids, 0, h0, ws);
    flat[index] = saved;
    return (plus - minus) / (2 * step);
  };
  const w = 2 * dims.H + 3; // W[2][3]
  const numeric = centered(w);
  t.true(Math.abs(numeric) > 1e-3, 'the entry has a gradient worth checking');
  t.true(Math.abs(numeric - grad[w]) < 1e-8, `right entry: ${numeric} vs ${grad[w]}`);
  // A plausible bug (reading the transposed entry W[3][2]) is off by orders of magnitude more than the tolerance.
  const wrong = grad[3 * dims.H + 2];
  t.true(Math.abs(numeric - wrong) > 1e-4, `wrong entry: ${numeric} vs ${wrong}`);
  // Even a 0.1% error in the right entry is caught.
  t.true(Math.abs(numeric - grad[w] * 1.001) > 1e-8);
});
