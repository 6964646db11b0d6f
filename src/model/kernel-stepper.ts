import { modelLayout, stateLength, STEP_STREAMS, type CellDescriptor, type ModelDims, type ModelLayout, type Stepper } from './cells/cell.js';
import { cellNamed } from './cells/registry.js';
import { placeSnapshot } from './kernel-memory.js';
import { kernelsAvailable, type Engine } from './kernels.js';
import { precisionOf, type Dtype } from './precision.js';

/**
 * n streams of one model fed symbol by symbol in lockstep, each exactly as the cell's stepper
 * (cell.createStepper) fed alone: the sampler's engine. A gated cell steps on its WebAssembly
 * kernels, all n streams in one call, so that each weight load serves all of them; where the
 * kernels cannot run (a browser page without cross-origin isolation) and for the rnn, whose
 * stepper has a kernel of its own, each stream is the cell's stepper.
 */
export interface StepperGroup {
  /** Each stream's state (S), which the caller may set before the first feed. */
  readonly states: readonly Float64Array[];
  /** Stream s reads ids[s]. */
  feed(ids: ArrayLike<number>): void;
  /** Each stream's scores o = V h + c (K) after its state, in arrays the group owns and rewrites on every call. */
  scores(): readonly Float64Array[];
}

/** A group of n (1 to STEP_STREAMS) streams, each from a zero state; params are the float64 weights, copied. */
export function createStepperGroup(params: Float64Array, dims: ModelDims, dtype: Dtype, n: number, engine: Engine = 'auto'): StepperGroup {
  if (!(Number.isInteger(n) && n >= 1 && n <= STEP_STREAMS)) throw new RangeError(`a stepper group runs 1 to ${STEP_STREAMS} streams, not ${n}`);
  const cell = cellNamed(dims.cell);
  const layout = modelLayout(cell, dims);
  if (params.length !== layout.size) throw new RangeError(`params has ${params.length} entries, a ${dims.cell} of L=${dims.L} H=${dims.H} K=${dims.K} needs ${layout.size}`);
  if (engine === 'auto' && cell.stacks && kernelsAvailable(dtype)) return kernelGroup(cell, layout, params, dtype, n);
  const steppers = Array.from({ length: n }, () => cell.createStepper(params, layout, precisionOf(dtype)));
  return {
    states: steppers.map((stepper) => stepper.state),
    feed: (ids) => steppers.forEach((stepper, s) => stepper.feed(ids[s])),
    scores: () => steppers.map((stepper) => stepper.scores()),
  };
}

/** One stream of a group, as a Stepper: what the in-training sample and sampleWith take. */
export function createFastStepper(params: Float64Array, dims: ModelDims, dtype: Dtype, engine: Engine = 'auto'): Stepper {
  const group = createStepperGroup(params, dims, dtype, 1, engine);
  const id = new Int32Array(1);
  return {
    state: group.states[0],
    feed: (x) => {
      id[0] = x;
      group.feed(id);
    },
    scores: () => group.scores()[0],
  };
}

function kernelGroup(cell: CellDescriptor, layout: ModelLayout, params: Float64Array, dtype: Dtype, n: number): StepperGroup {
  const { K } = layout.dims;
  const S = stateLength(cell, layout.dims);
  const { memory, bound, at } = placeSnapshot(cell, layout, params, dtype, (sizes) => ({ ids: n * 4, state: n * S * 8, logits: n * K * 8, scratch: sizes.stepScratch }));
  const { step, logits } = bound;
  if (step === undefined || logits === undefined) throw new Error(`the ${cell.name} cell has no step kernels`);
  const ids = new Int32Array(memory.buffer, at.ids, n);
  const states = Array.from({ length: n }, (_, s) => new Float64Array(memory.buffer, at.state + s * S * 8, S));
  const scores = Array.from({ length: n }, (_, s) => new Float64Array(memory.buffer, at.logits + s * K * 8, K));
  return {
    states,
    feed: (next) => {
      for (let s = 0; s < n; s++) {
        const id = next[s];
        // the kernels read the weights' column `id` unchecked: an id out of range would read other memory
        if (!(Number.isInteger(id) && id >= 0 && id < K)) throw new RangeError(`symbol id ${id} is outside [0, ${K})`);
        ids[s] = id;
      }
      step(at, n);
    },
    scores: () => {
      logits(at, n);
      return scores;
    },
  };
}
