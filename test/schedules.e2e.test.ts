import test from 'ava';
import { join } from 'node:path';
import { parseTrainRequest } from '../src/commands/train.js';
import { makeTrainConfig } from '../src/config.js';
import { loadCorpusFile } from '../src/corpus.js';
import { Prng } from '../src/model/prng.js';
import { learningRate, type ScheduleSettings } from '../src/train/schedule.js';
import { train } from '../src/train/train.js';
import { loadCheckpoint } from '../src/checkpoint/index.js';
import { pseudoEnglish, runCli, sameState, silentReporter, tempDir } from './fixtures/harness.js';

const dir = tempDir('schedules-');
test.after.always(() => dir.remove());

const BASE: ScheduleSettings = { eta: 0.1, lrSchedule: 'constant', lrDecay: 0.5, lrDecayEvery: 0, lrMin: 0.01, lrHorizon: 100, warmupSteps: 0 };

test('learningRate: constant, step by epoch and by steps, cosine and warm-up, by hand', (t) => {
  t.is(learningRate(BASE, 57, 3), 0.1);
  const byEpoch = { ...BASE, lrSchedule: 'step' } as const;
  t.is(learningRate(byEpoch, 0, 1), 0.1);
  t.is(learningRate(byEpoch, 999, 3), 0.1 * 0.25, 'two epochs done: two decays');
  const bySteps = { ...BASE, lrSchedule: 'step', lrDecayEvery: 10 } as const;
  t.is(learningRate(bySteps, 9, 1), 0.1);
  t.is(learningRate(bySteps, 10, 1), 0.05);
  t.is(learningRate(bySteps, 35, 5), 0.1 * 0.125, 'periods count steps, not epochs');
  const cosine = { ...BASE, lrSchedule: 'cosine' } as const;
  t.is(learningRate(cosine, 0, 1), 0.1);
  t.true(Math.abs(learningRate(cosine, 50, 1) - (0.01 + 0.09 / 2)) < 1e-15, 'half way: half way between eta and the floor');
  t.is(learningRate(cosine, 100, 1), 0.01);
  t.is(learningRate(cosine, 250, 1), 0.01, 'flat at the floor after the horizon');
  const warm = { ...BASE, warmupSteps: 4 };
  t.deepEqual([0, 1, 2, 3, 4].map((s) => learningRate(warm, s, 1)), [0.1 * 0.25, 0.1 * 0.5, 0.1 * 0.75, 0.1, 0.1]);
});

test('--preset seed fills in the assignment; what is typed wins', (t) => {
  const seed = parseTrainRequest(['--preset', 'seed']).config;
  t.like(seed, { cell: 'rnn', layers: 1, hidden: 100, seqLength: 25, streams: 1, optimizer: 'adagrad', eta: 0.1, clip: 5, valFrac: 0 });
  t.is(seed.threads, 1, 'one stream needs one thread');
  const typed = parseTrainRequest(['--preset', 'seed', '--eta', '0.2', '--streams', '4']).config;
  t.like(typed, { eta: 0.2, streams: 4, hidden: 100 });
  t.like(parseTrainRequest([]).config, { cell: 'gru', layers: 2, hidden: 128, seqLength: 50, streams: 32, optimizer: 'adam', eta: 0.002, dtype: 'float32' }, 'the race\'s winner');
  t.like(parseTrainRequest(['--preset', 'default']).config, { cell: 'gru', streams: 32 }, 'the default preset adds nothing to the cell\'s defaults');
  t.throws(() => parseTrainRequest(['--preset', 'fast']), { message: /--preset must be one of default, seed, got 'fast'/ });
});

test('the defaults follow the cell: the rnn keeps the former ones, the lstm and gru take the race\'s', (t) => {
  t.like(parseTrainRequest(['--cell', 'rnn']).config, { layers: 1, hidden: 100, seqLength: 25, streams: 16, optimizer: 'adagrad', eta: 0.05, dtype: 'float64' });
  t.like(parseTrainRequest(['--cell', 'lstm']).config, { layers: 2, hidden: 128, seqLength: 50, streams: 32, optimizer: 'adam', eta: 0.002, dtype: 'float32' });
  t.like(parseTrainRequest(['--cell', 'rnn', '--streams', '8', '--optimizer', 'adam']).config, { streams: 8, optimizer: 'adam', eta: 0.002, hidden: 100 });
  t.like(makeTrainConfig({ cell: 'rnn' }), { streams: 16, optimizer: 'adagrad' }, 'library callers get the same defaults');
  t.throws(() => parseTrainRequest(['--cell', 'rnn', '--layers', '2']), { message: /--cell rnn is the seed's one-layer model/ });
});

test('options that cannot work together are refused in one line', (t) => {
  t.throws(() => parseTrainRequest(['--patience', '3', '--val-frac', '0']), { message: /--patience counts evaluations of the validation loss, and --val-frac 0 holds out none/ });
  t.throws(() => parseTrainRequest(['--minutes', '5', '--lr-schedule', 'cosine']), { message: /a cosine schedule needs the run's length, which --minutes alone does not fix/ });
  t.notThrows(() => parseTrainRequest(['--minutes', '5', '--lr-schedule', 'cosine', '--epochs', '3']));
  t.throws(() => parseTrainRequest(['--lr-schedule', 'cosine', '--lr-min', '1']), { message: /--lr-min 1 is above the learning rate 0\.002/ });
  t.throws(() => parseTrainRequest(['--lr-schedule', 'linear']), { message: /--lr-schedule must be one of constant, step, cosine, got 'linear'/ });
});

test('--optimizer adam without --eta starts from 0.002; --eta still wins', (t) => {
  t.is(parseTrainRequest(['--optimizer', 'adam']).config.eta, 0.002);
  t.is(parseTrainRequest(['--optimizer', 'rmsprop', '--eta', '0.01']).config.eta, 0.01);
  t.is(parseTrainRequest(['--cell', 'rnn']).config.eta, 0.05);
  t.is(parseTrainRequest(['--cell', 'gru', '--optimizer', 'adagrad']).config.eta, 0.05);
  t.throws(() => parseTrainRequest(['--optimizer', 'sgd']), { message: /--optimizer must be one of adagrad, rmsprop, adam, got 'sgd'/ });
});

// Text with nothing to learn: the next character is independent of the past, so once the model
// fits the training noise, validation only gets worse.
function noise(length: number): string {
  const prng = Prng.fromSeed(4);
  const letters = 'abcdefghijklmnopqrst';
  return Array.from({ length }, () => letters[prng.nextUint32() % letters.length]).join('');
}

test.serial('--patience stops after that many evaluations without a new best, and says so', async (t) => {
  const file = dir.file('noise.txt', noise(20_000));
  const c = await loadCorpusFile(file);
  const config = makeTrainConfig({
    corpus: file, cell: 'rnn', hidden: 32, seqLength: 10, streams: 4, eta: 0.5, steps: 2000, evalEvery: 5, patience: 3,
    sampleEvery: 0, checkpointEvery: 0, valFrac: 0.1, threads: 2, out: join(dir.path, 'patience'),
  });
  const result = await train(config, c, silentReporter);
  t.is(result.stoppedEarly, 'patience');
  t.false(result.interrupted);
  const { step, bestStep, valHistory } = result.last.state;
  t.true(step < 2000, `stopped at step ${step}`);
  t.deepEqual(valHistory.filter((p) => p.step > bestStep).map((p) => p.step), [bestStep + 5, bestStep + 10, bestStep + 15]);
  const best = valHistory.find((p) => p.step === bestStep)!.loss;
  t.true(valHistory.every((p) => p.loss >= best));
});

test.serial('--minutes stops the run at its time budget, leaving its checkpoints', async (t) => {
  const file = dir.file('minutes.txt', noise(50_000));
  const c = await loadCorpusFile(file);
  const request = parseTrainRequest(['--corpus', file, '--minutes', '0.02', '--hidden', '16', '--streams', '2', '--eval-every', '0', '--sample-every', '0', '--out', join(dir.path, 'minutes')]);
  t.is(request.config.epochs, Infinity, 'a budget alone leaves the epochs unbounded');
  const started = performance.now();
  const result = await train(request.config, c, silentReporter);
  const seconds = (performance.now() - started) / 1000;
  t.is(result.stoppedEarly, 'minutes');
  t.false(result.interrupted);
  t.true(result.last.state.step > 0);
  t.true(seconds < 30, `took ${seconds} s for a 1.2 s budget`);
  t.true(result.last.state.valLoss !== undefined, 'the final evaluation ran');
});

test('--patience across a resume: a run stopped by --steps between evaluations stops where the uninterrupted run does, with its weights', async (t) => {
  const file = dir.file('patience-resume.txt', pseudoEnglish(4000, 21));
  const flags = ['--corpus', file, '--cell', 'gru', '--hidden', '32', '--layers', '1', '--streams', '2', '--seq-length', '20', '--eta', '0.03',
    '--eval-every', '5', '--val-frac', '0.3', '--patience', '3', '--threads', '1', '--sample-every', '0', '--no-report'];
  const whole = join(dir.path, 'patience-whole');
  const uninterrupted = await runCli(['train', ...flags, '--steps', '1000', '--out', whole], {});
  t.is(uninterrupted.code, 0, uninterrupted.stderr);
  t.regex(uninterrupted.stdout, /stopped early: no new best validation loss in 3 evaluations/);
  const expected = await loadCheckpoint(join(whole, 'last.ckpt'));
  t.true(expected.state.step > 80 && expected.state.step < 1000, `stopped at step ${expected.state.step}`);
  // Stopped at 77, between the evaluations at 75 and 80: the evaluation at its end is not on the schedule.
  const parted = join(dir.path, 'patience-parted');
  const first = await runCli(['train', ...flags, '--steps', '77', '--out', parted], {});
  t.is(first.code, 0, first.stderr);
  t.is((await loadCheckpoint(join(parted, 'last.ckpt'))).state.valHistory.at(-1)?.step, 77, 'the stop step was evaluated');
  const resumed = await runCli(['train', '--resume', parted, '--steps', '1000', '--threads', '2'], {});
  t.is(resumed.code, 0, resumed.stderr);
  t.regex(resumed.stdout, /stopped early: no new best validation loss in 3 evaluations/, 'the resume keeps --patience');
  sameState(t, (await loadCheckpoint(join(parted, 'last.ckpt'))).state, expected.state, 'stopped at 77 and resumed');
});
