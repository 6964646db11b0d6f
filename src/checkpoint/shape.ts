import { MAX_LAYERS } from '../train-options.js';
import { modelLayout, stateLength } from '../model/cells/cell.js';
import { findCell } from '../model/cells/registry.js';

/** The sizes a checkpoint's parts must agree on, whichever side (encoder or decoder) reads them. */
export interface Shape {
  readonly cell: string;
  readonly L: number;
  readonly H: number;
  readonly K: number;
  readonly B: number;
  readonly vocab: number; // code points listed
  readonly params: number; // float64s
  readonly optimizerState: number;
  readonly optimizerBuffers: number; // P-long buffers of the optimizer's state
  readonly hidden: number;
  readonly prngState: number; // words
  readonly corpusSha256: number; // bytes
}

/** What is inconsistent about shape, as a phrase for an error message; undefined when nothing is. */
export function shapeProblem(shape: Shape): string | undefined {
  const { cell: name, L, H, K, B } = shape;
  const cell = findCell(name);
  if (cell === undefined) return `its cell is '${name}', which no char-rnn knows`;
  for (const [field, value] of [['layer count', L], ['H', H], ['K', K], ['streams', B]] as const) {
    if (!(Number.isSafeInteger(value) && value >= 1)) return `its ${field} is ${value}, not a positive integer`;
  }
  if (L > (cell.stacks ? MAX_LAYERS : 1)) return `its ${name} model has ${L} layers, more than ${cell.stacks ? MAX_LAYERS : 1}`;
  if (shape.vocab !== K) return `its vocabulary lists ${shape.vocab} symbols but K is ${K}`;
  const dims = { cell: name, L, H, K };
  const P = modelLayout(cell, dims).size;
  const model = `${name} ${L === 1 ? '' : `L=${L}, `}H=${H}, K=${K}`;
  const tensors = [
    ['params', shape.params, P, model],
    ['optimizer state', shape.optimizerState, shape.optimizerBuffers * P, `${shape.optimizerBuffers} buffer${shape.optimizerBuffers === 1 ? '' : 's'} of ${model}`],
    ['hidden states', shape.hidden, B * stateLength(cell, dims), `${B} streams of ${model}`],
  ] as const;
  for (const [field, actual, expected, because] of tensors) {
    if (actual !== expected) return `its ${field} hold ${actual} numbers but ${because} need ${expected}`;
  }
  if (shape.prngState !== 4) return `its PRNG state has ${shape.prngState} words, not 4`;
  if (shape.corpusSha256 !== 32) return `its corpus SHA-256 has ${shape.corpusSha256} bytes, not 32`;
  return undefined;
}
