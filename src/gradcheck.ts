import { paramLayout, viewsOf, type ParamName } from './model/layout.js';
import { Prng } from './model/prng.js';
import { createWorkspace, sequenceLoss, sequenceLossAndGrad } from './model/rnn.js';

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
  readonly name: ParamName;
  readonly checked: number;
  readonly maxGradient: number;
  readonly maxAbsError: number;
  /** Max relative error over entries whose analytic gradient exceeds REL_MIN_GRADIENT; NaN if none. */
  readonly maxRelError: number;
  readonly judgedRelative: number;
  readonly passed: boolean;
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

  const lossAt = (index: number, value: number): number => {
    const saved = flat[index];
    flat[index] = value;
    const loss = sequenceLoss(params, dims, ids, 0, h0, ws);
    flat[index] = saved;
    return loss;
  };

  return layout.specs.map((spec) => {
    const entries = spec.cols === 1 ? spec.size : Math.min(spec.size, samplesPerMatrix);
    let maxGradient = 0;
    let maxAbsError = 0;
    let maxRelError = Number.NaN;
    let judgedRelative = 0;
    for (const local of pickEntries(spec.size, entries, prng)) {
      const index = spec.offset + local;
      const x = flat[index];
      const numeric = (lossAt(index, x + FINITE_DIFFERENCE_STEP) - lossAt(index, x - FINITE_DIFFERENCE_STEP)) / (2 * FINITE_DIFFERENCE_STEP);
      const analytic = gradFlat[index];
      const absError = Math.abs(analytic - numeric);
      maxGradient = Math.max(maxGradient, Math.abs(analytic));
      maxAbsError = Math.max(maxAbsError, absError);
      if (Math.abs(analytic) > REL_MIN_GRADIENT) {
        const rel = absError / Math.max(Math.abs(analytic), Math.abs(numeric));
        maxRelError = judgedRelative === 0 ? rel : Math.max(maxRelError, rel);
        judgedRelative++;
      }
    }
    const passed = maxAbsError < ABS_TOLERANCE && !(maxRelError >= REL_TOLERANCE);
    return { name: spec.name, checked: entries, maxGradient, maxAbsError, maxRelError, judgedRelative, passed };
  });
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
