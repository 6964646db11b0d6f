import { modelLayout } from './cells/cell.js';
import { cellNamed } from './cells/registry.js';
import { gatedShapeOf, maskSize, stateSize, type StackedDims, type StackedLayout } from './cells/stacked-layout.js';
import { gatedKernels, kernelOffsets as gatedKernelOffsets } from './cells/stacked-cell.js';
import { placeModel, refreshCopies, RegionPlanner, writeModelTables } from './kernel-memory.js';
import { createKernelMemory, instantiateKernels, kernelModule } from './kernels.js';
import { FLOAT64, floatView, precisionOf, type Dtype, type FloatArray, type Precision } from './precision.js';

/** The int32 table a gated cell's kernels find its tensors by (stacked-cell.ts kernelOffsets). */
export function kernelOffsets(layout: StackedLayout, precision: Precision = FLOAT64): Int32Array {
  return gatedKernelOffsets(gatedShapeOf(layout.dims.cell), layout, precision);
}

/**
 * The typed door to the gated cells' WebAssembly kernels (assembly/cells/), which equal their
 * reference math (src/model/cells/lstm.ts, gru.ts, ...) bit for bit. Pointers are byte offsets into the kernels'
 * memory, in float64 or float32 (src/model/precision.ts). The model is placed by the trainer's
 * planner (kernel-memory.ts placeModel), then for n streams:
 *   grad (ceil(n/2), P) | ids (n, T+1) int32 | state (n, S, L, H) float64 | masks (n, L, T, H) | losses (n) float64 | scratch
 * where unmarked arrays are in the stream's precision.
 */

/**
 * The buffers of n streams (1 to 4, one stream unless asked) in a kernel memory of their own, as
 * views: fill params, ids, state and (for dropout) masks, call pack() after every change of
 * params, then loss() or lossAndGrad(), which carry each stream's state to its next sequence as
 * the reference does.
 */
export interface CellStream {
  readonly dims: StackedDims;
  readonly T: number;
  readonly streams: number;
  readonly params: Float64Array; // (P), the layout table's order
  readonly packed: FloatArray; // the weights in panels, as pack() leaves them
  readonly grad: FloatArray; // (ceil(n/2), P): lossAndGrad ADDS streams 2p and 2p + 1 into slot p
  readonly state: Float64Array; // (n, S, L, H): h, then the LSTM's c (the cell's state table)
  readonly masks: FloatArray; // (n, L, T, H): used when dropout is true
  readonly ids: Int32Array; // (n, T+1): predictions ids[t] -> ids[t+1]
  readonly losses: Float64Array; // (n): each stream's summed loss after lossAndGrad
  /** Refreshes what the kernels read of the weights: the packed copy, and in float32 the rounded one. */
  pack(): void;
  /** Forward only, one stream after another: the summed loss (nats) of every stream's T predictions. */
  loss(dropout: boolean): number;
  /** Forward and BPTT of all n streams in one call: the summed loss; dL/dparams is added into grad. */
  lossAndGrad(dropout: boolean): number;
}

export function createCellStream(dims: StackedDims, T: number, streams = 1, dtype: Dtype = 'float64'): CellStream {
  if (!Number.isInteger(T) || T < 1) throw new RangeError(`T must be a positive integer, not ${T}`);
  if (!Number.isInteger(streams) || streams < 1 || streams > 4) throw new RangeError(`streams must be 1 to 4, not ${streams}`);
  const n = streams;
  const cell = cellNamed(dims.cell);
  const layout = modelLayout(cell, dims);
  const { L, H, K } = layout.dims;
  const P = layout.size;
  const precision = precisionOf(dtype);
  const bytes = precision.bytes;
  const module = kernelModule(dtype);

  // the trainer's planner and placement, so that these tests run the code that training does
  const probe = instantiateKernels(createKernelMemory(0), module);
  const own = gatedKernels(probe, dims.cell);
  const planner = new RegionPlanner(probe.heapBase());
  const model = placeModel(planner, cell, layout, dtype);
  const sizes = {
    grad: Math.ceil(n / 2) * P * bytes, ids: n * (T + 1) * 4, state: n * stateSize(dims) * 8, masks: n * maskSize(dims, T) * bytes, losses: n * 8,
    scratch: own.scratchBytes(n, L, H, K, T),
  };
  const at = Object.fromEntries(Object.entries(sizes).map(([name, size]) => [name, planner.take(size)])) as Record<keyof typeof sizes, number>;
  const memory = createKernelMemory(planner.end);
  const kernels = instantiateKernels(memory, module);
  const run = gatedKernels(kernels, dims.cell);
  writeModelTables(memory.buffer, model, cell, layout);
  const f64 = (key: keyof typeof sizes): Float64Array => new Float64Array(memory.buffer, at[key], sizes[key] / 8);
  const reals = (key: keyof typeof sizes): FloatArray => floatView(precision, memory.buffer, at[key], sizes[key] / bytes);
  const ids = new Int32Array(memory.buffer, at.ids, n * (T + 1));

  const checkIds = (): void => {
    for (let t = 0; t < ids.length; t++) {
      if (!(ids[t] >= 0 && ids[t] < K)) throw new RangeError(`ids[${t}] is ${ids[t]}; symbol ids must lie in [0, ${K})`);
    }
  };
  const masksAt = (dropout: boolean): number => (dropout ? at.masks : 0);
  return {
    dims: { cell: dims.cell, L, H, K },
    T,
    streams: n,
    params: new Float64Array(memory.buffer, model.params, P),
    packed: floatView(precision, memory.buffer, model.copies, cell.weightCopies(layout, precision).size),
    grad: reals('grad'),
    state: f64('state'),
    masks: reals('masks'),
    losses: f64('losses'),
    ids,
    pack: () => refreshCopies(kernels, model, 0, P),
    loss: (dropout) => {
      checkIds();
      const stateBytes = stateSize(dims) * 8;
      const maskBytes = maskSize(dims, T) * bytes;
      let total = 0;
      for (let s = 0; s < n; s++) {
        const masks = dropout ? at.masks + s * maskBytes : 0;
        total += run.loss(L, H, K, T, model.weights, model.copies, model.offs, at.ids + s * (T + 1) * 4, at.state + s * stateBytes, masks, at.scratch);
      }
      return total;
    },
    lossAndGrad: (dropout) => {
      checkIds();
      return run.lossAndGrad(n, L, H, K, T, model.weights, model.copies, model.offs, at.ids, at.state, masksAt(dropout), at.grad, P * bytes, at.scratch, at.losses);
    },
  };
}
