import { createKernelMemory, instantiateKernels, kernelModule } from '../src/model/kernels.js';
import { floatView, precisionOf, type Dtype } from '../src/model/precision.js';
import { median } from './format.js';

/**
 * The multiply and add rate one core issues through WebAssembly SIMD in a precision, in GFLOP/s:
 * the median of `runs` timings of the probe. The denominator of the tables' "of peak" column.
 */
export function measureSimdPeak(dtype: Dtype = 'float64', runs = 7, rounds = 20_000_000): number {
  const precision = precisionOf(dtype);
  // one pass of simdPeakProbe (assembly/kernels.ts): 8 multiplies and 8 adds of 16 / bytes lanes
  const flopsPerRound = 16 * (16 / precision.bytes);
  const memory = createKernelMemory(1);
  const kernels = instantiateKernels(memory, kernelModule(dtype));
  const buffer = Math.ceil(kernels.heapBase() / 64) * 64;
  floatView(precision, memory.buffer, buffer, 64 / precision.bytes).set(Array.from({ length: 64 / precision.bytes }, (_, i) => (i < 32 / precision.bytes ? 0.5 : 1e-9 * i)));
  kernels.simdPeakProbe(rounds / 10, buffer); // compiled and warm before the clock starts
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = process.hrtime.bigint();
    kernels.simdPeakProbe(rounds, buffer);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    rates.push((rounds * flopsPerRound) / seconds / 1e9);
  }
  return median(rates);
}
