import test from 'ava';
import { join } from 'node:path';
import { loadCheckpoint, type CheckpointState } from '../src/checkpoint/index.js';
import { makeTrainConfig, type TrainConfig } from '../src/config.js';
import { loadCorpusFile, type Corpus } from '../src/corpus.js';
import { sample, scoreText } from '../src/index.js';
import { averageSlots } from '../src/model/adagrad.js';
import { modelLayout, stateLength } from '../src/model/cells/cell.js';
import { cellNamed } from '../src/model/cells/registry.js';
import { maskSize, type CellKind } from '../src/model/cells/stacked-layout.js';
import { sequenceMasks } from '../src/model/dropout.js';
import { optimizerStep, stateBuffers } from '../src/model/optimizers.js';
import { FLOAT32 } from '../src/model/precision.js';
import { Prng } from '../src/model/prng.js';
import { planStreams } from '../src/train/plan.js';
import { learningRate } from '../src/train/schedule.js';
import { train } from '../src/train/train.js';
import { bytesOf, firstBitDifference, pseudoEnglish, runCli, sameState, silentReporter, tempDir } from './fixtures/harness.js';

// --dtype float32: the trainer against a float32 reference loop, thread counts, resume, the
// checkpoint's dtype, sampling and scoring from a float32 checkpoint, and the refusals.

const dir = tempDir('float32-training-');
test.after.always(() => dir.remove());

const TEXT = pseudoEnglish(6000, 777);
const CORPUS_FILE = dir.file('corpus.txt', TEXT);
let corpusPromise: Promise<Corpus> | undefined;
const corpus = (): Promise<Corpus> => (corpusPromise ??= loadCorpusFile(CORPUS_FILE));

function config(cell: CellKind, partial: Partial<TrainConfig>): TrainConfig {
  return makeTrainConfig({
    corpus: CORPUS_FILE, cell, layers: 2, hidden: 12, dropout: 0.25, dtype: 'float32', seqLength: 9, streams: 5, valFrac: 0.1,
    evalEvery: 0, sampleEvery: 0, checkpointEvery: 0, out: join(dir.path, `${cell}-${Math.random().toString(36).slice(2)}`),
    ...partial,
  });
}

/**
 * `steps` float32 training steps from the reference math alone: each step the float64 weights
 * rounded to float32, every stream through the cell's float32 reference into its pair's float32
 * slot, the slots summed in float64 in order and divided by B, the optimizer in float64.
 */
function referenceTrain(c: Corpus, cfg: TrainConfig, steps: number): { params: Float64Array; memory: Float64Array; state: Float64Array } {
  const { seqLength: T, streams: B, seed } = cfg;
  const dims = { cell: cfg.cell, L: cfg.layers, H: cfg.hidden, K: c.vocab.length };
  const descriptor = cellNamed(dims.cell);
  const layout = modelLayout(descriptor, dims);
  const P = layout.size;
  const params = new Float64Array(P);
  descriptor.init(params, layout, Prng.fromSeed(seed));
  const memory = new Float64Array(stateBuffers(cfg.optimizer) * P);
  const S = stateLength(descriptor, dims);
  const state = new Float64Array(B * S);
  const pairs = Math.ceil(B / 2);
  const slots = new Float32Array(pairs * P);
  const grad = new Float64Array(P);
  const masks = new Float32Array(maskSize({ ...dims, cell: dims.cell as CellKind }, T));
  const math = descriptor.reference(layout, T, FLOAT32);
  const { streamLength } = planStreams(c.ids.length, cfg);
  const schedule = { ...cfg, lrHorizon: steps };
  let position = 0;
  for (let step = 0; step < steps; step++) {
    const weights = Float32Array.from(params);
    slots.fill(0);
    for (let s = 0; s < B; s++) {
      sequenceMasks(masks, { L: dims.L, T, H: dims.H }, { seed, step, stream: s, p: cfg.dropout });
      math.lossAndGrad(weights, slots.subarray((s >> 1) * P, ((s >> 1) + 1) * P), c.ids, s * streamLength + position, state.subarray(s * S, (s + 1) * S), masks);
    }
    averageSlots(slots, pairs, B, grad);
    optimizerStep(params, grad, memory, { ...cfg, eta: learningRate(schedule, step, 1) }, step + 1);
    position += T;
  }
  return { params, memory, state };
}

const RUNS = [
  { cell: 'lstm', optimizer: 'adagrad' },
  { cell: 'gru', optimizer: 'adam', clipNorm: 0.5 },
] as const;

for (const run of RUNS) {
  const { cell } = run;
  test.serial(`${cell} in float32 with ${run.optimizer}: the trainer's steps equal the float32 reference loop, and 1, 2 and 3 threads agree`, async (t) => {
    const c = await corpus();
    const cfg = config(cell, { steps: 4, threads: 2, ...run });
    const { last } = await train(cfg, c, silentReporter);
    t.is(last.options.dtype, 'float32');
    const expected = referenceTrain(c, cfg, 4);
    t.is(Buffer.compare(bytesOf(last.state.params), bytesOf(expected.params)), 0, `params differ at ${firstBitDifference(last.state.params, expected.params)}`);
    t.is(Buffer.compare(bytesOf(last.state.optimizerState), bytesOf(expected.memory)), 0, 'optimizer state');
    t.is(Buffer.compare(bytesOf(last.state.hidden), bytesOf(expected.state)), 0, 'carried states');
    t.true(last.state.hidden.every((v) => Math.fround(v) === v), 'the carried states are float32 numbers');

    const flags = { steps: 24, evalEvery: 10, sampleEvery: 7, sampleLength: 12, ...run };
    const runs: CheckpointState[] = [];
    for (const threads of [1, 2, 3]) runs.push((await train(config(cell, { ...flags, threads }), c, silentReporter)).last.state);
    sameState(t, runs[1], runs[0], '2 threads');
    sameState(t, runs[2], runs[0], '3 threads');
  });
}

test.serial('float32: stopped, saved, loaded and resumed equals the run without a stop; sample and eval read the checkpoint\'s dtype', async (t) => {
  const c = await corpus();
  const whole = config('lstm', { steps: 30, threads: 2, evalEvery: 10 });
  const straight = await train(whole, c, silentReporter);
  const firstPart = config('lstm', { ...whole, out: join(dir.path, 'stopped'), steps: 13, threads: 3 });
  const stopped = await train(firstPart, c, silentReporter);
  const saved = await loadCheckpoint(stopped.lastPath);
  t.is(saved.options.dtype, 'float32');
  const resumed = await train({ ...whole, out: firstPart.out, threads: 1 }, c, silentReporter, { start: { kind: 'resume', checkpoint: saved } });
  sameState(t, resumed.last.state, straight.last.state, 'resumed');

  // eval scores with the float32 kernels, as validation did
  const plan = planStreams([...TEXT].length, whole);
  const tail = [...TEXT].slice(plan.evalSegments[0].start).join('');
  t.true(Object.is(scoreText(straight.last, tail).natsPerChar, straight.last.state.valLoss), 'eval equals the validation loss bit for bit');

  // sampling steps in float32: the stepper's state after 20 symbols is the float32 forward's
  const dims = { cell: 'lstm', L: 2, H: 12, K: c.vocab.length };
  const descriptor = cellNamed('lstm');
  const layout = modelLayout(descriptor, dims);
  const stepper = descriptor.createStepper(straight.last.state.params, layout, FLOAT32);
  const ids = Array.from(c.ids.subarray(50, 71));
  for (const id of ids.slice(0, 20)) stepper.feed(id);
  const forward = new Float64Array(stateLength(descriptor, dims));
  descriptor.reference(layout, 20, FLOAT32).loss(Float32Array.from(straight.last.state.params), ids, 0, forward, null);
  t.is(Buffer.compare(bytesOf(stepper.state), bytesOf(forward)), 0, `stepper state differs at ${firstBitDifference(stepper.state, forward)}`);
  const text = sample(straight.last, { length: 40, seed: 3, prime: 'the ' });
  t.is([...text].length, 44);
  t.is(sample(straight.last, { length: 40, seed: 3, prime: 'the ' }), text);
});

test.serial('--dtype: refused for the rnn, on resume, and unknown; --init-from converts between dtypes', async (t) => {
  const out = join(dir.path, 'cli');
  const trained = await runCli(['train', '--corpus', CORPUS_FILE, '--cell', 'gru', '--hidden', '8', '--dtype', 'float32', '--steps', '3', '--streams', '2', '--no-report', '--out', out]);
  t.is(trained.code, 0, trained.stderr);
  const last = join(out, 'last.ckpt');
  const inspected = await runCli(['inspect', last]);
  t.regex(inspected.stdout, /--dtype float32/);
  const cases: [string[], RegExp][] = [
    [['--cell', 'rnn', '--dtype', 'float32'], /--cell rnn computes in float64 only: use --cell lstm, gru or mgu for --dtype float32/],
    [['--cell', 'lstm', '--dtype', 'float16'], /--dtype must be one of float64, float32, got 'float16'/],
    [['--resume', last, '--dtype', 'float64', '--steps', '6'], /cannot resume .* with --dtype float64 \(the run used float32\): that would change the math/],
  ];
  for (const [args, pattern] of cases) {
    const result = await runCli(['train', '--corpus', CORPUS_FILE, '--steps', '5', '--out', join(dir.path, 'never'), ...args]);
    t.is(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    t.regex(result.stderr, pattern, args.join(' '));
    t.is(result.stderr.trim().split('\n').length, 1, `${args.join(' ')}: one line`);
  }
  const converted = await runCli(['train', '--corpus', CORPUS_FILE, '--init-from', last, '--dtype', 'float64', '--steps', '2', '--streams', '2', '--no-report', '--out', join(dir.path, 'converted')]);
  t.is(converted.code, 0, converted.stderr);
  const loaded = await loadCheckpoint(join(dir.path, 'converted', 'last.ckpt'));
  t.is(loaded.options.dtype, 'float64');
  t.is(loaded.model.cell, 'gru');
  t.regex((await runCli(['inspect', join(dir.path, 'converted', 'last.ckpt')])).stdout, /--dtype float64/, 'a gated float64 run says so: it is not the default');
  // without --dtype, --init-from keeps the checkpoint's precision
  const kept = await runCli(['train', '--corpus', CORPUS_FILE, '--init-from', join(dir.path, 'converted', 'last.ckpt'), '--steps', '2', '--streams', '2', '--no-report', '--out', join(dir.path, 'kept')]);
  t.is(kept.code, 0, kept.stderr);
  t.is((await loadCheckpoint(join(dir.path, 'kept', 'last.ckpt'))).options.dtype, 'float64');
});

test('the default precision is the cell\'s: float32 for the gated cells, float64 for the rnn; --dtype wins', (t) => {
  t.is(makeTrainConfig({ cell: 'lstm' }).dtype, 'float32');
  t.is(makeTrainConfig({ cell: 'gru' }).dtype, 'float32');
  t.is(makeTrainConfig({ cell: 'rnn' }).dtype, 'float64');
  t.is(makeTrainConfig({}).dtype, 'float32', 'the default cell is a gru');
  t.is(makeTrainConfig({ cell: 'lstm', dtype: 'float64' }).dtype, 'float64');
});
