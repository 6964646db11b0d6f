import type { Kernels } from '../kernels.js';
import { FLOAT64, precisionOf, type FloatArray, type Precision } from '../precision.js';
import {
  GROUP_STREAMS, LAYER_BHH, LAYER_BIH, LAYER_ENTRIES, LAYER_WHH, LAYER_WHH_B, LAYER_WHH_F, LAYER_WIH, LAYER_WIH_B, LAYER_WIH_F,
  OUTPUT_C, OUTPUT_ENTRIES, OUTPUT_V, OUTPUT_V_B, OUTPUT_V_F,
} from '../../../assembly/interface.js';
import { STEP_STREAMS, tensorSpec, type CellDefaults, type CellDescriptor, type CellKernels, type ModelBuffers, type ModelDims, type ModelLayout, type WeightCopies } from './cell.js';
import { panelCopies, panelPlan, type PanelEntry } from './panels.js';
import { gatedShapeTable, gatedStateSize, gatedStateTable, stackedViewsOf, type GatedShape, type StackedDims, type StackedLayout, type StackedViews } from './gated-shape.js';

/** Predictions per scoring call of a gated cell: its scratch grows with them. */
const SCORE_CHUNK = 128;

/** A gated kernel's signature (assembly/cells/): bytes of scratch for a group of count streams of T steps. */
export type ScratchBytesKernel = (count: number, L: number, H: number, K: number, T: number) => number;
/** Forward only, one stream: the summed loss of its T predictions, its state carried. */
export type LossKernel = (L: number, H: number, K: number, T: number, params: number, packed: number, offs: number,
  ids: number, state: number, masks: number, scratch: number) => number;
/** Forward and BPTT of count streams, their gradients ADDED to the pair slots gradGap bytes apart. */
export type LossAndGradKernel = (count: number, L: number, H: number, K: number, T: number, params: number, packed: number, offs: number,
  ids: number, state: number, masks: number, grad: number, gradGap: number, scratch: number, losses: number) => number;
/** Sampling (src/model/kernel-stepper.ts): count streams (1 to 4) one symbol each, ids (count) int32, state (count, S) float64. */
export type StepScratchBytesKernel = (count: number, L: number, H: number, K: number) => number;
export type StepKernel = (count: number, L: number, H: number, K: number, params: number, packed: number, offs: number,
  ids: number, state: number, scratch: number) => void;

/**
 * The kernel entry points of the gated cells called N (assembly/cells/N.ts, exported by
 * assembly/cells/index.ts): every gated cell's kernels share these signatures and are named by
 * the cell's name and a suffix, so that the Kernels type and KERNEL_EXPORTS derive them.
 */
export type GatedKernels<N extends string> = Record<`${N}ScratchBytes`, ScratchBytesKernel> & Record<`${N}Loss`, LossKernel> &
  Record<`${N}LossAndGrad`, LossAndGradKernel> & Record<`${N}StepScratchBytes`, StepScratchBytesKernel> & Record<`${N}Step`, StepKernel>;

/** The parameter count of each gated kernel, by suffix: what KERNEL_EXPORTS holds every gated cell's exports to. */
export const GATED_KERNEL_PARAMS: { readonly [S in keyof GatedKernels<''>]: Parameters<GatedKernels<''>[S]>['length'] } = {
  ScratchBytes: 5, Loss: 11, LossAndGrad: 15, StepScratchBytes: 4, Step: 10,
};

/** What every gated cell's workspace holds, among its own arrays: T, and the output layer's p (T, K). */
export interface GatedWorkspace {
  readonly T: number;
  readonly ps: FloatArray;
}

/**
 * The reference math of one gated cell (lstm.ts, gru.ts, mgu.ts) and its shape: a workspace of T steps in a precision,
 * the forward pass and BPTT in the workspace's precision.
 */
export interface GatedReference<W extends GatedWorkspace> {
  readonly shape: GatedShape;
  createWorkspace(dims: StackedDims, T: number, precision: Precision): W;
  sequenceLoss(p: StackedViews, dims: StackedDims, ids: ArrayLike<number>, start: number, state: Float64Array, masks: FloatArray | null, ws: W): number;
  sequenceLossAndGrad(
    p: StackedViews, dims: StackedDims, ids: ArrayLike<number>, start: number, state: Float64Array, masks: FloatArray | null, g: StackedViews, ws: W,
  ): number;
}

/** A gated cell's descriptor: what every descriptor says, and its shape (gated-shape.ts). */
export interface GatedDescriptor<N extends string = string> extends CellDescriptor {
  readonly name: N;
  readonly stacks: true;
  readonly shape: GatedShape;
  /** Its reference math on views (the tests' way in; reference() serves the engine). */
  readonly math: GatedReference<GatedWorkspace>;
}

/** The gated cells' defaults: what won the race (docs/benchmarks.md, "The race"): 2 layers of 128, 32 streams of 50 characters, Adam. */
const RACE_WINNER: CellDefaults = { layers: 2, hidden: 128, seqLength: 50, streams: 32, optimizer: 'adam' };

/**
 * A descriptor for a stack of gated layers under one output layer, PyTorch's tensors by name and
 * order (gated-shape.ts). What differs between the LSTM, the GRU and the MGU is their shape, their
 * reference math and their kernels (found by the cell's name); the rest is here once.
 */
export function gatedCell<N extends string, W extends GatedWorkspace>(
  name: N,
  summary: string,
  math: GatedReference<W>,
  adjustInit: (params: Float64Array, layout: ModelLayout) => void = () => {},
): GatedDescriptor<N> {
  const { shape } = math;
  const G = shape.gates;
  const stacked = (dims: ModelDims): StackedDims => ({ cell: name, L: dims.L, H: dims.H, K: dims.K });
  return {
    name,
    summary,
    shape,
    math: math as unknown as GatedReference<GatedWorkspace>,
    defaults: RACE_WINNER,
    stacks: true,
    // float32 reaches a given validation loss in about 0.6 of float64's time (docs/benchmarks.md, "Precision")
    dtypes: ['float32', 'float64'],
    paramTable: (dims) => gatedShapeTable(shape, stacked(dims)),
    stateTable: (dims) => gatedStateTable(shape, stacked(dims)),
    // PyTorch's init for nn.LSTM / nn.GRU and nn.Linear(H, K): every entry from U(-1/sqrt(H), 1/sqrt(H))
    // then layer 0's input weights times sqrt(H), to U(-1, 1): a PyTorch model reads a symbol
    // through nn.Embedding(K, H), N(0, 1), times W_ih, whose product has this scale (std 0.58);
    // one-hot weights at 1/sqrt(H) gave a tenth of that, and a GRU took minutes to catch up (docs/architecture.md, "Initialisation")
    init: (params, layout, prng) => {
      const { H } = layout.dims;
      for (let i = 0; i < params.length; i++) params[i] = (1 / Math.sqrt(H)) * (2 * prng.nextDouble() - 1);
      const input = tensorSpec(layout, 'weight_ih_l0');
      for (let i = input.offset; i < input.offset + input.size; i++) params[i] *= Math.sqrt(H);
      adjustInit(params, layout);
    },
    // forward: layer 0's W_hh h, each higher layer's W_ih x and W_hh h, the output's V h; backward three times the forward
    trainFlopsPerChar: ({ L, H, K }) => 3 * (2 * G * H * H * (2 * L - 1) + 2 * K * H),
    reference: (layout, T, precision = FLOAT64) => {
      const dims = stacked(layout.dims);
      const views = (flat: FloatArray): StackedViews => stackedViewsOf(flat, layout as unknown as StackedLayout);
      // float32 math reads float32 weights: a float64 buffer here would be a caller's missed copy
      const weights = (params: FloatArray): StackedViews => {
        if (precision.bytes === 4 && !(params instanceof Float32Array)) {
          throw new TypeError('the float32 reference math reads a Float32Array copy of the parameters (Float32Array.from(params))');
        }
        return views(params);
      };
      const ws = math.createWorkspace(dims, T, precision);
      return {
        loss: (params, ids, start, state, masks) => math.sequenceLoss(weights(params), dims, ids, start, state, masks, ws),
        lossAndGrad: (params, grad, ids, start, state, masks) => math.sequenceLossAndGrad(weights(params), dims, ids, start, state, masks, views(grad), ws),
      };
    },
    kernelOffsets: (layout, precision) => kernelOffsets(shape, layout, precision),
    weightCopies: (layout, precision) => stackedCopies(shape, layout, precision),
    kernelSizes: (kernels, dims, T) => {
      const own = gatedKernels(kernels, name);
      return {
        groupStreams: GROUP_STREAMS,
        groupScratch: own.scratchBytes(GROUP_STREAMS, dims.L, dims.H, dims.K, T),
        scoreChunk: SCORE_CHUNK,
        scoreScratch: own.scratchBytes(1, dims.L, dims.H, dims.K, SCORE_CHUNK),
        stepScratch: own.stepScratchBytes(STEP_STREAMS, dims.L, dims.H, dims.K),
      };
    },
    lossChunk: SCORE_CHUNK,
    bindKernels: (kernels, layout, T, model) => bindGated(kernels, shape, name, layout, T, model),
    createStepper: (params, layout, precision = FLOAT64) => {
      const dims = stacked(layout.dims);
      const { L, H, K } = dims;
      // float32 steps on the weights rounded once, as the kernels read their float32 copy
      const weights = precision.bytes === 4 ? Float32Array.from(params) : params;
      const p = stackedViewsOf(weights, layout as unknown as StackedLayout);
      const { round } = precision;
      const ws = math.createWorkspace(dims, 1, precision);
      const state = new Float64Array(gatedStateSize(shape, dims));
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
            for (let j = 0; j < H; j++) o = round(o + round(p.V[k * H + j] * state[top + j]));
            out[k] = o;
          }
          return out;
        },
      };
    },
  };
}

/** The gated kernels of the cell called `name`, by their suffixes. */
export function gatedKernels(kernels: Kernels, name: string): { readonly [S in keyof GatedKernels<''> as Uncapitalize<S>]: GatedKernels<''>[S] } {
  const exports = kernels as unknown as Readonly<Record<string, unknown>>;
  const find = <S extends keyof GatedKernels<''>>(suffix: S): GatedKernels<''>[S] => {
    const kernel = exports[`${name}${suffix}`];
    if (typeof kernel !== 'function') throw new Error(`the kernels have no ${name}${suffix}: assembly/cells/index.ts exports each gated cell's kernels`);
    return kernel as GatedKernels<''>[S];
  };
  return { scratchBytes: find('ScratchBytes'), loss: find('Loss'), lossAndGrad: find('LossAndGrad'), stepScratchBytes: find('StepScratchBytes'), step: find('Step') };
}

function bindGated(kernels: Kernels, shape: GatedShape, name: string, layout: ModelLayout, T: number, model: ModelBuffers): CellKernels {
  const { L, H, K } = layout.dims;
  const P = layout.size;
  const { weights, copies, offs } = model;
  const slotBytes = P * precisionOf(model.dtype).bytes;
  const { lossAndGrad, loss, step } = gatedKernels(kernels, name);
  const G = shape.gates;
  const S = gatedStateSize(shape, { cell: name, L, H, K });
  return {
    trainGroup: (at, n) => {
      kernels.fillZero(at.grad, Math.ceil(n / 2) * slotBytes); // the kernels add into the slots
      lossAndGrad(n, L, H, K, T, weights, copies, offs, at.ids, at.state, at.masks, at.grad, slotBytes, at.scratch, at.losses);
    },
    score: (at, n, total) => total + loss(L, H, K, n, weights, copies, offs, at.ids, at.state, 0, at.scratch),
    step: (at, n) => step(n, L, H, K, weights, copies, offs, at.ids, at.state, at.scratch),
    logits: (at, n) => kernels.stackedLogits(n, G, L, H, K, S, weights, copies, offs, at.state, at.logits, at.scratch),
  };
}

/**
 * The gated cells' matrices in panels: every layer's two and V; layer 0's W_ih has no product
 * below it to serve. W_hh is packed in the shape's row blocks, each block's forward panels one
 * after another, then each one's backward panels (for one block: its forward, then backward ones).
 */
function stackedPanels(shape: GatedShape, layout: ModelLayout | StackedLayout, precision: Precision): ReturnType<typeof panelPlan> {
  const matrices: (readonly [string, boolean, number?])[] = [];
  for (let l = 0; l < layout.dims.L; l++) matrices.push([`weight_ih_l${l}`, l > 0], [`weight_hh_l${l}`, true, shape.recurrentBlocks]);
  matrices.push(['V', true]);
  return panelPlan(layout, matrices, precision);
}

/** The packed copy's table and size for a stack of gated layers. */
export function stackedCopies(shape: GatedShape, layout: ModelLayout | StackedLayout, precision: Precision = FLOAT64): WeightCopies {
  return panelCopies(stackedPanels(shape, layout, precision));
}

/**
 * The int32 table the gated kernels find every tensor by, in the order of assembly/interface.ts:
 * each layer's weight_ih, weight_hh, bias_ih, bias_hh in the parameters and the forward and
 * backward panels of its two matrices in the packed copy (W_hh's first row block's), then V, c and V's panels.
 */
export function kernelOffsets(shape: GatedShape, layout: ModelLayout | StackedLayout, precision: Precision = FLOAT64): Int32Array {
  const offsets = new Map(layout.specs.map((spec) => [spec.name, spec.offset]));
  const offset = (tensor: string): number => {
    const at = offsets.get(tensor);
    if (at === undefined) throw new Error(`the layout table has no tensor named ${tensor}`);
    return at;
  };
  const panels = new Map<string, PanelEntry>();
  for (const entry of stackedPanels(shape, layout, precision).entries) if (!panels.has(entry.name)) panels.set(entry.name, entry); // a matrix's first block
  const { L } = layout.dims;
  const table = new Int32Array(LAYER_ENTRIES * L + OUTPUT_ENTRIES);
  for (let l = 0; l < L; l++) {
    const ih = panels.get(`weight_ih_l${l}`)!;
    const hh = panels.get(`weight_hh_l${l}`)!;
    const row = table.subarray(LAYER_ENTRIES * l);
    row[LAYER_WIH] = offset(`weight_ih_l${l}`);
    row[LAYER_WHH] = offset(`weight_hh_l${l}`);
    row[LAYER_BIH] = offset(`bias_ih_l${l}`);
    row[LAYER_BHH] = offset(`bias_hh_l${l}`);
    row[LAYER_WIH_F] = ih.fwd;
    row[LAYER_WIH_B] = ih.bwd;
    row[LAYER_WHH_F] = hh.fwd;
    row[LAYER_WHH_B] = hh.bwd;
  }
  const V = panels.get('V')!;
  const output = table.subarray(LAYER_ENTRIES * L);
  output[OUTPUT_V] = offset('V');
  output[OUTPUT_C] = offset('c');
  output[OUTPUT_V_F] = V.fwd;
  output[OUTPUT_V_B] = V.bwd;
  return table;
}
