import test from 'ava';
import { join } from 'node:path';
import type { CheckpointState } from '../src/checkpoint/index.js';
import { makeTrainConfig, type TrainConfig } from '../src/config.js';
import { loadCorpusFile, type Corpus } from '../src/corpus.js';
import { TrainingError } from '../src/errors.js';
import { WINDOW_STEPS } from '../src/train/control.js';
import { planStreams } from '../src/train/plan.js';
import { train } from '../src/train/train.js';
import { bytesOf, firstBitDifference, pseudoEnglish, silentReporter, tempDir } from './fixtures/harness.js';

// The workers run up to WINDOW_STEPS steps without the coordinator, wrapping epochs themselves;
// the coordinator ends a window wherever it must act. Where the windows end must never show in
// the numbers.

const dir = tempDir('windows-');
test.after.always(() => dir.remove());

const CORPUS_FILE = dir.file('corpus.txt', pseudoEnglish(6000));
let corpusPromise: Promise<Corpus> | undefined;
const corpus = (): Promise<Corpus> => (corpusPromise ??= loadCorpusFile(CORPUS_FILE));

const MODELS: Readonly<Record<string, Partial<TrainConfig>>> = {
  rnn: { cell: 'rnn', hidden: 8 },
  'lstm, 2 layers, dropout': { cell: 'lstm', layers: 2, hidden: 8, dropout: 0.25, optimizer: 'adam', lrSchedule: 'step', lrDecay: 0.9, lrDecayEvery: 1 },
};

function config(model: Partial<TrainConfig>, partial: Partial<TrainConfig>): TrainConfig {
  return makeTrainConfig({
    corpus: CORPUS_FILE, seqLength: 9, streams: 5, valFrac: 0.1, evalEvery: 0, sampleEvery: 0, checkpointEvery: 0,
    out: join(dir.path, Math.random().toString(36).slice(2)), ...model, ...partial,
  });
}

function sameState(t: import('ava').ExecutionContext, actual: CheckpointState, expected: CheckpointState, what: string): void {
  t.is(actual.step, expected.step, `${what}: step`);
  t.is(actual.epoch, expected.epoch, `${what}: epoch`);
  t.is(actual.position, expected.position, `${what}: position`);
  t.is(Buffer.compare(bytesOf(actual.params), bytesOf(expected.params)), 0, `${what}: params differ at ${firstBitDifference(actual.params, expected.params)}`);
  t.is(Buffer.compare(bytesOf(actual.optimizerState), bytesOf(expected.optimizerState)), 0, `${what}: optimizer state`);
  t.is(Buffer.compare(bytesOf(actual.hidden), bytesOf(expected.hidden)), 0, `${what}: carried states`);
  t.true(Object.is(actual.smoothLoss, expected.smoothLoss), `${what}: smooth loss ${actual.smoothLoss} vs ${expected.smoothLoss}`);
  t.deepEqual(actual.smoothHistory, expected.smoothHistory, `${what}: smooth loss history`);
}

for (const [name, model] of Object.entries(MODELS)) {
  test.serial(`${name}: windows of ${WINDOW_STEPS} steps with the epochs wrapped by the workers equal windows of 7 steps, on 1 and 2 threads`, async (t) => {
    const c = await corpus();
    const steps = WINDOW_STEPS + 44;
    const { stepsPerEpoch } = planStreams(c.ids.length, config(model, {}));
    t.true(stepsPerEpoch < WINDOW_STEPS / 2 && stepsPerEpoch % 7 !== 0, `the long windows cross epochs inside them (${stepsPerEpoch} steps an epoch)`);
    const long = (await train(config(model, { steps, threads: 2 }), c, silentReporter)).last.state;
    const short = (await train(config(model, { steps, threads: 2, checkpointEvery: 7 }), c, silentReporter)).last.state;
    const oneThread = (await train(config(model, { steps, threads: 1 }), c, silentReporter)).last.state;
    t.is(long.epoch, 3);
    sameState(t, short, long, 'windows of 7');
    sameState(t, oneThread, long, '1 thread');
  });
}

test.serial('a loss that stops being finite ends the window at that step: the same step as with a window a step long', async (t) => {
  const c = await corpus();
  const diverging = { cell: 'rnn', hidden: 8, eta: 1e308, clip: 1e300 } as const; // logits of 8 terms of 1e308 overflow
  const stepOfError = async (partial: Partial<TrainConfig>): Promise<number> => {
    const error = await t.throwsAsync(train(config(diverging, { steps: 200, threads: 2, ...partial }), c, silentReporter), { instanceOf: TrainingError });
    const match = /the loss became (NaN|-?Infinity) at step (\d+): training diverged/.exec(error?.message ?? '');
    t.truthy(match, error?.message);
    return Number(match?.[2]);
  };
  const inWindow = await stepOfError({});
  const stepByStep = await stepOfError({ checkpointEvery: 1 });
  t.true(inWindow > 1 && inWindow < 200, `diverged at step ${inWindow}`);
  t.is(inWindow, stepByStep);
});
