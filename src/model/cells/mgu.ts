import { FLOAT64, type FloatArray, type Precision } from '../precision.js';
import { tanh } from '../tanh.js';
import { gatesForward, softmaxCrossEntropy, softmaxCrossEntropyBackward, type Round } from './affine.js';
import { checkSequenceArgs, type GatedShape, type LayerViews, type StackedDims, type StackedViews } from './gated-shape.js';
import { sigmoid } from './sigmoid.js';

/**
 * A stack of L minimal gated units (Zhou, Wu, Zhang and Zhou 2016), one gate f, in PyTorch's
 * tensor scheme: weight_ih (2H, In) and weight_hh (2H, H) hold rows f then h̃, and so do bias_ih
 * and bias_hh (2H):
 *   f  = σ((b_ih[f] + W_ih[f] x) + (b_hh[f] + W_hh[f] h))
 *   h̃  = tanh((b_ih[h̃] + W_ih[h̃] x) + (b_hh[h̃] + W_hh[h̃] (f ⊙ h)))
 *   h' = (1 - f) ⊙ h + f ⊙ h̃
 * Each bias enters its own product's sum first: b_hh[h̃] is added to W_hh[h̃] (f ⊙ h), outside the
 * gate, as the GRU's b_hn sits inside its r ⊙ (...) (gru.ts). W_hh's f rows multiply h and its h̃
 * rows f ⊙ h, so the kernels multiply its two row blocks apart (GatedShape.recurrentBlocks).
 * Layer 0's x is the one-hot symbol; layer l's x is layer l-1's h' times its dropout mask row; the
 * output layer reads the top h' times its mask row (masks: gated-shape.ts, maskSize).
 * The reference math, every sum in the order written here; backward ADDS into gradients. In the
 * workspace's precision (precision.ts): every +, -, * and / is rounded, and exp, tanh and σ are the
 * float64 functions rounded once, so that float64 is plain float64 and float32 is what the float32
 * kernels compute.
 */

const G = 2;

/** The MGU's tensors: two gate blocks (f, h̃), state h per layer, W_hh's two row blocks multiplied apart. */
export const MGU_SHAPE: GatedShape = { gates: G, state: ['h'], recurrentBlocks: 2 };

/** Activations of one sequence, kept for BPTT; allocate once and reuse. */
export interface MguWorkspace {
  readonly T: number;
  readonly round: Round; // the precision's rounding, after every +, -, * and /
  readonly hs: FloatArray; // (L, T+1, H): row (l, 0) is layer l's initial h, row (l, t+1) is h_t
  readonly acts: FloatArray; // (L, T, G·H): f, h̃ after their nonlinearities
  readonly fhs: FloatArray; // (L, T, H): f ⊙ h_{t-1}, what W_hh's h̃ rows multiply
  readonly ys: FloatArray; // (L, T, H): h_t after dropout, the input of the layer above
  readonly ps: FloatArray; // (T, K): p_t, overwritten by dL/do_t during backward
  readonly gi: FloatArray; // (G·H): W_ih x + b_ih
  readonly gh: FloatArray; // (G·H): b_hh + W_hh [h; f ⊙ h]
  readonly dpre: FloatArray; // (G·H): dL/dgi = dL/dgh, each pre-activation being gi + gh
  readonly dUp: FloatArray; // (H): dL/dys of the current layer, from the layer above or the output
  readonly dh: FloatArray; // (H)
  readonly dfh: FloatArray; // (H): dL/d(f ⊙ h) = W_hh[h̃]^T dL/dh̃'s pre-activation
  readonly dhNext: FloatArray; // (L, H): dL/dh_{t-1}
}

export function createMguWorkspace({ L, H, K }: StackedDims, T: number, precision: Precision = FLOAT64): MguWorkspace {
  return {
    T,
    round: precision.round,
    hs: precision.array(L * (T + 1) * H),
    acts: precision.array(L * T * G * H),
    fhs: precision.array(L * T * H),
    ys: precision.array(L * T * H),
    ps: precision.array(T * K),
    gi: precision.array(G * H),
    gh: precision.array(G * H),
    dpre: precision.array(G * H),
    dUp: precision.array(H),
    dh: precision.array(H),
    dfh: precision.array(H),
    dhNext: precision.array(L * H),
  };
}

/** A layer's f rows (first) and h̃ rows (second) as layers of H rows each, for gatesForward. */
function halves({ Wih, Whh, bih, bhh }: LayerViews, H: number, In: number): readonly [LayerViews, LayerViews] {
  return [
    { Wih: Wih.subarray(0, H * In), Whh: Whh.subarray(0, H * H), bih: bih.subarray(0, H), bhh: bhh.subarray(0, H) },
    { Wih: Wih.subarray(H * In), Whh: Whh.subarray(H * H), bih: bih.subarray(H), bhh: bhh.subarray(H) },
  ];
}

/**
 * Forward only: the summed loss (nats) of the T predictions ids[start+t] -> ids[start+t+1].
 * state (1, L, H) = h per layer is read as the initial state and overwritten with the final one,
 * so that a stream carries it to its next sequence (in float32 it holds float32 numbers).
 * masks (L, T, H) or null: no dropout.
 */
export function mguSequenceLoss(
  p: StackedViews,
  dims: StackedDims,
  ids: ArrayLike<number>,
  start: number,
  state: Float64Array,
  masks: FloatArray | null,
  ws: MguWorkspace,
): number {
  const { L, H, K } = dims;
  const { T, round, hs, acts, fhs, ys, ps, gi, gh } = ws;
  checkSequenceArgs(MGU_SHAPE, dims, T, ids, start, state, masks);
  const layers = p.layers.map((layer, l) => halves(layer, H, l === 0 ? K : H));
  const giH = gi.subarray(H);
  const ghH = gh.subarray(H);
  for (let l = 0; l < L; l++) hs.set(state.subarray(l * H, (l + 1) * H), l * (T + 1) * H);
  let loss = 0;
  for (let t = 0; t < T; t++) {
    for (let l = 0; l < L; l++) {
      const hPrev = (l * (T + 1) + t) * H;
      const row = (l * T + t) * H; // rows of fhs, ys and masks
      const aRow = row * G;
      const In = l === 0 ? K : H;
      const symbol = l === 0 ? ids[start + t] : -1;
      const [fRows, hRows] = layers[l];
      // gi_f = b_ih[f] + W_ih[f] x, gh_f = b_hh[f] + W_hh[f] h   (H each)
      gatesForward(round, fRows, H, H, In, symbol, ys, row - T * H, hs, hPrev, gi, gh);
      for (let i = 0; i < H; i++) {
        const f = round(sigmoid(round(gi[i] + gh[i])));
        acts[aRow + i] = f;
        fhs[row + i] = round(f * hs[hPrev + i]);
      }
      // gi_h̃ = b_ih[h̃] + W_ih[h̃] x, gh_h̃ = b_hh[h̃] + W_hh[h̃] (f ⊙ h)   (H each)
      gatesForward(round, hRows, H, H, In, symbol, ys, row - T * H, fhs, row, giH, ghH);
      for (let i = 0; i < H; i++) {
        const f = acts[aRow + i];
        const ht = round(tanh(round(gi[H + i] + gh[H + i])));
        acts[aRow + H + i] = ht;
        const h = round(round(round(1 - f) * hs[hPrev + i]) + round(f * ht));
        hs[hPrev + H + i] = h;
        ys[row + i] = masks === null ? h : round(h * masks[row + i]);
      }
    }
    loss += softmaxCrossEntropy(round, p.V, p.c, H, K, ys, ((L - 1) * T + t) * H, ps, t * K, ids[start + t + 1]);
  }
  for (let l = 0; l < L; l++) {
    const last = (l * (T + 1) + T) * H;
    state.set(hs.subarray(last, last + H), l * H);
  }
  return loss;
}

/**
 * Forward and full BPTT over the T steps and L layers: returns the summed loss, ADDS dL/dparams
 * into g, and leaves the final state in `state` as mguSequenceLoss does. The gradient with
 * respect to the initial state is dropped (truncated BPTT, as rnn.ts).
 */
export function mguSequenceLossAndGrad(
  p: StackedViews,
  dims: StackedDims,
  ids: ArrayLike<number>,
  start: number,
  state: Float64Array,
  masks: FloatArray | null,
  g: StackedViews,
  ws: MguWorkspace,
): number {
  const loss = mguSequenceLoss(p, dims, ids, start, state, masks, ws);
  const { L, H, K } = dims;
  const { T, round, hs, acts, fhs, ys, ps, dpre, dUp, dh, dfh, dhNext } = ws;
  dhNext.fill(0);
  for (let t = T - 1; t >= 0; t--) {
    // o = V ys_{L-1} + c, p = softmax(o)  =>  dUp = V^T (p - onehot(y)), and dV, dc
    softmaxCrossEntropyBackward(round, p.V, g.V, g.c, H, K, ys, ((L - 1) * T + t) * H, ps, t * K, ids[start + t + 1], dUp);
    for (let l = L - 1; l >= 0; l--) {
      const hPrev = (l * (T + 1) + t) * H;
      const row = (l * T + t) * H;
      const aRow = row * G;
      const d = l * H; // this layer's row of dhNext
      const Whh = p.layers[l].Whh;
      // ys = h ⊙ mask, and h also feeds step t+1  =>  dh = dUp ⊙ mask + dhNext   (H)
      for (let i = 0; i < H; i++) dh[i] = round((masks === null ? dUp[i] : round(dUp[i] * masks[row + i])) + dhNext[d + i]);
      // h' = (1 - f) ⊙ h + f ⊙ h̃, h̃ = tanh(a_h̃)  =>  da_h̃ = dh ⊙ f ⊙ (1 - h̃^2)
      for (let i = 0; i < H; i++) {
        const ht = acts[aRow + H + i];
        dpre[H + i] = round(round(dh[i] * acts[aRow + i]) * round(1 - round(ht * ht)));
      }
      // gh_h̃ = b_hh[h̃] + W_hh[h̃] (f ⊙ h)  =>  dfh = W_hh[h̃]^T da_h̃, from 0, rows r ascending
      dfh.fill(0);
      for (let r = 0; r < H; r++) {
        const da = dpre[H + r];
        for (let j = 0; j < H; j++) dfh[j] = round(dfh[j] + round(Whh[(H + r) * H + j] * da));
      }
      for (let i = 0; i < H; i++) {
        const f = acts[aRow + i];
        const ht = acts[aRow + H + i];
        const h = hs[hPrev + i];
        // h' = (1 - f) ⊙ h + f ⊙ h̃ and f ⊙ h  =>  df = dh ⊙ (h̃ - h) + dfh ⊙ h;  f = σ(a_f)  =>  da_f = df f (1 - f)
        const df = round(round(dh[i] * round(ht - h)) + round(dfh[i] * h));
        dpre[i] = round(df * round(f * round(1 - f)));
        // the direct paths to h: through (1 - f) ⊙ h and through f ⊙ h; W_hh[f]^T da_f is added below
        dhNext[d + i] = round(round(dh[i] * round(1 - f)) + round(dfh[i] * f));
      }
      // gi = b_ih + W_ih x, gh = b_hh + W_hh [h; f ⊙ h]  =>  dW, db; dhNext += W_hh[f]^T da_f; dUp = W_ih^T dpre (l > 0)
      const In = l === 0 ? K : H;
      layerBackward(round, p.layers[l], g.layers[l], H, In, l === 0 ? ids[start + t] : -1, ys, row - T * H, hs, hPrev, fhs, row, dpre, l === 0 ? null : dUp);
      for (let r = 0; r < H; r++) {
        const da = dpre[r];
        for (let j = 0; j < H; j++) dhNext[d + j] = round(dhNext[d + j] + round(Whh[r * H + j] * da));
      }
    }
  }
  return loss;
}

/**
 * The weights' part of the backward of gi = b_ih + W_ih x and gh = b_hh + W_hh [h; f ⊙ h] (2H rows
 * each, dL/dgi = dL/dgh = dpre), rows r ascending as affine.ts gatesBackward:
 *   db_ih += dpre, dW_ih += dpre x^T, dx = W_ih^T dpre (overwritten; skipped for layer 0, dx null),
 *   db_hh += dpre, dW_hh[f] += dpre_f h^T, dW_hh[h̃] += dpre_h̃ (f ⊙ h)^T
 */
function layerBackward(
  round: Round, p: LayerViews, g: LayerViews, H: number, In: number, symbol: number, xs: FloatArray, xOff: number,
  hs: FloatArray, hOff: number, fhs: FloatArray, fhOff: number, dpre: FloatArray, dx: FloatArray | null,
): void {
  if (dx !== null) dx.fill(0, 0, In);
  for (let r = 0; r < G * H; r++) {
    const di = dpre[r];
    g.bih[r] = round(g.bih[r] + di);
    if (symbol >= 0) g.Wih[r * In + symbol] = round(g.Wih[r * In + symbol] + di);
    else {
      for (let j = 0; j < In; j++) {
        g.Wih[r * In + j] = round(g.Wih[r * In + j] + round(di * xs[xOff + j]));
        if (dx !== null) dx[j] = round(dx[j] + round(p.Wih[r * In + j] * di));
      }
    }
    g.bhh[r] = round(g.bhh[r] + di);
    const [input, at] = r < H ? [hs, hOff] : [fhs, fhOff];
    for (let j = 0; j < H; j++) g.Whh[r * H + j] = round(g.Whh[r * H + j] + round(di * input[at + j]));
  }
}
