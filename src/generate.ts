import { randomInt } from 'node:crypto';
import type { CheckpointData } from './checkpoint/index.js';
import { UserError } from './errors.js';
import { modelLayout, stateLength, type Stepper } from './model/cells/cell.js';
import { cellNamed } from './model/cells/registry.js';
import { Prng } from './model/prng.js';
import { precisionOf } from './model/precision.js';
import { checkSamplingRule, drawFromScores, type SamplingRule } from './model/sample.js';
import { describeUnknown, encodeKnown } from './symbols.js';

/** Options of sample() and generate(); every one has a default. */
export interface SampleOptions {
  /** Characters (code points) to generate after the prime; an integer >= 0. Default 1000. */
  readonly length?: number;
  /** Finite, >= 0: the scores are divided by it before the softmax; 0 is greedy argmax. Default 1. */
  readonly temperature?: number;
  /** Draw only among the k most probable symbols (ties: the lower id); an integer >= 1. */
  readonly topK?: number;
  /** Nucleus sampling: draw only among the fewest most probable symbols whose probability reaches p; in (0, 1]. */
  readonly topP?: number;
  /** Text the hidden state is warmed up on before drawing; it starts the output. Default ''. */
  readonly prime?: string;
  /** A uint32; the same seed, checkpoint and options give the same text. Default: randomSeed(). */
  readonly seed?: number;
  /** Drop prime characters missing from the vocabulary instead of throwing. Default false. */
  readonly skipUnknown?: boolean;
}

/** Code points per chunk that generate() yields. */
const CHUNK_CODE_POINTS = 256;
const MAX_SEED = 0xffffffff;

/** A random uint32 seed, from the operating system's generator. */
export function randomSeed(): number {
  return randomInt(0, MAX_SEED + 1);
}

/**
 * Samples text from the model in a checkpoint: the prime (if any) and then `length` drawn
 * characters, as one string. See generate() for the chunks of the same text.
 */
export function sample(checkpoint: CheckpointData, options: SampleOptions = {}): string {
  const chunks: string[] = [];
  for (const chunk of generate(checkpoint, options)) chunks.push(chunk);
  return chunks.join('');
}

/**
 * The text of sample() in chunks of whole code points (a surrogate pair is never split), each
 * made as it is asked for, to stream a long text. Options are checked here, before the first chunk.
 *
 * Start: with a prime, the hidden state is zero, then takes in the prime symbol by symbol.
 * Without one, generation goes on from the state training left stream 0 in, as the seed sampled
 * from its hprev: a model rarely sees a zero state in training (only where a stream starts), and
 * from there it can fall into a run of rare symbols before it finds its way back to text.
 */
export function generate(checkpoint: CheckpointData, options: SampleOptions = {}): Generator<string, void, undefined> {
  const { cell: name, L, H, K, vocab } = checkpoint.model;
  const dims = { cell: name, L, H, K };
  const cell = cellNamed(name);
  const layout = modelLayout(cell, dims);
  if (checkpoint.state.params.length !== layout.size) {
    throw new RangeError(`the checkpoint has ${checkpoint.state.params.length} parameters, but a ${name} of L=${L}, H=${H} and K=${K} needs ${layout.size}`);
  }
  if (vocab.length !== K) throw new RangeError(`the checkpoint's vocabulary lists ${vocab.length} symbols, but K is ${K}`);
  const length = options.length ?? 1000;
  if (!(Number.isSafeInteger(length) && length >= 0)) throw new RangeError(`length must be an integer >= 0, got ${length}`);
  const rule = checkSamplingRule({ temperature: options.temperature ?? 1, topK: options.topK, topP: options.topP });
  const seed = options.seed ?? randomSeed();
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= MAX_SEED)) throw new RangeError(`seed must be an integer in [0, ${MAX_SEED}], got ${seed}`);
  const prime = encodeKnown(options.prime ?? '', vocab);
  if (prime.unknown.length > 0 && options.skipUnknown !== true) {
    throw new UserError(`${unknownCharacters(prime.unknown)} (use only characters the model was trained on, or set skipUnknown to drop them)`);
  }
  const S = stateLength(cell, dims);
  const stepper = cell.createStepper(checkpoint.state.params, layout, precisionOf(checkpoint.options.dtype));
  stepper.state.set(prime.ids.length === 0 ? checkpoint.state.hidden.subarray(0, S) : new Float64Array(S));
  return symbolChunks(stepper, vocab, prime.ids, length, rule, Prng.fromSeed(seed));
}

/** 'the prime has 2 characters not in the checkpoint's vocabulary: "é" (U+00E9), "😀" (U+1F600)' */
export function unknownCharacters(unknown: readonly number[]): string {
  return `the prime has ${describeUnknown(unknown)}`;
}

function* symbolChunks(
  stepper: Stepper,
  vocab: Uint32Array,
  prime: Uint32Array,
  length: number,
  rule: SamplingRule,
  prng: Prng,
): Generator<string, void, undefined> {
  const text = new TextChunks(vocab);
  const order = new Uint32Array(vocab.length);
  for (const id of prime) {
    stepper.feed(id);
    if (text.push(id)) yield text.take();
  }
  for (let n = 0; n < length; n++) {
    const id = drawFromScores(stepper.scores(), order, rule, prng);
    if (text.push(id)) yield text.take();
    if (n + 1 < length) stepper.feed(id);
  }
  if (text.size > 0) yield text.take();
}

/** Collects symbols as UTF-16 code units, a whole code point each, into one reused buffer. */
class TextChunks {
  private readonly units: Uint16Array; // (2K): symbol k is units[2k], then units[2k+1] if wide[k]
  private readonly wide: Uint8Array; // (K): 1 where the symbol is a surrogate pair
  private readonly buffer = new Uint16Array(2 * CHUNK_CODE_POINTS);
  private length = 0; // code units in buffer
  size = 0; // code points in buffer

  constructor(vocab: Uint32Array) {
    this.units = new Uint16Array(2 * vocab.length);
    this.wide = new Uint8Array(vocab.length);
    vocab.forEach((codePoint, k) => {
      const s = String.fromCodePoint(codePoint);
      this.units[2 * k] = s.charCodeAt(0);
      if (s.length === 2) {
        this.units[2 * k + 1] = s.charCodeAt(1);
        this.wide[k] = 1;
      }
    });
  }

  /** Appends symbol id; returns whether the chunk is full. */
  push(id: number): boolean {
    this.buffer[this.length++] = this.units[2 * id];
    if (this.wide[id] === 1) this.buffer[this.length++] = this.units[2 * id + 1];
    return ++this.size === CHUNK_CODE_POINTS;
  }

  take(): string {
    const chunk = String.fromCharCode.apply(null, this.buffer.subarray(0, this.length) as unknown as number[]);
    this.length = 0;
    this.size = 0;
    return chunk;
  }
}
