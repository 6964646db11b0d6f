/**
 * Time to quality (`npm run bench -- --quality`, or `node dist/bench/quality.js`): training seconds
 * until the validation loss reaches a target (1.60 nats per character), on the peers' text
 * (sotu_train.txt, val-frac 0), validated on sotu_val.txt encoded with the training vocabulary
 * (unknown characters skipped, as numpy_rnn.py does) as one stream from a zero hidden state.
 *
 * Evaluation must not count as training time, so training runs in segments: train() with `steps`,
 * then evaluate, then train() again resuming from the state it returned (bit-exact). Only
 * TrainResult.seconds (the loop, after the workers start) is added up. Each segment restarts the
 * worker pool, so the curve's seconds are a little pessimistic; once the target is crossed (and the
 * crossing refined), one uninterrupted run of that many steps gives the figure to quote and must
 * reach the very same loss.
 *
 * --grid trains every (streams, eta) pair to a few character budgets and tabulates the loss reached.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CheckpointData } from '../src/checkpoint/index.js';
import { makeTrainConfig, type TrainConfig } from '../src/config.js';
import { loadCorpusFile, type Corpus } from '../src/corpus.js';
import { UserError } from '../src/errors.js';
import { optionsHelp, parseOptions, type OptionSpec } from '../src/options.js';
import { silentReporter } from '../src/progress.js';
import { encodeKnown } from '../src/symbols.js';
import { train } from '../src/train/train.js';
import { fixed, formatTable, group, isPositive, isPositiveInt, parseList, runMain, spawnOutput } from './format.js';
import { numpyScript, peersDataDir, pythonCommand, SEQ_LENGTH, updatesFor } from './peers.js';
import { makeValLoss, type ValMode } from './val-loss.js';

const QUALITY_OPTIONS: readonly OptionSpec[] = [
  { name: 'train', kind: 'string', metavar: 'FILE', help: 'training text (default: $PEERS_DATA/sotu_train.txt, else ../shared/peers/data/sotu_train.txt)' },
  { name: 'val', kind: 'string', metavar: 'FILE', help: 'validation text (default: sotu_val.txt beside the training text\'s default)' },
  { name: 'cell', kind: 'string', help: 'rnn, lstm or gru (default: the trainer\'s)' },
  { name: 'layers', kind: 'int', min: 1, max: 16, help: 'layers L (default: the cell\'s)' },
  { name: 'hidden', kind: 'int', min: 1, max: 4096, help: 'hidden units H (default: the cell\'s)' },
  { name: 'seq-length', kind: 'int', min: 1, max: 100000, help: 'characters per sequence T (default: the cell\'s)' },
  { name: 'dropout', kind: 'number', default: 0, min: 0, max: 0.95, help: 'dropout (lstm and gru)' },
  { name: 'dtype', kind: 'string', help: 'float64 or float32 (default: the cell\'s): training, and validation by the kernels of that precision' },
  { name: 'optimizer', kind: 'string', help: 'adagrad, rmsprop or adam (default: the cell\'s)' },
  { name: 'streams', kind: 'int', min: 1, max: 4096, help: 'streams B (default: the trainer\'s)' },
  { name: 'clip', kind: 'number', min: 0, minExclusive: true, help: 'element clip (default: the trainer\'s)' },
  { name: 'clip-norm', kind: 'number', min: 0, help: 'global-norm clip (default: the trainer\'s, none)' },
  { name: 'eta', kind: 'number', min: 0, minExclusive: true, help: 'learning rate (default: the optimizer\'s)' },
  { name: 'threads', kind: 'int', min: 1, max: 1024, help: 'worker threads (default: the trainer\'s, available cores at most B)' },
  { name: 'seed', kind: 'int', default: 1, min: 0, max: 0xffffffff, help: 'seed of the initial weights' },
  { name: 'target', kind: 'number', default: 1.6, min: 0, minExclusive: true, help: 'validation loss to reach, nats per character' },
  { name: 'max-seconds', kind: 'number', default: 30, min: 0, minExclusive: true, help: 'training-time budget, seconds' },
  { name: 'eval-every', kind: 'number', default: 0.5, min: 0, minExclusive: true, help: 'training seconds between validation points' },
  { name: 'refine', kind: 'int', default: 5, min: 1, max: 100, help: 'after the crossing, split the last interval into this many parts' },
  { name: 'no-confirm', kind: 'flag', help: 'skip the uninterrupted run that times the crossing' },
  { name: 'eval', kind: 'string', default: 'simd', help: 'validation forward pass: simd (bit-identical, faster) or reference (rnn.ts evaluate())' },
  { name: 'grid', kind: 'flag', help: 'tabulate the loss reached at --budgets for every --grid-streams x --grid-etas' },
  { name: 'grid-streams', kind: 'string', default: '4,8,16,32', help: 'streams for --grid' },
  { name: 'grid-etas', kind: 'string', default: '0.05,0.1,0.2,0.3', help: 'learning rates for --grid' },
  { name: 'budgets', kind: 'string', default: '500000,1000000,2000000,4000000', help: 'character budgets for --grid' },
  { name: 'numpy', kind: 'flag', help: 'also run numpy_rnn.py --val (one BLAS thread) for --numpy-chars characters' },
  { name: 'numpy-streams', kind: 'int', default: 16, min: 1, help: 'streams of the numpy run' },
  { name: 'numpy-chars', kind: 'int', default: 4_000_000, min: 1, help: 'characters of the numpy run' },
  { name: 'json', kind: 'flag', help: 'the curve as JSON lines, {"t": training s, "chars", "val"} after one of the configuration (for the race, race.ts)' },
  { name: 'help', kind: 'flag', help: 'print this help' },
];


/** A training run advanced segment by segment; seconds count only train()'s loops. */
interface Run {
  readonly base: TrainConfig; // steps undefined
  readonly corpus: Corpus;
  state: CheckpointData | undefined;
  seconds: number;
}

interface Point {
  readonly seconds: number;
  readonly step: number;
  readonly chars: number;
  readonly val: number;
  readonly state: CheckpointData | undefined; // undefined: before the first step
}

const out = (text: string): boolean => process.stdout.write(text);

export async function runQuality(argv: readonly string[]): Promise<void> {
  const { values: v } = parseOptions('bench --quality', QUALITY_OPTIONS, argv);
  if (v.help === true) {
    out(`usage: npm run bench -- --quality [options]   (or: node dist/bench/quality.js [options])\n\n${optionsHelp(QUALITY_OPTIONS)}\n`);
    return;
  }
  const mode = v.eval as string;
  if (mode !== 'simd' && mode !== 'reference') throw new UserError(`--eval takes simd or reference, got '${mode}'`);
  const trainPath = resolve((v.train as string | undefined) ?? join(peersDataDir(), 'sotu_train.txt'));
  const valPath = resolve((v.val as string | undefined) ?? join(peersDataDir(), 'sotu_val.txt'));
  const corpus = await loadCorpusFile(trainPath);
  const valText = await readFile(valPath, 'utf8').catch((error: unknown) => {
    throw new UserError(`cannot read the validation text ${valPath}: ${(error as Error).message} (pass --val FILE)`);
  });
  const { ids: valIds } = encodeKnown(valText, corpus.vocab);
  const skipped = [...valText].length - valIds.length;
  const dir = await mkdtemp(join(tmpdir(), 'char-rnn-quality-'));
  try {
    const base = makeTrainConfig({
      corpus: trainPath, streams: v.streams as number | undefined, eta: v.eta as number | undefined, threads: v.threads as number | undefined,
      cell: v.cell as string | undefined, layers: v.layers as number | undefined, hidden: v.hidden as number | undefined, seqLength: v['seq-length'] as number | undefined,
      dropout: v.dropout as number, dtype: v.dtype as TrainConfig['dtype'] | undefined, optimizer: v.optimizer as TrainConfig['optimizer'] | undefined,
      clip: v.clip as number | undefined, clipNorm: v['clip-norm'] as number | undefined,
      seed: v.seed as number, valFrac: 0, evalEvery: 0, sampleEvery: 0, checkpointEvery: 0, out: dir,
    });
    const valLoss = makeValLoss({ cell: base.cell, L: base.layers, H: base.hidden, K: corpus.vocab.length }, valIds, mode, base.dtype);
    out(
      `time to quality: train ${trainPath} (${group(corpus.ids.length)} characters, K=${corpus.vocab.length}, val-frac 0); ` +
        `validation ${valPath} (${group(valIds.length)} characters, ${skipped} unknown skipped) as one stream from a zero state (${mode})\n`,
    );
    if (v.grid === true) {
      await grid(v, corpus, base, valLoss);
    } else {
      await curve(v, corpus, base, valLoss);
    }
    if (v.numpy === true) await numpyQuality(v, trainPath, valPath);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Trains `steps` more steps of the run, resuming from its last state. */
async function advance(run: Run, steps: number): Promise<void> {
  const config = makeTrainConfig({ ...run.base, steps: (run.state?.state.step ?? 0) + steps });
  const start = run.state === undefined ? undefined : { kind: 'resume' as const, checkpoint: run.state };
  const result = await train(config, run.corpus, silentReporter, { start });
  run.state = result.last;
  run.seconds += result.seconds;
}

function point(run: Run, valLoss: (params: Float64Array) => number): Point {
  const state = run.state as CheckpointData;
  return { seconds: run.seconds, step: state.state.step, chars: state.state.charsSeen, val: valLoss(state.state.params), state };
}

function printPoint(p: Point, note = '', json = false): void {
  if (json) {
    out(`${JSON.stringify({ t: Number(p.seconds.toFixed(2)), chars: p.chars, val: Number(p.val.toFixed(4)) })}\n`);
    return;
  }
  out(`${fixed(p.seconds, 2).padStart(9)}  ${String(p.step).padStart(7)}  ${group(p.chars).padStart(11)}  ${p.val.toFixed(4).padStart(9)}${note}\n`);
}

async function curve(v: Readonly<Record<string, unknown>>, corpus: Corpus, base: TrainConfig, valLoss: (params: Float64Array) => number): Promise<void> {
  const json = v.json === true;
  const target = json ? Number.NEGATIVE_INFINITY : (v.target as number); // the race wants the whole curve
  const maxSeconds = v['max-seconds'] as number;
  const every = v['eval-every'] as number;
  const charsPerStep = base.streams * base.seqLength;
  if (json) {
    const { cell, layers, hidden, dtype, seqLength, streams, optimizer, eta, dropout, clip, clipNorm, threads, seed } = base;
    out(`${JSON.stringify({ config: { cell, layers, hidden, dtype, seqLength, streams, optimizer, eta, dropout, clip, clipNorm, threads, seed } })}\n`);
  } else {
    out(`${base.cell}, L=${base.layers}, H=${base.hidden}, T=${base.seqLength}, dropout ${base.dropout}, ${base.optimizer}; streams ${base.streams}, eta ${base.eta}, threads ${base.threads}, seed ${base.seed}; target ${target} nats/char within ${maxSeconds} s of training; a point every ~${every} s\n\n`);
    out(`${'train s'.padStart(9)}  ${'step'.padStart(7)}  ${'chars'.padStart(11)}  val nats/char\n`);
  }
  const run: Run = { base, corpus, state: undefined, seconds: 0 };
  const started = performance.now();
  let steps = Math.max(1, Math.ceil(20_000 / charsPerStep)); // a short first segment measures the speed
  let previous: Point = { seconds: 0, step: 0, chars: 0, val: Number.NaN, state: undefined };
  let crossed: Point | undefined;
  while (run.seconds < maxSeconds) {
    const before = run.seconds;
    await advance(run, steps);
    const p = point(run, valLoss);
    printPoint(p, '', json);
    if (p.val <= target) {
      crossed = p;
      break;
    }
    previous = p;
    const stepsPerSecond = steps / Math.max(run.seconds - before, 1e-6);
    steps = Math.max(1, Math.round(stepsPerSecond * Math.min(every, maxSeconds - run.seconds)));
  }
  if (json) return;
  if (crossed === undefined) {
    out(`\nnot reached: ${target} nats/char not reached within ${fixed(run.seconds, 1)} s of training (${group(run.state?.state.charsSeen ?? 0)} characters)\n`);
  } else {
    const first = await refine(v, corpus, base, valLoss, previous, crossed, target);
    out(`\nreached ${target} nats/char at step ${first.step} (${group(first.chars)} characters) after ${fixed(first.seconds, 2)} s of segmented training\n`);
    if (v['no-confirm'] !== true) await confirm(corpus, base, valLoss, first);
  }
  out(`quality wall time (evaluations and worker start-ups included): ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}

/** Re-runs the last interval before the crossing in smaller segments; returns the first point at or below target. */
async function refine(
  v: Readonly<Record<string, unknown>>, corpus: Corpus, base: TrainConfig, valLoss: (params: Float64Array) => number, from: Point, to: Point, target: number,
): Promise<Point> {
  const parts = v.refine as number;
  const size = Math.ceil((to.step - from.step) / parts);
  if (to.step - from.step <= 1) return to;
  out(`refining between steps ${from.step} and ${to.step}:\n`);
  const run: Run = { base, corpus, state: from.state, seconds: from.seconds };
  while ((run.state?.state.step ?? 0) + size < to.step) {
    await advance(run, size);
    const p = point(run, valLoss);
    printPoint(p, '  (refine)');
    if (p.val <= target) return p;
  }
  return to;
}

/** One uninterrupted run of the crossing's steps: the figure to quote, and a check of the segmented result. */
async function confirm(corpus: Corpus, base: TrainConfig, valLoss: (params: Float64Array) => number, at: Point): Promise<void> {
  const wallStart = performance.now();
  const result = await train(makeTrainConfig({ ...base, steps: at.step }), corpus, silentReporter);
  const wall = (performance.now() - wallStart) / 1000;
  const val = valLoss(result.last.state.params);
  const same = val === at.val ? 'identical to the segmented run' : `DIFFERS from the segmented run's ${at.val}`;
  out(
    `uninterrupted run of ${at.step} steps: ${fixed(result.seconds, 2)} s of training loop (${fixed(wall, 2)} s with the ${base.threads} worker threads' start-up), ` +
      `${group(result.charsPerSec)} chars/s, val ${val.toFixed(4)} nats/char (${same})\n`,
  );
}

async function grid(v: Readonly<Record<string, unknown>>, corpus: Corpus, base: TrainConfig, valLoss: (params: Float64Array) => number): Promise<void> {
  const streamsList = parseList('grid-streams', v['grid-streams'] as string, isPositiveInt, 'positive integers');
  const etas = parseList('grid-etas', v['grid-etas'] as string, isPositive, 'positive numbers');
  const budgets = parseList('budgets', v.budgets as string, isPositiveInt, 'positive integers').sort((a, b) => a - b);
  const target = v.target as number;
  out(`grid: val nats/char after each character budget (threads ${v.threads ?? 'default'}, seed ${base.seed}); target ${target}\n\n`);
  const header = ['streams, eta', ...budgets.map((b) => `${group(b)} ch`), 'train s', 'chars/s', `first budget <= ${target}`];
  const rows: string[][] = [];
  for (const streams of streamsList) {
    for (const eta of etas) {
      const config = makeTrainConfig({ ...base, streams, eta, threads: v.threads as number | undefined });
      const run: Run = { base: config, corpus, state: undefined, seconds: 0 };
      const vals: number[] = [];
      for (const budget of budgets) {
        const steps = Math.ceil(budget / (streams * base.seqLength)) - (run.state?.state.step ?? 0);
        if (steps > 0) await advance(run, steps);
        vals.push(point(run, valLoss).val);
      }
      const chars = run.state?.state.charsSeen ?? 0;
      const firstOk = budgets.find((_, i) => vals[i] <= target);
      const row = [`B=${streams}, eta=${eta}`, ...vals.map((x) => x.toFixed(4)), fixed(run.seconds, 1), group(chars / run.seconds), firstOk === undefined ? '-' : group(firstOk)];
      rows.push(row);
      process.stderr.write(`[grid] ${row.join('  ')}\n`);
    }
  }
  out(`${formatTable(header, rows)}\n`);
  out(`a budget's steps are rounded up to whole steps of B x ${base.seqLength} characters; train s: training loops only, all budgets\n`);
}

/** numpy_rnn.py's figure on the same text: its own time and its from-zero validation loss. */
async function numpyQuality(v: Readonly<Record<string, unknown>>, trainPath: string, valPath: string): Promise<void> {
  const streams = v['numpy-streams'] as number;
  const updates = updatesFor(v['numpy-chars'] as number, streams);
  const script = numpyScript(undefined);
  const args = [script, '--streams', String(streams), '--updates', String(updates), '--val', '--train', trainPath, '--valfile', valPath];
  try {
    const text = await spawnOutput(pythonCommand(), args, { ...process.env, OPENBLAS_NUM_THREADS: '1' });
    out(`\nnumpy reference (${script}, ${streams} streams, ${updates} updates, one BLAS thread, eta 0.1, gradient summed over streams):\n${text}`);
  } catch (error) {
    out(`\nnumpy reference failed: ${(error as Error).message.split('\n')[0]}\n`);
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runMain('quality', runQuality, process.argv.slice(2));
}
