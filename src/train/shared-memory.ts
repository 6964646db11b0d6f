import { UserError } from '../errors.js';
import { modelLayout, stateLength, type GroupBuffers, type KernelSizes, type ModelDims, type ScoreBuffers } from '../model/cells/cell.js';
import { cellNamed } from '../model/cells/registry.js';
import { createKernelMemory, instantiateKernels, kernelModule, MAX_MEMORY_BYTES, type Kernels } from '../model/kernels.js';
import { bindOptimizerKernel, stateBuffers, UPDATE_CHUNK, type OptimizerName, type OptimizerSettings } from '../model/optimizers.js';
import { placeModel, RegionPlanner, type ModelRegions } from '../model/kernel-memory.js';
import { floatView, precisionOf, type Dtype, type FloatArray } from '../model/precision.js';
import { WINDOW_STEPS } from './control.js';
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
  readonly stepScalars: number; // (WINDOW_STEPS, STEP_SCALARS) float64: what the coordinator sets for each step
  readonly normParts: number; // (ceil(P / UPDATE_CHUNK)) float64: each chunk's sum of squares, for --clip-norm
  readonly state: number; // (B, S) each stream's carried state
  readonly losses: number; // (WINDOW_STEPS, B) each stream's summed loss, a row per step of the window
  readonly stepEnds: number; // (WINDOW_STEPS) float64: when each step of the window ended, ms since the epoch (timeOrigin + now)
  readonly evalLosses: number; // (segments) each validation segment's summed loss
  readonly gradSlots: number; // (ceil(B/2), P) one gradient per pair of streams, in the kernels' precision
  readonly streamIds: number; // (B, T+1) int32, this step's ids of each stream
  readonly masks: number; // (B, L, T, H) this step's dropout masks in the kernels' precision, or 0 without dropout
  readonly workerScratch: number; // (threads, workerScratchBytes)
  readonly workerScratchBytes: number;
  // within a worker's scratch: a group's kernel scratch, which scoring uses too, then scoring's state and ids
  readonly groupScratch: number;
  readonly scoreScratch: number;
  readonly scoreState: number; // (S) float64
  readonly scoreIds: number; // (scoreChunk + 1) int32
  readonly sizes: KernelSizes;
}

/**
 * The per-step numbers, a row for each step of a window, written by the coordinator before it
 * starts the window (the generation bump publishes them, control.ts): the update's learning rate
 * and Adam's bias corrections, and where the step reads (plan.ts stepPlace; startsEpoch 1 or 0).
 */
export const StepScalar = { eta: 0, c1: 1, c2: 2, position: 3, startsEpoch: 4 } as const;
export const STEP_SCALARS = 5;

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
  readonly dtype: Dtype; // the kernels' precision (src/model/precision.ts)
}

/** What train tells a user whose model does not fit: the flags of 'char-rnn train' that make it smaller. */
export const TRAIN_SHRINK = 'a smaller --hidden, fewer --layers or fewer --streams';

/** A model and the run options that set the size of training's shared memory. */
export interface TrainingSize {
  readonly dims: ModelDims;
  readonly T: number;
  readonly B: number;
  readonly dropout: boolean;
  readonly optimizer: OptimizerName;
  readonly threads: number;
  readonly segments: number;
  readonly dtype: Dtype;
}

/**
 * The memory train() works in for a model, planned without allocating it, and refused above
 * WebAssembly's 4 GiB: train plans with it, and gradcheck refuses with it, at once, what train
 * would refuse. `shrink` names the flags of the command at hand that make the model smaller.
 */
export function planTrainingMemory(size: TrainingSize, shrink = TRAIN_SHRINK): { shape: MemoryShape; plan: MemoryPlan } {
  const cell = cellNamed(size.dims.cell);
  const layout = modelLayout(cell, size.dims);
  const shape: MemoryShape = { ...size, P: layout.size, S: stateLength(cell, size.dims), optimizerBuffers: stateBuffers(size.optimizer) };
  const probe = instantiateKernels(createKernelMemory(0), kernelModule(size.dtype));
  return { shape, plan: planMemory(shape, cell, layout, cell.kernelSizes(probe, size.dims, size.T), probe.heapBase(), shrink) };
}

export function planMemory(shape: MemoryShape, cell: CellDescriptor, layout: ModelLayout, sizes: KernelSizes, heapBase: number, shrink = TRAIN_SHRINK): MemoryPlan {
  const { dims, T, B, P, S, threads, segments } = shape;
  const precision = precisionOf(shape.dtype);
  const { L, H } = dims;
  // A worker trains or scores, never both at once: the two share its scratch, the larger's size.
  const inWorker = new RegionPlanner(0);
  const groupScratch = inWorker.take(Math.max(sizes.groupScratch, sizes.scoreScratch));
  const scoreScratch = groupScratch;
  const scoreState = inWorker.take(S * 8);
  const scoreIds = inWorker.take((sizes.scoreChunk + 1) * 4);
  const workerScratchBytes = inWorker.take(0);

  const planner = new RegionPlanner(heapBase);
  const plan = {
    model: placeModel(planner, cell, layout, shape.dtype),
    optimizerMemory: planner.take(shape.optimizerBuffers * P * 8),
    stepScalars: planner.take(WINDOW_STEPS * STEP_SCALARS * 8),
    normParts: planner.take(Math.ceil(P / UPDATE_CHUNK) * 8),
    state: planner.take(B * S * 8),
    losses: planner.take(WINDOW_STEPS * B * 8),
    stepEnds: planner.take(WINDOW_STEPS * 8),
    evalLosses: planner.take(segments * 8),
    gradSlots: planner.take(Math.ceil(B / 2) * P * precision.bytes),
    streamIds: planner.take(B * (T + 1) * 4),
    masks: shape.dropout ? planner.take(B * L * T * H * precision.bytes) : 0,
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
      `${dims.cell} with L=${L}, H=${H} and ${B} ${B === 1 ? 'stream' : 'streams'} needs ${(planner.end / 2 ** 30).toFixed(1)} GiB of shared memory, more than WebAssembly's 4 GiB (use ${shrink})`,
    );
  }
  return { bytes: planner.end, ...plan };
}

/** The buffers of group `group` (streams from group · groupStreams on), trained by worker `worker`. */
export function groupBuffers(plan: MemoryPlan, { T, P, S, dims, dtype }: MemoryShape, group: number, worker: number): GroupBuffers {
  const first = group * plan.sizes.groupStreams;
  const precision = precisionOf(dtype);
  return {
    ids: plan.streamIds + first * (T + 1) * 4,
    state: plan.state + first * S * 8,
    masks: plan.masks === 0 ? 0 : plan.masks + first * dims.L * T * dims.H * precision.bytes,
    grad: plan.gradSlots + (first / 2) * P * precision.bytes,
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
  readonly stepScalars: Float64Array; // (WINDOW_STEPS, STEP_SCALARS)
  readonly state: Float64Array; // (B, S)
  readonly losses: Float64Array; // (WINDOW_STEPS, B)
  readonly stepEnds: Float64Array; // (WINDOW_STEPS)
  readonly evalLosses: Float64Array; // (segments)
  readonly streamIds: Int32Array; // (B, T+1)
  readonly masks: FloatArray | undefined; // (B, L, T, H) in the kernels' precision; none without dropout
  readonly normParts: Float64Array; // (ceil(P / UPDATE_CHUNK))
}

/** Views of the plan's shared regions, for the coordinator and every worker alike. */
export function sharedArrays(buffer: ArrayBufferLike, plan: MemoryPlan, { dims, T, B, P, S, segments, optimizerBuffers, dtype }: MemoryShape): SharedArrays {
  return {
    streamIds: new Int32Array(buffer, plan.streamIds, B * (T + 1)),
    masks: plan.masks === 0 ? undefined : floatView(precisionOf(dtype), buffer, plan.masks, B * dims.L * T * dims.H),
    normParts: new Float64Array(buffer, plan.normParts, Math.ceil(P / UPDATE_CHUNK)),
    params: new Float64Array(buffer, plan.model.params, P),
    optimizerMemory: new Float64Array(buffer, plan.optimizerMemory, optimizerBuffers * P),
    stepScalars: new Float64Array(buffer, plan.stepScalars, WINDOW_STEPS * STEP_SCALARS),
    state: new Float64Array(buffer, plan.state, B * S),
    losses: new Float64Array(buffer, plan.losses, WINDOW_STEPS * B),
    stepEnds: new Float64Array(buffer, plan.stepEnds, WINDOW_STEPS),
    evalLosses: new Float64Array(buffer, plan.evalLosses, segments),
  };
}

/**
 * The update of the parameters [lo, hi) by the run's optimizer (optimizers.ts bindOptimizerKernel)
 * from the pairs' gradient slots, with the scalars the coordinator set for the window's step `row`.
 */
export function bindOptimizer(
  kernels: Kernels, s: OptimizerSettings, plan: MemoryPlan, { P, B }: MemoryShape, stepScalars: Float64Array,
): (lo: number, hi: number, scale: number, row: number) => void {
  const update = bindOptimizerKernel(kernels, s, { params: plan.model.params, state: plan.optimizerMemory, slots: plan.gradSlots, P, B });
  return (lo, hi, scale, row) => {
    const at = row * STEP_SCALARS;
    update(lo, hi, scale, stepScalars[at + StepScalar.eta], stepScalars[at + StepScalar.c1], stepScalars[at + StepScalar.c2]);
  };
}

/** The shared memory; a size this machine cannot hold is the user's to change. */
export function allocateMemory(bytes: number): WebAssembly.Memory {
  try {
    return createKernelMemory(bytes);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new UserError(`cannot allocate ${(bytes / 2 ** 30).toFixed(1)} GiB of shared memory for training (use a smaller --hidden, fewer --layers or fewer --streams)`, { cause: error });
  }
}
