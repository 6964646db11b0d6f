import type { Kernels } from '../kernels.js';
import type { OptimizerName } from '../optimizers.js';
import type { Dtype, FloatArray, Precision } from '../precision.js';
import type { Prng } from '../prng.js';

/**
 * What the engine knows about a kind of recurrent cell, and all it knows: the trainer, the
 * workers, the checkpoint code and the sampler reach a cell only through its descriptor (one
 * per cell, listed in registry.ts), and never name one.
 */

/** A cell's name in the registry (registry.ts), as the CLI and checkpoints spell it. */
export type CellName = string;

/** L layers of H units over a vocabulary of K symbols. */
export interface ModelDims {
  readonly cell: CellName;
  readonly L: number;
  readonly H: number;
  readonly K: number;
}

/** A tensor's name and its shape: [rows, cols] for a matrix (row-major), [n] for a vector. */
export type ShapeEntry = readonly [name: string, shape: readonly number[]];

export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly size: number;
}

/** Where each tensor lies in the one flat buffer that parameters, gradients and optimizer state share. */
export interface ModelLayout {
  readonly dims: ModelDims;
  readonly specs: readonly TensorSpec[];
  /** P: the length of every flat buffer with this layout. */
  readonly size: number;
}

/**
 * Byte offsets in the kernels' memory of the model: params (P, float64), the weights as the kernels
 * read them (params itself in float64, their float32 copy in float32), the packed copy
 * (WeightCopies) and the cell's offset table; and the kernels' precision.
 */
export interface ModelBuffers {
  readonly dtype: Dtype;
  readonly params: number;
  readonly weights: number;
  readonly copies: number;
  readonly offs: number;
}

/**
 * The copy of the weight matrices that the kernels read, refreshed from the parameters after every
 * update: packed in panels for the products (panels.ts; assembly/cells/primitives.ts packMatrix).
 */
export interface WeightCopies {
  readonly table: Int32Array; // rows of (offset, rows, cols, fwd, bwd)
  readonly size: number; // entries in the kernels' precision
}

/**
 * Byte offsets of what one training call reads and writes: a group of n consecutive streams, the
 * first of them even, so that the group covers whole pairs (2p, 2p + 1) and their gradient slots.
 */
export interface GroupBuffers {
  readonly ids: number; // (n, T+1) int32
  readonly state: number; // (n, S): each stream's carried state, updated
  readonly masks: number; // (n, L, T, H) dropout masks, or 0 for none
  readonly grad: number; // (ceil(n/2), P): slot p overwritten with the sum of its pair's gradients, stream 2p's first
  readonly losses: number; // (n): each stream's summed loss, nats
  readonly scratch: number; // kernelSizes().groupScratch bytes
}

/** Byte offsets of what one scoring call reads and writes. */
export interface ScoreBuffers {
  readonly ids: number; // (n+1) int32
  readonly state: number; // (S), updated
  readonly scratch: number; // kernelSizes().scoreScratch bytes
}

/** Byte offsets of what one sampling step of n streams reads and writes. */
export interface StepBuffers {
  readonly ids: number; // (n) int32: each stream's next symbol
  readonly state: number; // (n, S) float64, updated
  readonly logits: number; // (n, K) float64: each stream's scores o = V h + c
  readonly scratch: number; // kernelSizes().stepScratch bytes
}

export interface KernelSizes {
  /** Streams per training call, even: the kernels share each weight load among them. */
  readonly groupStreams: number;
  /** Bytes of scratch for one group of streams of T steps. */
  readonly groupScratch: number;
  /** Predictions per scoring call: scoring a text in chunks of this many gives the same bits wherever it runs. */
  readonly scoreChunk: number;
  readonly scoreScratch: number;
  /** Bytes of scratch for a sampling step of up to STEP_STREAMS streams; 0 where the cell has no step kernels. */
  readonly stepScratch: number;
}

/** Streams a sampling step runs in lockstep at most: each weight load serves all of them. */
export { STEP_STREAMS } from '../../../assembly/interface.js';

/** The cell's WebAssembly entry points, bound to one kernel instance and one model in its memory. */
export interface CellKernels {
  /** Forward and BPTT of n (1 to groupStreams) consecutive streams of T steps. */
  trainGroup(at: GroupBuffers, n: number): void;
  /** Forward only over n <= scoreChunk predictions ids[t] -> ids[t+1]: returns loss plus their summed loss. */
  score(at: ScoreBuffers, n: number, loss: number): number;
  /** Sampling, where the cell has step kernels: n (1 to STEP_STREAMS) streams each read one symbol, as the stepper's feed. */
  readonly step?: (at: StepBuffers, n: number) => void;
  /** Each of n streams' scores after its state, as the stepper's scores(). */
  readonly logits?: (at: StepBuffers, n: number) => void;
}

/**
 * The cell's TypeScript reference math over sequences of T steps, on flat buffers in the layout:
 * the readable statement of the math, and the oracle the kernels and the gradient check are held
 * to. state (S) is read as the initial state and overwritten with the final one; masks (L, T, H)
 * or null for no dropout; grad is ADDED to. In float32, params is a Float32Array of the rounded
 * weights, state holds float32 numbers, masks hold fround(1 / (1 - p)), and the losses stay float64.
 */
export interface ReferenceMath {
  loss(params: FloatArray, ids: ArrayLike<number>, start: number, state: Float64Array, masks: FloatArray | null): number;
  lossAndGrad(params: FloatArray, grad: FloatArray, ids: ArrayLike<number>, start: number, state: Float64Array, masks: FloatArray | null): number;
}

/** One stream's state fed symbol by symbol, for sampling; the scores are o = V h + c of the top layer. */
export interface Stepper {
  readonly state: Float64Array; // (S)
  feed(id: number): void;
  /** The scores after the current state, (K), in an array the stepper owns and rewrites on every call. */
  scores(): Float64Array;
}

/** What a run of the cell trains with unless told (char-rnn train's defaults that depend on the cell). */
export interface CellDefaults {
  readonly layers: number;
  readonly hidden: number;
  readonly seqLength: number;
  readonly streams: number;
  readonly optimizer: OptimizerName;
}

export interface CellDescriptor {
  readonly name: CellName;
  /** One line for --help and the README. */
  readonly summary: string;
  readonly defaults: CellDefaults;
  /** Whether the cell takes more than one layer and dropout. */
  readonly stacks: boolean;
  /** The precisions its kernels compute in, the default first: chosen by time to quality (docs/benchmarks.md, "Precision"). */
  readonly dtypes: readonly Dtype[];
  /** THE parameter table: every view, gradient, optimizer state, checkpoint shape and kernel offset derives from it. */
  paramTable(dims: ModelDims): readonly ShapeEntry[];
  /** One stream's recurrent state, carried from one sequence to the next. */
  stateTable(dims: ModelDims): readonly ShapeEntry[];
  /** A new model's parameters, drawn from prng in layout order. */
  init(params: Float64Array, layout: ModelLayout, prng: Prng): void;
  /** Floating-point operations to train on one character (forward and backward), for the benchmark. */
  trainFlopsPerChar(dims: ModelDims): number;
  /** The reference math in a precision, float64 unless asked (the rnn has float64 only). */
  reference(layout: ModelLayout, T: number, precision?: Precision): ReferenceMath;
  /**
   * Predictions whose losses the kernels sum on their own, from zero, before adding that sum to
   * the running total: scoring with the reference math in such chunks gives the kernels' bits.
   */
  readonly lossChunk: number;
  /** The int32 table this cell's kernels find their tensors by (may be empty). */
  kernelOffsets(layout: ModelLayout, precision: Precision): Int32Array;
  weightCopies(layout: ModelLayout, precision: Precision): WeightCopies;
  kernelSizes(kernels: Kernels, dims: ModelDims, T: number): KernelSizes;
  bindKernels(kernels: Kernels, layout: ModelLayout, T: number, model: ModelBuffers): CellKernels;
  /** A stepper computing in a precision, float64 unless asked; params are the float64 weights. */
  createStepper(params: Float64Array, layout: ModelLayout, precision?: Precision): Stepper;
}

export function modelLayout(cell: CellDescriptor, dims: ModelDims): ModelLayout {
  let offset = 0;
  const specs = cell.paramTable(dims).map(([name, shape]) => {
    const spec = { name, shape, offset, size: product(shape) };
    offset += spec.size;
    return spec;
  });
  return { dims: { cell: dims.cell, L: dims.L, H: dims.H, K: dims.K }, specs, size: offset };
}

/** Entries of one stream's state. */
export function stateLength(cell: CellDescriptor, dims: ModelDims): number {
  return cell.stateTable(dims).reduce((sum, [, shape]) => sum + product(shape), 0);
}

/** The layout's entry for the tensor named `name`. */
export function tensorSpec(layout: ModelLayout, name: string): TensorSpec {
  const spec = layout.specs.find((s) => s.name === name);
  if (spec === undefined) throw new Error(`the ${layout.dims.cell} layout has no tensor named ${name}`);
  return spec;
}

export function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
