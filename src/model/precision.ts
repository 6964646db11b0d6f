/**
 * The arithmetic a model computes in: --dtype float64 (the default) or float32. In float32 the
 * activations, the products and the gradients are float32, while the master weights and the
 * optimizer's state stay float64 (mixed precision): the kernels read a float32 copy of the weights,
 * refreshed after every update, and the optimizer sums the float32 gradient slots in float64.
 *
 * The reference math is written once for both: every +, -, * and / is followed by round(), which is
 * the identity in float64 and Math.fround in float32 (a float64 operation on float32 operands,
 * rounded once to float32, is the float32 operation exactly). exp, tanh and sigmoid are the float64
 * functions of the float32 input, rounded once: what the float32 kernels compute on promoted lanes.
 */
export const DTYPES = ['float64', 'float32'] as const;
export type Dtype = (typeof DTYPES)[number];

export type FloatArray = Float64Array | Float32Array;

export interface Precision {
  readonly dtype: Dtype;
  /** Bytes per number in the kernels' activations, gradient slots, masks and weight copies. */
  readonly bytes: 8 | 4;
  /** The nearest number of this precision: after every arithmetic operation of the reference. */
  round(x: number): number;
  array(length: number): FloatArray;
}

/**
 * Both roundings come from one function literal. A call site that has seen two unrelated functions
 * (the identity and Math.fround) is megamorphic and never inlined, which made the float64 math ten
 * times slower once a process had also run float32; with one literal it stays inlined, at the cost
 * of a branch.
 */
const rounding = (f32: boolean) => (x: number): number => (f32 ? Math.fround(x) : x);

export const FLOAT64: Precision = { dtype: 'float64', bytes: 8, round: rounding(false), array: (length) => new Float64Array(length) };
export const FLOAT32: Precision = { dtype: 'float32', bytes: 4, round: rounding(true), array: (length) => new Float32Array(length) };

export function precisionOf(dtype: Dtype): Precision {
  return dtype === 'float32' ? FLOAT32 : FLOAT64;
}

export function isDtype(name: string): name is Dtype {
  return (DTYPES as readonly string[]).includes(name);
}

/** A view of `length` numbers at byte offset `at` of `buffer`, in the precision's type. */
export function floatView(precision: Precision, buffer: ArrayBufferLike, at: number, length: number): FloatArray {
  return precision.bytes === 4 ? new Float32Array(buffer, at, length) : new Float64Array(buffer, at, length);
}
