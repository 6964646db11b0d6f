import { MGU_SHAPE, createMguWorkspace, mguSequenceLoss, mguSequenceLossAndGrad } from './mgu.js';
import { gatedCell } from './stacked-cell.js';

/** The minimal gated unit (mgu.ts; kernels assembly/cells/mgu.ts). */
export const mguCell = gatedCell(
  'mgu',
  'MGU, the minimal gated unit (one gate f; h̃ reads f ⊙ h); state h per layer',
  { shape: MGU_SHAPE, createWorkspace: createMguWorkspace, sequenceLoss: mguSequenceLoss, sequenceLossAndGrad: mguSequenceLossAndGrad },
);
