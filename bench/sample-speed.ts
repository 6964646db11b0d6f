/**
 * Generation speed of char-rnn sample: one thread, no pool, a model of the bundled corpus's size
 * (H = 100, K = 98) with weights from N(0, 0.1^2), which spreads the probabilities more than a
 * trained model does (the worst case for top-p, which sorts the candidates).
 */
import type { CheckpointData } from '../src/checkpoint/index.js';
import { sample, type SampleOptions } from '../src/generate.js';
import { paramLayout } from '../src/model/layout.js';
import { Prng } from '../src/model/prng.js';

export interface SampleSpeed {
  readonly label: string;
  readonly rates: number[]; // chars/s, one per run
}

const CASES: readonly [string, SampleOptions][] = [
  ['temperature 1', {}],
  ['temperature 0 (greedy)', { temperature: 0 }],
  ['top-k 10', { topK: 10 }],
  ['top-p 0.9', { topP: 0.9 }],
];

export function measureSampling(H: number, K: number, length: number, runs: number): SampleSpeed[] {
  const checkpoint = randomModel(H, K);
  const results = CASES.map(([label]) => ({ label, rates: [] as number[] }));
  sample(checkpoint, { length: 1000, seed: 0 }); // compile the kernel and warm up the JIT
  for (let run = 0; run < runs; run++) {
    CASES.forEach(([, options], i) => {
      const started = performance.now();
      sample(checkpoint, { ...options, length, seed: run + 1 });
      results[i].rates.push(length / ((performance.now() - started) / 1000));
    });
  }
  return results;
}

function randomModel(H: number, K: number): CheckpointData {
  const layout = paramLayout({ H, K });
  const prng = Prng.fromSeed(1);
  const params = Float64Array.from({ length: layout.size }, () => 0.1 * prng.nextGaussian());
  return {
    packageVersion: 'bench',
    createdAt: new Date(0).toISOString(),
    model: { cell: 'rnn', L: 1, H, K, vocab: Uint32Array.from({ length: K }, (_, k) => 32 + k) },
    options: {
      seqLength: 25, streams: 1, eta: 0.1, eps: 1e-8, clip: 5, seed: 1, valFrac: 0, dropout: 0, dtype: 'float64', optimizer: 'adagrad', clipNorm: 0, decay: 0.95, beta1: 0.9, beta2: 0.999,
      lrSchedule: 'constant', lrDecay: 0.97, lrDecayEvery: 0, lrMin: 0, lrHorizon: 0, warmupSteps: 0, epochs: 1, steps: undefined,
      evalEvery: 0, sampleEvery: 0, sampleLength: 200, sampleTemperature: 1, checkpointEvery: 0, threads: 1, minutes: undefined, patience: 0,
    },
    corpus: { source: 'random', length: 0, sha256: new Uint8Array(32) },
    state: {
      step: 0, epoch: 1, position: 0, streamLength: 0, charsSeen: 0, seconds: 0, params,
      optimizerState: new Float64Array(layout.size), hidden: new Float64Array(H), prngState: prng.state(),
      smoothLoss: Number.NaN, bestLoss: Infinity, bestStep: 0, bestMetric: 'smooth', valLoss: undefined,
      smoothHistory: [], valHistory: [],
    },
  };
}
