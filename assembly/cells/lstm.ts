// The stacked LSTM's kernels: its step forward and backward, run by the stacking skeleton
// (gated.ts run<Lstm>) for up to four streams in lockstep, each bit for bit src/model/cells/lstm.ts
// run on that stream alone; and its sampling step.
// SIMD: lanes run across independent outputs (gate rows, units, steps' entries), never a sum.

import { LANES, SHIFT, ld, realsFrom64, realsTo64, st, vadd, vmul, vsigmoid, vsplat, vsub, vtanh } from '../precision';
import { run, scratchBytes, step } from './gated';
import { at, at64, idAt, panelColumn, product } from './primitives';
import { BHH, BIH, WHH_F, WIH_F, layerTensor, stepBytes, stepEntries } from './stacked';

const G = 4; // gate rows i, f, g, o

/** Bytes of scratch for a group of `count` streams (gated.ts). */
export function lstmScratchBytes(count: i32, L: i32, H: i32, K: i32, T: i32): f64 {
  return scratchBytes<Lstm>(count, L, H, K, T);
}

/**
 * One step of one layer, all H units: gates from gi + gh (G·H each), the cell and its output.
 *   i, f, o = σ(gi + gh), g = tanh(gi + gh), c = f ⊙ cPrev + i ⊙ g, h = o ⊙ tanh(c), y = h ⊙ mask
 */
function cellForward(H: i32, gi: usize, gh: usize, cPrev: usize, acts: usize, c: usize, tc: usize, h: usize, y: usize, mask: usize): void {
  const gBytes = <usize>H << SHIFT;
  for (let i = 0; i < H; i += LANES) {
    const lanes = H - i;
    const o0 = <usize>i << SHIFT;
    const a = gi + o0;
    const b = gh + o0;
    const ig = vsigmoid(vadd(ld(a, lanes), ld(b, lanes)));
    const f = vsigmoid(vadd(ld(a + gBytes, lanes), ld(b + gBytes, lanes)));
    const g = vtanh(vadd(ld(a + 2 * gBytes, lanes), ld(b + 2 * gBytes, lanes)));
    const o = vsigmoid(vadd(ld(a + 3 * gBytes, lanes), ld(b + 3 * gBytes, lanes)));
    const act = acts + o0;
    st(act, ig, lanes);
    st(act + gBytes, f, lanes);
    st(act + 2 * gBytes, g, lanes);
    st(act + 3 * gBytes, o, lanes);
    const cNew = vadd(vmul(f, ld(cPrev + o0, lanes)), vmul(ig, g));
    const t = vtanh(cNew);
    const hNew = vmul(o, t);
    st(c + o0, cNew, lanes);
    st(tc + o0, t, lanes);
    st(h + o0, hNew, lanes);
    st(y + o0, mask ? vmul(hNew, ld(mask + o0, lanes)) : hNew, lanes);
  }
}

/**
 * Backward of cellForward; acts (G·H) is overwritten by dL/dpre, dhNext and dcNext (H) carry
 * dL/dh and dL/dc back to step t-1 (dcNext is overwritten here, dhNext by the caller).
 *   dh = dUp ⊙ mask + dhNext;  dc = dh ⊙ o ⊙ (1 - tanh(c)^2) + dcNext
 *   dpre = [dc g i(1-i), dc cPrev f(1-f), dc i (1-g^2), dh tanh(c) o(1-o)];  dcNext = dc ⊙ f
 */
function cellBackward(H: i32, dUp: usize, mask: usize, dhNext: usize, dcNext: usize, acts: usize, tc: usize, cPrev: usize): void {
  const gBytes = <usize>H << SHIFT;
  const one = vsplat(1);
  for (let i = 0; i < H; i += LANES) {
    const lanes = H - i;
    const o0 = <usize>i << SHIFT;
    const act = acts + o0;
    const ig = ld(act, lanes);
    const f = ld(act + gBytes, lanes);
    const gg = ld(act + 2 * gBytes, lanes);
    const o = ld(act + 3 * gBytes, lanes);
    const t = ld(tc + o0, lanes);
    const up = ld(dUp + o0, lanes);
    const dh = vadd(mask ? vmul(up, ld(mask + o0, lanes)) : up, ld(dhNext + o0, lanes));
    const dc = vadd(vmul(vmul(dh, o), vsub(one, vmul(t, t))), ld(dcNext + o0, lanes));
    st(act, vmul(vmul(dc, gg), vmul(ig, vsub(one, ig))), lanes);
    st(act + gBytes, vmul(vmul(dc, ld(cPrev + o0, lanes)), vmul(f, vsub(one, f))), lanes);
    st(act + 2 * gBytes, vmul(vmul(dc, ig), vsub(one, vmul(gg, gg))), lanes);
    st(act + 3 * gBytes, vmul(vmul(dh, t), vmul(o, vsub(one, o))), lanes);
    st(dcNext + o0, vmul(dc, f), lanes);
  }
}

/**
 * The LSTM for gated.ts run<Lstm>: state (2, L, H) = (h, c) per stream; its own scratch, after the
 * common arrays: cs (L, T+1, H) | tcs (L, T, H), tanh(c_t) | dcNext (H).
 */
@final class Lstm {
  @inline get G(): i32 { return G; }
  @inline get S(): i32 { return 2; }
  @inline ownEntries(L: i32, H: i32, T: i32): f64 {
    const l = <f64>L, h = <f64>H, t = <f64>T;
    return l * (t + 1) * h + l * t * h + h;
  }

  /** Layer l's c from the carried state (h, c), into row (l, 0) of cs; and back from row (l, T). */
  @inline loadState(own: usize, carried: usize, l: i32, L: i32, H: i32, T: i32): void {
    realsFrom64(at(own, l * (T + 1) * H), at64(carried, (L + l) * H), H);
  }
  @inline storeState(carried: usize, own: usize, l: i32, L: i32, H: i32, T: i32): void {
    realsTo64(at64(carried, (L + l) * H), at(own, l * (T + 1) * H + T * H), H);
  }

  /** Step t of layer l for every stream: gh = W_hh h_prev + b_hh, then cellForward. */
  @inline forward(
    count: i32, gap: usize, L: i32, H: i32, T: i32, l: i32, t: i32, WhhF: usize, bhh: usize,
    gi: usize, gh: usize, hPrev: usize, acts: usize, y: usize, mask: usize, maskGap: usize, own: usize,
  ): void {
    const rows = (T + 1) * H;
    const cs = own;
    const tcs = at(own, L * rows);
    product(count, gh, gap, bhh, 0, WhhF, hPrev, gap, G * H, H); // gh = W_hh h_prev + b_hh
    for (let s = 0; s < count; s++) {
      const g = <usize>s * gap;
      cellForward(H, gi + g, gh + g, at(cs, l * rows + t * H) + g, acts + g, at(cs, l * rows + (t + 1) * H) + g, at(tcs, (l * T + t) * H) + g,
        at(hPrev, H) + g, y + g, mask ? mask + <usize>s * maskGap : 0);
    }
  }

  @inline beginBackward(own: usize, L: i32, H: i32, T: i32): void {
    memory.fill(at(own, L * (T + 1) * H + L * T * H), 0, <usize>H << SHIFT); // dcNext
  }

  /** Backward of step t of layer l: dpre (acts) = dgi = dgh, dcNext, and dhNext = W_hh^T dpre (dropped at t = 0). */
  @inline backward(
    count: i32, gap: usize, L: i32, H: i32, T: i32, l: i32, t: i32, WhhB: usize,
    dUp: usize, mask: usize, maskGap: usize, dhNext: usize, dpre: usize, hPrev: usize, own: usize,
  ): void {
    const rows = (T + 1) * H;
    const cs = own;
    const tcs = at(own, L * rows);
    const dcNext = at(tcs, L * T * H);
    for (let s = 0; s < count; s++) {
      const g = <usize>s * gap;
      cellBackward(H, dUp + g, mask ? mask + <usize>s * maskGap : 0, dhNext + g, dcNext + g, dpre + g, at(tcs, (l * T + t) * H) + g, at(cs, l * rows + t * H) + g);
    }
    if (t > 0) product(count, dhNext, gap, 0, 0, WhhB, dpre, gap, H, G * H); // dhNext = W_hh^T dpre
  }

  /** Layer l's dL/dgh (T, G·H): dL/dgi itself, the gates' pre-activations being gi + gh. */
  /** W_hh multiplies h whole: no second input. */
  @inline hs2(own: usize, l: i32, L: i32, H: i32, T: i32): usize {
    return 0;
  }

  /** Sampling, layer l (gated.ts step): the recurrent product and the cell, c carried in the state's second block; own: cPrev, c, tanh(c). */
  @inline step(
    count: i32, gap: usize, L: i32, H: i32, l: i32, params: usize, packed: usize, offs: usize,
    gi: usize, gh: usize, hPrev: usize, acts: usize, hNew: usize, own: usize, state: usize, stateGap: usize,
  ): void {
    const cPrev = own;
    const c = at(own, H);
    const tc = at(own, 2 * H);
    for (let s = 0; s < count; s++) realsFrom64(cPrev + <usize>s * gap, at64(state + <usize>s * stateGap, (L + l) * H), H);
    product(count, gh, gap, layerTensor(params, offs, l, BHH), 0, layerTensor(packed, offs, l, WHH_F), hPrev, gap, G * H, H); // gh = W_hh h_prev + b_hh
    for (let s = 0; s < count; s++) {
      const g = <usize>s * gap;
      cellForward(H, gi + g, gh + g, cPrev + g, acts + g, c + g, tc + g, hNew + g, hNew + g, 0);
      realsTo64(at64(state + <usize>s * stateGap, (L + l) * H), c + g, H);
    }
  }

  @inline dgh(dgis: usize, own: usize, l: i32, L: i32, H: i32, T: i32): usize {
    return dgis;
  }
}

/** Forward only, one stream: the summed loss of the T predictions; state (2, L, H) carried as in run (gated.ts). */
export function lstmLoss(
  L: i32, H: i32, K: i32, T: i32, params: usize, packed: usize, offs: usize,
  ids: usize, state: usize, masks: usize, scratch: usize,
): f64 {
  return run<Lstm>(1, L, H, K, T, params, packed, offs, ids, state, masks, 0, 0, scratch, 0);
}

/**
 * Forward and full BPTT (src/model/cells/lstm.ts lstmSequenceLossAndGrad) of `count` consecutive
 * streams, each one's loss stored in losses (count), their gradients added to the pair slots at
 * grad, gradGap bytes apart: see run (gated.ts).
 */
export function lstmLossAndGrad(
  count: i32, L: i32, H: i32, K: i32, T: i32, params: usize, packed: usize, offs: usize,
  ids: usize, state: usize, masks: usize, grad: usize, gradGap: usize, scratch: usize, losses: usize,
): f64 {
  return run<Lstm>(count, L, H, K, T, params, packed, offs, ids, state, masks, grad, gradGap, scratch, losses);
}

/** Bytes of scratch for lstmStep (and stackedLogits) of `count` streams. */
export function lstmStepScratchBytes(count: i32, L: i32, H: i32, K: i32): f64 {
  return stepBytes(count, G, L, H, K);
}

/** One sampling step of `count` streams, state (2, L, H) = (h, c) per stream: see step (gated.ts). */
export function lstmStep(count: i32, L: i32, H: i32, K: i32, params: usize, packed: usize, offs: usize, ids: usize, state: usize, scratch: usize): void {
  step<Lstm>(count, L, H, K, params, packed, offs, ids, state, scratch);
}
