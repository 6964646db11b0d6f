import { FLOAT64, type FloatArray, type Precision } from '../precision.js';
import { tanh } from '../tanh.js';
import { gatesBackward, gatesForward, softmaxCrossEntropy, softmaxCrossEntropyBackward, type Round } from './affine.js';
import { sigmoid } from './sigmoid.js';
import { checkSequenceArgs, type GatedShape, type StackedDims, type StackedViews } from './gated-shape.js';

/**
 * A stack of L LSTM layers, PyTorch's nn.LSTM equations, gate rows in the order i, f, g, o:
 *   i = σ(W_ii x + b_ii + W_hi h + b_hi)     f = σ(W_if x + b_if + W_hf h + b_hf)
 *   g = tanh(W_ig x + b_ig + W_hg h + b_hg)  o = σ(W_io x + b_io + W_ho h + b_ho)
 *   c' = f ⊙ c + i ⊙ g,  h' = o ⊙ tanh(c')
 * Layer 0's x is the one-hot symbol; layer l's x is layer l-1's h' times its dropout mask row; the
 * output layer reads the top h' times its mask row (masks: gated-shape.ts, maskSize).
 * The reference math, every sum in the order written here; backward ADDS into gradients. In the
 * workspace's precision (precision.ts): every +, -, * and / is rounded, and exp, tanh and σ are the
 * float64 functions rounded once, so that float64 is plain float64 and float32 is what the float32
 * kernels compute.
 */

const G = 4;

/** The LSTM's tensors: four gate blocks, state h then c per layer, W_hh multiplying h whole. */
export const LSTM_SHAPE: GatedShape = { gates: G, state: ['h', 'c'], recurrentBlocks: 1 };

/** Activations of one sequence, kept for BPTT; allocate once and reuse. */
export interface LstmWorkspace {
  readonly T: number;
  readonly round: Round; // the precision's rounding, after every +, -, * and /
  readonly hs: FloatArray; // (L, T+1, H): row (l, 0) is layer l's initial h, row (l, t+1) is h_t
  readonly cs: FloatArray; // (L, T+1, H): likewise c
  readonly acts: FloatArray; // (L, T, G·H): i, f, g, o after their nonlinearities
  readonly tcs: FloatArray; // (L, T, H): tanh(c_t)
  readonly ys: FloatArray; // (L, T, H): h_t after dropout, the input of the layer above
  readonly ps: FloatArray; // (T, K): p_t, overwritten by dL/do_t during backward
  readonly gi: FloatArray; // (G·H): W_ih x + b_ih
  readonly gh: FloatArray; // (G·H): W_hh h + b_hh
  readonly dpre: FloatArray; // (G·H): dL/d(gate pre-activations)
  readonly dUp: FloatArray; // (H): dL/dys of the current layer, from the layer above or the output
  readonly dh: FloatArray; // (H)
  readonly dhNext: FloatArray; // (L, H): dL/dh_{t-1} flowing back through W_hh
  readonly dcNext: FloatArray; // (L, H): dL/dc_{t-1} flowing back through f
}

export function createLstmWorkspace({ L, H, K }: StackedDims, T: number, precision: Precision = FLOAT64): LstmWorkspace {
  return {
    T,
    round: precision.round,
    hs: precision.array(L * (T + 1) * H),
    cs: precision.array(L * (T + 1) * H),
    acts: precision.array(L * T * G * H),
    tcs: precision.array(L * T * H),
    ys: precision.array(L * T * H),
    ps: precision.array(T * K),
    gi: precision.array(G * H),
    gh: precision.array(G * H),
    dpre: precision.array(G * H),
    dUp: precision.array(H),
    dh: precision.array(H),
    dhNext: precision.array(L * H),
    dcNext: precision.array(L * H),
  };
}

/**
 * Forward only: the summed loss (nats) of the T predictions ids[start+t] -> ids[start+t+1].
 * state (2, L, H) = (h, c) per layer is read as the initial state and overwritten with the final
 * one, so that a stream carries it to its next sequence (in float32 it holds float32 numbers).
 * masks (L, T, H) or null: no dropout.
 */
export function lstmSequenceLoss(
  p: StackedViews,
  dims: StackedDims,
  ids: ArrayLike<number>,
  start: number,
  state: Float64Array,
  masks: FloatArray | null,
  ws: LstmWorkspace,
): number {
  const { L, H, K } = dims;
  const { T, round, hs, cs, acts, tcs, ys, ps, gi, gh } = ws;
  checkSequenceArgs(LSTM_SHAPE, dims, T, ids, start, state, masks);
  for (let l = 0; l < L; l++) {
    hs.set(state.subarray(l * H, (l + 1) * H), l * (T + 1) * H);
    cs.set(state.subarray((L + l) * H, (L + l + 1) * H), l * (T + 1) * H);
  }
  let loss = 0;
  for (let t = 0; t < T; t++) {
    for (let l = 0; l < L; l++) {
      const hPrev = (l * (T + 1) + t) * H;
      const hRow = hPrev + H;
      const row = (l * T + t) * H; // rows of tcs, ys and masks
      const aRow = row * G;
      // pre = (W_ih x + b_ih) + (W_hh h + b_hh), (G·H)
      if (l === 0) gatesForward(round, p.layers[0], G * H, H, K, ids[start + t], ys, 0, hs, hPrev, gi, gh);
      else gatesForward(round, p.layers[l], G * H, H, H, -1, ys, row - T * H, hs, hPrev, gi, gh);
      for (let i = 0; i < H; i++) {
        const ig = round(sigmoid(round(gi[i] + gh[i])));
        const f = round(sigmoid(round(gi[H + i] + gh[H + i])));
        const g = round(tanh(round(gi[2 * H + i] + gh[2 * H + i])));
        const o = round(sigmoid(round(gi[3 * H + i] + gh[3 * H + i])));
        acts[aRow + i] = ig;
        acts[aRow + H + i] = f;
        acts[aRow + 2 * H + i] = g;
        acts[aRow + 3 * H + i] = o;
        const c = round(round(f * cs[hPrev + i]) + round(ig * g));
        const tc = round(tanh(c));
        const h = round(o * tc);
        cs[hRow + i] = c;
        tcs[row + i] = tc;
        hs[hRow + i] = h;
        ys[row + i] = masks === null ? h : round(h * masks[row + i]);
      }
    }
    loss += softmaxCrossEntropy(round, p.V, p.c, H, K, ys, ((L - 1) * T + t) * H, ps, t * K, ids[start + t + 1]);
  }
  for (let l = 0; l < L; l++) {
    const last = (l * (T + 1) + T) * H;
    state.set(hs.subarray(last, last + H), l * H);
    state.set(cs.subarray(last, last + H), (L + l) * H);
  }
  return loss;
}

/**
 * Forward and full BPTT over the T steps and L layers: returns the summed loss, ADDS dL/dparams
 * into g, and leaves the final state in `state` as lstmSequenceLoss does. The gradient with
 * respect to the initial state is dropped (truncated BPTT, as rnn.ts).
 */
export function lstmSequenceLossAndGrad(
  p: StackedViews,
  dims: StackedDims,
  ids: ArrayLike<number>,
  start: number,
  state: Float64Array,
  masks: FloatArray | null,
  g: StackedViews,
  ws: LstmWorkspace,
): number {
  const loss = lstmSequenceLoss(p, dims, ids, start, state, masks, ws);
  const { L, H, K } = dims;
  const { T, round, hs, cs, acts, tcs, ys, ps, dpre, dUp, dh, dhNext, dcNext } = ws;
  dhNext.fill(0);
  dcNext.fill(0);
  for (let t = T - 1; t >= 0; t--) {
    // o = V ys_{L-1} + c, p = softmax(o)  =>  dUp = V^T (p - onehot(y)), and dV, dc
    softmaxCrossEntropyBackward(round, p.V, g.V, g.c, H, K, ys, ((L - 1) * T + t) * H, ps, t * K, ids[start + t + 1], dUp);
    for (let l = L - 1; l >= 0; l--) {
      const hPrev = (l * (T + 1) + t) * H;
      const row = (l * T + t) * H;
      const aRow = row * G;
      const d = l * H; // this layer's row of dhNext and dcNext
      // ys = h ⊙ mask, and h also feeds step t+1  =>  dh = dUp ⊙ mask + dhNext   (H)
      for (let i = 0; i < H; i++) dh[i] = round((masks === null ? dUp[i] : round(dUp[i] * masks[row + i])) + dhNext[d + i]);
      for (let i = 0; i < H; i++) {
        const ig = acts[aRow + i];
        const f = acts[aRow + H + i];
        const gg = acts[aRow + 2 * H + i];
        const o = acts[aRow + 3 * H + i];
        const tc = tcs[row + i];
        // h = o ⊙ tanh(c)  =>  do = dh ⊙ tanh(c),  dc = dh ⊙ o ⊙ (1 - tanh(c)^2) + dcNext
        const dc = round(round(round(dh[i] * o) * round(1 - round(tc * tc))) + dcNext[d + i]);
        // c = f ⊙ c_prev + i ⊙ g  =>  di = dc ⊙ g, df = dc ⊙ c_prev, dg = dc ⊙ i, dc_prev = dc ⊙ f
        // i, f, o = σ(pre) => dpre = d· σ(1 - σ);  g = tanh(pre) => dpre = dg (1 - g^2)
        dpre[i] = round(round(dc * gg) * round(ig * round(1 - ig)));
        dpre[H + i] = round(round(dc * cs[hPrev + i]) * round(f * round(1 - f)));
        dpre[2 * H + i] = round(round(dc * ig) * round(1 - round(gg * gg)));
        dpre[3 * H + i] = round(round(dh[i] * tc) * round(o * round(1 - o)));
        dcNext[d + i] = round(dc * f);
      }
      // pre = (W_ih x + b_ih) + (W_hh h_prev + b_hh)  =>  dW, db; dhNext = W_hh^T dpre; dUp = W_ih^T dpre (l > 0)
      dhNext.fill(0, d, d + H);
      if (l === 0) gatesBackward(round, p.layers[0], g.layers[0], G * H, H, K, ids[start + t], ys, 0, hs, hPrev, dpre, dpre, null, dhNext, d);
      else gatesBackward(round, p.layers[l], g.layers[l], G * H, H, H, -1, ys, row - T * H, hs, hPrev, dpre, dpre, dUp, dhNext, d);
    }
  }
  return loss;
}
