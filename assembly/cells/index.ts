// The gated cells' kernels, one line per cell: both module entries (assembly/kernels.ts, the float64
// one, and kernels-f32.ts) export everything here. A cell's five kernels are named after it (cell
// name + ScratchBytes, Loss, LossAndGrad, StepScratchBytes, Step), as the host finds them
// (src/model/cells/stacked-cell.ts GatedKernels); test/kernels.test.ts holds both modules to that.

export { lstmScratchBytes, lstmLoss, lstmLossAndGrad, lstmStepScratchBytes, lstmStep } from './lstm';
export { gruScratchBytes, gruLoss, gruLossAndGrad, gruStepScratchBytes, gruStep } from './gru';
export { mguScratchBytes, mguLoss, mguLossAndGrad, mguStepScratchBytes, mguStep } from './mgu';
