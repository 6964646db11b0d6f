import { createKernelMemory, instantiateKernels, kernelModule } from '../src/model/kernels.js';
import { median } from './format.js';

/** FLOPs of one pass of simdPeakProbe (assembly/kernels.ts): 8 multiplies and 8 adds of 2 lanes. */
const FLOPS_PER_ROUND = 32;

/**
 * The float64 multiply and add rate one core issues through WebAssembly SIMD, in GFLOP/s: the
 * median of `runs` timings of the probe. The denominator of the tables' "of peak" column.
 */
export function measureSimdPeak(runs = 7, rounds = 20_000_000): number {
  const memory = createKernelMemory(1);
  const kernels = instantiateKernels(memory, kernelModule());
  const buffer = Math.ceil(kernels.heapBase() / 64) * 64;
  new Float64Array(memory.buffer, buffer, 8).set([0.5, 0.25, 1e-9, 2e-9, 3e-9, 4e-9, 5e-9, 6e-9]);
  kernels.simdPeakProbe(rounds / 10, buffer); // compiled and warm before the clock starts
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = process.hrtime.bigint();
    kernels.simdPeakProbe(rounds, buffer);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    rates.push((rounds * FLOPS_PER_ROUND) / seconds / 1e9);
  }
  return median(rates);
}
