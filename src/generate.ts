import type { RunnableModel } from './checkpoint/data.js';
import { UserError } from './errors.js';
import { modelLayout, stateLength, STEP_STREAMS } from './model/cells/cell.js';
import { cellNamed } from './model/cells/registry.js';
import { createStepperGroup } from './model/kernel-stepper.js';
import { Prng } from './model/prng.js';
import { checkSamplingRule, drawFromScores, type SamplingRule } from './model/sample.js';
import { describeUnknown, encodeKnown } from './symbols.js';
import { TextChunks } from './text-chunks.js';

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

/** Options of sampleMany(): those of sample(), and how many samples. */
export interface SampleManyOptions extends SampleOptions {
  /**
   * Samples to draw, an integer >= 1; default 1. Sample i (from 0) is exactly what sample() gives
   * with the seed (seed + i) mod 2^32, so that each can be made again alone.
   */
  readonly count?: number;
}

/** Options of generateStream(): those of sample(), and a signal that stops it. */
export interface StreamOptions extends SampleOptions {
  /** Once aborted, the stream throws the signal's reason before its next chunk. */
  readonly signal?: AbortSignal;
}

const MAX_SEED = 0xffffffff;

/** A random uint32 seed, from the platform's cryptographic generator (Web Crypto: Node and browsers alike). */
export function randomSeed(): number {
  return globalThis.crypto.getRandomValues(new Uint32Array(1))[0];
}

/**
 * Samples text from the model in a checkpoint: the prime (if any) and then `length` drawn
 * characters, as one string. See generate() for the chunks of the same text.
 */
export function sample(checkpoint: RunnableModel, options: SampleOptions = {}): string {
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
export function generate(checkpoint: RunnableModel, options: SampleOptions = {}): Generator<string, void, undefined> {
  const plan = planOf(checkpoint, options);
  return onlyStream(lockstepChunks(plan, [plan.seed]));
}

/**
 * `count` samples (options.count, default 1) drawn as streams in lockstep, up to four at once,
 * each one's text exactly sample()'s with its own seed (see SampleManyOptions.count).
 */
export function sampleMany(checkpoint: RunnableModel, options: SampleManyOptions = {}): string[] {
  const count = options.count ?? 1;
  if (!(Number.isSafeInteger(count) && count >= 1)) throw new RangeError(`count must be an integer >= 1, got ${count}`);
  const plan = planOf(checkpoint, options);
  const texts: string[][] = Array.from({ length: count }, () => []);
  for (let first = 0; first < count; first += STEP_STREAMS) {
    const seeds = Array.from({ length: Math.min(STEP_STREAMS, count - first) }, (_, s) => (plan.seed + first + s) % (MAX_SEED + 1));
    for (const chunks of lockstepChunks(plan, seeds)) chunks.forEach((chunk, s) => texts[first + s].push(chunk));
  }
  return texts.map((chunks) => chunks.join(''));
}

/**
 * The chunks of generate() as an async stream, which gives the event loop a turn between chunks
 * (a page stays responsive, a server serves others); options.signal stops it.
 */
export async function* generateStream(checkpoint: RunnableModel, options: StreamOptions = {}): AsyncGenerator<string, void, undefined> {
  const { signal } = options;
  signal?.throwIfAborted();
  for (const chunk of generate(checkpoint, options)) {
    yield chunk;
    await nextTurn();
    signal?.throwIfAborted();
  }
}

/**
 * A turn of the event loop that lets I/O in. In Node setImmediate, which runs after the poll for
 * I/O: a setTimeout(0) there starved it with several streams at once (a timer set while the timers
 * run came due at once). In a browser a message posted to itself, a task of its own after input
 * and network events, where a nested setTimeout(0) is clamped to 4 ms.
 */
function nextTurn(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;
  if (immediate !== undefined) return new Promise<void>((resolve) => immediate(resolve));
  if (typeof MessageChannel === 'function') {
    return new Promise<void>((resolve) => {
      const { port1, port2 } = new MessageChannel();
      (port1 as unknown as { onmessage: (() => void) | null }).onmessage = () => {
        port1.close();
        resolve();
      };
      port2.postMessage(undefined);
    });
  }
  return new Promise<void>((resolve) => setTimeout(resolve, 0));
}

/** Everything a sampling walk needs, checked. */
interface SamplePlan {
  readonly checkpoint: RunnableModel;
  readonly prime: Uint32Array;
  readonly length: number;
  readonly rule: SamplingRule;
  readonly seed: number;
  /** Where every stream starts from: the checkpoint's stream 0 state, or zeros before a prime. */
  readonly start: Float64Array;
}

function planOf(checkpoint: RunnableModel, options: SampleOptions): SamplePlan {
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
  const start = prime.ids.length === 0 ? checkpoint.state.hidden.subarray(0, S) : new Float64Array(S);
  return { checkpoint, prime: prime.ids, length, rule, seed, start };
}

/** 'the prime has 2 characters not in the checkpoint's vocabulary: "é" (U+00E9), "😀" (U+1F600)' */
export function unknownCharacters(unknown: readonly number[]): string {
  return `the prime has ${describeUnknown(unknown)}`;
}

/**
 * The texts of seeds.length (1 to STEP_STREAMS) samples made in lockstep, a chunk of each at a
 * time: every stream reads the same prime and draws by its own seed. All chunks of one yield
 * hold the same number of code points, so they end together.
 */
function* lockstepChunks(plan: SamplePlan, seeds: readonly number[]): Generator<string[], void, undefined> {
  const { checkpoint, prime, length, rule } = plan;
  const { cell, L, H, K, vocab } = checkpoint.model;
  const n = seeds.length;
  const group = createStepperGroup(checkpoint.state.params, { cell, L, H, K }, checkpoint.options.dtype, n);
  for (const state of group.states) state.set(plan.start);
  const prngs = seeds.map((seed) => Prng.fromSeed(seed));
  const texts = seeds.map(() => new TextChunks(vocab));
  const order = new Uint32Array(K);
  const ids = new Int32Array(n);
  const take = (): string[] => texts.map((text) => text.take());
  for (const id of prime) {
    ids.fill(id);
    group.feed(ids);
    texts.forEach((text) => text.push(id));
    if (texts[0].full) yield take();
  }
  for (let step = 0; step < length; step++) {
    const scores = group.scores();
    for (let s = 0; s < n; s++) {
      ids[s] = drawFromScores(scores[s], order, rule, prngs[s]);
      texts[s].push(ids[s]);
    }
    if (texts[0].full) yield take();
    if (step + 1 < length) group.feed(ids);
  }
  if (texts[0].size > 0) yield take();
}

function* onlyStream(chunks: Generator<string[], void, undefined>): Generator<string, void, undefined> {
  for (const [chunk] of chunks) yield chunk;
}
