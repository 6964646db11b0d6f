import { UserError } from '../errors.js';
import type { GroupBuffers, KernelSizes, ModelDims, ScoreBuffers } from '../model/cells/cell.js';
import { MAX_MEMORY_BYTES, type Kernels } from '../model/kernels.js';
import { UPDATE_CHUNK, type OptimizerSettings } from '../model/optimizers.js';
import { placeModel, RegionPlanner, type ModelRegions } from '../model/kernel-memory.js';
import type { CellDescriptor, ModelLayout } from '../model/cells/cell.js';

/**
 * Where everything the threads share lives in the one WebAssembly memory: byte offsets, all
 * 16-byte aligned. The coordinator plans it once; every worker attaches to the same plan, and
 * finds its buffers through groupBuffers() and scoreBuffers() rather than by arithmetic of its own.
 */
export interface MemoryPlan {
  readonly bytes: number;
  readonly model: ModelRegions; // params (P), the weights' copy, the kernels' tables
  readonly optimizerMemory: number; // (buffers, P) float64: the optimizer's state (optimizers.ts)
  readonly stepScalars: number; // (StepScalar) float64: what the coordinator sets for each step's update
  readonly normParts: number; // (ceil(P / UPDATE_CHUNK)) float64: each chunk's sum of squares, for --clip-norm
  readonly state: number; // (B, S) each stream's carried state
  readonly losses: number; // (B) each stream's summed loss of the step
  readonly evalLosses: number; // (segments) each validation segment's summed loss
  readonly gradSlots: number; // (ceil(B/2), P) one gradient per pair of streams
  readonly streamIds: number; // (B, T+1) int32, this step's ids of each stream
  readonly masks: number; // (B, L, T, H) this step's dropout masks, or 0 without dropout
  readonly workerScratch: number; // (threads, workerScratchBytes)
  readonly workerScratchBytes: number;
  // within a worker's scratch: a group's kernel scratch, then scoring's scratch, state and ids
  readonly groupScratch: number;
  readonly scoreScratch: number;
  readonly scoreState: number; // (S) float64
  readonly scoreIds: number; // (scoreChunk + 1) int32
  readonly sizes: KernelSizes;
}

/**
 * The per-step numbers of the update, written by the coordinator before it starts a step (the
 * generation bump publishes them, control.ts): the learning rate, and Adam's bias corrections.
 */
export const StepScalar = { eta: 0, c1: 1, c2: 2 } as const;
const STEP_SCALARS = 4;

export interface MemoryShape {
  readonly dims: ModelDims;
  readonly T: number;
  readonly B: number;
  readonly P: number;
  readonly S: number; // entries of one stream's state
  readonly dropout: boolean;
  readonly optimizerBuffers: number;
  readonly threads: number;
  readonly segments: number;
}

export function planMemory(shape: MemoryShape, cell: CellDescriptor, layout: ModelLayout, sizes: KernelSizes, heapBase: number): MemoryPlan {
  const { dims, T, B, P, S, threads, segments } = shape;
  const { L, H } = dims;
  const inWorker = new RegionPlanner(0);
  const groupScratch = inWorker.take(sizes.groupScratch);
  const scoreScratch = inWorker.take(sizes.scoreScratch);
  const scoreState = inWorker.take(S * 8);
  const scoreIds = inWorker.take((sizes.scoreChunk + 1) * 4);
  const workerScratchBytes = inWorker.take(0);

  const planner = new RegionPlanner(heapBase);
  const plan = {
    model: placeModel(planner, cell, layout),
    optimizerMemory: planner.take(shape.optimizerBuffers * P * 8),
    stepScalars: planner.take(STEP_SCALARS * 8),
    normParts: planner.take(Math.ceil(P / UPDATE_CHUNK) * 8),
    state: planner.take(B * S * 8),
    losses: planner.take(B * 8),
    evalLosses: planner.take(segments * 8),
    gradSlots: planner.take(Math.ceil(B / 2) * P * 8),
    streamIds: planner.take(B * (T + 1) * 4),
    masks: shape.dropout ? planner.take(B * L * T * H * 8) : 0,
    workerScratch: planner.take(threads * workerScratchBytes),
    workerScratchBytes,
    groupScratch,
    scoreScratch,
    scoreState,
    scoreIds,
    sizes,
  };
  if (planner.end > MAX_MEMORY_BYTES) {
    throw new UserError(
      `${dims.cell} with L=${L}, H=${H} and ${B} streams needs ${(planner.end / 2 ** 30).toFixed(1)} GiB of shared memory, more than WebAssembly's 4 GiB (use a smaller --hidden, fewer --layers or fewer --streams)`,
    );
  }
  return { bytes: planner.end, ...plan };
}

/** The buffers of group `group` (streams from group · groupStreams on), trained by worker `worker`. */
export function groupBuffers(plan: MemoryPlan, { T, P, S, dims }: MemoryShape, group: number, worker: number): GroupBuffers {
  const first = group * plan.sizes.groupStreams;
  return {
    ids: plan.streamIds + first * (T + 1) * 4,
    state: plan.state + first * S * 8,
    masks: plan.masks === 0 ? 0 : plan.masks + first * dims.L * T * dims.H * 8,
    grad: plan.gradSlots + (first / 2) * P * 8,
    losses: plan.losses + first * 8,
    scratch: plan.workerScratch + worker * plan.workerScratchBytes + plan.groupScratch,
  };
}

/** Worker `worker`'s buffers for scoring validation text. */
export function scoreBuffers(plan: MemoryPlan, worker: number): ScoreBuffers {
  const base = plan.workerScratch + worker * plan.workerScratchBytes;
  return { ids: base + plan.scoreIds, state: base + plan.scoreState, scratch: base + plan.scoreScratch };
}

/** The float64 arrays of a plan that the coordinator reads and writes, as views over the memory's buffer. */
export interface SharedArrays {
  readonly params: Float64Array; // (P)
  readonly optimizerMemory: Float64Array; // (buffers, P)
  readonly stepScalars: Float64Array; // (StepScalar)
  readonly state: Float64Array; // (B, S)
  readonly losses: Float64Array; // (B)
  readonly evalLosses: Float64Array; // (segments)
}

export function sharedArrays(buffer: ArrayBufferLike, plan: MemoryPlan, { B, P, S, segments, optimizerBuffers }: MemoryShape): SharedArrays {
  return {
    params: new Float64Array(buffer, plan.model.params, P),
    optimizerMemory: new Float64Array(buffer, plan.optimizerMemory, optimizerBuffers * P),
    stepScalars: new Float64Array(buffer, plan.stepScalars, STEP_SCALARS),
    state: new Float64Array(buffer, plan.state, B * S),
    losses: new Float64Array(buffer, plan.losses, B),
    evalLosses: new Float64Array(buffer, plan.evalLosses, segments),
  };
}

/**
 * The update of the parameters [lo, hi) by the run's optimizer from the pairs' gradient slots:
 * the one place the optimizer kernels are called, reading the step's scalars.
 */
export function bindOptimizer(kernels: Kernels, s: OptimizerSettings, plan: MemoryPlan, { P, B }: MemoryShape, buffer: ArrayBufferLike): (lo: number, hi: number, scale: number) => void {
  const scalars = new Float64Array(buffer, plan.stepScalars, STEP_SCALARS);
  const pairs = Math.ceil(B / 2);
  const { params } = plan.model;
  const state = plan.optimizerMemory;
  const slots = plan.gradSlots;
  switch (s.optimizer) {
    case 'adagrad':
      return (lo, hi, scale) => kernels.adagradRange(params, state, slots, P, pairs, B, lo, hi, scalars[StepScalar.eta], s.eps, scale, s.clip);
    case 'rmsprop':
      return (lo, hi, scale) => kernels.rmspropRange(params, state, slots, P, pairs, B, lo, hi, scalars[StepScalar.eta], s.eps, scale, s.clip, s.decay);
    case 'adam':
      return (lo, hi, scale) => kernels.adamRange(
        params, state, state + P * 8, slots, P, pairs, B, lo, hi,
        scalars[StepScalar.eta], s.eps, scale, s.clip, s.beta1, s.beta2, scalars[StepScalar.c1], scalars[StepScalar.c2],
      );
  }
}
