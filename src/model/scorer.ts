import { createKernelMemory, instantiateKernels } from './kernels.js';
import { paramLayout, type Dims } from './layout.js';

/** Predictions copied into the kernel's memory per call. */
const CHUNK = 4096;

/**
 * Scores text with a snapshot of the parameters, as one stream: evaluate() of rnn.ts, bit for
 * bit, by the WebAssembly kernels. Make a new one after the parameters change.
 */
export interface Scorer {
  /**
   * The summed loss in nats of the `count` predictions ids[start+t] -> ids[start+t+1], from the
   * state h (H), which is updated in place.
   */
  score(ids: ArrayLike<number>, start: number, count: number, h: Float64Array): number;
}

export function createScorer(params: Float64Array, dims: Dims): Scorer {
  const { H, K } = dims;
  const P = paramLayout(dims).size;
  if (params.length !== P) throw new RangeError(`params has ${params.length} entries, H=${H} K=${K} needs ${P}`);
  const probe = instantiateKernels(createKernelMemory(0));
  let end = probe.heapBase();
  const take = (bytes: number): number => {
    const at = Math.ceil(end / 16) * 16;
    end = at + bytes;
    return at;
  };
  const at = {
    params: take(P * 8),
    WT: take(H * H * 8),
    UT: take(K * H * 8),
    VT: take(H * K * 8),
    h: take(H * 8),
    ids: take((CHUNK + 1) * 4),
    scratch: take(probe.evalScratchBytes(H, K)),
  };
  const memory = createKernelMemory(end);
  const kernels = instantiateKernels(memory);
  new Float64Array(memory.buffer, at.params, P).set(params);
  kernels.transposeRange(H, K, at.params, at.WT, at.UT, at.VT, 0, P);
  const state = new Float64Array(memory.buffer, at.h, H);
  const chunk = new Int32Array(memory.buffer, at.ids, CHUNK + 1);
  return {
    score: (ids, start, count, h) => {
      state.set(h);
      let loss = 0;
      for (let done = 0; done < count; done += CHUNK) {
        const n = Math.min(CHUNK, count - done);
        for (let t = 0; t <= n; t++) chunk[t] = ids[start + done + t];
        loss = kernels.evalSequence(H, K, at.params, at.WT, at.UT, at.VT, at.ids, n, at.h, at.scratch, loss);
      }
      h.set(state);
      return loss;
    },
  };
}
