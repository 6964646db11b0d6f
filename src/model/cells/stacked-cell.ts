import type { Kernels } from '../kernels.js';
import type { CellDescriptor, CellKernels, ModelBuffers, ModelDims, ModelLayout } from './cell.js';
import { GATES, stackedShapeTable, stackedViewsOf, stateShapeTable, type CellKind, type StackedDims, type StackedLayout, type StackedViews } from './stacked-layout.js';

/** Predictions per scoring call of a gated cell: its scratch grows with them. */
const SCORE_CHUNK = 128;

/** The kernel entry points of one gated cell (assembly/cells/). */
export interface GatedKernelNames {
  readonly scratchBytes: 'lstmScratchBytes' | 'gruScratchBytes';
  readonly loss: 'lstmLoss' | 'gruLoss';
  readonly lossAndGrad: 'lstmLossAndGrad' | 'gruLossAndGrad';
}

/** The reference math of one gated cell (lstm.ts, gru.ts): a workspace of T steps, the forward pass and BPTT. */
export interface GatedReference<W> {
  createWorkspace(dims: StackedDims, T: number): W;
  sequenceLoss(p: StackedViews, dims: StackedDims, ids: ArrayLike<number>, start: number, state: Float64Array, masks: Float64Array | null, ws: W): number;
  sequenceLossAndGrad(
    p: StackedViews, dims: StackedDims, ids: ArrayLike<number>, start: number, state: Float64Array, masks: Float64Array | null, g: StackedViews, ws: W,
  ): number;
}

/**
 * A descriptor for a stack of gated layers under one output layer, PyTorch's tensors by name and
 * order (stacked-layout.ts). What differs between the LSTM and the GRU is their gate count, their
 * state, their reference math and their kernels; the rest is here once.
 */
export function gatedCell<W>(
  name: CellKind,
  summary: string,
  kernelNames: GatedKernelNames,
  math: GatedReference<W>,
  adjustInit: (params: Float64Array, layout: ModelLayout) => void = () => {},
): CellDescriptor {
  const G = GATES[name];
  const stacked = (dims: ModelDims): StackedDims => ({ cell: name, L: dims.L, H: dims.H, K: dims.K });
  return {
    name,
    summary,
    stacks: true,
    paramTable: (dims) => stackedShapeTable(stacked(dims)),
    stateTable: (dims) => stateShapeTable(stacked(dims)),
    // PyTorch's init for nn.LSTM / nn.GRU and nn.Linear(H, K): every entry from U(-1/sqrt(H), 1/sqrt(H))
    init: (params, layout, prng) => {
      const bound = 1 / Math.sqrt(layout.dims.H);
      for (let i = 0; i < params.length; i++) params[i] = bound * (2 * prng.nextDouble() - 1);
      adjustInit(params, layout);
    },
    // forward: layer 0's W_hh h, each higher layer's W_ih x and W_hh h, the output's V h; backward three times the forward
    trainFlopsPerChar: ({ L, H, K }) => 3 * (2 * G * H * H * (2 * L - 1) + 2 * K * H),
    reference: (layout, T) => {
      const dims = stacked(layout.dims);
      const views = (flat: Float64Array): StackedViews => stackedViewsOf(flat, layout as unknown as StackedLayout);
      const ws = math.createWorkspace(dims, T);
      return {
        loss: (params, ids, start, state, masks) => math.sequenceLoss(views(params), dims, ids, start, state, masks, ws),
        lossAndGrad: (params, grad, ids, start, state, masks) => math.sequenceLossAndGrad(views(params), dims, ids, start, state, masks, views(grad), ws),
      };
    },
    kernelOffsets: (layout) => kernelOffsets(layout),
    kernelSizes: (kernels, dims, T) => ({
      pairScratch: kernels[kernelNames.scratchBytes](dims.L, dims.H, dims.K, T),
      scoreChunk: SCORE_CHUNK,
      scoreScratch: kernels[kernelNames.scratchBytes](dims.L, dims.H, dims.K, SCORE_CHUNK),
    }),
    bindKernels: (kernels, layout, T, model) => bindGated(kernels, kernelNames, layout, T, model),
    createStepper: (params, layout) => {
      const dims = stacked(layout.dims);
      const { L, H, K } = dims;
      const p = stackedViewsOf(params, layout as unknown as StackedLayout);
      const ws = math.createWorkspace(dims, 1);
      const state = new Float64Array(stateShapeTable(dims).length * L * H);
      const ids = new Int32Array(2); // the one step's input, and a target whose loss is not used
      const out = new Float64Array(K);
      return {
        state,
        feed: (id) => {
          ids[0] = id;
          math.sequenceLoss(p, dims, ids, 0, state, null, ws);
        },
        scores: () => {
          // o = V h + c on the top layer's h, which is row L - 1 of the state's h (L, H)
          const top = (L - 1) * H;
          for (let k = 0; k < K; k++) {
            let o = p.c[k];
            for (let j = 0; j < H; j++) o += p.V[k * H + j] * state[top + j];
            out[k] = o;
          }
          return out;
        },
      };
    },
  };
}

function bindGated(kernels: Kernels, names: GatedKernelNames, layout: ModelLayout, T: number, model: ModelBuffers): CellKernels {
  const { L, H, K } = layout.dims;
  const P = layout.size;
  const { params, paramsT, offs } = model;
  const idBytes = (T + 1) * 4;
  const stateBytes = stateShapeTable({ cell: layout.dims.cell as CellKind, L, H, K }).length * L * H * 8;
  const maskBytes = L * T * H * 8;
  const lossAndGrad = kernels[names.lossAndGrad];
  const loss = kernels[names.loss];
  return {
    trainPair: (at, n) => {
      kernels.fillZero(at.grad, P * 8); // the kernels add into the slot
      for (let i = 0; i < n; i++) {
        const masks = at.masks === 0 ? 0 : at.masks + i * maskBytes;
        const value = lossAndGrad(L, H, K, T, params, paramsT, offs, at.ids + i * idBytes, at.state + i * stateBytes, masks, at.grad, at.scratch);
        kernels.storeF64(at.losses + i * 8, value);
      }
    },
    score: (at, n, total) => total + loss(L, H, K, n, params, paramsT, offs, at.ids, at.state, 0, at.scratch),
  };
}

/**
 * The int32 table the gated kernels find every tensor by: entry 4l + 0..3 is layer l's weight_ih,
 * weight_hh, bias_ih, bias_hh; entries 4L and 4L + 1 are V and c. Offsets count float64 entries.
 */
export function kernelOffsets(layout: ModelLayout | StackedLayout): Int32Array {
  const offsets = new Map(layout.specs.map((spec) => [spec.name, spec.offset]));
  const names: string[] = [];
  for (let l = 0; l < layout.dims.L; l++) names.push(`weight_ih_l${l}`, `weight_hh_l${l}`, `bias_ih_l${l}`, `bias_hh_l${l}`);
  names.push('V', 'c');
  return Int32Array.from(names, (tensor) => {
    const offset = offsets.get(tensor);
    if (offset === undefined) throw new Error(`the layout table has no tensor named ${tensor}`);
    return offset;
  });
}
