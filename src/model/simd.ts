import { createKernelMemory, instantiateKernels, MAX_MEMORY_BYTES } from './kernels.js';
import type { Dims, ParamViews } from './layout.js';

/**
 * The two matrix-vector products of a sampling step, a += W h and o += V h, by the training
 * kernels' matVec (assembly/kernels.ts): bit for bit those of hiddenStep() and logits() in
 * rnn.ts, several times faster. The kernel reads transposed copies of W and V: a snapshot of p.
 */
export interface MatVecKernel {
  readonly h: Float64Array; // (H)
  readonly a: Float64Array; // (H)
  readonly o: Float64Array; // (K)
  /** a += W h */
  addWh(): void;
  /** o += V h */
  addVh(): void;
}

export function createMatVecKernel(p: ParamViews, { H, K }: Dims): MatVecKernel {
  const probe = instantiateKernels(createKernelMemory(0));
  // Memory, in float64s after the module's own data: WT (H, H) | VT (H, K) | h (H) | a (H) | o (K)
  const wt = Math.ceil(probe.heapBase() / 16) * 2;
  const vt = wt + H * H;
  const h = vt + H * K;
  const a = h + H;
  const o = a + H;
  const end = o + K;
  if (end * 8 > MAX_MEMORY_BYTES) {
    throw new RangeError(`H=${H} and K=${K} need ${(end * 8 / 2 ** 30).toFixed(1)} GiB for sampling, more than WebAssembly's 4 GiB`);
  }
  const memory = createKernelMemory(end * 8);
  const kernels = instantiateKernels(memory);
  const f64 = new Float64Array(memory.buffer);
  transposeInto(p.W, H, H, f64, wt);
  transposeInto(p.V, K, H, f64, vt);
  return {
    h: f64.subarray(h, h + H),
    a: f64.subarray(a, a + H),
    o: f64.subarray(o, o + K),
    addWh: () => kernels.matVec(a * 8, a * 8, wt * 8, H, h * 8, H, H),
    addVh: () => kernels.matVec(o * 8, o * 8, vt * 8, K, h * 8, K, H),
  };
}

/** out[at + c * rows + r] = M[r * cols + c]: M (rows, cols) transposed. */
function transposeInto(M: Float64Array, rows: number, cols: number, out: Float64Array, at: number): void {
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[at + c * rows + r] = M[r * cols + c];
}
