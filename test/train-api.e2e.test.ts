import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import test from 'ava';
import { TRAIN_OPTIONS } from '../src/config.js';
import { FLAG_KEYS } from '../src/api/options.js';
import { loadCheckpoint, resume, train, TrainingError, UserError, type TrainEvent, type TrainOptions } from '../src/index.js';
import { pseudoEnglish, runCli, sameState, tempDir } from './fixtures/harness.js';

const dir = tempDir('train-api-');
test.after.always(() => dir.remove());

const CORPUS = dir.file('corpus.txt', pseudoEnglish(12_000));
const STEPS = 30;
// The same run as flags and as options: an LSTM, so that float32 kernels, Adam and samples all take part.
const FLAGS = ['--corpus', CORPUS, '--cell', 'lstm', '--layers', '1', '--hidden', '16', '--seq-length', '10', '--streams', '4', '--steps', String(STEPS),
  '--eval-every', '10', '--sample-every', '10', '--sample-length', '20', '--checkpoint-every', '10', '--seed', '3', '--no-report'];
const OPTIONS: TrainOptions = {
  corpus: CORPUS, cell: 'lstm', layers: 1, hidden: 16, seqLength: 10, streams: 4, steps: STEPS,
  evalEvery: 10, sampleEvery: 10, sampleLength: 20, checkpointEvery: 10, seed: 3, noReport: true,
};

async function collect(run: AsyncIterable<TrainEvent>): Promise<TrainEvent[]> {
  const events: TrainEvent[] = [];
  for await (const event of run) events.push(event);
  return events;
}

test('the typed options are the CLI flags, camel-cased, with --resume as resume()', (t) => {
  const camel = (name: string): string => name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
  const names = TRAIN_OPTIONS.map((spec) => camel(spec.name)).filter((name) => name !== 'resume');
  t.deepEqual([...FLAG_KEYS].sort(), names.sort());
});

test('train() through the library equals char-rnn train bit for bit, and its events tell the run', async (t) => {
  const cliOut = join(dir.path, 'cli');
  const cli = await runCli(['train', ...FLAGS, '--threads', '2', '--out', cliOut], { cwd: dir.path });
  t.is(cli.code, 0, cli.stderr);

  const out = join(dir.path, 'library');
  const run = train({ ...OPTIONS, threads: 1, out });
  const events = await collect(run);
  const result = await run.result;
  for (const file of ['last.ckpt', 'best.ckpt']) {
    sameState(t, (await loadCheckpoint(join(out, file))).state, (await loadCheckpoint(join(cliOut, file))).state, file);
  }
  t.is(readFileSync(join(out, 'history.csv'), 'utf8').split('\n').length, readFileSync(join(cliOut, 'history.csv'), 'utf8').split('\n').length);

  const last = await loadCheckpoint(join(out, 'last.ckpt'));
  t.is(result.stoppedBy, 'end');
  t.is(result.step, STEPS);
  t.is(result.lastPath, join(out, 'last.ckpt'));
  t.is(result.bestPath, join(out, 'best.ckpt'));
  t.deepEqual(Array.from(result.checkpoint.state.params), Array.from(last.state.params));
  t.is(result.smoothLoss, last.state.smoothLoss / 10);

  const steps = events.filter((event) => event.type === 'step');
  t.true(steps.length > 0);
  t.true(steps.every((event, i) => i === 0 || event.step > steps[i - 1].step), 'steps in order');
  t.is(steps.at(-1)?.step, STEPS);
  t.true(steps.every((event) => event.loss > 0 && event.loss < 10 && event.totalSteps === STEPS));
  const evaluations = events.flatMap((event) => (event.type === 'evaluation' ? [event] : []));
  t.deepEqual(evaluations.map((event) => [event.step, event.valLoss]), last.state.valHistory.map((point) => [point.step, point.loss]));
  t.deepEqual(events.flatMap((event) => (event.type === 'sample' ? [event.step] : [])), [10, 20]);
  t.true(events.some((event) => event.type === 'checkpoint' && event.kind === 'last' && event.step === STEPS && event.path === result.lastPath));
  const done = events.at(-1);
  t.is(done?.type, 'done');
  if (done?.type === 'done') t.is(done.valLoss, result.valLoss);
});

test('an AbortSignal stops the run with a checkpoint saved, and resume() then ends where an uninterrupted run does', async (t) => {
  const whole = join(dir.path, 'whole');
  await train({ ...OPTIONS, threads: 2, out: whole }).result;

  const out = join(dir.path, 'aborted');
  const stop = new AbortController();
  const handlers = process.listenerCount('SIGINT') + process.listenerCount('SIGTERM');
  const run = train({ ...OPTIONS, threads: 2, out, signal: stop.signal });
  for await (const event of run) {
    if (event.type === 'step' && event.step >= 12) {
      t.is(process.listenerCount('SIGINT') + process.listenerCount('SIGTERM'), handlers, 'the library installs no signal handler');
      stop.abort();
    }
  }
  const stopped = await run.result;
  t.is(stopped.stoppedBy, 'abort');
  t.true(stopped.step >= 12 && stopped.step < STEPS, `stopped at ${stopped.step}`);
  t.is((await loadCheckpoint(stopped.lastPath)).state.step, stopped.step);
  t.is(stopped.report, undefined);

  const resumed = await resume(out, { threads: 1 }).result;
  t.is(resumed.stoppedBy, 'end');
  sameState(t, (await loadCheckpoint(join(out, 'last.ckpt'))).state, (await loadCheckpoint(join(whole, 'last.ckpt'))).state, 'aborted and resumed');
});

test('a corpus given as a string trains, and its checkpoints name it', async (t) => {
  const out = join(dir.path, 'text');
  const result = await train({ corpus: { text: pseudoEnglish(3000), name: 'words' }, cell: 'rnn', hidden: 8, seqLength: 10, streams: 2, steps: 5, noReport: true, out }).result;
  t.is(result.checkpoint.corpus.source, 'words');
  t.is(result.step, 5);
  t.true(existsSync(join(out, 'last.ckpt')));
  await t.throwsAsync(train({ corpus: { text: '' }, out: join(dir.path, 'empty') }).result, { instanceOf: UserError, message: /is empty/ });
  await t.throwsAsync(train({ corpus: { text: 'ab\uD800c' }, out: join(dir.path, 'lone') }).result, { instanceOf: UserError, message: /lone UTF-16 surrogate at index 2/ });
});

test('progress shows the CLI\'s lines on the stream given, and a run that diverges rejects with a TrainingError', async (t) => {
  const shown: string[] = [];
  const stream = new Writable({ write: (chunk: Buffer, _encoding, done) => done(void shown.push(chunk.toString())) });
  const small: TrainOptions = { corpus: CORPUS, cell: 'rnn', hidden: 8, seqLength: 10, streams: 2, steps: 5, noReport: true };
  await train({ ...small, out: join(dir.path, 'shown'), progress: stream }).result;
  t.regex(shown.join(''), /loaded .*corpus\.txt: 12000 characters/);
  const diverging = train({ ...small, out: join(dir.path, 'diverged'), steps: 200, eta: 1e308 });
  await t.throwsAsync(diverging.result, { instanceOf: TrainingError, message: /training diverged/ });
});

test('bad options throw a UserError naming the option before anything starts, as the CLI refuses them', (t) => {
  t.throws(() => train({ hidden: 0 }), { instanceOf: UserError, message: '--hidden must be at least 1 and at most 4096, got 0' });
  t.throws(() => train({ hidden: '16' as unknown as number }), { instanceOf: UserError, message: /option hidden \(--hidden\) must be a number, got '16'/ });
  t.throws(() => train({ steps: 10, epochs: 2 }), { instanceOf: UserError, message: 'give --epochs or --steps, not both' });
  t.throws(() => train({ hiddn: 16 } as TrainOptions), { instanceOf: UserError, message: /unknown train option 'hiddn'/ });
  t.throws(() => resume(join(dir.path, 'x'), { force: true } as TrainOptions), { instanceOf: UserError, message: /resume\(\) continues a run with its own options/ });
  t.throws(() => train({ extendVocab: true }), { instanceOf: UserError, message: /--extend-vocab .* give --init-from too/ });
  t.false(existsSync(join(dir.path, 'checkpoints')), 'no run folder was made');
});

test('a run folder in use is refused as the CLI refuses it, and force replaces it', async (t) => {
  const out = join(dir.path, 'occupied');
  const small: TrainOptions = { corpus: CORPUS, cell: 'rnn', hidden: 8, seqLength: 10, streams: 2, steps: 3, noReport: true, out };
  await train(small).result;
  const refused = train(small);
  await t.throwsAsync(collect(refused), { instanceOf: UserError, message: /occupied|already|holds/ });
  await t.throwsAsync(refused.result, { instanceOf: UserError });
  const replaced = await train({ ...small, steps: 4, force: true }).result;
  t.is(replaced.step, 4);
});
