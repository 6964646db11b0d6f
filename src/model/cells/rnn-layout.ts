/** Model dimensions: H hidden units, K symbols in the vocabulary. */
export interface Dims {
  readonly H: number;
  readonly K: number;
}

export type ParamName = 'W' | 'U' | 'V' | 'b' | 'c';

export interface ParamSpec {
  readonly name: ParamName;
  readonly rows: number;
  readonly cols: number;
  /** A bias (b, c): a vector even where it has one row, as W does when H = 1. */
  readonly vector: boolean;
  readonly offset: number;
  readonly size: number;
}

export interface Layout {
  readonly dims: Dims;
  readonly specs: readonly ParamSpec[];
  /** Total number of parameters: the length of every flat buffer with this layout. */
  readonly size: number;
}

/** Named views into one flat buffer (parameters, gradients or AdaGrad accumulators alike). */
export type ParamViews = Readonly<Record<ParamName, Float64Array>>;

/** The one table every view, gradient, optimizer state and checkpoint derives from (row-major). */
function shapeTable({ H, K }: Dims): readonly [ParamName, number, number][] {
  return [
    ['W', H, H], // hidden to hidden
    ['U', H, K], // input to hidden: U x_t is column x_t
    ['V', K, H], // hidden to output
    ['b', H, 1], // vectors: cols 1 and `vector` set
    ['c', K, 1],
  ];
}

export function paramLayout(dims: Dims): Layout {
  let offset = 0;
  const specs = shapeTable(dims).map(([name, rows, cols]) => {
    const spec = { name, rows, cols, vector: name === 'b' || name === 'c', offset, size: rows * cols };
    offset += spec.size;
    return spec;
  });
  return { dims: { H: dims.H, K: dims.K }, specs, size: offset };
}

export function viewsOf(flat: Float64Array, layout: Layout): ParamViews {
  if (flat.length !== layout.size) {
    throw new RangeError(`flat buffer has ${flat.length} entries, layout needs ${layout.size}`);
  }
  const views = {} as Record<ParamName, Float64Array>;
  for (const spec of layout.specs) views[spec.name] = flat.subarray(spec.offset, spec.offset + spec.size);
  return views;
}
