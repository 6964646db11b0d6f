import type { FloatArray } from '../precision.js';
import { product, type CellName, type ShapeEntry, type TensorSpec } from './cell.js';

/**
 * Parameters, state and dropout masks of a stack of L gated layers (LSTM, GRU, MGU) under one
 * output layer, for a cell whose shape is given: stacked-layout.ts finds a registered cell's shape
 * by its name. The layer tensors are PyTorch's nn.LSTM / nn.GRU parameters, by name, shape and
 * order (gate rows i, f, g, o or r, z, n; row-major), so that a checkpoint's flat vector can be
 * loaded into nn.LSTM(K, H, L) / nn.GRU(K, H, L) fed one-hot inputs, with V and c as an
 * nn.Linear(H, K).
 */

/** What tells one gated cell's tensors from another's: its reference math states it (gru.ts, lstm.ts, mgu.ts). */
export interface GatedShape {
  /** G: gate rows per unit, 4 for the LSTM (i, f, g, o), 3 for the GRU (r, z, n). */
  readonly gates: number;
  /** The vectors of one layer's state, each (H), in PyTorch's (h_n, c_n) order: ['h'] or ['h', 'c']. */
  readonly state: readonly string[];
  /**
   * Row blocks of weight_hh that the kernels multiply apart, each by its own vector (1 where the
   * whole W_hh multiplies h): the packed copy holds each block's panels (stacked-cell.ts).
   */
  readonly recurrentBlocks: number;
}

/** L layers of H units over a vocabulary of K symbols. */
export interface StackedDims {
  readonly cell: CellName;
  readonly L: number;
  readonly H: number;
  readonly K: number;
}

export type { ShapeEntry };

export interface StackedLayout {
  readonly dims: StackedDims;
  readonly specs: readonly TensorSpec[];
  /** Total number of parameters: the length of every flat buffer with this layout. */
  readonly size: number;
}

/** One layer's tensors: (G·H, In), (G·H, H), (G·H), (G·H), with In = K for layer 0, else H. */
export interface LayerViews {
  readonly Wih: FloatArray;
  readonly Whh: FloatArray;
  readonly bih: FloatArray;
  readonly bhh: FloatArray;
}

/**
 * Named views into one flat buffer (parameters, gradients or optimizer state alike): Float32Array
 * views of a float32 model's weight copy and gradient slots, Float64Array views otherwise.
 */
export interface StackedViews {
  readonly layers: readonly LayerViews[]; // (L)
  readonly V: FloatArray; // (K, H)
  readonly c: FloatArray; // (K)
}

/**
 * THE table: every view, gradient, optimizer state, checkpoint shape and the Python loader derive
 * from it. Per layer l, PyTorch's state_dict order; then the output layer.
 */
export function gatedShapeTable(shape: GatedShape, dims: StackedDims): readonly ShapeEntry[] {
  const { L, H, K } = checkDims(dims);
  const G = shape.gates;
  const table: ShapeEntry[] = [];
  for (let l = 0; l < L; l++) {
    const In = l === 0 ? K : H; // layer 0 reads the one-hot symbol: W_ih x is a column of weight_ih_l0
    table.push(
      [`weight_ih_l${l}`, [G * H, In]],
      [`weight_hh_l${l}`, [G * H, H]],
      [`bias_ih_l${l}`, [G * H]],
      [`bias_hh_l${l}`, [G * H]],
    );
  }
  table.push(['V', [K, H]], ['c', [K]]);
  return table;
}

/** The recurrent state of one stream, carried from one sequence to the next: each of the shape's vectors, (L, H). */
export function gatedStateTable(shape: GatedShape, dims: StackedDims): readonly ShapeEntry[] {
  const { L, H } = checkDims(dims);
  return shape.state.map((name): ShapeEntry => [name, [L, H]]);
}

/** Entries of one stream's state: (S, L, H) with S the shape's state vectors. */
export function gatedStateSize(shape: GatedShape, dims: StackedDims): number {
  return gatedStateTable(shape, dims).reduce((sum, [, s]) => sum + product(s), 0);
}

/**
 * Entries of a sequence's dropout masks: (L, T, H). Row (l, t) multiplies layer l's output h_t on
 * its way up, as the input of layer l + 1, or of the output layer for l = L - 1; each entry is 0
 * or 1 / (1 - p). The recurrent h is never dropped.
 */
export function maskSize(dims: StackedDims, T: number): number {
  return dims.L * T * dims.H;
}

export function stackedViewsOf(flat: FloatArray, layout: StackedLayout): StackedViews {
  if (flat.length !== layout.size) {
    throw new RangeError(`flat buffer has ${flat.length} entries, layout needs ${layout.size}`);
  }
  const byName = new Map(layout.specs.map((spec) => [spec.name, flat.subarray(spec.offset, spec.offset + spec.size)]));
  const view = (name: string): FloatArray => {
    const found = byName.get(name);
    if (found === undefined) throw new Error(`the layout table has no tensor named ${name}`);
    return found;
  };
  const layers: LayerViews[] = [];
  for (let l = 0; l < layout.dims.L; l++) {
    layers.push({ Wih: view(`weight_ih_l${l}`), Whh: view(`weight_hh_l${l}`), bih: view(`bias_ih_l${l}`), bhh: view(`bias_hh_l${l}`) });
  }
  return { layers, V: view('V'), c: view('c') };
}

function checkDims(dims: StackedDims): StackedDims {
  for (const key of ['L', 'H', 'K'] as const) {
    const value = dims[key];
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${key} must be a positive integer, not ${value}`);
  }
  return dims;
}

/** Throws a RangeError naming what is wrong when a sequence's arguments do not fit the dims. */
export function checkSequenceArgs(
  shape: GatedShape,
  dims: StackedDims,
  T: number,
  ids: ArrayLike<number>,
  start: number,
  state: Float64Array,
  masks: FloatArray | null,
): void {
  if (ids.length < start + T + 1) {
    throw new RangeError(`${T} predictions from position ${start} need ${start + T + 1} symbols, ids has ${ids.length}`);
  }
  const S = gatedStateSize(shape, dims);
  if (state.length !== S) throw new RangeError(`state has ${state.length} entries, a ${dims.cell} stream needs ${S} (S, L, H)`);
  if (masks !== null && masks.length !== maskSize(dims, T)) {
    throw new RangeError(`masks have ${masks.length} entries, T = ${T} needs ${maskSize(dims, T)} (L, T, H); pass null for no dropout`);
  }
}
