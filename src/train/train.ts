import type { TrainConfig } from '../config.js';
import type { Corpus } from '../corpus.js';
import { TrainingError, UserError } from '../errors.js';
import { adagradStep, averageSlots } from '../model/adagrad.js';
import { initParams } from '../model/init.js';
import { paramLayout, viewsOf } from '../model/layout.js';
import { Prng } from '../model/prng.js';
import { sampleIds } from '../model/sample.js';
import type { Reporter } from '../progress.js';
import type { EvalSegment, WorkerSetup } from './messages.js';
import { createTrainPool } from './pool.js';

/** Held-out text is scored in segments of this many predictions, each from a zero hidden state. */
export const EVAL_SEGMENT_LENGTH = 16384;

export interface TrainResult {
  readonly steps: number;
  readonly epoch: number;
  readonly charsSeen: number;
  readonly smoothLoss: number; // nats per sequence of T characters (the seed's figure)
  readonly bestSmoothLoss: number;
  readonly bestStep: number;
  readonly valLoss: number | undefined; // nats per character, after the last step
  readonly params: Float64Array;
  readonly bestParams: Float64Array; // the weights at the lowest smooth loss, kept for sampling
  readonly adagradMemory: Float64Array;
  readonly prngState: Uint32Array;
  readonly seconds: number;
}

export interface TrainOptions {
  /** Replaces the worker module; tests use it to make a worker fail. */
  readonly workerUrl?: URL;
}

/** How the corpus is cut: B training streams of L characters each, then the held-out text. */
export interface StreamPlan {
  readonly trainLength: number;
  readonly streamLength: number; // L
  readonly stepsPerEpoch: number;
  readonly evalSegments: readonly EvalSegment[];
}

export function planStreams(idCount: number, { streams, seqLength, valFrac }: Pick<TrainConfig, 'streams' | 'seqLength' | 'valFrac'>): StreamPlan {
  const valLength = Math.floor(idCount * valFrac);
  const trainLength = idCount - valLength;
  const streamLength = Math.floor(trainLength / streams);
  if (streamLength < seqLength + 1) {
    throw new UserError(
      `the corpus is too short: ${trainLength} training characters give ${streamLength} per stream, and each of the ${streams} streams needs at least ${seqLength + 1} (use fewer --streams, a shorter --seq-length or a longer text)`,
    );
  }
  const evalSegments: EvalSegment[] = [];
  for (let start = trainLength; start < idCount - 1; start += EVAL_SEGMENT_LENGTH) {
    evalSegments.push({ start, count: Math.min(EVAL_SEGMENT_LENGTH, idCount - 1 - start) });
  }
  return { trainLength, streamLength, stepsPerEpoch: Math.floor((streamLength - 1) / seqLength), evalSegments };
}

/**
 * The training loop. Workers compute each stream's loss and gradient into shared slots; this
 * thread averages the slots in stream order, clips, applies AdaGrad, and decides when to
 * evaluate, sample and stop. Nothing here depends on the thread count.
 */
export async function train(config: TrainConfig, corpus: Corpus, reporter: Reporter, options: TrainOptions = {}): Promise<TrainResult> {
  const { seqLength: T, streams: B, hidden: H } = config;
  const K = corpus.vocab.length;
  const dims = { H, K };
  const layout = paramLayout(dims);
  const P = layout.size;
  const plan = planStreams(corpus.ids.length, config);
  const totalSteps = config.steps ?? config.epochs * plan.stepsPerEpoch;

  const shared = {
    params: new SharedArrayBuffer(P * 8),
    hidden: new SharedArrayBuffer(B * H * 8),
    gradSlots: new SharedArrayBuffer(B * P * 8),
    losses: new SharedArrayBuffer(B * 8),
    evalLosses: new SharedArrayBuffer(plan.evalSegments.length * 8),
  };
  const params = new Float64Array(shared.params);
  const hidden = new Float64Array(shared.hidden); // (B, H)
  const gradSlots = new Float64Array(shared.gradSlots); // (B, P)
  const losses = new Float64Array(shared.losses); // (B)
  const evalLosses = new Float64Array(shared.evalLosses);
  const grad = new Float64Array(P);
  const adagradMemory = new Float64Array(P);
  const bestParams = new Float64Array(P);
  const prng = Prng.fromSeed(config.seed);
  initParams(params, layout, prng);
  bestParams.set(params);

  const setup: WorkerSetup = {
    H, K, T, streams: B, streamLength: plan.streamLength,
    ids: corpus.ids.buffer as SharedArrayBuffer, bytesPerId: corpus.ids.BYTES_PER_ELEMENT as 1 | 2 | 4, idCount: corpus.ids.length,
    params: shared.params, hidden: shared.hidden, gradSlots: shared.gradSlots, losses: shared.losses,
    evalSegments: plan.evalSegments, evalLosses: shared.evalLosses,
  };
  reporter.begin(`starting ${config.threads} worker thread${config.threads === 1 ? '' : 's'}`);
  const pool = createTrainPool(setup, config.threads, options.workerUrl);
  try {
    await pool.warmUp();
    reporter.done(`${config.threads} worker thread${config.threads === 1 ? '' : 's'} ready: ${B} streams of ${plan.streamLength} characters, ${plan.stepsPerEpoch} steps per epoch`);

    const validate = async (): Promise<number | undefined> => {
      if (plan.evalSegments.length === 0) return undefined;
      await pool.evaluate();
      let total = 0;
      let count = 0;
      plan.evalSegments.forEach((segment, e) => {
        total += evalLosses[e];
        count += segment.count;
      });
      return total / count;
    };
    const sample = (streamPosition: number): string => {
      const h = hidden.slice(0, H); // stream 0's state, as the seed sampled from its hprev
      const ids = sampleIds(viewsOf(params, layout), dims, h, corpus.ids[streamPosition], config.sampleLength, prng);
      return String.fromCodePoint(...Array.from(ids, (id) => corpus.vocab[id]));
    };

    const started = performance.now();
    let step = 0;
    let epoch = 1;
    let position = 0;
    let smoothLoss = Number.NaN;
    let bestSmoothLoss = Infinity;
    let bestStep = 0;
    let valLoss: number | undefined;
    reporter.startTraining(totalSteps, 0);
    while (step < totalSteps) {
      if (position + T + 1 > plan.streamLength) {
        epoch++;
        position = 0;
        hidden.fill(0);
      }
      if (config.sampleEvery > 0 && step % config.sampleEvery === 0) {
        reporter.log(`----- sample at step ${step} -----\n${sample(position)}\n-----`);
      }

      await pool.step(position);
      let loss = 0;
      for (let s = 0; s < B; s++) loss += losses[s];
      loss /= B;
      if (!Number.isFinite(loss)) {
        throw new TrainingError(`the loss became ${loss} at step ${step + 1}: training diverged (try a smaller --eta or --clip)`);
      }
      smoothLoss = step === 0 ? loss : 0.999 * smoothLoss + 0.001 * loss;
      if (smoothLoss < bestSmoothLoss) {
        bestSmoothLoss = smoothLoss;
        bestStep = step;
        bestParams.set(params); // the weights that produced this loss, before the update
      }
      averageSlots(gradSlots, B, grad);
      adagradStep(params, grad, adagradMemory, config);
      position += T;
      step++;

      if (config.evalEvery > 0 && step % config.evalEvery === 0 && step < totalSteps) {
        valLoss = await validate();
        if (valLoss !== undefined) reporter.log(`step ${step}: validation ${formatPerChar(valLoss)}`);
      }
      const seconds = (performance.now() - started) / 1000;
      reporter.update({ step, totalSteps, epoch, epochs: Math.ceil(totalSteps / plan.stepsPerEpoch), smoothLoss, valLoss, charsPerSec: (step * B * T) / seconds });
    }
    valLoss = await validate();
    reporter.finish();
    return {
      steps: step, epoch, charsSeen: step * B * T, smoothLoss, bestSmoothLoss, bestStep, valLoss,
      params: params.slice(), bestParams, adagradMemory, prngState: prng.state(), seconds: (performance.now() - started) / 1000,
    };
  } catch (error) {
    reporter.fail('training stopped');
    throw error;
  } finally {
    await pool.destroy();
  }
}

export function formatPerChar(nats: number): string {
  return `${nats.toFixed(4)} nats/char (${(nats / Math.LN2).toFixed(4)} bits/char)`;
}
