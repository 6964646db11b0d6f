import { product, type ShapeEntry } from './cell.js';
import {
  checkSequenceArgs as checkArgs, gatedShapeTable, gatedStateTable, type GatedShape, type StackedDims as ShapeDims, type StackedLayout as ShapeLayout,
} from './gated-shape.js';
import { CELL_NAMES, findCell, type GatedCellName } from './registry.js';
import type { FloatArray } from '../precision.js';

/**
 * The gated cells' tensors by cell name: each registered gated cell's shape (gated-shape.ts) as its
 * descriptor states it, so that a cell added to the registry is known here without a line here.
 */

export { maskSize, stackedViewsOf, type GatedShape, type LayerViews, type ShapeEntry, type StackedViews } from './gated-shape.js';

/** The names of the registered gated cells ('lstm', 'gru', ...). */
export type CellKind = GatedCellName;

/** L layers of H units of a registered gated cell over a vocabulary of K symbols. */
export interface StackedDims extends ShapeDims {
  readonly cell: CellKind;
}

export interface StackedLayout extends ShapeLayout {
  readonly dims: StackedDims;
}

/** The shape of the gated cell called `cell`; a RangeError naming the gated cells for any other name. */
export function gatedShapeOf(cell: string): GatedShape {
  const descriptor = findCell(cell);
  if (descriptor === undefined || !('shape' in descriptor)) {
    const gated = CELL_NAMES.filter((name) => 'shape' in findCell(name)!);
    throw new RangeError(`cell must be one of ${gated.map((name) => `'${name}'`).join(', ')}, not ${String(cell)}`);
  }
  return descriptor.shape as GatedShape;
}

/** G: gate rows per unit of each gated cell, 4 for the LSTM (i, f, g, o), 3 for the GRU (r, z, n). */
export const GATES: Readonly<Record<CellKind, number>> = Object.fromEntries(
  CELL_NAMES.filter((name) => 'shape' in findCell(name)!).map((name) => [name, gatedShapeOf(name).gates]),
) as Record<CellKind, number>;

/** THE table of a gated cell's parameters (gated-shape.ts gatedShapeTable). */
export function stackedShapeTable(dims: StackedDims): readonly ShapeEntry[] {
  return gatedShapeTable(gatedShapeOf(dims.cell), dims);
}

/** The recurrent state of one stream, in PyTorch's (h_n, c_n) order: the LSTM's h then c, the GRU's h, each (L, H). */
export function stateShapeTable(dims: StackedDims): readonly ShapeEntry[] {
  return gatedStateTable(gatedShapeOf(dims.cell), dims);
}

/** Entries of one stream's state: (S, L, H) with S = 2 (LSTM) or 1 (GRU). */
export function stateSize(dims: StackedDims): number {
  return stateShapeTable(dims).reduce((sum, [, shape]) => sum + product(shape), 0);
}

export function stackedLayout(dims: StackedDims): StackedLayout {
  let offset = 0;
  const specs = stackedShapeTable(dims).map(([name, shape]) => {
    const spec = { name, shape, offset, size: product(shape) };
    offset += spec.size;
    return spec;
  });
  const { cell, L, H, K } = dims;
  return { dims: { cell, L, H, K }, specs, size: offset };
}

/** Throws a RangeError naming what is wrong when a sequence's arguments do not fit the dims. */
export function checkSequenceArgs(dims: StackedDims, T: number, ids: ArrayLike<number>, start: number, state: Float64Array, masks: FloatArray | null): void {
  checkArgs(gatedShapeOf(dims.cell), dims, T, ids, start, state, masks);
}
