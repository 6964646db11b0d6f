import test from 'ava';
import { join } from 'node:path';
import { loadCheckpoint, type CheckpointData, type CheckpointState } from '../src/checkpoint/index.js';
import { makeTrainConfig, type TrainConfig } from '../src/config.js';
import { loadCorpusFile, type Corpus } from '../src/corpus.js';
import { sample, scoreText } from '../src/index.js';
import { averageSlots } from '../src/model/adagrad.js';
import { modelLayout, stateLength } from '../src/model/cells/cell.js';
import { CELL_NAMES, cellNamed, gatedCellNamed } from '../src/model/cells/registry.js';
import { maskSize, stackedLayout, stackedViewsOf, stateSize, type CellKind, type StackedDims, type StackedViews } from '../src/model/cells/stacked-layout.js';
import { sequenceMasks } from '../src/model/dropout.js';
import { optimizerStep, stateBuffers } from '../src/model/optimizers.js';
import { FLOAT64 } from '../src/model/precision.js';
import { Prng } from '../src/model/prng.js';
import { planStreams } from '../src/train/plan.js';
import { learningRate } from '../src/train/schedule.js';
import { train } from '../src/train/train.js';
import type { Reporter } from '../src/progress.js';
import { bytesOf, firstBitDifference, pseudoEnglish, runCli, sameState, silentReporter, tempDir } from './fixtures/harness.js';
import { GATED_CELLS } from './fixtures/cells.js';

const dir = tempDir('cell-training-');
test.after.always(() => dir.remove());

const TEXT = pseudoEnglish(6000);
const CORPUS_FILE = dir.file('corpus.txt', TEXT);
let corpusPromise: Promise<Corpus> | undefined;
const corpus = (): Promise<Corpus> => (corpusPromise ??= loadCorpusFile(CORPUS_FILE));

const CELLS: readonly CellKind[] = GATED_CELLS;

/** Two layers and dropout: every part of the gated cells' training path. */
function config(cell: CellKind, partial: Partial<TrainConfig>): TrainConfig {
  return makeTrainConfig({
    corpus: CORPUS_FILE, cell, layers: 2, hidden: 12, dropout: 0.25, dtype: 'float64', optimizer: 'adagrad', seqLength: 9, streams: 5, valFrac: 0.1,
    evalEvery: 0, sampleEvery: 0, checkpointEvery: 0, out: join(dir.path, `${cell}-${Math.random().toString(36).slice(2)}`),
    ...partial,
  });
}

/** The reference math of one gated cell, for one stream's sequence. */
function referenceCell(dims: StackedDims, T: number): {
  lossAndGrad(p: StackedViews, ids: ArrayLike<number>, start: number, state: Float64Array, masks: Float64Array | null, g: StackedViews): number;
} {
  const { math } = gatedCellNamed(dims.cell);
  const ws = math.createWorkspace(dims, T, FLOAT64);
  return { lossAndGrad: (p, ids, start, state, masks, g) => math.sequenceLossAndGrad(p, dims, ids, start, state, masks, g, ws) };
}

/**
 * `steps` training steps written out from the reference math alone: every stream's sequence
 * through its reference math (lstm.ts, gru.ts, ...) with the masks sequenceMasks draws for (seed, step, stream), streams
 * 2p and 2p + 1 adding into pair p's gradient in that order, the pairs summed in order and divided
 * by B, then the run's optimizer (optimizers.ts). No kernel, no thread, no shared memory.
 */
function referenceTrain(c: Corpus, cfg: TrainConfig, steps: number): { params: Float64Array; memory: Float64Array; state: Float64Array } {
  const { seqLength: T, streams: B, layers: L, hidden: H, seed } = cfg;
  const K = c.vocab.length;
  const dims: StackedDims = { cell: cfg.cell as CellKind, L, H, K };
  const layout = stackedLayout(dims);
  const P = layout.size;
  const params = new Float64Array(P);
  // the descriptor's init: PyTorch's U(-1/sqrt(H), 1/sqrt(H)) for every entry, in table order
  const prng = Prng.fromSeed(seed);
  for (let i = 0; i < P; i++) params[i] = (1 / Math.sqrt(H)) * (2 * prng.nextDouble() - 1);
  // then layer 0's input weights, read one-hot, times sqrt(H): U(-1, 1)
  const input = layout.specs.find((spec) => spec.name === 'weight_ih_l0')!;
  for (let i = input.offset; i < input.offset + input.size; i++) params[i] *= Math.sqrt(H);
  if (dims.cell === 'lstm') {
    // then the forget gates open: the f rows (H..2H) of b_ih are 1 and of b_hh 0
    for (const spec of layout.specs) {
      if (spec.name.startsWith('bias_ih_l')) params.fill(1, spec.offset + H, spec.offset + 2 * H);
      if (spec.name.startsWith('bias_hh_l')) params.fill(0, spec.offset + H, spec.offset + 2 * H);
    }
  }
  const memory = new Float64Array(stateBuffers(cfg.optimizer) * P);
  const S = stateSize(dims);
  const state = new Float64Array(B * S);
  const pairs = Math.ceil(B / 2);
  const slots = new Float64Array(pairs * P);
  const grad = new Float64Array(P);
  const masks = new Float64Array(maskSize(dims, T));
  const cell = referenceCell(dims, T);
  const { streamLength } = planStreams(c.ids.length, cfg);
  const p = stackedViewsOf(params, layout);
  const schedule = { ...cfg, lrHorizon: steps };
  let position = 0;
  let epoch = 1;
  for (let step = 0; step < steps; step++) {
    if (position + T + 1 > streamLength) {
      position = 0;
      epoch++;
      state.fill(0);
    }
    slots.fill(0);
    for (let s = 0; s < B; s++) {
      const slot = stackedViewsOf(slots.subarray((s >> 1) * P, ((s >> 1) + 1) * P), layout);
      sequenceMasks(masks, { L, T, H }, { seed, step, stream: s, p: cfg.dropout });
      cell.lossAndGrad(p, c.ids, s * streamLength + position, state.subarray(s * S, (s + 1) * S), masks, slot);
    }
    averageSlots(slots, pairs, B, grad);
    optimizerStep(params, grad, memory, { ...cfg, eta: learningRate(schedule, step, epoch) }, step + 1);
    position += T;
  }
  return { params, memory, state };
}

for (const cell of CELLS) {
  test.serial(`${cell}, 2 layers, dropout: the trainer's steps equal the reference math bit for bit`, async (t) => {
    const c = await corpus();
    const cfg = config(cell, { steps: 4, threads: 2 });
    const { last } = await train(cfg, c, silentReporter);
    const expected = referenceTrain(c, cfg, 4);
    t.is(Buffer.compare(bytesOf(last.state.params), bytesOf(expected.params)), 0, `params differ at ${firstBitDifference(last.state.params, expected.params)}`);
    t.is(Buffer.compare(bytesOf(last.state.optimizerState), bytesOf(expected.memory)), 0, 'AdaGrad memory');
    t.is(Buffer.compare(bytesOf(last.state.hidden), bytesOf(expected.state)), 0, 'carried states');
  });

  test.serial(`${cell}, 2 layers, dropout: 1, 2 and 3 threads give bit-identical runs, samples and evaluations included`, async (t) => {
    const c = await corpus();
    const flags = { steps: 30, sampleEvery: 11, sampleLength: 15, evalEvery: 10 };
    const runs: CheckpointState[] = [];
    for (const threads of [1, 2, 3]) runs.push((await train(config(cell, { ...flags, threads }), c, silentReporter)).last.state);
    sameState(t, runs[1], runs[0], '2 threads');
    sameState(t, runs[2], runs[0], '3 threads');
    t.true(runs[0].valLoss !== undefined && runs[0].valLoss < Math.log(c.vocab.length), `validation ${runs[0].valLoss}`);
  });

  test.serial(`${cell}, 2 layers, dropout: stopped, saved, loaded and resumed on other threads, across an epoch, equals the run without a stop`, async (t) => {
    const c = await corpus();
    const whole = config(cell, { epochs: 2, threads: 2, evalEvery: 40, sampleEvery: 35, sampleLength: 10 });
    const stepsPerEpoch = planStreams(c.ids.length, whole).stepsPerEpoch;
    const straight = (await train(whole, c, silentReporter)).last.state;
    t.is(straight.step, 2 * stepsPerEpoch);

    const firstPart = config(cell, { ...whole, out: join(dir.path, `${cell}-stopped`), steps: stepsPerEpoch - 3, epochs: undefined, threads: 3 });
    const stopped = await train(firstPart, c, silentReporter);
    const saved: CheckpointData = await loadCheckpoint(stopped.lastPath);
    const resumed = await train({ ...whole, out: firstPart.out, threads: 1 }, c, silentReporter, { start: { kind: 'resume', checkpoint: saved } });
    sameState(t, resumed.last.state, straight, 'resumed');
    t.is(resumed.last.state.epoch, 2);
  });

  test.serial(`${cell}: sampling feeds the cell one symbol at a time exactly as its sequence forward does`, async (t) => {
    const c = await corpus();
    const { last } = await train(config(cell, { steps: 20, threads: 2 }), c, silentReporter);
    const dims = { cell, L: 2, H: 12, K: c.vocab.length };
    const descriptor = cellNamed(cell);
    const layout = modelLayout(descriptor, dims);
    const stepper = descriptor.createStepper(last.state.params, layout);
    const ids = Array.from(c.ids.subarray(100, 131));
    for (const id of ids.slice(0, 30)) stepper.feed(id);
    const expected = new Float64Array(stateLength(descriptor, dims));
    const T = 30;
    const p = stackedViewsOf(last.state.params, stackedLayout(dims));
    const { math } = gatedCellNamed(cell);
    const forward = math.sequenceLoss(p, dims, ids, 0, expected, null, math.createWorkspace(dims, T, FLOAT64));
    t.true(Number.isFinite(forward));
    t.is(Buffer.compare(bytesOf(stepper.state), bytesOf(expected)), 0, `state differs at ${firstBitDifference(stepper.state, expected)}`);

    const text = sample(last, { length: 60, seed: 9, prime: 'the ' });
    t.true(text.startsWith('the '));
    t.is([...text].length, 64);
    t.is(sample(last, { length: 60, seed: 9, prime: 'the ' }), text, 'the same seed gives the same text');
  });
}

test.serial('char-rnn eval of an LSTM on the held-out tail gives its validation loss bit for bit', async (t) => {
  const plan = planStreams([...TEXT].length, { streams: 5, seqLength: 9, valFrac: 0.1 });
  t.is(plan.evalSegments.length, 1);
  const tail = [...TEXT].slice(plan.evalSegments[0].start).join('');
  const c = await corpus();
  const { last } = await train(config('lstm', { steps: 25, threads: 2 }), c, silentReporter);
  t.not(last.state.valLoss, undefined);
  const scored = scoreText(last, tail);
  t.true(Object.is(scored.natsPerChar, last.state.valLoss), `${scored.natsPerChar} vs ${last.state.valLoss}`);
});

test.serial('a gated model is refused where its shape or cell does not fit, naming what differs', async (t) => {
  const out = join(dir.path, 'refusals');
  const trained = await runCli(['train', '--corpus', CORPUS_FILE, '--cell', 'gru', '--layers', '2', '--hidden', '8', '--steps', '3', '--streams', '2', '--no-report', '--out', out]);
  t.is(trained.code, 0, trained.stderr);
  const last = join(out, 'last.ckpt');
  const cases: [string[], RegExp][] = [
    [['--init-from', last, '--cell', 'lstm'], /cannot start from .*last\.ckpt with --cell lstm \(it has gru\)/],
    [['--init-from', last, '--layers', '3', '--hidden', '9'], /with --layers 3 \(it has 2\), --hidden 9 \(it has 8\)/],
    [['--resume', last, '--dropout', '0.5'], /cannot resume .* with --dropout 0.5 \(the run used 0\): that would change the math/],
    [['--cell', 'rnn', '--layers', '2'], /--cell rnn is the seed's one-layer model: use --cell lstm, gru or mgu for --layers 2/],
    [['--cell', 'rnn', '--dropout', '0.2'], /--cell rnn has no dropout/],
    [['--cell', 'transformer'], new RegExp(`--cell must be one of ${CELL_NAMES.join(', ')}, got 'transformer'`)],
    [['--dropout', '1'], /--dropout must be at least 0 and at most 0.95, got 1/],
  ];
  for (const [args, pattern] of cases) {
    const result = await runCli(['train', '--corpus', CORPUS_FILE, '--steps', '5', '--out', join(dir.path, 'never'), ...args]);
    t.is(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    t.regex(result.stderr, pattern, args.join(' '));
    t.is(result.stderr.trim().split('\n').length, 1, `${args.join(' ')}: one line`);
  }
});

// Each optimizer with a schedule, and Adam with the global-norm clip, which a fresh LSTM's first gradients exceed.
const OPTIMIZER_RUNS = [
  { optimizer: 'rmsprop', lrSchedule: 'step', lrDecay: 0.5, lrDecayEvery: 2 },
  { optimizer: 'adam', lrSchedule: 'cosine', lrMin: 1e-4, warmupSteps: 2, clipNorm: 0.5 },
] as const;

for (const run of OPTIMIZER_RUNS) {
  const { optimizer } = run;
  test.serial(`lstm with ${optimizer} and a ${run.lrSchedule} schedule: the trainer equals the reference loop, and 1 and 3 threads agree`, async (t) => {
    const c = await corpus();
    const cfg = config('lstm', { steps: 5, threads: 2, ...run });
    const { last } = await train(cfg, c, silentReporter);
    const expected = referenceTrain(c, cfg, 5);
    t.is(Buffer.compare(bytesOf(last.state.params), bytesOf(expected.params)), 0, `params differ at ${firstBitDifference(last.state.params, expected.params)}`);
    t.is(Buffer.compare(bytesOf(last.state.optimizerState), bytesOf(expected.memory)), 0, 'optimizer state');
    t.is(last.options.optimizer, optimizer);
    const one = (await train(config('lstm', { steps: 5, threads: 1, ...run }), c, silentReporter)).last.state;
    const three = (await train(config('lstm', { steps: 5, threads: 3, ...run }), c, silentReporter)).last.state;
    sameState(t, one, last.state, '1 thread');
    sameState(t, three, last.state, '3 threads');
  });

  test.serial(`gru with ${optimizer}: stopped, saved, loaded and resumed equals the run without a stop`, async (t) => {
    const c = await corpus();
    const whole = config('gru', { steps: 40, threads: 2, evalEvery: 15, ...run });
    const straight = (await train(whole, c, silentReporter)).last.state;
    // Stopped as Ctrl-C stops a run, so that it is the same run (a cosine's horizon is the run's length):
    // asked once step 17 is reported, it ends after the step the workers are in by then, within
    // the window that evaluations every 15 steps end at step 30.
    const firstPart = config('gru', { ...whole, out: join(dir.path, `gru-${optimizer}-stopped`), threads: 3 });
    const stop = new AbortController();
    const stopAt17: Reporter = { ...silentReporter, update: (progress) => (progress.step >= 17 ? stop.abort() : undefined) };
    const stopped = await train(firstPart, c, stopAt17, { signal: stop.signal });
    t.true(stopped.interrupted);
    t.true(stopped.last.state.step >= 17 && stopped.last.state.step <= 30, `stopped at step ${stopped.last.state.step}`);
    const saved = await loadCheckpoint(stopped.lastPath);
    t.is(saved.options.optimizer, optimizer);
    const resumed = await train({ ...whole, out: firstPart.out, threads: 1 }, c, silentReporter, { start: { kind: 'resume', checkpoint: saved } });
    sameState(t, resumed.last.state, straight, 'resumed');
  });
}
