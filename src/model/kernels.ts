import * as wasmBase64 from '../../assembly/kernels-wasm.js';
import type { GatedCellName } from './cells/registry.js';
import type { GatedKernels } from './cells/stacked-cell.js';
import type { Dtype } from './precision.js';
import { withUnsharedMemoryImport } from './wasm-memory-import.js';

/**
 * The WebAssembly SIMD kernels built from assembly/kernels.ts (see there for what each computes),
 * in float64, or from assembly/kernels-f32.ts in float32: the same names, of which the float32
 * module has the gated cells', the weights' copies' and the optimizers' (assembly/build.mjs).
 * The common kernels are typed here; each gated cell's five, named after the cell, derive from
 * the registry (Kernels below).
 * They work on one shared WebAssembly.Memory; every pointer is a byte offset into it.
 */
export interface CommonKernels {
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
  // the gated cells (assembly/cells/): see src/model/cell-kernels.ts
  /** The packed copy of the weights (packMatrix); table (count, PANEL_ROW) int32, assembly/interface.ts. */
  packMatrices(table: number, count: number, params: number, packed: number, lo: number, hi: number): void;
  /** The float32 module's copy of params [lo, hi) as float32 at weights, which its kernels read. */
  roundWeights(params: number, weights: number, lo: number, hi: number): void;
  /** logits (count, K) float64 = V h + c of each stream's top layer; G the cell's gates, scratch of its step's size. */
  stackedLogits(count: number, G: number, L: number, H: number, K: number, S: number, params: number, packed: number, offs: number,
    state: number, logits: number, scratch: number): void;
}

/** The kernels of both modules: the common ones, and each registered gated cell's (stacked-cell.ts GatedKernels: lstmLoss, gruStep, ...). */
export type Kernels = CommonKernels & GatedKernels<GatedCellName>;

/**
 * Each common kernel's parameter count and whether the float32 module has it (the float64 module
 * has them all). The compiler holds the counts to the Kernels type above; kernel-exports.ts adds
 * the gated cells' and test/kernels.test.ts holds the whole table to both modules' exports. So a
 * kernel added, dropped or given another parameter on one side fails a check instead of shifting
 * every argument after it.
 */
export const COMMON_KERNEL_EXPORTS: { readonly [K in keyof CommonKernels]: { readonly params: Parameters<CommonKernels[K]>['length']; readonly float32: boolean } } = {
  heapBase: { params: 0, float32: true },
  trainScratchBytes: { params: 3, float32: false },
  evalScratchBytes: { params: 2, float32: false },
  trainStreams: { params: 13, float32: false },
  evalSequence: { params: 10, float32: false },
  adagradRange: { params: 12, float32: true },
  sumSquaresRange: { params: 6, float32: true },
  rmspropRange: { params: 13, float32: true },
  adamRange: { params: 17, float32: true },
  matVec: { params: 7, float32: false },
  fillZero: { params: 2, float32: true },
  simdPeakProbe: { params: 2, float32: true },
  packMatrices: { params: 6, float32: true },
  roundWeights: { params: 4, float32: true },
  stackedLogits: { params: 12, float32: true },
};

// the modules' bytes, embedded by npm run build (assembly/build.mjs): no file system needed, so a browser loads them too
const WASM_BASE64: Readonly<Record<Dtype, string>> = wasmBase64;
const PAGE_BYTES = 65536;
/** wasm32 addresses 4 GiB; the module declares that as its memory's maximum. */
export const MAX_MEMORY_BYTES = 65536 * PAGE_BYTES;

const compiled = new Map<string, WebAssembly.Module>(); // by dtype and whether its memory import is shared

/** The compiled module of a precision, cached per thread; a WebAssembly.Module can also be posted to workers. */
export function kernelModule(dtype: Dtype = 'float64'): WebAssembly.Module {
  const shared = sharedMemoryAvailable();
  let module = compiled.get(`${dtype} ${shared}`);
  if (module === undefined) {
    const bytes = bytesOf(WASM_BASE64[dtype]);
    module = new WebAssembly.Module(shared ? bytes : withUnsharedMemoryImport(bytes));
    compiled.set(`${dtype} ${shared}`, module);
  }
  return module;
}

/**
 * A memory of at least `bytes` bytes for the kernels: shared, so that every thread's kernel
 * instance can import it, where this engine grants shared memory; else an ordinary one, which
 * kernelModule's modules then import (wasm-memory-import.ts), for one thread alone.
 */
export function createKernelMemory(bytes: number): WebAssembly.Memory {
  const pages = Math.max(1, Math.ceil(bytes / PAGE_BYTES));
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: sharedMemoryAvailable() });
}

/** Whether this engine grants shared WebAssembly memory: Node does; a browser page only when cross-origin isolated. */
export function sharedMemoryAvailable(): boolean {
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) return false;
  // probed once per Memory constructor, not on every sampler or scorer made (a probe is a shared page)
  if (probed?.constructor !== WebAssembly.Memory) probed = { constructor: WebAssembly.Memory, shares: canShare() };
  return probed.shares;
}

let probed: { readonly constructor: unknown; readonly shares: boolean } | undefined;

function canShare(): boolean {
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return true;
  } catch {
    return false;
  }
}

/** The kernels bound to `memory`; log is this thread's Math.log, as in the reference. */
export function instantiateKernels(memory: WebAssembly.Memory, module: WebAssembly.Module = kernelModule()): Kernels {
  const instance = new WebAssembly.Instance(module, { env: { memory, log: Math.log } });
  return instance.exports as unknown as Kernels;
}

/** Which engine samples and scores: the kernels where they run ('auto'), or the reference math always ('reference'). */
export type Engine = 'auto' | 'reference';

/**
 * Whether this thread can run the kernels: an engine without WebAssembly SIMD, or a browser that
 * refuses to compile a module synchronously, cannot. Where it cannot, sampling and scoring take
 * the reference math: the same bits, slower. (Without shared memory the kernels still run, on an
 * ordinary memory, one thread; training's threads need it shared.)
 */
export function kernelsAvailable(dtype: Dtype = 'float64'): boolean {
  try {
    createKernelMemory(0);
    kernelModule(dtype);
    return true;
  } catch (error) {
    // a TypeError or RangeError from the constructors is how an engine says it lacks shared memory or sync compiles
    if (error instanceof TypeError || error instanceof RangeError) return false;
    throw error;
  }
}

function bytesOf(base64: string): Uint8Array {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}
