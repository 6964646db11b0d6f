import { UserError } from '../errors.js';
import { MAX_MEMORY_BYTES, type Kernels } from '../model/kernels.js';

/** Validation text is copied into each worker's scratch this many predictions at a time. */
export const EVAL_CHUNK = 4096;

/**
 * Where everything the threads share lives in the one WebAssembly memory: byte offsets, all
 * 16-byte aligned. The coordinator plans it once; every worker attaches to the same plan.
 */
export interface MemoryPlan {
  readonly bytes: number;
  readonly params: number; // (P) float64
  readonly adagradMemory: number; // (P) float64
  readonly WT: number; // (H, H) W transposed, for the forward pass
  readonly UT: number; // (K, H) U transposed
  readonly VT: number; // (H, K) V transposed
  readonly hidden: number; // (B, H) each stream's carried state
  readonly losses: number; // (B) each stream's summed loss of the step
  readonly evalLosses: number; // (segments) each validation segment's summed loss
  readonly gradSlots: number; // (ceil(B/2), P) one gradient per pair of streams
  readonly streamIds: number; // (B, T+1) int32, this step's ids of each stream
  readonly streamScratch: number; // (B, trainScratchBytes) each stream's activations
  readonly workerScratch: number; // (threads, workerScratchBytes): evaluation scratch, state and ids
  readonly workerScratchBytes: number;
  readonly evalState: number; // (H) float64, at this offset within a worker's scratch
  readonly evalIds: number; // (EVAL_CHUNK + 1) int32, at this offset within a worker's scratch
}

export interface MemoryShape {
  readonly H: number;
  readonly K: number;
  readonly T: number;
  readonly B: number;
  readonly P: number;
  readonly threads: number;
  readonly segments: number;
}

type KernelSizes = Pick<Kernels, 'heapBase' | 'trainScratchBytes' | 'evalScratchBytes'>;

export function planMemory({ H, K, T, B, P, threads, segments }: MemoryShape, kernels: KernelSizes): MemoryPlan {
  let end = kernels.heapBase();
  const take = (bytes: number): number => {
    const start = align(end);
    end = start + bytes;
    return start;
  };
  const evalState = align(kernels.evalScratchBytes(H, K));
  const evalIds = align(evalState + H * 8);
  const workerScratchBytes = align(evalIds + (EVAL_CHUNK + 1) * 4);
  const plan = {
    params: take(P * 8),
    adagradMemory: take(P * 8),
    WT: take(H * H * 8),
    UT: take(K * H * 8),
    VT: take(H * K * 8),
    hidden: take(B * H * 8),
    losses: take(B * 8),
    evalLosses: take(segments * 8),
    gradSlots: take(Math.ceil(B / 2) * P * 8),
    streamIds: take(B * (T + 1) * 4),
    streamScratch: take(B * kernels.trainScratchBytes(H, K, T)),
    workerScratch: take(threads * workerScratchBytes),
    workerScratchBytes,
    evalState,
    evalIds,
  };
  if (end > MAX_MEMORY_BYTES) {
    throw new UserError(
      `H=${H} with ${B} streams needs ${(end / 2 ** 30).toFixed(1)} GiB of shared memory, more than WebAssembly's 4 GiB (use a smaller --hidden or fewer --streams)`,
    );
  }
  return { bytes: end, ...plan };
}

/** The float64 arrays of a plan, as views over the memory's buffer. */
export interface SharedArrays {
  readonly params: Float64Array; // (P)
  readonly adagradMemory: Float64Array; // (P)
  readonly hidden: Float64Array; // (B, H)
  readonly losses: Float64Array; // (B)
  readonly evalLosses: Float64Array; // (segments)
}

export function sharedArrays(buffer: ArrayBufferLike, plan: MemoryPlan, { H, B, P, segments }: MemoryShape): SharedArrays {
  return {
    params: new Float64Array(buffer, plan.params, P),
    adagradMemory: new Float64Array(buffer, plan.adagradMemory, P),
    hidden: new Float64Array(buffer, plan.hidden, B * H),
    losses: new Float64Array(buffer, plan.losses, B),
    evalLosses: new Float64Array(buffer, plan.evalLosses, segments),
  };
}

function align(offset: number): number {
  return Math.ceil(offset / 16) * 16;
}
