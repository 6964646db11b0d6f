import { LSTM_SHAPE, createLstmWorkspace, lstmSequenceLoss, lstmSequenceLossAndGrad } from './lstm.js';
import { tensorSpec, type ModelLayout } from './cell.js';
import { gatedCell } from './stacked-cell.js';

/**
 * The forget gate starts open: b_ih's f rows 1 and b_hh's 0, so that f = σ(1 + ...) (Jozefowicz,
 * Zaremba and Sutskever 2015). Measured on the default corpus, 2 x 128, 480,000 characters, three
 * seeds: validation 0.085 nats/char lower on average, lower in two seeds of three (docs/architecture.md, "Initialisation").
 */
function openForgetGates(params: Float64Array, layout: ModelLayout): void {
  const { L, H } = layout.dims;
  for (let l = 0; l < L; l++) {
    params.fill(1, tensorSpec(layout, `bias_ih_l${l}`).offset + H, tensorSpec(layout, `bias_ih_l${l}`).offset + 2 * H);
    params.fill(0, tensorSpec(layout, `bias_hh_l${l}`).offset + H, tensorSpec(layout, `bias_hh_l${l}`).offset + 2 * H);
  }
}

/** nn.LSTM's cell (lstm.ts; kernels assembly/cells/lstm.ts). */
export const lstmCell = gatedCell(
  'lstm',
  "LSTM, PyTorch's nn.LSTM equations (gates i, f, g, o); state h and c per layer",
  { shape: LSTM_SHAPE, createWorkspace: createLstmWorkspace, sequenceLoss: lstmSequenceLoss, sequenceLossAndGrad: lstmSequenceLossAndGrad },
  openForgetGates,
);
