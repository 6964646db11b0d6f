import { exp } from '../exp.js';
import type { FloatArray, Precision } from '../precision.js';
import type { LayerViews } from './gated-shape.js';

/**
 * The affine maps that the LSTM and the GRU share, each sum in one fixed order (the WebAssembly
 * kernels will follow it bit for bit):
 *   gate pre-activations  gi = b_ih + W_ih x,  gh = b_hh + W_hh h_prev   (G·H rows each)
 *   output layer          o = V h + c,  p = softmax(o),  loss = -log p[y]  (as rnn.ts)
 * Matrices are row-major; the LSTM adds gi + gh, the GRU needs gh's n rows apart.
 * `round` follows every +, -, * and / (precision.ts): the identity in float64, Math.fround in
 * float32, where the kernels compute each operation in float32.
 */

export type Round = Precision['round'];

/**
 * gi[r] = b_ih[r] + sum_j W_ih[r, j] x_j  and  gh[r] = b_hh[r] + sum_j W_hh[r, j] h_j, j ascending,
 * for r < G·H. Layer 0's x is one-hot (symbol >= 0): W_ih x is column `symbol` of W_ih (G·H, In = K).
 * Above it, symbol is -1 and x is xs[xOff..xOff+In). h_prev is hs[hOff..hOff+H).
 */
export function gatesForward(
  round: Round,
  p: LayerViews,
  rows: number,
  H: number,
  In: number,
  symbol: number,
  xs: FloatArray,
  xOff: number,
  hs: FloatArray,
  hOff: number,
  gi: FloatArray,
  gh: FloatArray,
): void {
  const { Wih, Whh, bih, bhh } = p;
  for (let r = 0; r < rows; r++) {
    let a = bih[r];
    if (symbol >= 0) a = round(a + Wih[r * In + symbol]);
    else for (let j = 0; j < In; j++) a = round(a + round(Wih[r * In + j] * xs[xOff + j]));
    gi[r] = a;
    let b = bhh[r];
    for (let j = 0; j < H; j++) b = round(b + round(Whh[r * H + j] * hs[hOff + j]));
    gh[r] = b;
  }
}

/**
 * Backward of gatesForward, given dL/dgi and dL/dgh (the LSTM passes the same array twice):
 *   gi = b_ih + W_ih x      =>  db_ih += dgi, dW_ih += dgi x^T, dx = W_ih^T dgi
 *   gh = b_hh + W_hh h_prev =>  db_hh += dgh, dW_hh += dgh h_prev^T, dh_prev += W_hh^T dgh
 * dx (In) is overwritten, and skipped for layer 0 (dx null: the one-hot input has no gradient);
 * dhPrev[dhOff..dhOff+H) is ADDED to, so the caller puts any direct path in first.
 */
export function gatesBackward(
  round: Round,
  p: LayerViews,
  g: LayerViews,
  rows: number,
  H: number,
  In: number,
  symbol: number,
  xs: FloatArray,
  xOff: number,
  hs: FloatArray,
  hOff: number,
  dgi: FloatArray,
  dgh: FloatArray,
  dx: FloatArray | null,
  dhPrev: FloatArray,
  dhOff: number,
): void {
  const { Wih, Whh } = p;
  if (dx !== null) dx.fill(0, 0, In);
  for (let r = 0; r < rows; r++) {
    const di = dgi[r];
    g.bih[r] = round(g.bih[r] + di);
    if (symbol >= 0) g.Wih[r * In + symbol] = round(g.Wih[r * In + symbol] + di);
    else {
      for (let j = 0; j < In; j++) {
        g.Wih[r * In + j] = round(g.Wih[r * In + j] + round(di * xs[xOff + j]));
        if (dx !== null) dx[j] = round(dx[j] + round(Wih[r * In + j] * di));
      }
    }
    const dh = dgh[r];
    g.bhh[r] = round(g.bhh[r] + dh);
    for (let j = 0; j < H; j++) {
      g.Whh[r * H + j] = round(g.Whh[r * H + j] + round(dh * hs[hOff + j]));
      dhPrev[dhOff + j] = round(dhPrev[dhOff + j] + round(Whh[r * H + j] * dh));
    }
  }
}

/**
 * The output layer, o = V h + c with V (K, H) and c (K), h = hs[hOff..hOff+H). Writes
 * p = softmax(o) at ps[pOff..pOff+K) and returns -log p[y], computed stably (logits shifted by
 * their max), as rnn.ts does. The loss itself is float64 in either precision: only its terms are rounded.
 */
export function softmaxCrossEntropy(
  round: Round,
  V: FloatArray,
  c: FloatArray,
  H: number,
  K: number,
  hs: FloatArray,
  hOff: number,
  ps: FloatArray,
  pOff: number,
  y: number,
): number {
  let max = -Infinity;
  for (let k = 0; k < K; k++) {
    const row = k * H;
    let sum = c[k];
    for (let j = 0; j < H; j++) sum = round(sum + round(V[row + j] * hs[hOff + j]));
    ps[pOff + k] = sum;
    if (sum > max) max = sum;
  }
  const logitY = ps[pOff + y];
  let total = 0;
  for (let k = 0; k < K; k++) {
    const e = round(exp(round(ps[pOff + k] - max)));
    ps[pOff + k] = e;
    total = round(total + e);
  }
  const inv = round(1 / total);
  for (let k = 0; k < K; k++) ps[pOff + k] = round(ps[pOff + k] * inv);
  return Math.log(total) - round(logitY - max);
}

/**
 * Backward of softmaxCrossEntropy, given the p it left in ps (overwritten by dL/do):
 *   dy = p - onehot(y);  o = V h + c  =>  dc += dy, dV += dy h^T, dh = V^T dy (dh is overwritten)
 */
export function softmaxCrossEntropyBackward(
  round: Round,
  V: FloatArray,
  dV: FloatArray,
  dc: FloatArray,
  H: number,
  K: number,
  hs: FloatArray,
  hOff: number,
  ps: FloatArray,
  pOff: number,
  y: number,
  dh: FloatArray,
): void {
  ps[pOff + y] = round(ps[pOff + y] - 1);
  dh.fill(0);
  for (let k = 0; k < K; k++) {
    const d = ps[pOff + k];
    dc[k] = round(dc[k] + d);
    const row = k * H;
    for (let j = 0; j < H; j++) {
      dV[row + j] = round(dV[row + j] + round(d * hs[hOff + j]));
      dh[j] = round(dh[j] + round(V[row + j] * d));
    }
  }
}
