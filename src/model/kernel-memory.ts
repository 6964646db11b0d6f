import { PANEL_ROW } from '../../assembly/interface.js';
import type { CellDescriptor, CellKernels, KernelSizes, ModelBuffers, ModelLayout } from './cells/cell.js';
import { createKernelMemory, instantiateKernels, kernelModule, type Kernels } from './kernels.js';
import { precisionOf, type Dtype } from './precision.js';

/**
 * A model placed in a kernel memory: the one place that knows which regions a model needs and
 * how the kernels are pointed at them. The trainer's shared memory, its workers and the scorer
 * all place and call a model through here.
 */
export interface ModelRegions extends ModelBuffers {
  readonly matrices: number; // the int32 table of WeightCopies
  readonly matrixCount: number;
  readonly offsCount: number;
  readonly size: number; // P
}


/** Hands out 16-byte aligned byte ranges from `start` on; `end` is where the last one ends. */
export class RegionPlanner {
  end: number;
  constructor(start: number) {
    this.end = start;
  }

  take(bytes: number): number {
    const at = align16(this.end);
    this.end = at + bytes;
    return at;
  }
}

export function align16(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}

/**
 * Reserves the model's regions: params (P, float64), in float32 their float32 copy, the packed
 * weights and the two int32 tables.
 */
export function placeModel(planner: RegionPlanner, cell: CellDescriptor, layout: ModelLayout, dtype: Dtype): ModelRegions {
  const precision = precisionOf(dtype);
  const offsCount = cell.kernelOffsets(layout, precision).length;
  const copies = cell.weightCopies(layout, precision);
  const params = planner.take(layout.size * 8);
  return {
    dtype,
    params,
    weights: precision.bytes === 8 ? params : planner.take(layout.size * precision.bytes),
    copies: planner.take(copies.size * precision.bytes),
    offs: planner.take(offsCount * 4),
    offsCount,
    matrices: planner.take(copies.table.length * 4),
    matrixCount: copies.table.length / PANEL_ROW,
    size: layout.size,
  };
}

/** Writes the tables the kernels find the tensors by; once, before any kernel runs. */
export function writeModelTables(buffer: ArrayBufferLike, regions: ModelRegions, cell: CellDescriptor, layout: ModelLayout): void {
  new Int32Array(buffer, regions.offs, regions.offsCount).set(cell.kernelOffsets(layout, precisionOf(regions.dtype)));
  new Int32Array(buffer, regions.matrices, regions.matrixCount * PANEL_ROW).set(cell.weightCopies(layout, precisionOf(regions.dtype)).table);
}

/** Refreshes what the kernels read of the parameters [lo, hi): the packed weights, and in float32 the rounded copy. */
export function refreshCopies(kernels: Kernels, regions: ModelRegions, lo: number, hi: number): void {
  kernels.packMatrices(regions.matrices, regions.matrixCount, regions.params, regions.copies, lo, hi);
  if (regions.weights !== regions.params) kernels.roundWeights(regions.params, regions.weights, lo, hi);
}

/**
 * `loss` plus the loss of `count` predictions source[start+t] -> source[start+t+1] from `state`
 * (at stateAt, updated), scored in chunks of sizes.scoreChunk: the same bits in a worker's
 * validation and in scoreText. chunk (scoreChunk + 1) is the int32 view of the ids region at idsAt.
 */
export function scoreStream(
  kernels: CellKernels,
  sizes: KernelSizes,
  at: { readonly ids: number; readonly state: number; readonly scratch: number },
  chunk: Int32Array,
  source: ArrayLike<number>,
  start: number,
  count: number,
  loss = 0,
  shouldStop: () => boolean = () => false,
): number {
  for (let done = 0; done < count; done += sizes.scoreChunk) {
    if (shouldStop()) return Number.NaN;
    const n = Math.min(sizes.scoreChunk, count - done);
    for (let t = 0; t <= n; t++) chunk[t] = source[start + done + t];
    loss = kernels.score(at, n, loss);
  }
  return loss;
}

/** A snapshot of a model in a kernel memory of its own, with the regions a caller asked for beside it. */
export interface PlacedModel<R extends string> {
  readonly memory: WebAssembly.Memory;
  readonly bound: CellKernels;
  readonly sizes: KernelSizes;
  /** Byte offsets of the caller's regions. */
  readonly at: Readonly<Record<R, number>>;
}

/**
 * Places `params` (copied) in a new kernel memory for one-stream calls (T = 1 sizes), the
 * caller's regions after the model's: `regions` gives each one's bytes from the kernels' sizes.
 */
export function placeSnapshot<R extends string>(
  cell: CellDescriptor, layout: ModelLayout, params: Float64Array, dtype: Dtype, regions: (sizes: KernelSizes) => Record<R, number>,
): PlacedModel<R> {
  const module = kernelModule(dtype);
  const probe = instantiateKernels(createKernelMemory(0), module);
  const sizes = cell.kernelSizes(probe, layout.dims, 1);
  const planner = new RegionPlanner(probe.heapBase());
  const model = placeModel(planner, cell, layout, dtype);
  const wanted = regions(sizes);
  const at = Object.fromEntries(Object.entries<number>(wanted).map(([name, bytes]) => [name, planner.take(bytes)])) as Record<R, number>;
  const memory = createKernelMemory(planner.end);
  const kernels = instantiateKernels(memory, module);
  writeModelTables(memory.buffer, model, cell, layout);
  new Float64Array(memory.buffer, model.params, layout.size).set(params);
  refreshCopies(kernels, model, 0, layout.size);
  return { memory, bound: cell.bindKernels(kernels, layout, 1, model), sizes, at };
}
