import { adamCorrections } from '../model/optimizers.js';
import { stepPlace } from './plan.js';
import { learningRate, type ScheduleSettings } from './schedule.js';
import type { EvalSegment } from './messages.js';
import { STEP_SCALARS, StepScalar } from './shared-memory.js';

// A window: the steps the workers run on their own between two points where the coordinator
// must act (control.ts). These are the pure parts both sides agree on.

/** The step after `from` at which the coordinator must act: a sample, an evaluation, a checkpoint or the end (every 0: never). */
export function windowEnd(from: number, limits: { totalSteps: number; maxSteps: number; every: readonly number[] }): number {
  const next = (every: number): number => (every > 0 ? (Math.floor(from / every) + 1) * every : Infinity);
  return Math.min(limits.totalSteps, from + limits.maxSteps, ...limits.every.map(next));
}

/**
 * What the workers read for each of the `count` steps of a window from run step `step`, a row of
 * stepScalars each: where the step reads (plan.ts stepPlace), and its update: the learning rate,
 * and Adam's bias corrections for update step + 1.
 */
export function writeStepScalars(
  stepScalars: Float64Array,
  settings: ScheduleSettings & { readonly beta1: number; readonly beta2: number },
  window: { step: number; count: number; seqLength: number; streamLength: number },
): void {
  for (let row = 0; row < window.count; row++) {
    const step = window.step + row;
    const place = stepPlace(step, window.seqLength, window.streamLength);
    const scalars = stepScalars.subarray(row * STEP_SCALARS, (row + 1) * STEP_SCALARS);
    scalars[StepScalar.position] = place.position;
    scalars[StepScalar.startsEpoch] = place.startsEpoch ? 1 : 0;
    scalars[StepScalar.eta] = learningRate(settings, step, place.epoch);
    const { c1, c2 } = adamCorrections(step + 1, settings.beta1, settings.beta2);
    scalars[StepScalar.c1] = c1;
    scalars[StepScalar.c2] = c2;
  }
}

/** The mean over the B streams of the window's step `row`'s losses (nats per sequence), summed in stream order. */
export function meanLoss(losses: Float64Array, row: number, B: number): number {
  let loss = 0;
  for (let s = 0; s < B; s++) loss += losses[row * B + s];
  return loss / B;
}

/** The held-out loss in nats per character: the segments' summed losses over their predictions, added in segment order. */
export function heldOutLoss(evalLosses: Float64Array, segments: readonly EvalSegment[]): number {
  let total = 0;
  let count = 0;
  segments.forEach((segment, e) => {
    total += evalLosses[e];
    count += segment.count;
  });
  return total / count;
}
