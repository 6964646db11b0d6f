import { createLstmWorkspace, lstmSequenceLoss, lstmSequenceLossAndGrad } from './lstm.js';
import { gatedCell } from './stacked-cell.js';

/** nn.LSTM's cell (lstm.ts; kernels assembly/cells/lstm.ts). */
export const lstmCell = gatedCell(
  'lstm',
  "LSTM, PyTorch's nn.LSTM equations (gates i, f, g, o); state h and c per layer",
  { scratchBytes: 'lstmScratchBytes', loss: 'lstmLoss', lossAndGrad: 'lstmLossAndGrad' },
  { createWorkspace: createLstmWorkspace, sequenceLoss: lstmSequenceLoss, sequenceLossAndGrad: lstmSequenceLossAndGrad },
);
