import type { Dims, ParamViews } from './cells/rnn-layout.js';
import { hiddenStep, logits } from './cells/rnn.js';
import { tanh } from './tanh.js';
import type { Prng } from './prng.js';
import type { Stepper } from './cells/cell.js';
import { createMatVecKernel, type MatVecKernel } from './cells/rnn-matvec.js';

/**
 * How the next symbol is drawn from the scores o = V h + c (K):
 *   p = softmax(o / temperature), cut to the topK most probable symbols, then to the smallest set
 *   of most probable symbols whose probability (renormalized after the top-k cut) reaches topP,
 *   and renormalized. Ties between equal probabilities go to the lower symbol id.
 */
export interface SamplingRule {
  /** Finite, >= 0; 0 takes the most probable symbol (the lowest id among equals) and draws nothing. */
  readonly temperature: number;
  /** Integer >= 1; undefined (or >= K) keeps every symbol. */
  readonly topK?: number | undefined;
  /** In (0, 1]; undefined or 1 keeps every symbol. */
  readonly topP?: number | undefined;
}

/** Throws a RangeError naming the first option that is out of range; returns the rule unchanged. */
export function checkSamplingRule(rule: SamplingRule): SamplingRule {
  const { temperature, topK, topP } = rule;
  if (!(Number.isFinite(temperature) && temperature >= 0)) {
    throw new RangeError(`temperature must be a finite number >= 0 (0 means greedy), got ${temperature}`);
  }
  if (topK !== undefined && !(Number.isSafeInteger(topK) && topK >= 1)) {
    throw new RangeError(`topK must be an integer >= 1, got ${topK}`);
  }
  if (topP !== undefined && !(topP > 0 && topP <= 1)) {
    throw new RangeError(`topP must be in (0, 1], got ${topP}`);
  }
  return rule;
}

/** Everything one sampling walk writes, allocated once so that each symbol allocates nothing. */
export interface SampleWorkspace {
  readonly h: Float64Array; // (H): the hidden state, fed symbol by symbol
  readonly a: Float64Array; // (H): pre-activations of the next hidden state
  readonly weights: Float64Array; // (K): scores, then unnormalized probabilities
  readonly kernel: MatVecKernel; // owns h, a and weights
}

/**
 * h starts at zero: the state every training stream starts from. The workspace keeps a copy of
 * W and V as they are now: make a new one after the parameters change.
 */
export function createSampleWorkspace(p: ParamViews, dims: Dims): SampleWorkspace {
  const kernel = createMatVecKernel(p, dims);
  return { h: kernel.h, a: kernel.a, weights: kernel.o, kernel };
}

/** h <- tanh(W h + U[:, x] + b), the same bits as hiddenStep() in rnn.ts. */
export function feedSymbol(p: ParamViews, { H, K }: Dims, ws: SampleWorkspace, x: number): void {
  const { U, b } = p;
  const { h, a } = ws;
  for (let i = 0; i < H; i++) a[i] = b[i] + U[i * K + x];
  ws.kernel.addWh();
  for (let i = 0; i < H; i++) h[i] = tanh(a[i]);
}

/** o = V h + c after the hidden state ws.h, in ws.weights: the same bits as logits() in rnn.ts. */
export function rnnScores(p: ParamViews, K: number, ws: SampleWorkspace): Float64Array {
  const { weights } = ws;
  for (let k = 0; k < K; k++) weights[k] = p.c[k];
  ws.kernel.addVh();
  return weights;
}

/**
 * Draws a symbol from the scores o (K) by `rule`, overwriting them; order (K) is room for the
 * top-k / top-p cut. Consumes one prng.nextDouble() unless the temperature is 0.
 */
export function drawFromScores(weights: Float64Array, order: Uint32Array, rule: SamplingRule, prng: Prng): number {
  const K = weights.length;
  let max = -Infinity;
  let best = 0;
  for (let k = 0; k < K; k++) {
    if (weights[k] > max) {
      max = weights[k];
      best = k; // strict >: the lowest id wins a tie
    }
  }
  const { temperature, topK, topP } = rule;
  if (temperature === 0) return best; // the argmax survives any top-k / top-p cut
  // exp((o - max) / temperature): the largest weight is exactly 1, so nothing overflows
  let total = 0;
  for (let k = 0; k < K; k++) {
    const w = Math.exp((weights[k] - max) / temperature);
    weights[k] = w;
    total += w;
  }
  const cutK = topK !== undefined && topK < K;
  const cutP = topP !== undefined && topP < 1;
  if (!cutK && !cutP) return drawIndex(weights, total, prng.nextDouble());
  return drawRestricted(weights, K, cutK ? (topK as number) : K, cutP ? (topP as number) : 1, total, order, prng.nextDouble());
}

/**
 * Draws among the `limit` heaviest weights, cut further to the smallest prefix (heaviest first)
 * whose sum reaches topP of theirs. A heap of ids is built in O(K) and popped only as far as the
 * cut needs; popped ids collect at the end of `order`, heaviest last: order[K-1], order[K-2], ...
 */
function drawRestricted(weights: Float64Array, K: number, limit: number, topP: number, total: number, order: Uint32Array, u: number): number {
  for (let k = 0; k < K; k++) order[k] = k;
  for (let k = (K >> 1) - 1; k >= 0; k--) siftDown(weights, order, k, K);
  let size = K; // order[0..size) is the heap
  let keptTotal = total;
  if (limit < K) {
    keptTotal = 0;
    while (K - size < limit) keptTotal += weights[popInto(weights, order, --size)];
  }
  let kept = K - size;
  if (topP < 1) {
    const target = topP * keptTotal;
    let sum = 0;
    let n = 0;
    for (;;) {
      if (n === kept) {
        if (kept === limit) break; // rounding kept the sum a hair below the target: keep them all
        popInto(weights, order, --size);
        kept++;
      }
      sum += weights[order[K - 1 - n]];
      n++;
      if (sum >= target) break;
    }
    kept = n;
    keptTotal = sum;
  }
  let r = u * keptTotal;
  for (let n = 0; n < kept; n++) {
    const id = order[K - 1 - n];
    r -= weights[id];
    if (r < 0) return id;
  }
  return order[K - kept]; // rounding left a sliver past the last kept weight
}

/** Whether symbol a comes before symbol b: heavier first, the lower id among equals. */
function before(weights: Float64Array, a: number, b: number): boolean {
  return weights[a] > weights[b] || (weights[a] === weights[b] && a < b);
}

function siftDown(weights: Float64Array, heap: Uint32Array, at: number, size: number): void {
  const id = heap[at];
  for (;;) {
    let child = 2 * at + 1;
    if (child >= size) break;
    if (child + 1 < size && before(weights, heap[child + 1], heap[child])) child++;
    if (!before(weights, heap[child], id)) break;
    heap[at] = heap[child];
    at = child;
  }
  heap[at] = id;
}

/** Moves the heap's first id to heap[last] (the heap shrinks to heap[0..last)); returns that id. */
function popInto(weights: Float64Array, heap: Uint32Array, last: number): number {
  const top = heap[0];
  heap[0] = heap[last];
  heap[last] = top;
  siftDown(weights, heap, 0, last);
  return top;
}

/**
 * Draws `length` symbol ids from the model as the seed's sampler does: feed `firstId` with the
 * hidden state h (H, updated in place), draw the next id from softmax(o / temperature), feed it back.
 * `rule` is a temperature, or a whole SamplingRule.
 */
export function sampleIds(p: ParamViews, dims: Dims, h: Float64Array, firstId: number, length: number, prng: Prng, rule: number | SamplingRule = 1): Uint32Array {
  const stepper = rnnStepper(p, dims);
  stepper.state.set(h);
  const out = sampleWith(stepper, firstId, length, prng, typeof rule === 'number' ? { temperature: rule } : rule);
  h.set(stepper.state);
  return out;
}

/** The RNN's state fed symbol by symbol through the SIMD matrix-vector kernel: its descriptor's stepper. */
export function rnnStepper(p: ParamViews, dims: Dims): Stepper {
  const ws = createSampleWorkspace(p, dims);
  return { state: ws.h, feed: (id) => feedSymbol(p, dims, ws, id), scores: () => rnnScores(p, dims.K, ws) };
}

/**
 * The RNN's state fed symbol by symbol by rnn.ts's own hiddenStep() and logits(): the same bits as
 * rnnStepper, slower, for where the kernels cannot run (a page without cross-origin isolation).
 */
export function rnnReferenceStepper(p: ParamViews, { H, K }: Dims): Stepper {
  const hs = new Float64Array(2 * H); // (2, H): the state, then the next one
  const state = hs.subarray(0, H);
  const out = new Float64Array(K);
  return {
    state,
    feed: (id) => {
      hiddenStep(p, H, K, id, hs, 0, H);
      hs.copyWithin(0, H, 2 * H);
    },
    scores: () => {
      logits(p, H, K, hs, 0, out, 0);
      return out;
    },
  };
}

/**
 * Draws `length` symbol ids from any cell's stepper: feed
 * `firstId`, draw the next id by `rule`, feed it back; the stepper's state carries on.
 */
export function sampleWith(stepper: Stepper, firstId: number, length: number, prng: Prng, rule: SamplingRule = { temperature: 1 }): Uint32Array {
  checkSamplingRule(rule);
  const out = new Uint32Array(length);
  let order: Uint32Array | undefined;
  let x = firstId;
  for (let n = 0; n < length; n++) {
    stepper.feed(x);
    const scores = stepper.scores();
    order ??= new Uint32Array(scores.length);
    x = drawFromScores(scores, order, rule, prng);
    out[n] = x;
  }
  return out;
}

/** The index where the running sum of weights first exceeds u * total (u in [0, 1)). */
export function drawIndex(weights: Float64Array, total: number, u: number): number {
  let r = u * total;
  for (let k = 0; k < weights.length; k++) {
    r -= weights[k];
    if (r < 0) return k;
  }
  return weights.length - 1; // rounding left a sliver past the last weight
}
