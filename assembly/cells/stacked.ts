// What the LSTM and GRU kernels share: the offset table, the transposed weights, the input
// side of each layer's gates, the output layer, and the weight gradients added after BPTT.
//
// Tensors are found through `offs`, an int32 table that the host fills from the layout table
// (src/model/cells/stacked-layout.ts) and passes in: entry 4l + WIH/WHH/BIH/BHH is layer l's
// weight_ih, weight_hh, bias_ih, bias_hh; entries 4L and 4L + 1 are V and c. Offsets count
// float64 entries from the start of the flat buffer; parameters, gradients and the transposed
// copies (paramsT) all use them.

import { addVec, at, idAt, matvec, matvec2, outerAdd, rowsAdd, softmaxLoss, transpose } from './primitives';

export const WIH = 0;
export const WHH = 1;
export const BIH = 2;
export const BHH = 3;

/** Where tensor `entry` of the offset table lies in the flat buffer at `base`. */
@inline export function tensor(base: usize, offs: usize, entry: i32): usize {
  return at(base, load<i32>(offs + (<usize>entry << 2)));
}

/** Layer l's tensor `which` (WIH, WHH, BIH or BHH). */
@inline export function layerTensor(base: usize, offs: usize, l: i32, which: i32): usize {
  return tensor(base, offs, 4 * l + which);
}

/**
 * paramsT (the layout's size) = every weight matrix of params transposed, at its own offset:
 * weight_ih (G·H, In) -> (In, G·H), weight_hh (G·H, H) -> (H, G·H), V (K, H) -> (H, K). The
 * forward pass reads these so that its sums run over contiguous rows, two outputs per lane
 * pair. Refresh after every change of the parameters; the bias entries are not used.
 */
export function stackedTranspose(L: i32, H: i32, K: i32, G: i32, offs: usize, params: usize, paramsT: usize): void {
  const GH = G * H;
  for (let l = 0; l < L; l++) {
    const In = l == 0 ? K : H;
    transpose(layerTensor(params, offs, l, WIH), layerTensor(paramsT, offs, l, WIH), GH, In);
    transpose(layerTensor(params, offs, l, WHH), layerTensor(paramsT, offs, l, WHH), GH, H);
  }
  transpose(tensor(params, offs, 4 * L), tensor(paramsT, offs, 4 * L), K, H);
}

/**
 * gi (T, G·H), row t = b_ih + W_ih x_t for every step at once (the input does not wait on the
 * recursion). Layer 0: x_t is one-hot, so row t = b_ih + column ids[t] of W_ih, which is row
 * ids[t] of WihT (K, G·H). Above: x (T, In), two steps per pass so that each weight load serves
 * both; every entry is summed j ascending, as affine.ts gatesForward.
 */
export function inputGates(GH: i32, In: i32, T: i32, WihT: usize, bih: usize, ids: usize, x: usize, gi: usize): void {
  if (ids) {
    for (let t = 0; t < T; t++) addVec(at(gi, t * GH), bih, at(WihT, idAt(ids, t) * GH), GH);
    return;
  }
  let t = 0;
  for (; t + 2 <= T; t += 2) matvec2(at(gi, t * GH), at(gi, (t + 1) * GH), bih, bih, WihT, GH, at(x, t * In), at(x, (t + 1) * In), GH, In);
  if (t < T) matvec(at(gi, t * GH), bih, WihT, GH, at(x, t * In), GH, In);
}

/**
 * The output layer over all T steps: ps (T, K) row t = softmax(V ys_t + c) for the top layer's
 * ys (T, H); returns the sum, t ascending, of -log p_t[ids[t+1]] (affine.ts softmaxCrossEntropy).
 */
export function outputForward(H: i32, K: i32, T: i32, VT: usize, c: usize, ys: usize, ps: usize, ids: usize): f64 {
  let t = 0;
  for (; t + 2 <= T; t += 2) matvec2(at(ps, t * K), at(ps, (t + 1) * K), c, c, VT, K, at(ys, t * H), at(ys, (t + 1) * H), K, H);
  if (t < T) matvec(at(ps, t * K), c, VT, K, at(ys, t * H), K, H);
  let loss = 0.0;
  for (t = 0; t < T; t++) loss += softmaxLoss(K, at(ps, t * K), idAt(ids, t + 1));
  return loss;
}

/**
 * Backward of outputForward (affine.ts softmaxCrossEntropyBackward at every step):
 *   dy_t = p_t - onehot(y_t) (in ps);  o = V ys + c  =>  dUp_t = V^T dy_t (T, H, overwritten),
 *   dc += dy_t and dV += dy_t ys_t^T, t from T-1 down to 0.
 */
export function outputBackward(H: i32, K: i32, T: i32, V: usize, dV: usize, dc: usize, ys: usize, ps: usize, ids: usize, dUp: usize): void {
  for (let t = 0; t < T; t++) {
    const y = at(ps, t * K + idAt(ids, t + 1));
    store<f64>(y, load<f64>(y) - 1);
  }
  let t = 0;
  for (; t + 2 <= T; t += 2) matvec2(at(dUp, t * H), at(dUp, (t + 1) * H), 0, 0, V, H, at(ps, t * K), at(ps, (t + 1) * K), H, K);
  if (t < T) matvec(at(dUp, t * H), 0, V, H, at(ps, t * K), H, K);
  rowsAdd(dc, ps, K, K, T);
  outerAdd(dV, ps, K, ys, H, K, H, T);
}

/**
 * dUp (T, H) row t = W_ih^T dgi_t for the layer below (affine.ts gatesBackward's dx), two steps per
 * pass; dgi (T, G·H).
 */
export function inputBackward(GH: i32, H: i32, T: i32, Wih: usize, dgi: usize, dUp: usize): void {
  let t = 0;
  for (; t + 2 <= T; t += 2) matvec2(at(dUp, t * H), at(dUp, (t + 1) * H), 0, 0, Wih, H, at(dgi, t * GH), at(dgi, (t + 1) * GH), H, GH);
  if (t < T) matvec(at(dUp, t * H), 0, Wih, H, at(dgi, t * GH), H, GH);
}

/**
 * Layer l's parameter gradients from its dL/dgi and dL/dgh at every step, dgi and dgh (T, G·H),
 * each entry adding one term per step from t = T-1 down to 0, as gatesBackward does step by step:
 *   db_ih += dgi_t, db_hh += dgh_t, dW_hh += dgh_t h_{t-1}^T (hs (T+1, H), rows 0..T-1),
 *   dW_ih += dgi_t x_t^T (x (T, In)), or for layer 0 (ids set) dW_ih[:, ids[t]] += dgi_t.
 */
export function layerGradients(
  GH: i32, H: i32, In: i32, T: i32, grad: usize, offs: usize, l: i32,
  dgi: usize, dgh: usize, hs: usize, x: usize, ids: usize,
): void {
  rowsAdd(layerTensor(grad, offs, l, BIH), dgi, GH, GH, T);
  rowsAdd(layerTensor(grad, offs, l, BHH), dgh, GH, GH, T);
  outerAdd(layerTensor(grad, offs, l, WHH), dgh, GH, hs, H, GH, H, T);
  const dWih = layerTensor(grad, offs, l, WIH);
  if (!ids) {
    outerAdd(dWih, dgi, GH, x, In, GH, In, T);
    return;
  }
  for (let t = T - 1; t >= 0; t--) {
    const column = at(dWih, idAt(ids, t));
    const row = at(dgi, t * GH);
    for (let r = 0; r < GH; r++) {
      const p = column + (<usize>(r * In) << 3);
      store<f64>(p, load<f64>(p) + load<f64>(at(row, r)));
    }
  }
}
