import type { Dims, ParamViews } from './rnn-layout.js';
import { exp } from '../exp.js';
import { tanh } from '../tanh.js';

/**
 * Vanilla RNN, the seed's equations:
 *   a_t = W h_{t-1} + U x_t + b,  h_t = tanh(a_t),  o_t = V h_t + c,  p_t = softmax(o_t)
 * and the loss of a sequence is the summed cross-entropy -log p_t[y_t] over its T steps.
 * x_t is a symbol id, so U x_t is column x_t of U. Backward passes add into gradients.
 */

/** Activations of one sequence, kept for BPTT; allocate once and reuse every step. */
export interface Workspace {
  readonly T: number;
  readonly hs: Float64Array; // (T+1, H): row 0 is h_{-1}, row t+1 is h_t
  readonly ps: Float64Array; // (T, K): p_t, overwritten by dL/do_t during backward
  readonly dh: Float64Array; // (H)
  readonly dhNext: Float64Array; // (H): dL/dh_{t-1} flowing back through W
}

export function createWorkspace({ H, K }: Dims, T: number): Workspace {
  return {
    T,
    hs: new Float64Array((T + 1) * H),
    ps: new Float64Array(T * K),
    dh: new Float64Array(H),
    dhNext: new Float64Array(H),
  };
}

/** h_out = tanh(W h_prev + U[:, x] + b), reading hs at hPrev and writing at hOut (rows of H). */
export function hiddenStep(p: ParamViews, H: number, K: number, x: number, hs: Float64Array, hPrev: number, hOut: number): void {
  const { W, U, b } = p;
  for (let i = 0; i < H; i++) {
    const row = i * H;
    let sum = b[i] + U[i * K + x];
    for (let j = 0; j < H; j++) sum += W[row + j] * hs[hPrev + j];
    hs[hOut + i] = tanh(sum);
  }
}

/** out[outOff..outOff+K) = V h + c for the hidden row of hs at h; returns the largest logit. */
export function logits(p: ParamViews, H: number, K: number, hs: Float64Array, h: number, out: Float64Array, outOff: number): number {
  const { V, c } = p;
  let max = -Infinity;
  for (let k = 0; k < K; k++) {
    const row = k * H;
    let sum = c[k];
    for (let j = 0; j < H; j++) sum += V[row + j] * hs[h + j];
    out[outOff + k] = sum;
    if (sum > max) max = sum;
  }
  return max;
}

/** out = softmax(V h + c) written at out[outOff..outOff+K); returns -log out[y], computed stably. */
function softmaxLoss(p: ParamViews, H: number, K: number, hs: Float64Array, h: number, out: Float64Array, outOff: number, y: number): number {
  const max = logits(p, H, K, hs, h, out, outOff);
  const logitY = out[outOff + y];
  let total = 0;
  for (let k = 0; k < K; k++) {
    const e = exp(out[outOff + k] - max);
    out[outOff + k] = e;
    total += e;
  }
  const inv = 1 / total;
  for (let k = 0; k < K; k++) out[outOff + k] *= inv;
  return Math.log(total) - (logitY - max);
}

/**
 * Forward only: the summed loss of the T predictions ids[start+t] -> ids[start+t+1], from h0.
 * Leaves h_{T-1} in ws.hs row T.
 */
export function sequenceLoss(p: ParamViews, dims: Dims, ids: ArrayLike<number>, start: number, h0: ArrayLike<number>, ws: Workspace): number {
  const { H, K } = dims;
  const { T, hs, ps } = ws;
  for (let j = 0; j < H; j++) hs[j] = h0[j];
  let loss = 0;
  for (let t = 0; t < T; t++) {
    hiddenStep(p, H, K, ids[start + t], hs, t * H, (t + 1) * H);
    loss += softmaxLoss(p, H, K, hs, (t + 1) * H, ps, t * K, ids[start + t + 1]);
  }
  return loss;
}

/**
 * Forward and BPTT over one sequence: returns its summed loss and ADDS dL/dparams into g.
 * The last hidden state h_{T-1} is left in ws.hs row T for the caller to carry on.
 */
export function sequenceLossAndGrad(
  p: ParamViews,
  dims: Dims,
  ids: ArrayLike<number>,
  start: number,
  h0: ArrayLike<number>,
  g: ParamViews,
  ws: Workspace,
): number {
  const { H, K } = dims;
  const { T, hs, ps, dh, dhNext } = ws;
  const loss = sequenceLoss(p, dims, ids, start, h0, ws);
  const { W, V } = p;
  const { W: dW, U: dU, V: dV, b: db, c: dc } = g;
  dhNext.fill(0);
  for (let t = T - 1; t >= 0; t--) {
    const x = ids[start + t];
    const pRow = t * K; // dy = p_t - onehot(y_t)  (softmax + cross-entropy)
    const hRow = (t + 1) * H;
    const hPrevRow = t * H;
    ps[pRow + ids[start + t + 1]] -= 1;
    // o = V h + c  =>  dc += dy, dV += dy h^T, dh = V^T dy + dhNext
    dh.fill(0);
    for (let k = 0; k < K; k++) {
      const d = ps[pRow + k];
      dc[k] += d;
      const row = k * H;
      for (let j = 0; j < H; j++) {
        dV[row + j] += d * hs[hRow + j];
        dh[j] += V[row + j] * d;
      }
    }
    // h = tanh(a)  =>  da = (1 - h^2) dh   (dh now holds da)
    for (let i = 0; i < H; i++) {
      const h = hs[hRow + i];
      dh[i] = (dh[i] + dhNext[i]) * (1 - h * h);
    }
    // a = W h_prev + U[:, x] + b  =>  db += da, dU[:, x] += da, dW += da h_prev^T, dhNext = W^T da
    dhNext.fill(0);
    for (let i = 0; i < H; i++) {
      const d = dh[i];
      db[i] += d;
      dU[i * K + x] += d;
      const row = i * H;
      for (let j = 0; j < H; j++) {
        dW[row + j] += d * hs[hPrevRow + j];
        dhNext[j] += W[row + j] * d;
      }
    }
  }
  return loss;
}

/** Scratch for evaluate(): two hidden rows and one output row. */
export interface EvalWorkspace {
  readonly hs: Float64Array; // (2, H)
  readonly out: Float64Array; // (K)
}

export function createEvalWorkspace({ H, K }: Dims): EvalWorkspace {
  return { hs: new Float64Array(2 * H), out: new Float64Array(K) };
}

/**
 * Forward only over `count` predictions ids[start+t] -> ids[start+t+1], from the hidden state in h
 * (H), which is updated in place. Returns the summed loss in nats.
 */
export function evaluate(p: ParamViews, dims: Dims, ids: ArrayLike<number>, start: number, count: number, h: Float64Array, ws: EvalWorkspace): number {
  const { H, K } = dims;
  const { hs, out } = ws;
  hs.set(h);
  let loss = 0;
  let cur = 0;
  for (let t = 0; t < count; t++) {
    const next = H - cur; // ping-pong between the two rows
    hiddenStep(p, H, K, ids[start + t], hs, cur, next);
    loss += softmaxLoss(p, H, K, hs, next, out, 0, ids[start + t + 1]);
    cur = next;
  }
  h.set(hs.subarray(cur, cur + H));
  return loss;
}
