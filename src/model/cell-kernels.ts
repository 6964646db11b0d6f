import { GATES, maskSize, stackedLayout, stateSize, type StackedDims, type StackedLayout } from './cells/stacked-layout.js';
import { kernelOffsets, stackedCopies } from './cells/stacked-cell.js';
import { createKernelMemory, instantiateKernels, kernelModule } from './kernels.js';

export { kernelOffsets };

/**
 * The typed door to the gated cells' WebAssembly kernels (assembly/cells/), which equal
 * src/model/cells/lstm.ts and gru.ts bit for bit. Pointers are byte offsets into the kernels'
 * memory; ids are int32, everything else float64. For n streams:
 *   params (P) | packed (the panels) | grad (ceil(n/2), P) | offs (8L + 4) int32 | panel table | ids (n, T+1) int32 |
 *   state (n, S, L, H) | masks (n, L, T, H) | losses (n)
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
  readonly packed: Float64Array; // the weights in panels, as pack() leaves them
  readonly grad: Float64Array; // (ceil(n/2), P): lossAndGrad ADDS streams 2p and 2p + 1 into slot p
  readonly state: Float64Array; // (n, S, L, H): h, then the LSTM's c
  readonly masks: Float64Array; // (n, L, T, H): used when dropout is true
  readonly ids: Int32Array; // (n, T+1): predictions ids[t] -> ids[t+1]
  readonly losses: Float64Array; // (n): each stream's summed loss after lossAndGrad
  /** Refreshes the packed copy of the weights that the kernels read. */
  pack(): void;
  /** Forward only, one stream after another: the summed loss (nats) of every stream's T predictions. */
  loss(dropout: boolean): number;
  /** Forward and BPTT of all n streams in one call: the summed loss; dL/dparams is added into grad. */
  lossAndGrad(dropout: boolean): number;
}

export function createCellStream(dims: StackedDims, T: number, module: WebAssembly.Module = kernelModule(), streams = 1): CellStream {
  if (!Number.isInteger(T) || T < 1) throw new RangeError(`T must be a positive integer, not ${T}`);
  if (!Number.isInteger(streams) || streams < 1 || streams > 4) throw new RangeError(`streams must be 1 to 4, not ${streams}`);
  const n = streams;
  const layout = stackedLayout(dims);
  const { L, H, K } = layout.dims;
  const P = layout.size;
  const G = GATES[dims.cell];
  const offsets = kernelOffsets(layout);
  const lstm = dims.cell === 'lstm';

  // Sizes first, so that the memory is made once at its final size; every region 16-byte aligned.
  const copies = stackedCopies(layout);
  const regions = {
    params: P * 8, grad: Math.ceil(n / 2) * P * 8, packed: copies.size * 8, offs: offsets.length * 4, table: copies.table.length * 4, ids: n * (T + 1) * 4,
    state: n * stateSize(dims) * 8, masks: n * maskSize(dims, T) * 8, losses: n * 8, scratch: 0,
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
    packed: f64('packed'),
    grad: f64('grad'),
    state: f64('state'),
    masks: f64('masks'),
    losses: f64('losses'),
    ids,
    pack: () => kernels.packMatrices(at.table, copies.table.length / 5, at.params, at.packed, 0, P),
    loss: (dropout) => {
      checkIds();
      const run = lstm ? kernels.lstmLoss : kernels.gruLoss;
      const stateBytes = stateSize(dims) * 8;
      const maskBytes = maskSize(dims, T) * 8;
      let total = 0;
      for (let s = 0; s < n; s++) {
        const masks = dropout ? at.masks + s * maskBytes : 0;
        total += run(L, H, K, T, at.params, at.packed, at.offs, at.ids + s * (T + 1) * 4, at.state + s * stateBytes, masks, at.scratch);
      }
      return total;
    },
    lossAndGrad: (dropout) => {
      checkIds();
      const run = lstm ? kernels.lstmLossAndGrad : kernels.gruLossAndGrad;
      return run(n, L, H, K, T, at.params, at.packed, at.offs, at.ids, at.state, masksAt(dropout), at.grad, P * 8, at.scratch, at.losses);
    },
  };
}

function align(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}
