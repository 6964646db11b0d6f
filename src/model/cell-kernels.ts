import { GATES, maskSize, stackedLayout, stateSize, type StackedDims, type StackedLayout } from './cells/stacked-layout.js';
import { kernelOffsets } from './cells/stacked-cell.js';
import { createKernelMemory, instantiateKernels, kernelModule } from './kernels.js';

export { kernelOffsets };

/**
 * The typed door to the gated cells' WebAssembly kernels (assembly/cells/), which equal
 * src/model/cells/lstm.ts and gru.ts bit for bit. Pointers are byte offsets into the kernels'
 * memory; ids are int32, everything else float64. For one stream:
 *   params, grad, paramsT (P) | offs (4L + 2) int32 | ids (T+1) int32 | state (S, L, H) | masks (L, T, H)
 */

/**
 * One stream's buffers in a kernel memory of its own, as views: fill params, ids, state and
 * (for dropout) masks, call transpose() after every change of params, then loss() or
 * lossAndGrad(), which carry state to the next sequence as the reference does.
 */
export interface CellStream {
  readonly dims: StackedDims;
  readonly T: number;
  readonly params: Float64Array; // (P), the layout table's order
  readonly grad: Float64Array; // (P): lossAndGrad ADDS into it
  readonly state: Float64Array; // (S, L, H): h, then the LSTM's c
  readonly masks: Float64Array; // (L, T, H): used when dropout is true
  readonly ids: Int32Array; // (T+1): predictions ids[t] -> ids[t+1]
  /** Refreshes the transposed weight copies the forward pass reads. */
  transpose(): void;
  /** Forward only: the summed loss (nats) of the T predictions. */
  loss(dropout: boolean): number;
  /** Forward and BPTT: the summed loss; dL/dparams is added into grad. */
  lossAndGrad(dropout: boolean): number;
}

export function createCellStream(dims: StackedDims, T: number, module: WebAssembly.Module = kernelModule()): CellStream {
  if (!Number.isInteger(T) || T < 1) throw new RangeError(`T must be a positive integer, not ${T}`);
  const layout = stackedLayout(dims);
  const { L, H, K } = layout.dims;
  const P = layout.size;
  const G = GATES[dims.cell];
  const offsets = kernelOffsets(layout);
  const lstm = dims.cell === 'lstm';

  // Sizes first, so that the memory is made once at its final size; every region 16-byte aligned.
  const regions = { params: P * 8, grad: P * 8, paramsT: P * 8, offs: offsets.length * 4, ids: (T + 1) * 4, state: stateSize(dims) * 8, masks: maskSize(dims, T) * 8, scratch: 0 };
  const probe = instantiateKernels(createKernelMemory(1), module);
  regions.scratch = lstm ? probe.lstmScratchBytes(L, H, K, T) : probe.gruScratchBytes(L, H, K, T);
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
  const ids = new Int32Array(memory.buffer, at.ids, T + 1);

  const checkIds = (): void => {
    for (let t = 0; t <= T; t++) {
      if (!(ids[t] >= 0 && ids[t] < K)) throw new RangeError(`ids[${t}] is ${ids[t]}; symbol ids must lie in [0, ${K})`);
    }
  };
  const masksAt = (dropout: boolean): number => (dropout ? at.masks : 0);
  return {
    dims: layout.dims,
    T,
    params: f64('params'),
    grad: f64('grad'),
    state: f64('state'),
    masks: f64('masks'),
    ids,
    transpose: () => kernels.stackedTranspose(L, H, K, G, at.offs, at.params, at.paramsT),
    loss: (dropout) => {
      checkIds();
      const run = lstm ? kernels.lstmLoss : kernels.gruLoss;
      return run(L, H, K, T, at.params, at.paramsT, at.offs, at.ids, at.state, masksAt(dropout), at.scratch);
    },
    lossAndGrad: (dropout) => {
      checkIds();
      const run = lstm ? kernels.lstmLossAndGrad : kernels.gruLossAndGrad;
      return run(L, H, K, T, at.params, at.paramsT, at.offs, at.ids, at.state, masksAt(dropout), at.grad, at.scratch);
    },
  };
}

function align(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}
