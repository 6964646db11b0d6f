/**
 * Generation speed of char-rnn sample: one thread, no pool, a model of the bundled corpus's size
 * (H = 100, K = 98) with weights from N(0, 0.1^2), which spreads the probabilities more than a
 * trained model does (the worst case for top-p, which sorts the candidates).
 */
import { pathToFileURL } from 'node:url';
import { nominalOptions, type CheckpointData } from '../src/checkpoint/index.js';
import { sample, sampleMany, type SampleOptions } from '../src/generate.js';
import { modelLayout, stateLength } from '../src/model/cells/cell.js';
import { cellNamed } from '../src/model/cells/registry.js';
import { paramLayout } from '../src/model/cells/rnn-layout.js';
import { Prng } from '../src/model/prng.js';
import { scoreText } from '../src/score-text.js';
import { group, median, range } from './format.js';

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
    options: nominalOptions({ seqLength: 25, streams: 1, threads: 1, eta: 0.1, valFrac: 0, steps: undefined, evalEvery: 0, sampleEvery: 0, checkpointEvery: 0 }),
    corpus: { source: 'random', length: 0, sha256: new Uint8Array(32) },
    state: {
      step: 0, epoch: 1, position: 0, streamLength: 0, charsSeen: 0, seconds: 0, params,
      optimizerState: new Float64Array(layout.size), hidden: new Float64Array(H), prngState: prng.state(),
      smoothLoss: Number.NaN, bestLoss: Infinity, bestStep: 0, bestMetric: 'smooth', valLoss: undefined,
      smoothHistory: [], valHistory: [],
    },
  };
}

/** Rates by the wall clock and, steadier on a shared machine, by the process's CPU time. */
export interface GatedSpeed extends SampleSpeed {
  readonly cpuRates: number[]; // chars per CPU second, one per run
}

/** The default model: a GRU of 2 layers of 128, K = 98, float32. */
const GATED = { cell: 'gru', L: 2, H: 128, K: 98 } as const;

/**
 * Sampling and scoring of the default GRU on one thread: on the kernels, and on the reference math
 * (the path a page without cross-origin isolation takes, which gives the same bits) in the same
 * runs, interleaved, for the ratio. chars/s per run.
 */
export function measureGatedSampling(runs: number): GatedSpeed[] {
  const checkpoint = randomGated();
  const fast = 20_000;
  const slow = 4_000;
  const text = sample(checkpoint, { length: 100_000, seed: 99 });
  const cases: [string, () => number][] = [
    ['sample, kernels, 1 stream', () => sample(checkpoint, { length: fast, seed: 1 }).length && fast],
    ['sample, reference, 1 stream', () => withoutKernels(() => sample(checkpoint, { length: slow, seed: 1 }).length && slow)],
    ['sample, kernels, 4 at once', () => sampleMany(checkpoint, { length: fast, seed: 1, count: 4 }).length * fast],
    ['score, kernels, 1 stream', () => scoreText(checkpoint, text).characters],
    ['score, reference, 1 stream', () => withoutKernels(() => scoreText(checkpoint, text.slice(0, 10_000)).characters)],
  ];
  const results = cases.map(([label]) => ({ label, rates: [] as number[], cpuRates: [] as number[] }));
  cases.forEach(([, run]) => run()); // compile the kernels and warm up the JIT
  for (let r = 0; r < runs; r++) {
    cases.forEach(([, run], i) => {
      const started = performance.now();
      const cpu = process.cpuUsage();
      const chars = run();
      const { user, system } = process.cpuUsage(cpu);
      results[i].rates.push(chars / ((performance.now() - started) / 1000));
      results[i].cpuRates.push(chars / ((user + system) / 1e6));
    });
  }
  return results;
}

/** The lines of the benchmark's report for measureGatedSampling. */
export function gatedSamplingReport(results: readonly GatedSpeed[], runs: number): string {
  const rate = (label: string): number => median(results.find((r) => r.label === label)?.rates ?? []);
  const lines = results.map(({ label, rates, cpuRates }) =>
    `  ${label.padEnd(30)} ${group(median(rates)).padStart(9)} chars/s   (${range(rates)}), ${group(median(cpuRates))} per CPU second (${range(cpuRates)})\n`);
  return (
    `\nthe default model (gru, L=2, H=128, K=98, float32), random weights from N(0, 0.1^2), one thread, median of ${runs}:\n${lines.join('')}` +
    `  kernels / reference: sampling ${(rate('sample, kernels, 1 stream') / rate('sample, reference, 1 stream')).toFixed(1)}x, ` +
    `scoring ${(rate('score, kernels, 1 stream') / rate('score, reference, 1 stream')).toFixed(1)}x\n`
  );
}

/** f as a browser page without cross-origin isolation runs it: no shared memory, so the reference math. */
function withoutKernels<T>(f: () => T): T {
  const global = globalThis as { crossOriginIsolated?: boolean };
  global.crossOriginIsolated = false;
  try {
    return f();
  } finally {
    delete global.crossOriginIsolated;
  }
}

function randomGated(): CheckpointData {
  const base = randomModel(2, GATED.K);
  const cell = cellNamed(GATED.cell);
  const prng = Prng.fromSeed(1);
  const params = Float64Array.from({ length: modelLayout(cell, GATED).size }, () => 0.1 * prng.nextGaussian());
  return {
    ...base,
    model: { ...GATED, vocab: base.model.vocab },
    options: { ...base.options, dtype: 'float32' },
    state: { ...base.state, params, optimizerState: new Float64Array(params.length), hidden: new Float64Array(stateLength(cell, GATED)) },
  };
}

// node dist/bench/sample-speed.js [runs]: this section of npm run bench alone
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const runs = Number(process.argv[2] ?? 5);
  process.stdout.write(gatedSamplingReport(measureGatedSampling(runs), runs));
}
