// The stacked GRU's kernels: its step forward and backward, run by the stacking skeleton
// (gated.ts run<Gru>) for up to four streams in lockstep, each bit for bit src/model/cells/gru.ts
// run on that stream alone; and its sampling step.
// SIMD: lanes run across independent outputs (gate rows, units, steps' entries), never a sum.

import { LANES, SHIFT, ld, realsFrom64, realsTo64, st, vadd, vmul, vsigmoid, vsplat, vsub, vtanh } from '../precision';
import { run, scratchBytes, step } from './gated';
import { at, at64, idAt, panelColumn, product } from './primitives';
import { BHH, BIH, WHH_F, WIH_F, layerTensor, stepBytes, stepEntries } from './stacked';

const G = 3; // gate rows r, z, n

/** Bytes of scratch for a group of `count` streams (gated.ts). */
export function gruScratchBytes(count: i32, L: i32, H: i32, K: i32, T: i32): f64 {
  return scratchBytes<Gru>(count, L, H, K, T);
}

/**
 * One step of one layer, all H units, from gi and gh (G·H each):
 *   r, z = σ(gi + gh), hn = gh_n, n = tanh(gi_n + r ⊙ hn), h = (1 - z) ⊙ n + z ⊙ hPrev, y = h ⊙ mask
 */
function cellForward(H: i32, gi: usize, gh: usize, hPrev: usize, acts: usize, hns: usize, h: usize, y: usize, mask: usize): void {
  const gBytes = <usize>H << SHIFT;
  const one = vsplat(1);
  for (let i = 0; i < H; i += LANES) {
    const lanes = H - i;
    const o0 = <usize>i << SHIFT;
    const a = gi + o0;
    const b = gh + o0;
    const r = vsigmoid(vadd(ld(a, lanes), ld(b, lanes)));
    const z = vsigmoid(vadd(ld(a + gBytes, lanes), ld(b + gBytes, lanes)));
    const hn = ld(b + 2 * gBytes, lanes);
    const n = vtanh(vadd(ld(a + 2 * gBytes, lanes), vmul(r, hn)));
    const act = acts + o0;
    st(act, r, lanes);
    st(act + gBytes, z, lanes);
    st(act + 2 * gBytes, n, lanes);
    st(hns + o0, hn, lanes);
    const hNew = vadd(vmul(vsub(one, z), n), vmul(z, ld(hPrev + o0, lanes)));
    st(h + o0, hNew, lanes);
    st(y + o0, mask ? vmul(hNew, ld(mask + o0, lanes)) : hNew, lanes);
  }
}

/**
 * Backward of cellForward: acts (G·H) is overwritten by dL/dgi, dgh (G·H) written, and dhNext (H)
 * becomes the direct path dh ⊙ z, to which the caller adds W_hh^T dgh.
 *   dh = dUp ⊙ mask + dhNext;  dn = dh (1 - z), dz = dh (hPrev - n), dan = dn (1 - n^2)
 *   dgi = [dan hn r(1-r), dz z(1-z), dan],  dgh = [the same two, dan r]
 */
function cellBackward(H: i32, dUp: usize, mask: usize, dhNext: usize, acts: usize, hns: usize, hPrev: usize, dgh: usize): void {
  const gBytes = <usize>H << SHIFT;
  const one = vsplat(1);
  for (let i = 0; i < H; i += LANES) {
    const lanes = H - i;
    const o0 = <usize>i << SHIFT;
    const act = acts + o0;
    const r = ld(act, lanes);
    const z = ld(act + gBytes, lanes);
    const n = ld(act + 2 * gBytes, lanes);
    const hn = ld(hns + o0, lanes);
    const up = ld(dUp + o0, lanes);
    const dh = vadd(mask ? vmul(up, ld(mask + o0, lanes)) : up, ld(dhNext + o0, lanes));
    const dn = vmul(dh, vsub(one, z));
    const dz = vmul(dh, vsub(ld(hPrev + o0, lanes), n));
    const dan = vmul(dn, vsub(one, vmul(n, n)));
    const dar = vmul(vmul(dan, hn), vmul(r, vsub(one, r)));
    const daz = vmul(dz, vmul(z, vsub(one, z)));
    st(act, dar, lanes);
    st(act + gBytes, daz, lanes);
    st(act + 2 * gBytes, dan, lanes);
    const d = dgh + o0;
    st(d, dar, lanes);
    st(d + gBytes, daz, lanes);
    st(d + 2 * gBytes, vmul(dan, r), lanes);
    st(dhNext + o0, vmul(dh, z), lanes);
  }
}

/**
 * The GRU for gated.ts run<Gru>: state (1, L, H) = h per stream; its own scratch, after the common
 * arrays: hns (L, T, H), W_hn h_{t-1} + b_hn | dghs (L, T, G·H), dL/dgh (differs from dL/dgi in the n rows).
 */
@final class Gru {
  @inline get G(): i32 { return G; }
  @inline get S(): i32 { return 1; }
  @inline ownEntries(L: i32, H: i32, T: i32): f64 {
    const l = <f64>L, h = <f64>H, t = <f64>T, g = <f64>G;
    return l * t * h + l * t * g * h;
  }
  @inline loadState(own: usize, carried: usize, l: i32, L: i32, H: i32, T: i32): void {}
  @inline storeState(carried: usize, own: usize, l: i32, L: i32, H: i32, T: i32): void {}

  /** Step t of layer l for every stream: gh = W_hh h_prev + b_hh, then cellForward. */
  @inline forward(
    count: i32, gap: usize, L: i32, H: i32, T: i32, l: i32, t: i32, WhhF: usize, bhh: usize,
    gi: usize, gh: usize, hPrev: usize, acts: usize, y: usize, mask: usize, maskGap: usize, own: usize,
  ): void {
    const hns = at(own, (l * T + t) * H);
    product(count, gh, gap, bhh, 0, WhhF, hPrev, gap, G * H, H); // gh = W_hh h_prev + b_hh
    for (let s = 0; s < count; s++) {
      const g = <usize>s * gap;
      cellForward(H, gi + g, gh + g, hPrev + g, acts + g, hns + g, at(hPrev, H) + g, y + g, mask ? mask + <usize>s * maskGap : 0);
    }
  }

  @inline beginBackward(own: usize, L: i32, H: i32, T: i32): void {}

  /** Backward of step t of layer l: dgi (acts), dgh, and dhNext = dh ⊙ z + W_hh^T dgh (dropped at t = 0). */
  @inline backward(
    count: i32, gap: usize, L: i32, H: i32, T: i32, l: i32, t: i32, WhhB: usize,
    dUp: usize, mask: usize, maskGap: usize, dhNext: usize, acts: usize, hPrev: usize, own: usize,
  ): void {
    const row = (l * T + t) * H;
    const dgh = at(own, L * T * H + row * G);
    for (let s = 0; s < count; s++) {
      const g = <usize>s * gap;
      cellBackward(H, dUp + g, mask ? mask + <usize>s * maskGap : 0, dhNext + g, acts + g, at(own, row) + g, hPrev + g, dgh + g);
    }
    if (t > 0) product(count, dhNext, gap, dhNext, gap, WhhB, dgh, gap, H, G * H);
  }

  /** Layer l's dL/dgh (T, G·H), in dghs. */
  /** W_hh multiplies h whole: no second input. */
  @inline hs2(own: usize, l: i32, L: i32, H: i32, T: i32): usize {
    return 0;
  }

  /** Sampling, layer l (gated.ts step): the recurrent product and the cell; own's third row keeps W_hn h + b_hn. */
  @inline step(
    count: i32, gap: usize, L: i32, H: i32, l: i32, params: usize, packed: usize, offs: usize,
    gi: usize, gh: usize, hPrev: usize, acts: usize, hNew: usize, own: usize, state: usize, stateGap: usize,
  ): void {
    const hns = at(own, 2 * H);
    product(count, gh, gap, layerTensor(params, offs, l, BHH), 0, layerTensor(packed, offs, l, WHH_F), hPrev, gap, G * H, H); // gh = W_hh h_prev + b_hh
    for (let s = 0; s < count; s++) {
      const g = <usize>s * gap;
      cellForward(H, gi + g, gh + g, hPrev + g, acts + g, hns + g, hNew + g, hNew + g, 0);
    }
  }

  @inline dgh(dgis: usize, own: usize, l: i32, L: i32, H: i32, T: i32): usize {
    return at(own, L * T * H + l * T * G * H);
  }
}

/** Forward only, one stream: the summed loss of the T predictions; state (1, L, H) carried as in run (gated.ts). */
export function gruLoss(
  L: i32, H: i32, K: i32, T: i32, params: usize, packed: usize, offs: usize,
  ids: usize, state: usize, masks: usize, scratch: usize,
): f64 {
  return run<Gru>(1, L, H, K, T, params, packed, offs, ids, state, masks, 0, 0, scratch, 0);
}

/**
 * Forward and full BPTT (src/model/cells/gru.ts gruSequenceLossAndGrad) of `count` consecutive
 * streams, as lstmLossAndGrad: see run (gated.ts).
 */
export function gruLossAndGrad(
  count: i32, L: i32, H: i32, K: i32, T: i32, params: usize, packed: usize, offs: usize,
  ids: usize, state: usize, masks: usize, grad: usize, gradGap: usize, scratch: usize, losses: usize,
): f64 {
  return run<Gru>(count, L, H, K, T, params, packed, offs, ids, state, masks, grad, gradGap, scratch, losses);
}

/** Bytes of scratch for gruStep (and stackedLogits) of `count` streams. */
export function gruStepScratchBytes(count: i32, L: i32, H: i32, K: i32): f64 {
  return stepBytes(count, G, L, H, K);
}

/** One sampling step of `count` streams, state (1, L, H) = h per stream: see step (gated.ts). */
export function gruStep(count: i32, L: i32, H: i32, K: i32, params: usize, packed: usize, offs: usize, ids: usize, state: usize, scratch: usize): void {
  step<Gru>(count, L, H, K, params, packed, offs, ids, state, scratch);
}
