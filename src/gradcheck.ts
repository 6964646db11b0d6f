import { modelLayout, stateLength, type CellName, type ModelDims, type ModelLayout } from './model/cells/cell.js';
import { cellNamed } from './model/cells/registry.js';
import { sequenceMasks } from './model/dropout.js';
import { paramLayout, viewsOf } from './model/cells/rnn-layout.js';
import { Prng } from './model/prng.js';
import { createWorkspace, sequenceLoss, sequenceLossAndGrad } from './model/cells/rnn.js';

/** The seed's bound on the absolute error, and a relative bound for gradients large enough to judge. */
export const ABS_TOLERANCE = 1e-8;
export const REL_TOLERANCE = 1e-6;
/** Below this magnitude the finite-difference noise (~2e-9) swamps a relative error. */
export const REL_MIN_GRADIENT = 1e-2;
const FINITE_DIFFERENCE_STEP = 1e-5;
const PROBLEM_SIGMA = 0.1;

export interface GradcheckOptions {
  readonly H: number;
  readonly K: number;
  readonly T: number;
  readonly seed: number;
  /** Entries checked per matrix (W, U, V); b and c are always checked whole. Infinity: every entry. */
  readonly samplesPerMatrix: number;
}

export interface ParamCheck {
  /** The tensor's name in its layout table: W, U, V, b, c for the RNN; weight_ih_l0, ..., V, c for a stack. */
  readonly name: string;
  readonly checked: number;
  readonly maxGradient: number;
  readonly maxAbsError: number;
  /** Max relative error over entries whose analytic gradient exceeds REL_MIN_GRADIENT; NaN if none. */
  readonly maxRelError: number;
  readonly judgedRelative: number;
  readonly passed: boolean;
}

/** A tensor of a flat parameter vector and how many of its entries to check. */
interface CheckedTensor {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly entries: number;
}

/**
 * Analytic BPTT gradients against centered differences on a random problem: parameters and
 * biases from N(0, 0.1^2) so that tanh is off its linear part, a random h0 and a random sequence.
 */
export function gradcheck({ H, K, T, seed, samplesPerMatrix }: GradcheckOptions): ParamCheck[] {
  const dims = { H, K };
  const layout = paramLayout(dims);
  const prng = Prng.fromSeed(seed);
  const flat = new Float64Array(layout.size);
  for (let i = 0; i < flat.length; i++) flat[i] = PROBLEM_SIGMA * prng.nextGaussian();
  const h0 = Float64Array.from({ length: H }, () => Math.tanh(prng.nextGaussian()));
  const ids = Uint32Array.from({ length: T + 1 }, () => prng.nextUint32() % K);
  const params = viewsOf(flat, layout);
  const ws = createWorkspace(dims, T);
  const gradFlat = new Float64Array(layout.size);
  sequenceLossAndGrad(params, dims, ids, 0, h0, viewsOf(gradFlat, layout), ws);

  const tensors = layout.specs.map((spec) => ({ ...spec, entries: spec.vector ? spec.size : Math.min(spec.size, samplesPerMatrix) }));
  return checkAgainstDifferences(flat, () => sequenceLoss(params, dims, ids, 0, h0, ws), gradFlat, tensors, prng);
}

// ---- any registered cell, stacked -----------------------------------------------------------------

export interface CellGradcheckOptions {
  /** A registered cell's name (src/model/cells/registry.ts). */
  readonly cell: CellName;
  readonly L: number;
  readonly H: number;
  readonly K: number;
  readonly T: number;
  readonly seed: number;
  /** Dropout probability in [0, 1); above 0 the problem carries fixed masks drawn by dropoutMask. */
  readonly dropout: number;
  /** Entries checked in each tensor, matrix or vector alike. Infinity: every entry. */
  readonly samplesPerTensor: number;
}

/** A random problem for a cell; the parameters are perturbed in place and restored. */
export interface CellProblem {
  readonly dims: ModelDims;
  readonly layout: ModelLayout;
  readonly T: number;
  readonly flat: Float64Array; // parameters, N(0, 0.1^2)
  readonly state0: Float64Array; // (S): the h rows tanh(N(0, 1)), the rest (the LSTM's c) N(0, 1)
  readonly ids: Uint32Array; // (T+1)
  readonly masks: Float64Array | null; // (L, T, H), or null without dropout
  /** Where the problem's PRNG stopped: the draw of the checked entries starts here, as the RNN's does. */
  readonly pickState: Uint32Array;
}

/**
 * The problem that `gradcheckCell` checks: weights and biases from N(0, 0.1^2) as for the RNN (so
 * the gates are off their flat ends), a random initial state, random ids, and, with dropout > 0,
 * the masks dropoutMask draws for (seed, step 0, stream 0, layer l, t): fixed, so that the loss is
 * a smooth function of the parameters and BPTT's gradient is its gradient.
 */
export function cellProblem({ cell, L, H, K, T, seed, dropout }: Omit<CellGradcheckOptions, 'samplesPerTensor'>): CellProblem {
  const dims = { cell, L, H, K };
  const descriptor = cellNamed(cell);
  const layout = modelLayout(descriptor, dims);
  const prng = Prng.fromSeed(seed);
  const flat = new Float64Array(layout.size);
  for (let i = 0; i < flat.length; i++) flat[i] = PROBLEM_SIGMA * prng.nextGaussian();
  const state0 = new Float64Array(stateLength(descriptor, dims));
  for (let i = 0; i < state0.length; i++) state0[i] = i < L * H ? Math.tanh(prng.nextGaussian()) : prng.nextGaussian();
  const ids = Uint32Array.from({ length: T + 1 }, () => prng.nextUint32() % K);
  const masks = dropout > 0 ? sequenceMasks(new Float64Array(L * T * H), { L, T, H }, { seed, step: 0, stream: 0, p: dropout }) : null;
  return { dims, layout, T, flat, state0, ids, masks, pickState: prng.state() };
}

/** The forward pass and BPTT of a problem's cell (its reference math), each from a copy of the initial state. */
function cellOf(problem: CellProblem): { loss(): number; lossAndGrad(grad: Float64Array): number } {
  const { layout, T, ids, state0, masks, flat } = problem;
  const math = cellNamed(problem.dims.cell).reference(layout, T);
  return {
    loss: () => math.loss(flat, ids, 0, state0.slice(), masks),
    lossAndGrad: (grad) => math.lossAndGrad(flat, grad, ids, 0, state0.slice(), masks),
  };
}

/** dL/dparams by BPTT, in the problem's layout. */
export function cellAnalyticGradient(problem: CellProblem): Float64Array {
  const grad = new Float64Array(problem.layout.size);
  cellOf(problem).lossAndGrad(grad);
  return grad;
}

/**
 * Checks `analytic` (any gradient in the problem's layout: BPTT's, or a copy a test has spoiled)
 * against centered differences at up to samplesPerTensor random entries of every tensor.
 */
export function checkCellGradient(problem: CellProblem, analytic: Float64Array, samplesPerTensor: number): ParamCheck[] {
  if (analytic.length !== problem.layout.size) {
    throw new RangeError(`the gradient has ${analytic.length} entries, the layout needs ${problem.layout.size}`);
  }
  const cell = cellOf(problem);
  const tensors = problem.layout.specs.map((spec) => ({ ...spec, entries: Math.min(spec.size, samplesPerTensor) }));
  return checkAgainstDifferences(problem.flat, () => cell.loss(), analytic, tensors, Prng.fromState(problem.pickState));
}

/** gradcheck for a stack of L layers of any cell: BPTT's gradient against centered differences. */
export function gradcheckCell(options: CellGradcheckOptions): ParamCheck[] {
  const problem = cellProblem(options);
  return checkCellGradient(problem, cellAnalyticGradient(problem), options.samplesPerTensor);
}

// ---- the comparison, shared ---------------------------------------------------------------------

/**
 * For each tensor in turn, draws its entries with prng and compares analytic[index] with the
 * centered difference of loss() at flat[index] (flat is perturbed in place and restored).
 */
function checkAgainstDifferences(
  flat: Float64Array,
  loss: () => number,
  analytic: Float64Array,
  tensors: readonly CheckedTensor[],
  prng: Prng,
): ParamCheck[] {
  const lossAt = (index: number, value: number): number => {
    const saved = flat[index];
    flat[index] = value;
    const result = loss();
    flat[index] = saved;
    return result;
  };
  return tensors.map((tensor) => {
    const picked = pickEntries(tensor.size, tensor.entries, prng);
    const analyticAt = new Float64Array(picked.length);
    const numericAt = new Float64Array(picked.length);
    for (let n = 0; n < picked.length; n++) {
      const index = tensor.offset + picked[n];
      const x = flat[index];
      numericAt[n] = (lossAt(index, x + FINITE_DIFFERENCE_STEP) - lossAt(index, x - FINITE_DIFFERENCE_STEP)) / (2 * FINITE_DIFFERENCE_STEP);
      analyticAt[n] = analytic[index];
    }
    return compareGradients(tensor.name, analyticAt, numericAt);
  });
}

/**
 * The verdict on one tensor, a pure function of two gradients at the same entries: passed when
 * every absolute error is below ABS_TOLERANCE and every relative error, over the entries whose
 * analytic gradient exceeds REL_MIN_GRADIENT, is below REL_TOLERANCE.
 */
export function compareGradients(name: string, analytic: ArrayLike<number>, numeric: ArrayLike<number>): ParamCheck {
  if (analytic.length !== numeric.length) {
    throw new RangeError(`${name}: ${analytic.length} analytic entries against ${numeric.length} numeric ones`);
  }
  let maxGradient = 0;
  let maxAbsError = 0;
  let maxRelError = Number.NaN;
  let judgedRelative = 0;
  for (let n = 0; n < analytic.length; n++) {
    const absError = Math.abs(analytic[n] - numeric[n]);
    maxGradient = Math.max(maxGradient, Math.abs(analytic[n]));
    maxAbsError = Math.max(maxAbsError, absError);
    if (Math.abs(analytic[n]) > REL_MIN_GRADIENT) {
      const rel = absError / Math.max(Math.abs(analytic[n]), Math.abs(numeric[n]));
      maxRelError = judgedRelative === 0 ? rel : Math.max(maxRelError, rel);
      judgedRelative++;
    }
  }
  // A NaN anywhere (an exploding problem) fails: every comparison with NaN is false.
  const passed = maxAbsError < ABS_TOLERANCE && !(maxRelError >= REL_TOLERANCE);
  return { name, checked: analytic.length, maxGradient, maxAbsError, maxRelError, judgedRelative, passed };
}

/** `count` distinct indices below n: all of them in order, or a seeded partial Fisher-Yates draw. */
function pickEntries(n: number, count: number, prng: Prng): Uint32Array {
  const all = Uint32Array.from({ length: n }, (_, i) => i);
  if (count >= n) return all;
  for (let i = 0; i < count; i++) {
    const j = i + (prng.nextUint32() % (n - i));
    const tmp = all[i];
    all[i] = all[j];
    all[j] = tmp;
  }
  return all.subarray(0, count);
}
