// The kernels' interface, written once: the AssemblyScript kernels and the TypeScript host import
// these plain constants (they compile in either language), so that the host fills every table in
// the order the kernels read it, by name, and a change on one side is a change on both.

/** Streams a training call runs in lockstep, so that each load of a weight serves them all. */
export const GROUP_STREAMS = 4;
/** Streams a sampling step (gruStep, lstmStep, stackedLogits) takes at most. */
export const STEP_STREAMS = 4;

// A row of the packed copy's table (packMatrices): int32 entries in this order.
export const PANEL_OFFSET = 0; // the matrix in the parameters
export const PANEL_ROWS = 1;
export const PANEL_COLS = 2;
export const PANEL_FWD = 3; // its forward panels in the packed copy
export const PANEL_BWD = 4; // its backward panels, or -1
export const PANEL_ROW = 5;

// The vanilla rnn's offset table (assembly/kernels.ts): tensors in the parameters, then panels.
export const RNN_W = 0;
export const RNN_U = 1;
export const RNN_V = 2;
export const RNN_B = 3;
export const RNN_C = 4;
export const RNN_W_F = 5;
export const RNN_W_B = 6;
export const RNN_U_F = 7;
export const RNN_V_F = 8;
export const RNN_V_B = 9;
export const RNN_ENTRIES = 10;

// The gated stack's offset table (assembly/cells/stacked.ts): LAYER_ENTRIES for each layer l at
// LAYER_ENTRIES * l, then OUTPUT_ENTRIES for the output layer at LAYER_ENTRIES * L.
export const LAYER_WIH = 0; // weight_ih in the parameters
export const LAYER_WHH = 1;
export const LAYER_BIH = 2;
export const LAYER_BHH = 3;
export const LAYER_WIH_F = 4; // weight_ih's forward panels in the packed copy
export const LAYER_WIH_B = 5; // its backward panels (-1 for layer 0)
export const LAYER_WHH_F = 6;
export const LAYER_WHH_B = 7;
export const LAYER_ENTRIES = 8;
export const OUTPUT_V = 0;
export const OUTPUT_C = 1;
export const OUTPUT_V_F = 2;
export const OUTPUT_V_B = 3;
export const OUTPUT_ENTRIES = 4;
