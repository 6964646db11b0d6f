import type { CheckpointState, LossPoint } from '../checkpoint/index.js';
import { Prng } from '../model/prng.js';
import { placeAfter } from './plan.js';

/** The smooth loss is recorded in the checkpoint's history every this many steps. */
const HISTORY_EVERY = 10;

/**
 * Where a run stands between steps, besides the buffers the threads share: what a checkpoint's
 * state saves. The streams' place follows from the step (plan.ts), so only the step moves it.
 */
export interface RunState {
  step: number;
  smoothLoss: number; // nats per sequence of T characters; NaN before the first step
  bestLoss: number; // the tracked loss of best.ckpt; Infinity before the first
  bestStep: number;
  valLoss: number | undefined; // nats per character
  readonly smoothHistory: LossPoint[];
  readonly valHistory: LossPoint[];
  prng: Prng; // draws a new model's weights, then the samples
}

export function freshRunState(seed: number): RunState {
  return { step: 0, smoothLoss: Number.NaN, bestLoss: Infinity, bestStep: 0, valLoss: undefined, smoothHistory: [], valHistory: [], prng: Prng.fromSeed(seed) };
}

export function resumedRunState(saved: CheckpointState): RunState {
  const { step, smoothLoss, bestLoss, bestStep, valLoss } = saved;
  return { step, smoothLoss, bestLoss, bestStep, valLoss, smoothHistory: [...saved.smoothHistory], valHistory: [...saved.valHistory], prng: Prng.fromState(saved.prngState) };
}

/** Takes in a finished step's loss (nats per sequence, the mean over the streams): the seed's smooth loss. */
export function recordStep(run: RunState, loss: number, totalSteps: number): void {
  run.step++;
  run.smoothLoss = Number.isNaN(run.smoothLoss) ? loss : 0.999 * run.smoothLoss + 0.001 * loss;
  if (run.step % HISTORY_EVERY === 0 || run.step === totalSteps) run.smoothHistory.push({ step: run.step, loss: run.smoothLoss });
}

/** Takes in the validation loss after the current step (nats per character). */
export function recordValidation(run: RunState, loss: number): void {
  run.valLoss = loss;
  run.valHistory.push({ step: run.step, loss });
}

/** Whether `loss` is the lowest tracked loss yet; if so it becomes the best, at the current step. */
export function recordBest(run: RunState, loss: number): boolean {
  if (!(loss < run.bestLoss)) return false;
  run.bestLoss = loss;
  run.bestStep = run.step;
  return true;
}

/** The buffers a checkpoint copies, and what the run's plan and clock say. */
export interface SavedAlongside {
  readonly seqLength: number;
  readonly streams: number;
  readonly streamLength: number;
  readonly seconds: number;
  readonly bestMetric: CheckpointState['bestMetric'];
  readonly params: Float64Array;
  readonly optimizerState: Float64Array;
  readonly hidden: Float64Array;
}

/** The checkpoint's state of the run: copies, so the threads may go on. */
export function checkpointState(run: RunState, at: SavedAlongside): CheckpointState {
  const { seqLength: T, streams: B, streamLength } = at;
  return {
    step: run.step, ...placeAfter(run.step, T, streamLength), streamLength, charsSeen: run.step * B * T, seconds: at.seconds,
    params: at.params.slice(), optimizerState: at.optimizerState.slice(), hidden: at.hidden.slice(), prngState: run.prng.state(),
    smoothLoss: run.smoothLoss, bestLoss: run.bestLoss, bestStep: run.bestStep, bestMetric: at.bestMetric, valLoss: run.valLoss,
    smoothHistory: run.smoothHistory.slice(), valHistory: run.valHistory.slice(),
  };
}
