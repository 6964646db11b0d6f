import { FLOAT64, type FloatArray, type Precision } from '../precision.js';
import { tanh } from '../tanh.js';
import { gatesBackward, gatesForward, softmaxCrossEntropy, softmaxCrossEntropyBackward, type Round } from './affine.js';
import { sigmoid } from './sigmoid.js';
import { checkSequenceArgs, type GatedShape, type StackedDims, type StackedViews } from './gated-shape.js';

/**
 * A stack of L GRU layers, PyTorch's nn.GRU equations, gate rows in the order r, z, n (the reset
 * gate multiplies W_hn h + b_hn, not h):
 *   r = σ(W_ir x + b_ir + W_hr h + b_hr)   z = σ(W_iz x + b_iz + W_hz h + b_hz)
 *   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),  h' = (1 - z) ⊙ n + z ⊙ h
 * Layer 0's x is the one-hot symbol; layer l's x is layer l-1's h' times its dropout mask row; the
 * output layer reads the top h' times its mask row (masks: gated-shape.ts, maskSize).
 * The reference math, every sum in the order written here; backward ADDS into gradients. In the
 * workspace's precision (precision.ts): every +, -, * and / is rounded, and exp, tanh and σ are the
 * float64 functions rounded once, so that float64 is plain float64 and float32 is what the float32
 * kernels compute.
 */

const G = 3;

/** The GRU's tensors: three gate blocks, state h per layer, W_hh multiplying h whole. */
export const GRU_SHAPE: GatedShape = { gates: G, state: ['h'], recurrentBlocks: 1 };

/** Activations of one sequence, kept for BPTT; allocate once and reuse. */
export interface GruWorkspace {
  readonly T: number;
  readonly round: Round; // the precision's rounding, after every +, -, * and /
  readonly hs: FloatArray; // (L, T+1, H): row (l, 0) is layer l's initial h, row (l, t+1) is h_t
  readonly acts: FloatArray; // (L, T, G·H): r, z, n after their nonlinearities
  readonly hns: FloatArray; // (L, T, H): W_hn h_{t-1} + b_hn, which r multiplies
  readonly ys: FloatArray; // (L, T, H): h_t after dropout, the input of the layer above
  readonly ps: FloatArray; // (T, K): p_t, overwritten by dL/do_t during backward
  readonly gi: FloatArray; // (G·H): W_ih x + b_ih
  readonly gh: FloatArray; // (G·H): W_hh h + b_hh
  readonly dgi: FloatArray; // (G·H): dL/dgi
  readonly dgh: FloatArray; // (G·H): dL/dgh (differs from dgi in the n rows)
  readonly dUp: FloatArray; // (H): dL/dys of the current layer, from the layer above or the output
  readonly dh: FloatArray; // (H)
  readonly dhNext: FloatArray; // (L, H): dL/dh_{t-1}, through z and through W_hh
}

export function createGruWorkspace({ L, H, K }: StackedDims, T: number, precision: Precision = FLOAT64): GruWorkspace {
  return {
    T,
    round: precision.round,
    hs: precision.array(L * (T + 1) * H),
    acts: precision.array(L * T * G * H),
    hns: precision.array(L * T * H),
    ys: precision.array(L * T * H),
    ps: precision.array(T * K),
    gi: precision.array(G * H),
    gh: precision.array(G * H),
    dgi: precision.array(G * H),
    dgh: precision.array(G * H),
    dUp: precision.array(H),
    dh: precision.array(H),
    dhNext: precision.array(L * H),
  };
}

/**
 * Forward only: the summed loss (nats) of the T predictions ids[start+t] -> ids[start+t+1].
 * state (1, L, H) = h per layer is read as the initial state and overwritten with the final one,
 * so that a stream carries it to its next sequence (in float32 it holds float32 numbers).
 * masks (L, T, H) or null: no dropout.
 */
export function gruSequenceLoss(
  p: StackedViews,
  dims: StackedDims,
  ids: ArrayLike<number>,
  start: number,
  state: Float64Array,
  masks: FloatArray | null,
  ws: GruWorkspace,
): number {
  const { L, H, K } = dims;
  const { T, round, hs, acts, hns, ys, ps, gi, gh } = ws;
  checkSequenceArgs(GRU_SHAPE, dims, T, ids, start, state, masks);
  for (let l = 0; l < L; l++) hs.set(state.subarray(l * H, (l + 1) * H), l * (T + 1) * H);
  let loss = 0;
  for (let t = 0; t < T; t++) {
    for (let l = 0; l < L; l++) {
      const hPrev = (l * (T + 1) + t) * H;
      const hRow = hPrev + H;
      const row = (l * T + t) * H; // rows of hns, ys and masks
      const aRow = row * G;
      // gi = W_ih x + b_ih, gh = W_hh h + b_hh, (G·H)
      if (l === 0) gatesForward(round, p.layers[0], G * H, H, K, ids[start + t], ys, 0, hs, hPrev, gi, gh);
      else gatesForward(round, p.layers[l], G * H, H, H, -1, ys, row - T * H, hs, hPrev, gi, gh);
      for (let i = 0; i < H; i++) {
        const r = round(sigmoid(round(gi[i] + gh[i])));
        const z = round(sigmoid(round(gi[H + i] + gh[H + i])));
        const hn = gh[2 * H + i];
        const n = round(tanh(round(gi[2 * H + i] + round(r * hn))));
        acts[aRow + i] = r;
        acts[aRow + H + i] = z;
        acts[aRow + 2 * H + i] = n;
        hns[row + i] = hn;
        const h = round(round(round(1 - z) * n) + round(z * hs[hPrev + i]));
        hs[hRow + i] = h;
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
 * into g, and leaves the final state in `state` as gruSequenceLoss does. The gradient with
 * respect to the initial state is dropped (truncated BPTT, as rnn.ts).
 */
export function gruSequenceLossAndGrad(
  p: StackedViews,
  dims: StackedDims,
  ids: ArrayLike<number>,
  start: number,
  state: Float64Array,
  masks: FloatArray | null,
  g: StackedViews,
  ws: GruWorkspace,
): number {
  const loss = gruSequenceLoss(p, dims, ids, start, state, masks, ws);
  const { L, H, K } = dims;
  const { T, round, hs, acts, hns, ys, ps, dgi, dgh, dUp, dh, dhNext } = ws;
  dhNext.fill(0);
  for (let t = T - 1; t >= 0; t--) {
    // o = V ys_{L-1} + c, p = softmax(o)  =>  dUp = V^T (p - onehot(y)), and dV, dc
    softmaxCrossEntropyBackward(round, p.V, g.V, g.c, H, K, ys, ((L - 1) * T + t) * H, ps, t * K, ids[start + t + 1], dUp);
    for (let l = L - 1; l >= 0; l--) {
      const hPrev = (l * (T + 1) + t) * H;
      const row = (l * T + t) * H;
      const aRow = row * G;
      const d = l * H; // this layer's row of dhNext
      // ys = h ⊙ mask, and h also feeds step t+1  =>  dh = dUp ⊙ mask + dhNext   (H)
      for (let i = 0; i < H; i++) dh[i] = round((masks === null ? dUp[i] : round(dUp[i] * masks[row + i])) + dhNext[d + i]);
      for (let i = 0; i < H; i++) {
        const r = acts[aRow + i];
        const z = acts[aRow + H + i];
        const n = acts[aRow + 2 * H + i];
        const hn = hns[row + i];
        // h = (1 - z) ⊙ n + z ⊙ h_prev  =>  dn = dh ⊙ (1 - z), dz = dh ⊙ (h_prev - n), dh_prev = dh ⊙ z + ...
        const dn = round(dh[i] * round(1 - z));
        const dz = round(dh[i] * round(hs[hPrev + i] - n));
        // n = tanh(gi_n + r ⊙ gh_n)  =>  dgi_n = dn (1 - n^2), dr = dgi_n ⊙ gh_n, dgh_n = dgi_n ⊙ r
        const dan = round(dn * round(1 - round(n * n)));
        // r = σ(gi_r + gh_r), z = σ(gi_z + gh_z)  =>  d(gi_r) = d(gh_r) = dr r (1 - r), likewise z
        const dar = round(round(dan * hn) * round(r * round(1 - r)));
        const daz = round(dz * round(z * round(1 - z)));
        dgi[i] = dar;
        dgi[H + i] = daz;
        dgi[2 * H + i] = dan;
        dgh[i] = dar;
        dgh[H + i] = daz;
        dgh[2 * H + i] = round(dan * r);
        dhNext[d + i] = round(dh[i] * z); // the direct path; gatesBackward adds W_hh^T dgh
      }
      // gi = W_ih x + b_ih, gh = W_hh h_prev + b_hh  =>  dW, db; dhNext += W_hh^T dgh; dUp = W_ih^T dgi (l > 0)
      if (l === 0) gatesBackward(round, p.layers[0], g.layers[0], G * H, H, K, ids[start + t], ys, 0, hs, hPrev, dgi, dgh, null, dhNext, d);
      else gatesBackward(round, p.layers[l], g.layers[l], G * H, H, H, -1, ys, row - T * H, hs, hPrev, dgi, dgh, dUp, dhNext, d);
    }
  }
  return loss;
}
