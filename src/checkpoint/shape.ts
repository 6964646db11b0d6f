import { paramLayout } from '../model/layout.js';

/** The sizes a checkpoint's parts must agree on, whichever side (encoder or decoder) reads them. */
export interface Shape {
  readonly H: number;
  readonly K: number;
  readonly B: number;
  readonly vocab: number; // code points listed
  readonly params: number; // float64s
  readonly adagradMemory: number;
  readonly hidden: number;
  readonly prngState: number; // words
  readonly corpusSha256: number; // bytes
}

/** What is inconsistent about shape, as a phrase for an error message; undefined when nothing is. */
export function shapeProblem(shape: Shape): string | undefined {
  const { H, K, B } = shape;
  for (const [name, value] of [['H', H], ['K', K], ['streams', B]] as const) {
    if (!(Number.isSafeInteger(value) && value >= 1)) return `its ${name} is ${value}, not a positive integer`;
  }
  if (shape.vocab !== K) return `its vocabulary lists ${shape.vocab} symbols but K is ${K}`;
  const P = paramLayout({ H, K }).size;
  const tensors = [
    ['params', shape.params, P, `H=${H}, K=${K}`],
    ['AdaGrad memory', shape.adagradMemory, P, `H=${H}, K=${K}`],
    ['hidden states', shape.hidden, B * H, `${B} streams of H=${H}`],
  ] as const;
  for (const [name, actual, expected, because] of tensors) {
    if (actual !== expected) return `its ${name} hold ${actual} numbers but ${because} need ${expected}`;
  }
  if (shape.prngState !== 4) return `its PRNG state has ${shape.prngState} words, not 4`;
  if (shape.corpusSha256 !== 32) return `its corpus SHA-256 has ${shape.corpusSha256} bytes, not 32`;
  return undefined;
}
