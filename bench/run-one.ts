/**
 * One benchmark measurement, alone in its process so that its peak RSS is its own. Trains for
 * --steps steps and prints one JSON line (a RunResult); bench.ts and cells.ts spawn it once per run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_LAYERS, makeTrainConfig, type TrainConfig } from '../src/config.js';
import { loadCorpusFile, loadDefaultCorpus } from '../src/corpus.js';
import { UserError } from '../src/errors.js';
import { parseOptions, type OptionSpec } from '../src/options.js';
import { silentReporter, type Reporter } from '../src/progress.js';
import { train } from '../src/train/train.js';

/** What one run prints; bench.ts parses it. */
export interface RunResult {
  readonly cell: string;
  readonly dtype: string;
  readonly layers: number; // L
  readonly seqLength: number; // T
  readonly threads: number;
  readonly streams: number;
  readonly steps: number;
  readonly hidden: number; // H
  readonly vocab: number; // K
  readonly chars: number;
  readonly seconds: number; // the training loop (and its final checkpoint save), after the worker warm-up
  readonly charsPerSec: number;
  readonly loadedRssMB: number; // RSS right after the corpus is loaded, before any thread starts
  readonly peakRssMB: number;
  /**
   * The loop's wall time over the steps after the first --warmup-steps, up to the last step's end
   * (the final checkpoint save left out), and its rate: what cells.ts compares with PyTorch.
   */
  readonly timedSteps: number;
  readonly timedSeconds: number;
  readonly timedCharsPerSec: number;
}

const RUN_OPTIONS: readonly OptionSpec[] = [
  { name: 'threads', kind: 'int', default: 1, min: 1, max: 1024, help: 'worker threads' },
  { name: 'streams', kind: 'int', default: 16, min: 1, max: 4096, help: 'streams B' },
  { name: 'steps', kind: 'int', default: 100, min: 1, help: 'training steps' },
  { name: 'hidden', kind: 'int', default: 100, min: 1, max: 4096, help: 'hidden units H' },
  { name: 'cell', kind: 'string', default: 'rnn', help: 'recurrent cell: rnn, lstm, gru' },
  { name: 'layers', kind: 'int', default: 1, min: 1, max: MAX_LAYERS, help: 'stacked layers L (lstm and gru)' },
  { name: 'dtype', kind: 'string', help: 'float64 or float32 (default: the cell\'s)' },
  { name: 'seq-length', kind: 'int', default: 25, min: 1, max: 100000, help: 'characters per sequence T' },
  { name: 'warmup-steps', kind: 'int', default: 0, min: 0, help: 'steps left out of the timed* figures' },
  { name: 'corpus', kind: 'string', help: 'UTF-8 text file (default: the bundled corpus)' },
];


const MB = 1024 * 1024;

async function main(argv: readonly string[]): Promise<void> {
  const { values: v } = parseOptions('bench run-one', RUN_OPTIONS, argv);
  const warmupSteps = v['warmup-steps'] as number;
  if (warmupSteps >= (v.steps as number)) throw new UserError(`--warmup-steps ${warmupSteps} leaves none of the ${v.steps as number} --steps to time`);
  const path = v.corpus as string | undefined;
  const corpus = path === undefined ? await loadDefaultCorpus() : await loadCorpusFile(path);
  const loadedRssMB = process.memoryUsage().rss / MB;
  // train() saves last.ckpt and best.ckpt at the end; keep them out of the user's checkpoints/.
  const out = await mkdtemp(join(tmpdir(), 'char-rnn-bench-'));
  try {
    const config = makeTrainConfig({
      corpus: path,
      cell: v.cell as string,
      dtype: v.dtype as TrainConfig['dtype'] | undefined,
      layers: v.layers as number,
      seqLength: v['seq-length'] as number,
      threads: v.threads as number,
      streams: v.streams as number,
      steps: v.steps as number,
      hidden: v.hidden as number,
      optimizer: 'adagrad', // the throughput tables' figures: the per-step update is the same kind of pass for every optimizer
      valFrac: 0,
      evalEvery: 0,
      sampleEvery: 0,
      checkpointEvery: 0,
      out,
    });
    // The training seconds (the workers' clock of when each step ended) after --warmup-steps steps
    // and after the last step; the final save comes after.
    let timedStart = warmupSteps === 0 ? 0 : Number.NaN;
    let timedEnd = Number.NaN;
    const reporter: Reporter = {
      ...silentReporter,
      update({ step, totalSteps, trainingSeconds }) {
        if (step === warmupSteps) timedStart = trainingSeconds;
        if (step === totalSteps && Number.isNaN(timedEnd)) timedEnd = trainingSeconds;
      },
    };
    const result = await train(config, corpus, reporter);
    const timedSteps = result.last.state.step - warmupSteps;
    const timedSeconds = timedEnd - timedStart;
    const line: RunResult = {
      cell: config.cell,
      dtype: config.dtype,
      layers: config.layers,
      seqLength: config.seqLength,
      threads: config.threads,
      streams: config.streams,
      steps: result.last.state.step,
      hidden: config.hidden,
      vocab: corpus.vocab.length,
      chars: result.last.state.charsSeen,
      seconds: result.seconds,
      charsPerSec: result.charsPerSec,
      loadedRssMB,
      peakRssMB: process.resourceUsage().maxRSS / 1024, // maxRSS is in kilobytes
      timedSteps,
      timedSeconds,
      timedCharsPerSec: (timedSteps * config.streams * config.seqLength) / timedSeconds,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
