import { readFileSync } from 'node:fs';
import type { Dtype } from './precision.js';

/**
 * The WebAssembly SIMD kernels built from assembly/kernels.ts (see there for what each computes),
 * in float64, or from assembly/kernels-f32.ts in float32: the same names, of which the float32
 * module has the gated cells', the weights' copies' and the optimizers' (assembly/build.mjs).
 * They work on one shared WebAssembly.Memory; every pointer is a byte offset into it.
 */
export interface Kernels {
  /** Where the module's own static data ends; host buffers go above it. */
  heapBase(): number;
  trainScratchBytes(H: number, K: number, T: number): number;
  evalScratchBytes(H: number, K: number): number;
  // the vanilla RNN: offs is rnn-cell.ts's table (W, U, V, b, c, then the panels' offsets in packed)
  trainStreams(H: number, K: number, T: number, P: number, params: number, packed: number, offs: number,
    ids: number, hidden: number, grads: number, losses: number, scratch: number, G: number): void;
  evalSequence(H: number, K: number, params: number, packed: number, offs: number,
    ids: number, count: number, h: number, scratch: number, loss: number): number;
  adagradRange(params: number, mem: number, slots: number, P: number, S: number, B: number, lo: number, hi: number,
    eta: number, eps: number, scale: number, clip: number): void;
  sumSquaresRange(slots: number, P: number, S: number, B: number, lo: number, hi: number): number;
  rmspropRange(params: number, ms: number, slots: number, P: number, S: number, B: number, lo: number, hi: number,
    eta: number, eps: number, scale: number, clip: number, decay: number): void;
  adamRange(params: number, m: number, v: number, slots: number, P: number, S: number, B: number, lo: number, hi: number,
    eta: number, eps: number, scale: number, clip: number, beta1: number, beta2: number, c1: number, c2: number): void;
  matVec(out: number, init: number, M: number, stride: number, x: number, n: number, R: number): void;
  fillZero(p: number, bytes: number): void;
  /** The benchmark's SIMD peak probe: rounds x 32 float64 FLOPs from operands in the L1 cache. */
  simdPeakProbe(rounds: number, buffer: number): number;
  storeF64(p: number, value: number): void;
  // the gated cells (assembly/cells/): see src/model/cell-kernels.ts
  /** The packed copy of the weights (packMatrix); table (count, 5) int32 (offset, rows, cols, fwd, bwd). */
  packMatrices(table: number, count: number, params: number, packed: number, lo: number, hi: number): void;
  /** The float32 module's copy of params [lo, hi) as float32 at weights, which its kernels read. */
  roundWeights(params: number, weights: number, lo: number, hi: number): void;
  lstmScratchBytes(count: number, L: number, H: number, K: number, T: number): number;
  lstmLoss(L: number, H: number, K: number, T: number, params: number, packed: number, offs: number,
    ids: number, state: number, masks: number, scratch: number): number;
  lstmLossAndGrad(count: number, L: number, H: number, K: number, T: number, params: number, packed: number, offs: number,
    ids: number, state: number, masks: number, grad: number, gradGap: number, scratch: number, losses: number): number;
  gruScratchBytes(count: number, L: number, H: number, K: number, T: number): number;
  gruLoss(L: number, H: number, K: number, T: number, params: number, packed: number, offs: number,
    ids: number, state: number, masks: number, scratch: number): number;
  gruLossAndGrad(count: number, L: number, H: number, K: number, T: number, params: number, packed: number, offs: number,
    ids: number, state: number, masks: number, grad: number, gradGap: number, scratch: number, losses: number): number;
}

const WASM_URLS: Readonly<Record<Dtype, URL>> = { // built by npm run build
  float64: new URL('../../assembly/kernels.wasm', import.meta.url),
  float32: new URL('../../assembly/kernels-f32.wasm', import.meta.url),
};
const PAGE_BYTES = 65536;
/** wasm32 addresses 4 GiB; the module declares that as its memory's maximum. */
export const MAX_MEMORY_BYTES = 65536 * PAGE_BYTES;

const compiled = new Map<Dtype, WebAssembly.Module>();

/** The compiled module of a precision, cached per thread; a WebAssembly.Module can also be posted to workers. */
export function kernelModule(dtype: Dtype = 'float64'): WebAssembly.Module {
  let module = compiled.get(dtype);
  if (module === undefined) {
    module = new WebAssembly.Module(readFileSync(WASM_URLS[dtype]));
    compiled.set(dtype, module);
  }
  return module;
}

/** A shared memory of at least `bytes` bytes, which every thread's kernel instance can import. */
export function createKernelMemory(bytes: number): WebAssembly.Memory {
  const pages = Math.max(1, Math.ceil(bytes / PAGE_BYTES));
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
}

/** The kernels bound to `memory`; log is this thread's Math.log, as in the reference. */
export function instantiateKernels(memory: WebAssembly.Memory, module: WebAssembly.Module = kernelModule()): Kernels {
  const instance = new WebAssembly.Instance(module, { env: { memory, log: Math.log } });
  return instance.exports as unknown as Kernels;
}
