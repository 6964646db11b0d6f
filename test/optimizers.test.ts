import test from 'ava';
import { averageSlots } from '../src/model/adagrad.js';
import { RegionPlanner } from '../src/model/kernel-memory.js';
import { createKernelMemory, instantiateKernels, type Kernels } from '../src/model/kernels.js';
import { bindOptimizerKernel, adamCorrections, clipScale, normClipScale, optimizerStep, UPDATE_CHUNK, type OptimizerSettings } from '../src/model/optimizers.js';
import { Prng } from '../src/model/prng.js';

function close(actual: number, expected: number): boolean {
  return Math.abs(actual - expected) <= 1e-15 * Math.max(1, Math.abs(expected));
}

/** A kernel instance over 1 MiB of memory, and float64 arrays in it placed by the trainer's region planner. */
function kernelMemory(): { kernels: Kernels; take: (n: number) => [number, Float64Array] } {
  const memory = createKernelMemory(1 << 20);
  const kernels = instantiateKernels(memory);
  const planner = new RegionPlanner(kernels.heapBase());
  const take = (n: number): [number, Float64Array] => {
    const at = planner.take(n * 8);
    return [at, new Float64Array(memory.buffer, at, n)];
  };
  return { kernels, take };
}

const BASE = { eps: 1e-8, clip: 5, clipNorm: 0, decay: 0.95, beta1: 0.9, beta2: 0.999 };

test('rmsprop: clip, decayed mean square, scale, worked by hand', (t) => {
  const s: OptimizerSettings = { ...BASE, optimizer: 'rmsprop', eta: 0.01 };
  const params = Float64Array.of(1, -2, 0.5);
  const grad = Float64Array.of(0.3, 7, 0);
  const ms = Float64Array.of(0, 1, 4);
  optimizerStep(params, grad, ms, s, 1);
  t.deepEqual([...grad], [0.3, 5, 0]);
  const expectedMs = [0.05 * 0.09, 0.95 + 0.05 * 25, 0.95 * 4];
  const expectedParams = [1 - (0.01 * 0.3) / (Math.sqrt(expectedMs[0]) + 1e-8), -2 - (0.01 * 5) / (Math.sqrt(expectedMs[1]) + 1e-8), 0.5];
  for (let i = 0; i < 3; i++) {
    t.true(close(ms[i], expectedMs[i]), `ms[${i}] = ${ms[i]}`);
    t.true(close(params[i], expectedParams[i]), `params[${i}] = ${params[i]}`);
  }
});

test("adam: its first step moves every parameter by about eta against the gradient's sign", (t) => {
  // After one update m / c1 = g and v / c2 = g^2, so the step is eta g / (|g| + eps).
  const s: OptimizerSettings = { ...BASE, optimizer: 'adam', eta: 0.002 };
  const params = Float64Array.of(1, -2, 0.5, 3);
  const grad = Float64Array.of(0.3, -7, 1e-3, 0);
  const state = new Float64Array(8);
  optimizerStep(params, grad, state, s, 1);
  const expected = [1 - 0.002 * 0.3 / (0.3 + 1e-8), -2 + 0.002 * 5 / (5 + 1e-8), 0.5 - 0.002 * 1e-3 / (1e-3 + 1e-8), 3];
  for (let i = 0; i < 4; i++) t.true(Math.abs(params[i] - expected[i]) < 1e-15, `params[${i}] = ${params[i]} vs ${expected[i]}`);
  t.true(close(state[1], 0.1 * -5), 'm = (1 - beta1) g, of the clipped gradient');
  t.true(close(state[4 + 1], 0.001 * 25), 'v = (1 - beta2) g^2');
});

test('adam: bias corrections follow the update count', (t) => {
  t.deepEqual(adamCorrections(1, 0.9, 0.999), { c1: 1 - 0.9, c2: 1 - 0.999 });
  const { c1, c2 } = adamCorrections(3, 0.9, 0.999);
  t.true(close(c1, 1 - 0.9 ** 3));
  t.true(close(c2, 1 - 0.999 ** 3));
});

for (const optimizer of ['rmsprop', 'adam'] as const) {
  test(`${optimizer}Range over any split of the parameters, three steps running, equals averageSlots + optimizerStep bit for bit`, (t) => {
    const P = 1001;
    const S = 3;
    const B = 5;
    const s: OptimizerSettings = { ...BASE, optimizer, eta: 0.01 };
    const { kernels, take } = kernelMemory();
    const buffers = optimizer === 'adam' ? 2 : 1;
    const [paramsAt, params] = take(P);
    const [stateAt, state] = take(buffers * P);
    const [slotsAt, slots] = take(S * P);
    const prng = Prng.fromSeed(3);
    for (let i = 0; i < P; i++) params[i] = prng.nextGaussian();
    const expectedParams = params.slice();
    const expectedState = state.slice();
    const mean = new Float64Array(P);
    for (let step = 1; step <= 3; step++) {
      for (let i = 0; i < slots.length; i++) slots[i] = 8 * prng.nextGaussian(); // some means pass the clip
      averageSlots(slots, S, B, mean);
      optimizerStep(expectedParams, mean, expectedState, s, step);
      const { c1, c2 } = adamCorrections(step, s.beta1, s.beta2);
      const update = bindOptimizerKernel(kernels, s, { params: paramsAt, state: stateAt, slots: slotsAt, P, B }); // S = ceil(B / 2) slots
      for (const [lo, hi] of [[0, 2], [2, 3], [3, 640], [640, P]]) update(lo, hi, 1, s.eta, c1, c2);
    }
    const differing = (a: Float64Array, b: Float64Array): number[] => [...a.keys()].filter((i) => !Object.is(a[i], b[i]));
    t.deepEqual(differing(params, expectedParams), []);
    t.deepEqual(differing(state, expectedState), []);
    t.true(mean.some((g) => g === 5 || g === -5), 'the test reaches the clip');
  });
}

test('normClipScale: a gradient longer than the bound is scaled to it; a shorter one is left alone', (t) => {
  t.is(normClipScale(Float64Array.of(3, 4), 10), 1);
  t.true(close(normClipScale(Float64Array.of(3, 4), 1), 1 / 5));
  // chunk by chunk: 4100 entries of 0.5 are three chunks; the sum is exact either way here
  t.true(close(normClipScale(new Float64Array(4100).fill(0.5), 1), 1 / Math.sqrt(4100 * 0.25)));
});

test('sumSquaresRange and the scaled updates equal the reference: a clipped step of each optimizer, bit for bit', (t) => {
  const P = 5000; // three update chunks
  const S = 2;
  const B = 3;
  const { kernels, take } = kernelMemory();
  const [slotsAt, slots] = take(S * P);
  const prng = Prng.fromSeed(8);
  for (let i = 0; i < slots.length; i++) slots[i] = prng.nextGaussian();
  for (const optimizer of ['adagrad', 'rmsprop', 'adam'] as const) {
    const s: OptimizerSettings = { ...BASE, optimizer, eta: 0.01, clipNorm: 2 };
    const [paramsAt, params] = take(P);
    const [stateAt, state] = take(2 * P);
    for (let i = 0; i < P; i++) params[i] = prng.nextGaussian();
    const expectedParams = params.slice();
    const expectedState = state.slice(0, (optimizer === 'adam' ? 2 : 1) * P);
    const mean = new Float64Array(P);
    averageSlots(slots, S, B, mean);
    const reference = normClipScale(mean, s.clipNorm);
    t.true(reference < 1, 'the gradient is long enough to be clipped');
    optimizerStep(expectedParams, mean, expectedState, s, 1);
    let total = 0;
    for (let lo = 0; lo < P; lo += UPDATE_CHUNK) total += kernels.sumSquaresRange(slotsAt, P, S, B, lo, Math.min(lo + UPDATE_CHUNK, P));
    const scale = clipScale(total, s.clipNorm);
    t.true(Object.is(scale, reference), `${scale} vs ${reference}`);
    const { c1, c2 } = adamCorrections(1, s.beta1, s.beta2);
    bindOptimizerKernel(kernels, s, { params: paramsAt, state: stateAt, slots: slotsAt, P, B })(0, P, scale, s.eta, c1, c2);
    const differing = (a: Float64Array, b: Float64Array): number[] => [...a.keys()].filter((i) => !Object.is(a[i], b[i]));
    t.deepEqual(differing(params, expectedParams), [], optimizer);
    t.deepEqual(differing(state.subarray(0, expectedState.length), expectedState), [], optimizer);
  }
});
