import { PANEL_ROW } from '../../assembly/interface.js';
import { GATES, maskSize, stackedLayout, stateSize, type StackedDims, type StackedLayout } from './cells/stacked-layout.js';
import { kernelOffsets, stackedCopies } from './cells/stacked-cell.js';
import { createKernelMemory, instantiateKernels, kernelModule } from './kernels.js';
import { floatView, precisionOf, type Dtype, type FloatArray } from './precision.js';

export { kernelOffsets };

/**
 * The typed door to the gated cells' WebAssembly kernels (assembly/cells/), which equal
 * src/model/cells/lstm.ts and gru.ts bit for bit. Pointers are byte offsets into the kernels'
 * memory, in float64 or float32 (src/model/precision.ts). For n streams:
 *   params (P) float64 | weights (P) float32, in float32 | packed (the panels) | grad (ceil(n/2), P) | offs (8L + 4) int32 |
 *   panel table | ids (n, T+1) int32 | state (n, S, L, H) float64 | masks (n, L, T, H) | losses (n) float64
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
  readonly state: Float64Array; // (n, S, L, H): h, then the LSTM's c
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
  const layout = stackedLayout(dims);
  const { L, H, K } = layout.dims;
  const P = layout.size;
  const G = GATES[dims.cell];
  const precision = precisionOf(dtype);
  const bytes = precision.bytes;
  const module = kernelModule(dtype);
  const offsets = kernelOffsets(layout, precision);
  const lstm = dims.cell === 'lstm';

  // Sizes first, so that the memory is made once at its final size; every region 16-byte aligned.
  const copies = stackedCopies(layout, precision);
  const regions = {
    params: P * 8, weights: bytes === 8 ? 0 : P * 4, grad: Math.ceil(n / 2) * P * bytes, packed: copies.size * bytes, offs: offsets.length * 4,
    table: copies.table.length * 4, ids: n * (T + 1) * 4, state: n * stateSize(dims) * 8, masks: n * maskSize(dims, T) * bytes, losses: n * 8, scratch: 0,
  };
  const probe = instantiateKernels(createKernelMemory(1), module);
  regions.scratch = lstm ? probe.lstmScratchBytes(n, L, H, K, T) : probe.gruScratchBytes(n, L, H, K, T);
  const start = align(probe.heapBase());
  const at: Record<keyof typeof regions, number> = { ...regions };
  let end = start;
  for (const key of Object.keys(regions) as (keyof typeof regions)[]) {
    at[key] = end;
    end = align(end + regions[key]);
  }
  const memory = createKernelMemory(end);
  const kernels = instantiateKernels(memory, module);
  const f64 = (key: keyof typeof regions): Float64Array => new Float64Array(memory.buffer, at[key], regions[key] / 8);
  const reals = (key: keyof typeof regions): FloatArray => floatView(precision, memory.buffer, at[key], regions[key] / bytes);
  const weights = bytes === 8 ? at.params : at.weights;
  new Int32Array(memory.buffer, at.offs, offsets.length).set(offsets);
  new Int32Array(memory.buffer, at.table, copies.table.length).set(copies.table);
  const ids = new Int32Array(memory.buffer, at.ids, n * (T + 1));

  const checkIds = (): void => {
    for (let t = 0; t < ids.length; t++) {
      if (!(ids[t] >= 0 && ids[t] < K)) throw new RangeError(`ids[${t}] is ${ids[t]}; symbol ids must lie in [0, ${K})`);
    }
  };
  const masksAt = (dropout: boolean): number => (dropout ? at.masks : 0);
  return {
    dims: layout.dims,
    T,
    streams: n,
    params: f64('params'),
    packed: reals('packed'),
    grad: reals('grad'),
    state: f64('state'),
    masks: reals('masks'),
    losses: f64('losses'),
    ids,
    pack: () => {
      kernels.packMatrices(at.table, copies.table.length / PANEL_ROW, at.params, at.packed, 0, P);
      if (bytes === 4) kernels.roundWeights(at.params, at.weights, 0, P);
    },
    loss: (dropout) => {
      checkIds();
      const run = lstm ? kernels.lstmLoss : kernels.gruLoss;
      const stateBytes = stateSize(dims) * 8;
      const maskBytes = maskSize(dims, T) * bytes;
      let total = 0;
      for (let s = 0; s < n; s++) {
        const masks = dropout ? at.masks + s * maskBytes : 0;
        total += run(L, H, K, T, weights, at.packed, at.offs, at.ids + s * (T + 1) * 4, at.state + s * stateBytes, masks, at.scratch);
      }
      return total;
    },
    lossAndGrad: (dropout) => {
      checkIds();
      const run = lstm ? kernels.lstmLossAndGrad : kernels.gruLossAndGrad;
      return run(n, L, H, K, T, weights, at.packed, at.offs, at.ids, at.state, masksAt(dropout), at.grad, P * bytes, at.scratch, at.losses);
    },
  };
}

function align(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}
