import test from 'ava';
import { adagradStep, averageSlots } from '../src/model/adagrad.js';
import { placeModel, refreshCopies, RegionPlanner, writeModelTables } from '../src/model/kernel-memory.js';
import { KERNEL_EXPORTS } from '../src/model/kernel-exports.js';
import { createKernelMemory, instantiateKernels, kernelModule, type Kernels } from '../src/model/kernels.js';
import { modelLayout } from '../src/model/cells/cell.js';
import { rnnCell } from '../src/model/cells/rnn-cell.js';
import { paramLayout, viewsOf } from '../src/model/cells/rnn-layout.js';
import { Prng } from '../src/model/prng.js';
import { FLOAT64 } from '../src/model/precision.js';
import { createScorer } from '../src/model/scorer.js';
import { createEvalWorkspace, createWorkspace, evaluate, sequenceLossAndGrad } from '../src/model/cells/rnn.js';

// The WebAssembly kernels against the TypeScript reference (src/model/cells/rnn.ts, adagrad.ts):
// they promise the same operations in the same order, so every number must match bit for bit.

/** A kernel instance over a fresh shared memory, and the trainer's region planner in it. */
function workspace(bytes = 64 << 20): { kernels: Kernels; planner: RegionPlanner; memory: WebAssembly.Memory; f64: (count: number) => [number, Float64Array]; i32: (count: number) => [number, Int32Array] } {
  const memory = createKernelMemory(bytes);
  const kernels = instantiateKernels(memory);
  const planner = new RegionPlanner(kernels.heapBase());
  return {
    kernels,
    planner,
    memory,
    f64: (count) => {
      const at = planner.take(count * 8);
      return [at, new Float64Array(memory.buffer, at, count)];
    },
    i32: (count) => {
      const at = planner.take(count * 4);
      return [at, new Int32Array(memory.buffer, at, count)];
    },
  };
}

/**
 * An RNN of H units over K symbols placed in the workspace by the trainer's own placement
 * (kernel-memory.ts placeModel, writeModelTables, refreshCopies).
 */
function rnnModel(ws: ReturnType<typeof workspace>, H: number, K: number): { P: number; paramsAt: number; params: Float64Array; packedAt: number; packed: Float64Array; offsAt: number; pack(lo: number, hi: number): void } {
  const layout = modelLayout(rnnCell, { cell: 'rnn', L: 1, H, K });
  const P = layout.size;
  const model = placeModel(ws.planner, rnnCell, layout, 'float64');
  writeModelTables(ws.memory.buffer, model, rnnCell, layout);
  const copies = rnnCell.weightCopies(layout, FLOAT64);
  return {
    P,
    paramsAt: model.params,
    params: new Float64Array(ws.memory.buffer, model.params, P),
    packedAt: model.copies,
    packed: new Float64Array(ws.memory.buffer, model.copies, copies.size),
    offsAt: model.offs,
    pack: (lo, hi) => refreshCopies(ws.kernels, model, lo, hi),
  };
}

/** Indices where two arrays differ in any bit (Object.is also tells 0 from -0). */
function differences(actual: ArrayLike<number>, expected: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < expected.length; i++) if (!Object.is(actual[i], expected[i])) out.push(i);
  return out;
}

const SHAPES: [number, number, number, number][] = [
  // H, K, T, G (streams side by side): the default model, odd sizes, and the smallest
  [100, 98, 25, 4],
  [100, 98, 25, 3],
  [37, 11, 7, 5],
  [9, 5, 3, 1],
  [1, 2, 1, 2],
  [18, 17, 4, 2],
];

for (const [H, K, T, G] of SHAPES) {
  test(`trainStreams equals sequenceLossAndGrad per stream, a pair's added into one slot, bit for bit: H=${H} K=${K} T=${T}, ${G} streams`, (t) => {
    const layout = paramLayout({ H, K });
    const P = layout.size;
    const prng = Prng.fromSeed(H * 1000 + G);
    const memory = workspace();
    const { kernels, f64, i32 } = memory;
    const { paramsAt, params, packedAt, offsAt, pack } = rnnModel(memory, H, K);
    const [idsAt, ids] = i32(G * (T + 1));
    const [hiddenAt, hidden] = f64(G * H);
    const slots = Math.ceil(G / 2);
    const [gradsAt, grads] = f64(slots * P);
    const [lossesAt, losses] = f64(G);
    const [scratchAt] = f64(kernels.trainScratchBytes(H, K, T) / 8);
    for (let i = 0; i < P; i++) params[i] = 0.3 * prng.nextGaussian(); // large enough to leave tanh's linear part
    for (let i = 0; i < ids.length; i++) ids[i] = Math.floor(prng.nextDouble() * K);
    for (let i = 0; i < hidden.length; i++) hidden[i] = Math.tanh(prng.nextGaussian());
    grads.fill(Number.NaN); // the kernel overwrites its slots: stale values must not leak in
    const h0 = hidden.slice();
    pack(0, P);

    kernels.trainStreams(H, K, T, P, paramsAt, packedAt, offsAt, idsAt, hiddenAt, gradsAt, lossesAt, scratchAt, G);

    const views = viewsOf(Float64Array.from(params), layout);
    const expected = Array.from({ length: slots }, () => new Float64Array(P));
    for (let g = 0; g < G; g++) {
      const ws = createWorkspace({ H, K }, T);
      const seq = Array.from(ids.subarray(g * (T + 1), (g + 1) * (T + 1)));
      // sequenceLossAndGrad adds: streams 2p and 2p + 1 go into slot p, in that order
      const loss = sequenceLossAndGrad(views, { H, K }, seq, 0, h0.subarray(g * H, (g + 1) * H), viewsOf(expected[g >> 1], layout), ws);
      t.true(Object.is(losses[g], loss), `stream ${g}: loss ${losses[g]} vs ${loss}`);
      t.deepEqual(differences(hidden.subarray(g * H, (g + 1) * H), ws.hs.subarray(T * H, (T + 1) * H)), [], `stream ${g}: carried state`);
    }
    for (let p = 0; p < slots; p++) {
      t.deepEqual(differences(grads.subarray(p * P, (p + 1) * P), expected[p]), [], `slot ${p}: gradient entries that differ`);
    }
  });
}

test('evalSequence equals the reference evaluate(), loss and carried state, bit for bit', (t) => {
  const H = 23;
  const K = 13;
  const count = 500;
  const layout = paramLayout({ H, K });
  const P = layout.size;
  const prng = Prng.fromSeed(11);
  const memory = workspace();
  const { kernels, f64, i32 } = memory;
  const { paramsAt, params, packedAt, offsAt, pack } = rnnModel(memory, H, K);
  const [idsAt, ids] = i32(count + 1);
  const [hAt, h] = f64(H);
  const [scratchAt] = f64(kernels.evalScratchBytes(H, K) / 8);
  for (let i = 0; i < P; i++) params[i] = 0.3 * prng.nextGaussian();
  for (let i = 0; i < ids.length; i++) ids[i] = Math.floor(prng.nextDouble() * K);
  pack(0, P);

  // Two calls carrying the state and the sum, as a worker scores a long segment chunk by chunk.
  const first = kernels.evalSequence(H, K, paramsAt, packedAt, offsAt, idsAt, 200, hAt, scratchAt, 0);
  const both = kernels.evalSequence(H, K, paramsAt, packedAt, offsAt, idsAt + 200 * 4, count - 200, hAt, scratchAt, first);

  const views = viewsOf(Float64Array.from(params), layout);
  const state = new Float64Array(H);
  const ws = createEvalWorkspace({ H, K });
  const expectedFirst = evaluate(views, { H, K }, ids, 0, 200, state.slice(), ws);
  const expectedBoth = evaluate(views, { H, K }, ids, 0, count, state, ws);
  t.true(Object.is(first, expectedFirst), `${first} vs ${expectedFirst}`);
  t.true(Object.is(both, expectedBoth), `${both} vs ${expectedBoth}`);
  t.deepEqual(differences(h, state), []);
});

test('adagradRange over any split of the parameters equals averageSlots + adagradStep, bit for bit', (t) => {
  const P = 1001; // odd, so the SIMD loop's scalar tail runs
  const B = 9; // streams, in 5 slots of pairs
  const S = 5;
  const options = { eta: 0.1, eps: 1e-8, clip: 5 };
  const prng = Prng.fromSeed(2);
  const { kernels, f64 } = workspace();
  const [paramsAt, params] = f64(P);
  const [memAt, mem] = f64(P);
  const [slotsAt, slots] = f64(S * P);
  for (let i = 0; i < P; i++) {
    params[i] = prng.nextGaussian();
    mem[i] = prng.nextDouble();
  }
  for (let i = 0; i < slots.length; i++) slots[i] = 8 * prng.nextGaussian(); // some means pass the clip
  const expectedParams = params.slice();
  const expectedMem = mem.slice();
  const mean = new Float64Array(P);
  averageSlots(slots, S, B, mean);
  adagradStep(expectedParams, mean, expectedMem, options);

  for (const [lo, hi] of [[0, 2], [2, 3], [3, 640], [640, 1001]]) {
    kernels.adagradRange(paramsAt, memAt, slotsAt, P, S, B, lo, hi, options.eta, options.eps, 1, options.clip);
  }
  t.deepEqual(differences(params, expectedParams), []);
  t.deepEqual(differences(mem, expectedMem), []);
  t.true(mean.some((g) => g === 5 || g === -5), 'the test reaches the clip');
});

test('packMatrices fills the panels of W, U and V whatever ranges it is given, and nothing past their edges', (t) => {
  const H = 5;
  const K = 3;
  const layout = paramLayout({ H, K });
  const ws = workspace(1 << 20);
  const { P, params, packed, pack } = rnnModel(ws, H, K);
  for (let i = 0; i < P; i++) params[i] = i + 1;
  packed.fill(Number.NaN);
  for (const [lo, hi] of [[0, 7], [7, 30], [30, 41], [41, P]]) pack(lo, hi);
  const { W, U, V } = viewsOf(params, layout);
  // panel b of M (R, n): R rows of the four outputs 4b..4b+3; lanes past n are never read, nor written
  const panels = (n: number, R: number, entry: (r: number, o: number) => number): number[] => {
    const out: number[] = [];
    for (let b = 0; b < Math.ceil(n / 4); b++) for (let r = 0; r < R; r++) for (let lane = 0; lane < 4; lane++) out.push(4 * b + lane < n ? entry(r, 4 * b + lane) : Number.NaN);
    return out;
  };
  const expected = [
    ...panels(H, H, (j, i) => W[i * H + j]), // W h: output i, input j
    ...panels(H, H, (i, j) => W[i * H + j]), // W^T da
    ...panels(H, K, (k, i) => U[i * K + k]), // U x
    ...panels(K, H, (j, k) => V[k * H + j]), // V h
    ...panels(H, K, (k, j) => V[k * H + j]), // V^T dy
  ];
  t.deepEqual(differences(packed, expected), []);
  t.is(packed.length, expected.length);
});

test('createScorer scores a long text as one stream exactly as evaluate() does', (t) => {
  const dims = { H: 16, K: 7 };
  const layout = paramLayout(dims);
  const prng = Prng.fromSeed(4);
  const params = Float64Array.from({ length: layout.size }, () => 0.3 * prng.nextGaussian());
  const ids = Array.from({ length: 10_001 }, () => Math.floor(prng.nextDouble() * dims.K)); // crosses chunks
  const h = new Float64Array(dims.H);
  const loss = createScorer(params, { cell: 'rnn', L: 1, ...dims }).score(ids, 0, 10_000, h);
  const expectedH = new Float64Array(dims.H);
  const expected = evaluate(viewsOf(params, layout), dims, ids, 0, 10_000, expectedH, createEvalWorkspace(dims));
  t.true(Object.is(loss, expected), `${loss} vs ${expected}`);
  t.deepEqual(differences(h, expectedH), []);
});

for (const dtype of ['float64', 'float32'] as const) {
  test(`the ${dtype} module exports exactly the kernels KERNEL_EXPORTS gives it, each with the parameters the Kernels type says`, (t) => {
    const module = kernelModule(dtype);
    const exports = (WebAssembly.Module as unknown as { exports(m: WebAssembly.Module): { name: string; kind: string }[] }).exports(module);
    const exported = exports.filter((e) => e.kind === 'function').map((e) => e.name).sort();
    const expected = Object.entries(KERNEL_EXPORTS).filter(([, e]) => dtype === 'float64' || e.float32).map(([name]) => name).sort();
    t.deepEqual(exported, expected);
    const instance = instantiateKernels(createKernelMemory(0), module) as unknown as Record<string, (...args: number[]) => unknown>;
    for (const name of exported) t.is(instance[name].length, KERNEL_EXPORTS[name as keyof Kernels].params, name);
  });
}
