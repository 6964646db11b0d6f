import test from 'ava';
import { CELL_NAMES } from '../src/model/cells/registry.js';
import { ABS_TOLERANCE, cellAnalyticGradient, cellProblem, checkCellGradient, compareGradients, gradcheck, gradcheckCell } from '../src/gradcheck.js';
import { dropoutMask } from '../src/model/dropout.js';
import { stackedShapeTable } from '../src/model/cells/stacked-layout.js';
import { paramLayout, viewsOf } from '../src/model/cells/rnn-layout.js';
import { Prng } from '../src/model/prng.js';
import { createEvalWorkspace, createWorkspace, evaluate, sequenceLoss, sequenceLossAndGrad } from '../src/model/cells/rnn.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runCli } from './fixtures/harness.js';
import { GATED_CELLS } from './fixtures/cells.js';

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

// ---- stacked LSTM and GRU cells ----------------------------------------------------------------

for (const cell of GATED_CELLS) {
  for (const L of [1, 3]) {
    for (const dropout of [0, 0.4]) {
      test(`${cell}, ${L} layer(s), dropout ${dropout}, H=6, K=5, T=5: every entry of every tensor within 1e-8`, (t) => {
        const options = { cell, L, H: 6, K: 5, T: 5, seed: 3, dropout, samplesPerTensor: Infinity };
        const checks = gradcheckCell(options);
        const table = stackedShapeTable({ cell, L, H: 6, K: 5 });
        t.deepEqual(
          checks.map((c) => [c.name, c.checked]),
          table.map(([name, shape]) => [name, shape.reduce((a, b) => a * b, 1)]),
          'every parameter kind, every entry',
        );
        for (const c of checks) {
          t.true(c.passed && c.maxAbsError < 1e-8, `${c.name}: abs ${c.maxAbsError}, rel ${c.maxRelError}`);
          t.true(c.maxGradient > 0, `${c.name}: an all-zero gradient would pass trivially`);
        }
        t.true(checks.some((c) => c.judgedRelative > 0), 'the relative bound was applied somewhere');
      });
    }
  }
}

test("a gated problem's dropout masks are dropoutMask's, keyed by the seed, layer and step", (t) => {
  const problem = cellProblem({ cell: 'lstm', L: 2, H: 8, K: 5, T: 4, seed: 9, dropout: 0.5 });
  const masks = problem.masks;
  if (masks === null) return t.fail('dropout 0.5 gives masks');
  const expected = new Float64Array(8);
  dropoutMask(expected, { seed: 9, step: 0, stream: 0, layer: 1, t: 2, p: 0.5 });
  t.deepEqual(masks.subarray((1 * 4 + 2) * 8, (1 * 4 + 3) * 8), expected);
  t.true(masks.includes(0) && masks.includes(2), 'some units dropped, the rest scaled by 1 / (1 - p)');
  t.deepEqual(cellProblem({ cell: 'lstm', L: 2, H: 8, K: 5, T: 4, seed: 9, dropout: 0.5 }).masks, masks, 'reproducible');
  t.is(cellProblem({ cell: 'lstm', L: 2, H: 8, K: 5, T: 4, seed: 9, dropout: 0 }).masks, null);
});

test('sampled entries: samplesPerTensor caps every tensor, vectors included, and the draw is reproducible', (t) => {
  const options = { cell: 'gru' as const, L: 2, H: 8, K: 5, T: 4, seed: 2, dropout: 0, samplesPerTensor: 10 };
  const checks = gradcheckCell(options);
  t.deepEqual(
    checks.map((c) => c.checked),
    [10, 10, 10, 10, 10, 10, 10, 10, 10, 5],
  );
  t.true(checks.every((c) => c.passed));
  t.deepEqual(gradcheckCell(options), checks);
});

test('the gradcheck can fail: a gradient with one entry off by 1e-6 is reported, in that tensor only', (t) => {
  for (const cell of GATED_CELLS) {
    const problem = cellProblem({ cell, L: 2, H: 5, K: 4, T: 4, seed: 5, dropout: 0.2 });
    const analytic = cellAnalyticGradient(problem);
    const honest = checkCellGradient(problem, analytic, Infinity);
    t.true(honest.every((c) => c.passed), `${cell}: BPTT's own gradient passes`);

    const spec = problem.layout.specs.find((s) => s.name === 'weight_hh_l1');
    if (spec === undefined) return t.fail('the table has weight_hh_l1');
    const spoiled = analytic.slice();
    spoiled[spec.offset + 7] += 1e-6;
    const checks = checkCellGradient(problem, spoiled, Infinity);
    for (const c of checks) {
      if (c.name === 'weight_hh_l1') {
        t.false(c.passed, `${cell}: the spoiled tensor fails`);
        t.true(c.maxAbsError > 0.9e-6 && c.maxAbsError > ABS_TOLERANCE, `${cell}: abs ${c.maxAbsError}`);
      } else {
        t.true(c.passed, `${cell} ${c.name}: untouched tensors still pass`);
      }
    }
    t.deepEqual(analytic, cellAnalyticGradient(problem), 'the problem is left as it was');
  }
});

test('compareGradients: the verdict of two vectors, abs and relative bounds, NaN fails', (t) => {
  const ok = compareGradients('x', [0.5, 1e-3, 0], [0.5 + 1e-9, 1e-3 - 1e-9, 2e-9]);
  t.like(ok, { name: 'x', checked: 3, maxGradient: 0.5, judgedRelative: 1, passed: true });
  t.true(Math.abs(ok.maxAbsError - 2e-9) < 1e-18);
  t.false(compareGradients('x', [0.5, 1e-3], [0.5, 1e-3 + 2e-8]).passed, 'abs error 2e-8 on a small gradient');
  // A gradient above 1e-2 is also judged relatively: 9e-9 passes the absolute bound, and 9e-9 / 0.011 = 8e-7 < 1e-6.
  t.true(compareGradients('x', [0.011], [0.011 + 9e-9]).passed);
  t.false(compareGradients('x', [Number.NaN], [0]).passed);
  t.false(compareGradients('x', [0.2], [Number.NaN]).passed);
  t.true(Number.isNaN(compareGradients('x', [1e-4], [1e-4]).maxRelError), 'no entry large enough to judge relatively');
  t.throws(() => compareGradients('x', [1, 2], [1]), { instanceOf: RangeError });
});

test('the RNN check keeps its counts through the shared comparison: samplesPerMatrix caps W, U, V; b and c whole', (t) => {
  // And the CLI's default output is unchanged: test/readme.test.ts compares it byte for byte.
  const checks = gradcheck({ H: 5, K: 4, T: 3, seed: 1, samplesPerMatrix: 7 });
  t.deepEqual(
    checks.map((c) => [c.name, c.checked]),
    [['W', 7], ['U', 7], ['V', 7], ['b', 5], ['c', 4]],
  );
});

// ---- the command --------------------------------------------------------------------------------

test('gradcheck --cell gru --layers 3 (small): exit 0, a header naming the cell, a line per parameter kind', async (t) => {
  const result = await runCli(['gradcheck', '--cell', 'gru', '--layers', '3', '--hidden', '16', '--vocab', '7', '--seq-length', '5'], {});
  t.is(result.code, 0, result.stderr);
  t.is(result.stderr, '');
  const lines = result.stdout.trimEnd().split('\n');
  t.is(lines[0], 'gradcheck: gru, 3 layers, H=16 K=7 T=5 seed=1, centered differences with step 1e-5');
  const names = stackedShapeTable({ cell: 'gru', L: 3, H: 16, K: 7 }).map(([name]) => name);
  const body = lines.slice(1, -1);
  t.deepEqual(
    body.map((line) => /^ {2}(\S+):/.exec(line)?.[1]),
    names,
  );
  // Names padded so the columns line up: every 'entries' at one column.
  t.is(new Set(body.map((line) => line.indexOf(' entries'))).size, 1);
  t.true(body.every((line) => line.endsWith('  ok')));
  t.is(lines.at(-1), 'PASS: bounds are abs err < 1e-8 and rel err < 0.000001');
});

test('gradcheck --cell lstm --dropout 0.3 --all (small): passes, and says the masks are fixed', async (t) => {
  const result = await runCli(['gradcheck', '--cell', 'lstm', '--layers', '1', '--dropout', '0.3', '--hidden', '6', '--vocab', '5', '--seq-length', '4', '--all'], {});
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /^gradcheck: lstm, 1 layer, dropout 0\.3 \(fixed masks\), H=6 K=5 T=4 seed=1,/);
  t.regex(result.stdout, /^ {2}weight_hh_l0: {2}\s*144 entries/m);
  t.regex(result.stdout, /^PASS/m);
});

test("the default cell is train's, gru with its 2 layers: --cell gru --layers 2 explicitly prints what the default prints", async (t) => {
  const args = ['--hidden', '4', '--vocab', '5', '--seq-length', '4', '--samples', '6'];
  const [plain, explicit] = await Promise.all([runCli(['gradcheck', ...args]), runCli(['gradcheck', '--cell', 'gru', '--layers', '2', '--dropout', '0', ...args])]);
  t.is(plain.code, 0, plain.stderr);
  t.is(explicit.stdout, plain.stdout);
  t.regex(plain.stdout, /^gradcheck: gru, 2 layers, H=4 K=5 T=4 seed=1, centered/);
});

test('--cell rnn alone is the seed\'s check: one layer, H=100 unless told', async (t) => {
  const result = await runCli(['gradcheck', '--cell', 'rnn', '--vocab', '5', '--seq-length', '2', '--samples', '3']);
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /^gradcheck: H=100 K=5 T=2 seed=1, centered/);
});

for (const [args, message] of [
  [['--cell', 'rnn', '--layers', '2'], /--cell rnn supports only --layers 1/],
  [['--cell', 'bogus'], new RegExp(`--cell must be one of ${CELL_NAMES.join(', ')}, got 'bogus'`)],
  [['--cell', 'lstm', '--dropout', '1'], /--dropout must be at least 0 and below 1, got 1/],
  [['--cell', 'rnn', '--dropout', '0.5'], /--cell rnn has no dropout/],
  [['--cell', 'gru', '--layers', '0'], /--layers must be at least 1/],
] as const) {
  test(`gradcheck ${args.join(' ')} is refused in one line, exit 2`, async (t) => {
    const result = await runCli(['gradcheck', ...args]);
    t.is(result.code, 2, result.stderr);
    t.is(result.stdout, '');
    t.regex(result.stderr, /^char-rnn: [^\n]*\n$/);
    t.regex(result.stderr, message);
  });
}

test("docs/architecture.md's gated example block is what the command prints", async (t) => {
  const command = 'npx parallel-char-rnn gradcheck --cell gru --layers 2 --hidden 16 --vocab 7 --seq-length 5 --dropout 0.25';
  const doc = readFileSync(fileURLToPath(new URL('../../docs/architecture.md', import.meta.url)), 'utf8');
  const start = doc.indexOf(`\`\`\`\n$ ${command}\n`);
  t.true(start >= 0, `docs/architecture.md has no block starting with '$ ${command}'`);
  const body = start + `\`\`\`\n$ ${command}\n`.length;
  const result = await runCli(command.split(' ').slice(2), {});
  t.is(result.code, 0, result.stderr);
  t.is(doc.slice(body, doc.indexOf('```', body)), result.stdout);
});
