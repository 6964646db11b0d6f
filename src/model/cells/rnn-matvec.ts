import { RegionPlanner } from '../kernel-memory.js';
import { createKernelMemory, instantiateKernels, MAX_MEMORY_BYTES } from '../kernels.js';
import type { Dims, ParamViews } from './rnn-layout.js';

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
  // after the module's own data: WT (H, H) | VT (H, K) | h (H) | a (H) | o (K), float64
  const planner = new RegionPlanner(probe.heapBase());
  const [wt, vt, h, a, o] = [H * H, H * K, H, H, K].map((entries) => planner.take(entries * 8));
  if (planner.end > MAX_MEMORY_BYTES) {
    throw new RangeError(`H=${H} and K=${K} need ${(planner.end / 2 ** 30).toFixed(1)} GiB for sampling, more than WebAssembly's 4 GiB`);
  }
  const memory = createKernelMemory(planner.end);
  const kernels = instantiateKernels(memory);
  const view = (at: number, entries: number): Float64Array => new Float64Array(memory.buffer, at, entries);
  transposeInto(p.W, H, H, view(wt, H * H));
  transposeInto(p.V, K, H, view(vt, H * K));
  return {
    h: view(h, H),
    a: view(a, H),
    o: view(o, K),
    addWh: () => kernels.matVec(a, a, wt, H, h, H, H),
    addVh: () => kernels.matVec(o, o, vt, K, h, K, H),
  };
}

/** out[c * rows + r] = M[r * cols + c]: M (rows, cols) transposed. */
function transposeInto(M: Float64Array, rows: number, cols: number, out: Float64Array): void {
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = M[r * cols + c];
}
