/**
 * A run with a time budget and no --eval-every or --sample-every measures its step rate and fixes
 * the intervals in steps, for about 10 evaluations and 5 samples whatever the machine's speed;
 * given intervals win, a resume keeps the run's, and the trained numbers do not depend on them.
 */
import { join } from 'node:path';
import test from 'ava';
import { loadCheckpoint } from '../src/checkpoint/index.js';
import { makeTrainConfig } from '../src/config.js';
import { loadCorpusFile } from '../src/corpus.js';
import { budgetIntervals, DEFAULT_EVAL_EVERY, DEFAULT_SAMPLE_EVERY, evaluationSteps, IntervalSchedule } from '../src/train/intervals.js';
import { train } from '../src/train/train.js';
import { pseudoEnglish, runCli, sameState, silentReporter, succeeded, tempDir } from './fixtures/harness.js';

const dir = tempDir('budget-intervals-test-');
test.after.always(() => dir.remove());

const CORPUS = dir.file('corpus.txt', pseudoEnglish(30_000, 7));
const TINY = ['--corpus', CORPUS, '--cell', 'gru', '--layers', '1', '--hidden', '8', '--seq-length', '8', '--streams', '2', '--threads', '1', '--sample-length', '20', '--no-report'];

const validations = (stdout: string): number[] => [...stdout.matchAll(/^step (\d+): validation /gm)].map((m) => Number(m[1]));
const samples = (stdout: string): number[] => [...stdout.matchAll(/^----- sample at step (\d+) -----$/gm)].map((m) => Number(m[1]));

test('the intervals cut the steps expected in the time left into 10 and 5 parts', (t) => {
  // 10 steps a second: 95 s left give 950 more after step 50, so the session ends near step 1000.
  t.deepEqual(budgetIntervals({ startStep: 0, step: 50, totalSteps: Infinity, stepsPerSecond: 10, secondsLeft: 95, evalSteps: 0 }), { evalEvery: 100, sampleEvery: 200 });
  // The run's last step comes first: 400 steps.
  t.deepEqual(budgetIntervals({ startStep: 0, step: 50, totalSteps: 400, stepsPerSecond: 10, secondsLeft: 95, evalSteps: 0 }), { evalEvery: 40, sampleEvery: 80 });
  // A session that starts at step 1000 spreads them over its own steps: 30 done, 3 a second for 20 s more.
  t.deepEqual(budgetIntervals({ startStep: 1000, step: 1030, totalSteps: Infinity, stepsPerSecond: 3, secondsLeft: 20, evalSteps: 0 }), { evalEvery: 9, sampleEvery: 18 });
  // Too few steps for 10 parts: every step, and a sample every step too.
  t.deepEqual(budgetIntervals({ startStep: 0, step: 2, totalSteps: Infinity, stepsPerSecond: 2, secondsLeft: 1, evalSteps: 0 }), { evalEvery: 1, sampleEvery: 1 });
});

test('evaluations that would take more than 15% of the time left are fewer, and their time is not counted as steps', (t) => {
  // 950 steps' time left; an evaluation costs 50 steps' time: 15% of 950 pays for 2 (2.85), which leave 850 steps to train.
  t.deepEqual(budgetIntervals({ startStep: 0, step: 50, totalSteps: Infinity, stepsPerSecond: 10, secondsLeft: 95, evalSteps: 50 }), { evalEvery: 450, sampleEvery: 180 });
  // Cheap evaluations (1 step's time): all 10, and the 940 steps left after them.
  t.deepEqual(budgetIntervals({ startStep: 0, step: 50, totalSteps: Infinity, stepsPerSecond: 10, secondsLeft: 95, evalSteps: 1 }), { evalEvery: 99, sampleEvery: 198 });
  // One evaluation dearer than the share: still one, at the end.
  t.deepEqual(budgetIntervals({ startStep: 0, step: 50, totalSteps: Infinity, stepsPerSecond: 10, secondsLeft: 95, evalSteps: 500 }), { evalEvery: 500, sampleEvery: 100 });
  // The held-out text scored at twice training's characters a second: 30,000 characters against steps of 1,000.
  t.is(evaluationSteps(30_000, 1_000), 15);
});

test('without a budget the intervals are the given ones or the defaults; with one, the missing ones wait for the measured rate', (t) => {
  const session = { startStep: 0, totalSteps: Infinity, evalSteps: 0 };
  t.deepEqual(new IntervalSchedule({ evalEvery: undefined, sampleEvery: undefined }, { ...session, secondsLeft: undefined }).current(), { evalEvery: DEFAULT_EVAL_EVERY, sampleEvery: DEFAULT_SAMPLE_EVERY });
  t.deepEqual(new IntervalSchedule({ evalEvery: 7, sampleEvery: undefined }, { ...session, secondsLeft: undefined }).current(), { evalEvery: 7, sampleEvery: DEFAULT_SAMPLE_EVERY });
  const given = new IntervalSchedule({ evalEvery: 0, sampleEvery: 3 }, { ...session, secondsLeft: 60 });
  t.false(given.observe(100, 10, 50), 'both given: nothing to measure');
  t.deepEqual(given.current(), { evalEvery: 0, sampleEvery: 3 });

  // 60 s: the intervals are fixed after 6 s of training, from the rate over its second half.
  const measured = new IntervalSchedule({ evalEvery: 7, sampleEvery: undefined }, { ...session, secondsLeft: 60 });
  t.deepEqual(measured.current(), { evalEvery: 7, sampleEvery: 0 }, 'no sample before the rate is known');
  t.deepEqual(measured.saved(), { evalEvery: 7, sampleEvery: DEFAULT_SAMPLE_EVERY }, 'before any step a checkpoint records the default');
  t.false(measured.observe(10, 2, 58));
  // 5 steps a second so far: 10 + 290 steps in all, a tenth is 30; a sample every 2 of them.
  t.deepEqual(measured.saved(), { evalEvery: 7, sampleEvery: 60 }, 'meanwhile, what the rate so far gives');
  t.false(measured.observe(20, 3, 57), 'the mark, half way: 20 steps after 3 s');
  t.false(measured.observe(50, 5, 55));
  // From the mark, 60 steps in 3 s, 20 a second (the 5 a second before it left out): 80 + 20 * 54 = 1160 steps in all, a tenth is 116.
  t.true(measured.observe(80, 6, 54), 'fixed after 6 s');
  t.deepEqual(measured.current(), { evalEvery: 7, sampleEvery: 232 });
  t.false(measured.observe(500, 50, 5), 'fixed once');
  t.deepEqual(measured.saved(), measured.current());
  t.true(measured.sampleDue(232) && !measured.sampleDue(0) && !measured.sampleDue(231));
  t.true(measured.evalDue(14) && !measured.evalDue(15));

  // A run of 300 steps that would take longer than its budget allows is measured over 30 steps instead of 6 s.
  const short = new IntervalSchedule({ evalEvery: undefined, sampleEvery: undefined }, { startStep: 0, totalSteps: 300, evalSteps: 0, secondsLeft: 60 });
  t.false(short.observe(15, 0.5, 59.5), 'the mark, half way: 15 steps after 0.5 s');
  // From the mark, 15 steps in 0.5 s, 30 a second: the 300 steps come before the 30 + 30 * 59 the budget holds.
  t.true(short.observe(30, 1, 59), 'fixed after a tenth of the steps');
  t.deepEqual(short.current(), { evalEvery: 30, sampleEvery: 60 });
});

test('a short budget on a small text shows several validations and samples, spread over the run', async (t) => {
  const out = join(dir.path, 'short');
  const result = await runCli(['train', ...TINY, '--minutes', '0.1', '--out', out], {});
  succeeded(t, result, 'the run');
  const evaluated = validations(result.stdout);
  const sampled = samples(result.stdout);
  // About 10 and 5 on a machine whose speed holds; a machine shared with other work may change
  // speed after the rate was taken, so the bounds are wide: the defaults would give 1 and none.
  t.true(evaluated.length >= 4 && evaluated.length <= 40, `${evaluated.length} validations: ${evaluated.join(', ')}`);
  t.true(sampled.length >= 2 && sampled.length <= 20, `${sampled.length} samples: ${sampled.join(', ')}`);
  const saved = await loadCheckpoint(join(out, 'last.ckpt'));
  const { evalEvery, sampleEvery } = saved.options;
  t.true(evalEvery > 0 && sampleEvery > 0, `eval-every ${evalEvery}, sample-every ${sampleEvery}`);
  // Every eval-every steps from the first after the measurement, then the final one.
  const scheduled = evaluated.slice(0, -1);
  t.deepEqual(scheduled, scheduled.map((_, i) => scheduled[0] + i * evalEvery), evaluated.join(', '));
  t.true(scheduled.every((step) => step % evalEvery === 0));
  t.true(evaluated.at(-1) === saved.state.step);
  t.true(sampled.every((step, i) => step % sampleEvery === 0 && (i === 0 || step === sampled[i - 1] + sampleEvery)), sampled.join(', '));

  // A resume keeps the run's intervals, as it keeps its other bookkeeping options.
  const resumed = await runCli(['train', '--resume', out, '--minutes', '0.05'], {});
  succeeded(t, resumed, 'the resume');
  const later = validations(resumed.stdout);
  t.true(later.length >= 1);
  t.true(later.slice(0, -1).every((step) => step % evalEvery === 0 && step > saved.state.step), later.join(', '));
  t.is((await loadCheckpoint(join(out, 'last.ckpt'))).options.evalEvery, evalEvery);
});

test('given intervals win over the budget', async (t) => {
  const out = join(dir.path, 'given');
  const result = await runCli(['train', ...TINY, '--minutes', '0.05', '--eval-every', '0', '--sample-every', '0', '--out', out], {});
  succeeded(t, result, 'the run');
  t.is(validations(result.stdout).length, 1, 'only the final validation');
  t.deepEqual(samples(result.stdout), []);
  const { options } = await loadCheckpoint(join(out, 'last.ckpt'));
  t.deepEqual([options.evalEvery, options.sampleEvery], [0, 0]);
});

test.serial('the windows the measured intervals cut leave the trained numbers as they are', async (t) => {
  const corpus = await loadCorpusFile(CORPUS);
  const base = { corpus: CORPUS, cell: 'gru', layers: 1, hidden: 8, seqLength: 8, streams: 2, threads: 1, sampleLength: 20, checkpointEvery: 0 };
  const timed = await train(makeTrainConfig({ ...base, minutes: 0.03, epochs: Infinity, out: join(dir.path, 'timed') }), corpus, silentReporter);
  t.is(timed.stoppedEarly, 'minutes');
  t.true(timed.last.state.valHistory.length >= 3, `the measured intervals cut the run: ${timed.last.state.valHistory.length} evaluations`);
  const { step } = timed.last.state;
  const plain = await train(makeTrainConfig({ ...base, steps: step, evalEvery: 0, sampleEvery: 0, out: join(dir.path, 'plain') }), corpus, silentReporter);
  t.is(plain.last.state.step, step);
  // Samples draw from the PRNG, so its state differs; the rest is the same, bit for bit.
  sameState(t, { ...plain.last.state, prngState: timed.last.state.prngState }, timed.last.state, `${step} steps`);
});
