// The stacked MGU's kernels: its step forward and backward, run by the stacking skeleton
// (gated.ts run<Mgu>) for up to four streams in lockstep, each bit for bit src/model/cells/mgu.ts
// run on that stream alone; and its sampling step.
// W_hh's f rows multiply h and its h̃ rows f ⊙ h, which waits on f: the packed copy holds the two
// row blocks' panels apart (GatedShape.recurrentBlocks), block 1's right after block 0's, so that
// each step runs two recurrent products forward and two backward.
// SIMD: lanes run across independent outputs (gate rows, units, steps' entries), never a sum.

import { LANES, SHIFT, ld, realsFrom64, realsTo64, st, vadd, vmul, vsigmoid, vsplat, vsub, vtanh } from '../precision';
import { run, scratchBytes, step } from './gated';
import { at, at64, idAt, panelColumn, panelEntries, product } from './primitives';
import { BHH, BIH, WHH_F, WIH_F, layerTensor, stepBytes, stepEntries } from './stacked';

const G = 2; // gate rows f, h̃

/** Bytes of scratch for a group of `count` streams (gated.ts). */
export function mguScratchBytes(count: i32, L: i32, H: i32, K: i32, T: i32): f64 {
  return scratchBytes<Mgu>(count, L, H, K, T);
}

/** The gate, all H units: f = σ(gi_f + gh_f), fh = f ⊙ hPrev (what W_hh's h̃ rows multiply). */
function gateForward(H: i32, gi: usize, gh: usize, hPrev: usize, acts: usize, fh: usize): void {
  for (let i = 0; i < H; i += LANES) {
    const lanes = H - i;
    const o0 = <usize>i << SHIFT;
    const f = vsigmoid(vadd(ld(gi + o0, lanes), ld(gh + o0, lanes)));
    st(acts + o0, f, lanes);
    st(fh + o0, vmul(f, ld(hPrev + o0, lanes)), lanes);
  }
}

/** The rest of the step: h̃ = tanh(gi_h̃ + gh_h̃), h = (1 - f) ⊙ hPrev + f ⊙ h̃, y = h ⊙ mask. */
function candidateForward(H: i32, gi: usize, gh: usize, hPrev: usize, acts: usize, h: usize, y: usize, mask: usize): void {
  const gBytes = <usize>H << SHIFT;
  const one = vsplat(1);
  for (let i = 0; i < H; i += LANES) {
    const lanes = H - i;
    const o0 = <usize>i << SHIFT;
    const f = ld(acts + o0, lanes);
    const ht = vtanh(vadd(ld(gi + gBytes + o0, lanes), ld(gh + gBytes + o0, lanes)));
    st(acts + gBytes + o0, ht, lanes);
    const hNew = vadd(vmul(vsub(one, f), ld(hPrev + o0, lanes)), vmul(f, ht));
    st(h + o0, hNew, lanes);
    st(y + o0, mask ? vmul(hNew, ld(mask + o0, lanes)) : hNew, lanes);
  }
}

/** Backward through h̃: dh = dUp ⊙ mask + dhNext, kept in dhs; da_h̃ = dh ⊙ f ⊙ (1 - h̃^2), kept in dahs. */
function candidateBackward(H: i32, dUp: usize, mask: usize, dhNext: usize, acts: usize, dhs: usize, dahs: usize): void {
  const gBytes = <usize>H << SHIFT;
  const one = vsplat(1);
  for (let i = 0; i < H; i += LANES) {
    const lanes = H - i;
    const o0 = <usize>i << SHIFT;
    const up = ld(dUp + o0, lanes);
    const dh = vadd(mask ? vmul(up, ld(mask + o0, lanes)) : up, ld(dhNext + o0, lanes));
    const ht = ld(acts + gBytes + o0, lanes);
    st(dhs + o0, dh, lanes);
    st(dahs + o0, vmul(vmul(dh, ld(acts + o0, lanes)), vsub(one, vmul(ht, ht))), lanes);
  }
}

/**
 * Backward through f, given dfh = W_hh[h̃]^T da_h̃: df = dh ⊙ (h̃ - hPrev) + dfh ⊙ hPrev, da_f =
 * df f (1 - f); acts (G·H) becomes [da_f, da_h̃] (dL/dgi = dL/dgh), and dhNext (H) the direct
 * paths dh ⊙ (1 - f) + dfh ⊙ f, to which the caller adds W_hh[f]^T da_f.
 */
function gateBackward(H: i32, acts: usize, hPrev: usize, dhs: usize, dahs: usize, dfh: usize, dhNext: usize): void {
  const gBytes = <usize>H << SHIFT;
  const one = vsplat(1);
  for (let i = 0; i < H; i += LANES) {
    const lanes = H - i;
    const o0 = <usize>i << SHIFT;
    const f = ld(acts + o0, lanes);
    const ht = ld(acts + gBytes + o0, lanes);
    const h = ld(hPrev + o0, lanes);
    const dh = ld(dhs + o0, lanes);
    const d = ld(dfh + o0, lanes);
    const df = vadd(vmul(dh, vsub(ht, h)), vmul(d, h));
    st(acts + o0, vmul(df, vmul(f, vsub(one, f))), lanes);
    st(acts + gBytes + o0, ld(dahs + o0, lanes), lanes);
    st(dhNext + o0, vadd(vmul(dh, vsub(one, f)), vmul(d, f)), lanes);
  }
}

/**
 * The MGU for gated.ts run<Mgu>: state (1, L, H) = h per stream; its own scratch, after the common
 * arrays: fhs (L, T, H), f ⊙ h_{t-1} | dh, da_h̃, dfh (H each), one step's backward.
 */
@final class Mgu {
  @inline get G(): i32 { return G; }
  @inline get S(): i32 { return 1; }
  @inline ownEntries(L: i32, H: i32, T: i32): f64 {
    return <f64>L * <f64>T * <f64>H + 3 * <f64>H;
  }
  @inline loadState(own: usize, carried: usize, l: i32, L: i32, H: i32, T: i32): void {}
  @inline storeState(carried: usize, own: usize, l: i32, L: i32, H: i32, T: i32): void {}

  /** Step t of layer l for every stream: gh_f = b_hh[f] + W_hh[f] h, f, then gh_h̃ = b_hh[h̃] + W_hh[h̃] (f ⊙ h), h. */
  @inline forward(
    count: i32, gap: usize, L: i32, H: i32, T: i32, l: i32, t: i32, WhhF: usize, bhh: usize,
    gi: usize, gh: usize, hPrev: usize, acts: usize, y: usize, mask: usize, maskGap: usize, own: usize,
  ): void {
    const fh = at(own, (l * T + t) * H);
    product(count, gh, gap, bhh, 0, WhhF, hPrev, gap, H, H);
    for (let s = 0; s < count; s++) {
      const g = <usize>s * gap;
      gateForward(H, gi + g, gh + g, hPrev + g, acts + g, fh + g);
    }
    product(count, at(gh, H), gap, at(bhh, H), 0, at(WhhF, panelEntries(H, H)), fh, gap, H, H);
    for (let s = 0; s < count; s++) {
      const g = <usize>s * gap;
      candidateForward(H, gi + g, gh + g, hPrev + g, acts + g, at(hPrev, H) + g, y + g, mask ? mask + <usize>s * maskGap : 0);
    }
  }

  @inline beginBackward(own: usize, L: i32, H: i32, T: i32): void {}

  /** Backward of step t of layer l: acts = [da_f, da_h̃], and dhNext = dL/dh_{t-1} (its last product dropped at t = 0). */
  @inline backward(
    count: i32, gap: usize, L: i32, H: i32, T: i32, l: i32, t: i32, WhhB: usize,
    dUp: usize, mask: usize, maskGap: usize, dhNext: usize, acts: usize, hPrev: usize, own: usize,
  ): void {
    const dhs = at(own, L * T * H);
    const dahs = at(dhs, H);
    const dfh = at(dahs, H);
    for (let s = 0; s < count; s++) {
      const g = <usize>s * gap;
      candidateBackward(H, dUp + g, mask ? mask + <usize>s * maskGap : 0, dhNext + g, acts + g, dhs + g, dahs + g);
    }
    product(count, dfh, gap, 0, 0, at(WhhB, panelEntries(H, H)), dahs, gap, H, H); // dfh = W_hh[h̃]^T da_h̃
    for (let s = 0; s < count; s++) {
      const g = <usize>s * gap;
      gateBackward(H, acts + g, hPrev + g, dhs + g, dahs + g, dfh + g, dhNext + g);
    }
    if (t > 0) product(count, dhNext, gap, dhNext, gap, WhhB, acts, gap, H, H); // dhNext += W_hh[f]^T da_f
  }

  /** W_hh's h̃ rows multiply f ⊙ h: layer l's fhs (T, H). */
  @inline hs2(own: usize, l: i32, L: i32, H: i32, T: i32): usize {
    return at(own, l * T * H);
  }

  /** Sampling, layer l (gated.ts step): W_hh's f rows on h, the gate, its h̃ rows on f ⊙ h (own's first row), the candidate. */
  @inline step(
    count: i32, gap: usize, L: i32, H: i32, l: i32, params: usize, packed: usize, offs: usize,
    gi: usize, gh: usize, hPrev: usize, acts: usize, hNew: usize, own: usize, state: usize, stateGap: usize,
  ): void {
    const fh = own;
    const WhhF = layerTensor(packed, offs, l, WHH_F);
    const bhh = layerTensor(params, offs, l, BHH);
    product(count, gh, gap, bhh, 0, WhhF, hPrev, gap, H, H); // gh_f = b_hh[f] + W_hh[f] h
    for (let s = 0; s < count; s++) gateForward(H, gi + <usize>s * gap, gh + <usize>s * gap, hPrev + <usize>s * gap, acts + <usize>s * gap, fh + <usize>s * gap);
    product(count, at(gh, H), gap, at(bhh, H), 0, at(WhhF, panelEntries(H, H)), fh, gap, H, H); // gh_h̃ = b_hh[h̃] + W_hh[h̃] (f ⊙ h)
    for (let s = 0; s < count; s++) {
      const g = <usize>s * gap;
      candidateForward(H, gi + g, gh + g, hPrev + g, acts + g, hNew + g, hNew + g, 0);
    }
  }

  /** Layer l's dL/dgh (T, G·H): dL/dgi itself, each pre-activation being gi + gh. */
  @inline dgh(dgis: usize, own: usize, l: i32, L: i32, H: i32, T: i32): usize {
    return dgis;
  }
}

/** Forward only, one stream: the summed loss of the T predictions; state (1, L, H) carried as in run (gated.ts). */
export function mguLoss(
  L: i32, H: i32, K: i32, T: i32, params: usize, packed: usize, offs: usize,
  ids: usize, state: usize, masks: usize, scratch: usize,
): f64 {
  return run<Mgu>(1, L, H, K, T, params, packed, offs, ids, state, masks, 0, 0, scratch, 0);
}

/** Forward and full BPTT (src/model/cells/mgu.ts mguSequenceLossAndGrad) of `count` consecutive streams: see run (gated.ts). */
export function mguLossAndGrad(
  count: i32, L: i32, H: i32, K: i32, T: i32, params: usize, packed: usize, offs: usize,
  ids: usize, state: usize, masks: usize, grad: usize, gradGap: usize, scratch: usize, losses: usize,
): f64 {
  return run<Mgu>(count, L, H, K, T, params, packed, offs, ids, state, masks, grad, gradGap, scratch, losses);
}

/** Bytes of scratch for mguStep (and stackedLogits) of `count` streams. */
export function mguStepScratchBytes(count: i32, L: i32, H: i32, K: i32): f64 {
  return stepBytes(count, G, L, H, K);
}

/** One sampling step of `count` streams, state (1, L, H) = h per stream: see step (gated.ts). */
export function mguStep(count: i32, L: i32, H: i32, K: i32, params: usize, packed: usize, offs: usize, ids: usize, state: usize, scratch: usize): void {
  step<Mgu>(count, L, H, K, params, packed, offs, ids, state, scratch);
}
