import { modelLayout, stateLength, type CellDescriptor, type ModelDims, type ModelLayout, type ReferenceMath } from './cells/cell.js';
import { cellNamed } from './cells/registry.js';
import { placeSnapshot, scoreStream } from './kernel-memory.js';
import { kernelsAvailable, type Engine } from './kernels.js';
import { precisionOf, type Dtype } from './precision.js';

/**
 * Scores text with a snapshot of the parameters, as one stream, by the cell's WebAssembly kernels
 * in the chunks validation uses (kernel-memory.ts scoreStream), so that the same text from the
 * same state gives the same bits here and in training. Make a new one after the parameters change.
 */
export interface Scorer {
  /**
   * `loss` plus the loss in nats of the `count` predictions ids[start+t] -> ids[start+t+1], from
   * the stream state (the cell's state table), which is updated in place.
   */
  score(ids: ArrayLike<number>, start: number, count: number, state: Float64Array, loss?: number): number;
  /** A new stream from a zero state, to be handed its ids one at a time. */
  stream(): ScoreStream;
}

/**
 * A text's ids handed over one at a time and scored as one stream, in a few hundred KB however
 * long the text: the same bits as score() over all of them at once.
 */
export interface ScoreStream {
  push(id: number): void;
  /** The summed loss of the predictions so far, each id predicting the next. */
  loss(): number;
}

/** Kernel chunks a stream scores at once. */
const STREAM_CHUNKS = 16;

export function createScorer(params: Float64Array, dims: ModelDims, dtype: Dtype = 'float64', engine: Engine = 'auto'): Scorer {
  const cell = cellNamed(dims.cell);
  const layout = modelLayout(cell, dims);
  const S = stateLength(cell, dims);
  if (params.length !== layout.size) throw new RangeError(`params has ${params.length} entries, a ${dims.cell} of L=${dims.L} H=${dims.H} K=${dims.K} needs ${layout.size}`);
  const { score, chunk } = engine === 'auto' && kernelsAvailable(dtype) ? kernelScore(cell, layout, params, dtype) : referenceScore(cell, layout, params, dtype);
  const checked: Scorer['score'] = (ids, start, count, h, loss = 0) => {
    if (h.length !== S) throw new RangeError(`the state has ${h.length} entries, a ${dims.cell} stream needs ${S}`);
    return score(ids, start, count, h, loss);
  };
  return { score: checked, stream: () => streamOf(checked, chunk * STREAM_CHUNKS, S) };
}

/** A way to score, and the predictions per call at which it cuts the text. */
interface ScoreEngine {
  readonly score: (ids: ArrayLike<number>, start: number, count: number, h: Float64Array, loss: number) => number;
  readonly chunk: number;
}

function kernelScore(cell: CellDescriptor, layout: ModelLayout, params: Float64Array, dtype: Dtype): ScoreEngine {
  const S = stateLength(cell, layout.dims);
  const { memory, bound, sizes, at } = placeSnapshot(cell, layout, params, dtype, (sizes) => ({ state: S * 8, ids: (sizes.scoreChunk + 1) * 4, scratch: sizes.scoreScratch }));
  const state = new Float64Array(memory.buffer, at.state, S);
  const chunk = new Int32Array(memory.buffer, at.ids, sizes.scoreChunk + 1);
  const score = (ids: ArrayLike<number>, start: number, count: number, h: Float64Array, loss: number): number => {
    state.set(h);
    const total = scoreStream(bound, sizes, at, chunk, ids, start, count, loss);
    h.set(state);
    return total;
  };
  return { score, chunk: sizes.scoreChunk };
}

/**
 * The reference math in the kernels' chunks (cell.lossChunk): each chunk's loss summed from zero
 * and added to the total, as the kernels add it, so the same bits, slower; for where the kernels
 * cannot run (a page without cross-origin isolation).
 */
function referenceScore(cell: CellDescriptor, layout: ModelLayout, params: Float64Array, dtype: Dtype): ScoreEngine {
  const precision = precisionOf(dtype);
  const weights = precision.bytes === 4 ? Float32Array.from(params) : params; // the float32 math reads the rounded copy, as the kernels do
  const maths = new Map<number, ReferenceMath>(); // by steps: the full chunk, and a text's last one
  const mathOf = (T: number): ReferenceMath => {
    let math = maths.get(T);
    if (math === undefined) {
      math = cell.reference(layout, T, precision);
      maths.set(T, math);
    }
    return math;
  };
  const score = (ids: ArrayLike<number>, start: number, count: number, h: Float64Array, loss: number): number => {
    for (let done = 0; done < count; done += cell.lossChunk) {
      const n = Math.min(cell.lossChunk, count - done);
      loss += mathOf(n).loss(weights, ids, start + done, h, null);
    }
    return loss;
  };
  return { score, chunk: cell.lossChunk };
}

/**
 * Scores a stream `piece` predictions at a time, the loss carried from piece to piece. A gated
 * cell sums each kernel chunk's loss on its own before adding it to the total, so a piece is a
 * whole number of chunks: the kernels then see the ids cut where score() over all of them cuts.
 */
function streamOf(score: Scorer['score'], piece: number, S: number): ScoreStream {
  const ids = new Int32Array(piece + 1); // the id the first waiting one follows, then the waiting ones
  const state = new Float64Array(S);
  let filled = 0;
  let total = 0;
  return {
    push: (id) => {
      ids[filled++] = id;
      if (filled < ids.length) return;
      total = score(ids, 0, piece, state, total);
      ids[0] = ids[piece];
      filled = 1;
    },
    // the waiting ids scored on a copy of the state, so that the stream goes on cut where it was
    loss: () => (filled > 1 ? score(ids, 0, filled - 1, state.slice(), total) : total),
  };
}
