import { PANEL_BWD, PANEL_COLS, PANEL_FWD, PANEL_OFFSET, PANEL_ROW, PANEL_ROWS } from '../../../assembly/interface.js';
import { FLOAT64, type Precision } from '../precision.js';
import type { ModelLayout, WeightCopies } from './cell.js';

/**
 * Where the packed copy holds each weight matrix's panels (assembly/cells/primitives.ts
 * packMatrix): the forward form for W x, and where a product needs it the backward form for
 * W^T y, in entries of the kernels' precision from the copy's start. A panel row is 32 bytes:
 * 4 outputs in float64, 8 in float32.
 */
export interface PanelEntry {
  readonly name: string;
  readonly offset: number; // in the parameters
  readonly rows: number;
  readonly cols: number;
  readonly fwd: number;
  readonly bwd: number; // -1: none
}

/**
 * The panels of the named matrices, in order: [name, whether the backward form is needed, and
 * optionally the row blocks it is packed in (1 unless given)]. A matrix of B row blocks gets an
 * entry per block (its rows/B rows, under the matrix's name), each block's forward panels one
 * after another, then each block's backward panels: so one block's are its forward panels, then
 * its backward ones.
 */
export function panelPlan(
  layout: Pick<ModelLayout, 'specs'>,
  matrices: readonly (readonly [string, boolean, number?])[],
  precision: Precision = FLOAT64,
): { entries: PanelEntry[]; size: number } {
  const width = 32 / precision.bytes;
  const panels = (n: number, R: number): number => Math.ceil(n / width) * width * R;
  const entries: PanelEntry[] = [];
  let size = 0;
  for (const [name, backward, blocks = 1] of matrices) {
    const spec = layout.specs.find((s) => s.name === name);
    if (spec === undefined || spec.shape.length !== 2) throw new Error(`the layout table has no matrix named ${name}`);
    const [allRows, cols] = spec.shape;
    if (allRows % blocks !== 0) throw new Error(`${name}'s ${allRows} rows do not split in ${blocks} blocks`);
    const rows = allRows / blocks;
    const fwd = size;
    size += blocks * panels(rows, cols);
    const bwd = backward ? size : -1;
    if (backward) size += blocks * panels(cols, rows);
    for (let b = 0; b < blocks; b++) {
      entries.push({ name, offset: spec.offset + b * rows * cols, rows, cols, fwd: fwd + b * panels(rows, cols), bwd: backward ? bwd + b * panels(cols, rows) : -1 });
    }
  }
  return { entries, size };
}

/** The copy's table for packMatrices, a row of PANEL_ROW int32s per matrix (assembly/interface.ts), and its size. */
export function panelCopies(plan: { entries: readonly PanelEntry[]; size: number }): WeightCopies {
  const table = new Int32Array(plan.entries.length * PANEL_ROW);
  plan.entries.forEach((e, m) => {
    const row = table.subarray(m * PANEL_ROW);
    row[PANEL_OFFSET] = e.offset;
    row[PANEL_ROWS] = e.rows;
    row[PANEL_COLS] = e.cols;
    row[PANEL_FWD] = e.fwd;
    row[PANEL_BWD] = e.bwd;
  });
  return { table, size: plan.size };
}
