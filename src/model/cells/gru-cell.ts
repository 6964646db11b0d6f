import { GRU_SHAPE, createGruWorkspace, gruSequenceLoss, gruSequenceLossAndGrad } from './gru.js';
import { gatedCell } from './stacked-cell.js';

/** nn.GRU's cell (gru.ts; kernels assembly/cells/gru.ts). */
export const gruCell = gatedCell(
  'gru',
  "GRU, PyTorch's nn.GRU equations (gates r, z, n); state h per layer",
  { shape: GRU_SHAPE, createWorkspace: createGruWorkspace, sequenceLoss: gruSequenceLoss, sequenceLossAndGrad: gruSequenceLossAndGrad },
);
