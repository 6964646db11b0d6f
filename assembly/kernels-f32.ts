// The float32 module's entry: assembly/build.mjs compiles it with precision-f32.ts in the place of
// precision.ts. It exports what --dtype float32 runs (the gated cells, the weights' copies, the
// optimizers) under the float64 module's names and signatures, so the host binds either alike.

export {
  heapBase, fillZero, packMatrices, roundWeights, sumSquaresRange, adagradRange, rmspropRange, adamRange, simdPeakProbe,
} from './kernels';
export * from './cells/index';
export { stackedLogits } from './cells/stacked';
