import {
  GROUP_STREAMS, RNN_B, RNN_C, RNN_ENTRIES, RNN_U, RNN_U_F, RNN_V, RNN_V_B, RNN_V_F, RNN_W, RNN_W_B, RNN_W_F,
} from '../../../assembly/interface.js';
import { initParams } from './rnn-init.js';
import { paramLayout, viewsOf } from './rnn-layout.js';
import { FLOAT64, type FloatArray, type Precision } from '../precision.js';
import { createWorkspace, sequenceLoss, sequenceLossAndGrad } from './rnn.js';
import { kernelsAvailable } from '../kernels.js';
import { rnnReferenceStepper, rnnStepper } from '../sample.js';
import { tensorSpec, type CellDescriptor, type ModelDims, type ModelLayout } from './cell.js';
import { panelCopies, panelPlan } from './panels.js';

/**
 * The seed's vanilla RNN, one layer: h_t = tanh(W h_{t-1} + U x_t + b), o_t = V h_t + c. Its math
 * is src/model/rnn.ts, its kernels assembly/kernels.ts (four streams per call, sharing each weight
 * load), its init the seed's N(0, 0.01^2) with zero biases.
 */
export const rnnCell: CellDescriptor = {
  name: 'rnn',
  summary: "vanilla RNN, h = tanh(W h + U x + b): the seed's model (one layer, no dropout)",
  // the product's original defaults, so the seed's model trains as it always did
  defaults: { layers: 1, hidden: 100, seqLength: 25, streams: 16, optimizer: 'adagrad' },
  stacks: false,
  dtypes: ['float64'], // the seed's model, unchanged
  // layout.ts's table (W, U, V, b, c), with the biases as vectors
  paramTable: (dims) => paramLayout(rnnDims(dims)).specs.map((spec) => [spec.name, spec.vector ? [spec.rows] : [spec.rows, spec.cols]]),
  stateTable: ({ H }) => [['h', [H]]],
  init: (params, layout, prng) => initParams(params, paramLayout(layout.dims), prng),
  // forward W h, V h (2 flops per multiply-add); backward V^T dy, dV, W^T da, dW: three times the forward's
  trainFlopsPerChar: ({ H, K }) => 3 * (2 * H * H + 2 * K * H),
  reference: (layout, T, precision = FLOAT64) => {
    float64Only(precision);
    const dims = rnnDims(layout.dims);
    const rnnLayout = paramLayout(dims);
    const ws = createWorkspace(dims, T);
    const noMasks = (masks: FloatArray | null): void => {
      if (masks !== null) throw new RangeError('the rnn has no dropout');
    };
    // rnn.ts leaves h0 alone; the descriptor's contract carries the final state out
    const carry = (state: Float64Array): void => state.set(ws.hs.subarray(T * dims.H, (T + 1) * dims.H));
    return {
      loss: (params, ids, start, state, masks) => {
        noMasks(masks);
        const loss = sequenceLoss(viewsOf(float64(params), rnnLayout), dims, ids, start, state, ws);
        carry(state);
        return loss;
      },
      lossAndGrad: (params, grad, ids, start, state, masks) => {
        noMasks(masks);
        const loss = sequenceLossAndGrad(viewsOf(float64(params), rnnLayout), dims, ids, start, state, viewsOf(float64(grad), rnnLayout), ws);
        carry(state);
        return loss;
      },
    };
  },
  // the table assembly/kernels.ts reads, in the order of assembly/interface.ts
  kernelOffsets: (layout) => {
    const panels = new Map(rnnPanels(layout).entries.map((e) => [e.name, e]));
    const at = (name: string): number => tensorSpec(layout, name).offset;
    const table = new Int32Array(RNN_ENTRIES);
    table[RNN_W] = at('W');
    table[RNN_U] = at('U');
    table[RNN_V] = at('V');
    table[RNN_B] = at('b');
    table[RNN_C] = at('c');
    table[RNN_W_F] = panels.get('W')!.fwd;
    table[RNN_W_B] = panels.get('W')!.bwd;
    table[RNN_U_F] = panels.get('U')!.fwd;
    table[RNN_V_F] = panels.get('V')!.fwd;
    table[RNN_V_B] = panels.get('V')!.bwd;
    return table;
  },
  weightCopies: (layout) => panelCopies(rnnPanels(layout)),
  kernelSizes: (kernels, { H, K }, T) => ({
    groupStreams: GROUP_STREAMS,
    groupScratch: kernels.trainScratchBytes(H, K, T),
    scoreChunk: 4096,
    scoreScratch: kernels.evalScratchBytes(H, K),
    stepScratch: 0, // sampling has its own matrix-vector kernel (simd.ts)
  }),
  lossChunk: 1, // evalSequence adds each prediction's loss to the total
  bindKernels: (kernels, layout, T, { params, copies, offs }) => {
    const { H, K } = layout.dims;
    const P = layout.size;
    return {
      trainGroup: (at, n) => kernels.trainStreams(H, K, T, P, params, copies, offs, at.ids, at.state, at.grad, at.losses, at.scratch, n),
      score: (at, n, loss) => kernels.evalSequence(H, K, params, copies, offs, at.ids, n, at.state, at.scratch, loss),
    };
  },
  createStepper: (params, layout, precision = FLOAT64) => {
    float64Only(precision);
    const dims = rnnDims(layout.dims);
    const views = viewsOf(params, paramLayout(dims));
    return kernelsAvailable() ? rnnStepper(views, dims) : rnnReferenceStepper(views, dims);
  },
};

/** W h and W^T da, U x (one-hot: a column), V h and V^T dy. */
function rnnPanels(layout: ModelLayout): ReturnType<typeof panelPlan> {
  return panelPlan(layout, [['W', true], ['U', false], ['V', true]]);
}

/** The rnn computes in float64 only; the CLI refuses --dtype float32 for it before this. */
function float64Only(precision: Precision): void {
  if (precision.dtype !== 'float64') throw new Error(`the rnn cell computes in float64 only, not ${precision.dtype}`);
}

function float64(flat: FloatArray): Float64Array {
  if (!(flat instanceof Float64Array)) throw new TypeError('the rnn cell reads and writes Float64Array buffers');
  return flat;
}

function rnnDims({ H, K }: ModelDims): { H: number; K: number } {
  return { H, K };
}
