import test, { type ExecutionContext } from 'ava';
import { copyFileSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint, type CheckpointData } from '../src/checkpoint/index.js';
import {
  bytesOf,
  firstBitDifference,
  folderSnapshot,
  HANG_MS,
  pollUntil,
  pseudoEnglish,
  runCli,
  startCli,
  tempDir,
  type CliResult,
} from './fixtures/harness.js';

// Every CLI child runs with cwd in this folder and writes only under it.
const dir = tempDir('resume-test-');
test.after.always(() => dir.remove());

const TEXT = pseudoEnglish(160_000); // ASCII only: one character per code point
const CORPUS = dir.file('corpus.txt', TEXT);

// The runs compared with REFERENCE share these options; what they may change (threads,
// checkpoint-every, how they are stopped) does not change the numbers.
const B = 4;
const T = 25;
const VAL_FRAC = 0.05;
const MATH = ['--corpus', CORPUS, '--hidden', '16', '--seq-length', String(T), '--streams', String(B), '--val-frac', String(VAL_FRAC), '--seed', '7'];
// Samples draw from the PRNG, so they must fall at the same steps in both runs for its state to match.
const SCHEDULE = ['--epochs', '2', '--sample-every', '250', '--sample-length', '40', '--eval-every', '1000'];

// Worked out from the text, independently of the planner: B streams share the first
// (1 - valFrac) of it, and a step reads T + 1 characters of each stream.
const TRAIN_LENGTH = TEXT.length - Math.floor(TEXT.length * VAL_FRAC);
const STREAM_LENGTH = Math.floor(TRAIN_LENGTH / B);
const STEPS_PER_EPOCH = Math.floor((STREAM_LENGTH - 1) / T);
const TOTAL = 2 * STEPS_PER_EPOCH; // --epochs 2

const CHILD_MS = HANG_MS;

/** One uninterrupted run of TOTAL steps: the state every interrupted-then-resumed run must end in. */
let referencePromise: Promise<CheckpointData> | undefined;
function reference(): Promise<CheckpointData> {
  referencePromise ??= (async () => {
    const out = join(dir.path, 'reference');
    const result = await runCli(['train', ...MATH, ...SCHEDULE, '--threads', '2', '--checkpoint-every', '0', '--out', out], { cwd: dir.path, timeoutMs: CHILD_MS });
    if (result.code !== 0) throw new Error(`the reference run exited with ${result.code}: ${result.stderr}`);
    return loadCheckpoint(join(out, 'last.ckpt'));
  })();
  return referencePromise;
}

function succeeded(t: ExecutionContext, result: CliResult, what: string): void {
  t.false(result.timedOut, `${what} timed out`);
  t.is(result.code, 0, `${what}: ${result.stderr}`);
}

/** The training state bit for bit: tensors, PRNG, counters and smooth loss. */
function assertSameState(t: ExecutionContext, actual: CheckpointData, expected: CheckpointData): void {
  const a = actual.state;
  const e = expected.state;
  t.is(a.step, e.step, 'step');
  t.is(a.epoch, e.epoch, 'epoch');
  t.is(a.position, e.position, 'position');
  t.is(a.charsSeen, e.charsSeen, 'characters seen');
  t.is(Buffer.compare(bytesOf(a.params), bytesOf(e.params)), 0, `params: first difference at ${firstBitDifference(a.params, e.params)}`);
  t.is(Buffer.compare(bytesOf(a.optimizerState), bytesOf(e.optimizerState)), 0, `AdaGrad memory: first difference at ${firstBitDifference(a.optimizerState, e.optimizerState)}`);
  t.is(Buffer.compare(bytesOf(a.hidden), bytesOf(e.hidden)), 0, `hidden states: first difference at ${firstBitDifference(a.hidden, e.hidden)}`);
  t.deepEqual(Array.from(a.prngState), Array.from(e.prngState), 'PRNG state');
  t.true(Object.is(a.smoothLoss, e.smoothLoss), `smooth loss ${a.smoothLoss} vs ${e.smoothLoss}`);
}

test('the reference run covers two epochs of the text', async (t) => {
  const ref = await reference();
  t.is(ref.state.step, TOTAL);
  t.is(ref.state.epoch, 2);
  t.is(ref.state.charsSeen, TOTAL * B * T);
  t.is(ref.state.streamLength, STREAM_LENGTH);
});

test('stopped by --steps, resumed with --epochs and fewer threads: bit-identical to the uninterrupted run, across an epoch boundary', async (t) => {
  const out = join(dir.path, 'by-steps');
  const last = join(out, 'last.ckpt');
  // 500 is a multiple of --sample-every: the stopped run must not draw the sample due at step
  // 500, and the resumed run must draw it first.
  const first = await runCli(['train', ...MATH, '--steps', '500', '--sample-every', '250', '--sample-length', '40', '--eval-every', '1000', '--threads', '2', '--checkpoint-every', '0', '--out', out], { cwd: dir.path, timeoutMs: CHILD_MS });
  succeeded(t, first, 'the first 500 steps');
  const stopped = await loadCheckpoint(last);
  t.is(stopped.state.step, 500);
  t.is(stopped.state.epoch, 1);

  // --epochs counts from the start of the run, not from the checkpoint.
  const resumed = await runCli(['train', '--resume', last, '--epochs', '2', '--threads', '1'], { cwd: dir.path, timeoutMs: CHILD_MS });
  succeeded(t, resumed, 'the resumed run');
  const finished = await loadCheckpoint(last);
  t.true(stopped.state.epoch < finished.state.epoch, 'the resumed part crosses an epoch boundary');
  assertSameState(t, finished, await reference());
});

test('stopped by SIGINT (exit 130, says how to resume), resumed with more threads: bit-identical to the uninterrupted run', async (t) => {
  const out = join(dir.path, 'by-sigint');
  const last = join(out, 'last.ckpt');
  const run = startCli(['train', ...MATH, ...SCHEDULE, '--threads', '1', '--checkpoint-every', '50', '--out', out], { cwd: dir.path, timeoutMs: CHILD_MS });
  t.teardown(() => void (run.running() && run.child.kill('SIGKILL')));
  // Plain progress lines come every 5 s: watch the periodic checkpoints instead.
  await pollUntil(() => loadCheckpoint(last), (c) => c.state.step >= 100, { stillUseful: run.running, what: 'a checkpoint at step 100 or later' });
  t.true(run.running(), 'still training when the signal is sent');
  run.child.kill('SIGINT');
  const result = await run.result;
  t.false(result.timedOut);
  t.is(result.code, 130, `stderr: ${result.stderr}`);
  t.true(result.stdout.includes(`--resume ${last}`), `stdout does not say how to resume: ${result.stdout}`);
  const stopped = await loadCheckpoint(last);
  t.true(stopped.state.step >= 100 && stopped.state.step < TOTAL, `stopped mid-run, at step ${stopped.state.step} of ${TOTAL}`);

  // No --epochs or --steps: the original run's --epochs 2 still holds.
  const resumed = await runCli(['train', '--resume', last, '--threads', '2'], { cwd: dir.path, timeoutMs: CHILD_MS });
  succeeded(t, resumed, 'the resumed run');
  assertSameState(t, await loadCheckpoint(last), await reference());
});

test('killed with SIGKILL after a periodic checkpoint, resumed with fewer threads: bit-identical to the uninterrupted run', async (t) => {
  const out = join(dir.path, 'by-sigkill');
  const last = join(out, 'last.ckpt');
  const run = startCli(['train', ...MATH, ...SCHEDULE, '--threads', '2', '--checkpoint-every', '50', '--out', out], { cwd: dir.path, timeoutMs: CHILD_MS });
  t.teardown(() => void (run.running() && run.child.kill('SIGKILL')));
  await pollUntil(() => loadCheckpoint(last), (c) => c.state.step >= 300, { stillUseful: run.running, what: 'a checkpoint at step 300 or later' });
  t.true(run.running(), 'still training when killed');
  run.child.kill('SIGKILL');
  const result = await run.result;
  t.is(result.signal, 'SIGKILL');
  const saved = await loadCheckpoint(last);
  t.true(saved.state.step >= 300 && saved.state.step < TOTAL, `killed mid-run, with a checkpoint at step ${saved.state.step} of ${TOTAL}`);
  t.is(saved.state.step % 50, 0, 'the checkpoint on disk is a periodic one');

  const resumed = await runCli(['train', '--resume', last, '--threads', '1'], { cwd: dir.path, timeoutMs: CHILD_MS });
  succeeded(t, resumed, 'the resumed run');
  assertSameState(t, await loadCheckpoint(last), await reference());
});

test('SIGTERM stops the run with exit code 143, saving last.ckpt and saying how to resume', async (t) => {
  const out = join(dir.path, 'by-sigterm');
  const last = join(out, 'last.ckpt');
  const run = startCli(['train', ...MATH, ...SCHEDULE, '--threads', '1', '--checkpoint-every', '20', '--out', out], { cwd: dir.path, timeoutMs: CHILD_MS });
  t.teardown(() => void (run.running() && run.child.kill('SIGKILL')));
  const periodic = await pollUntil(() => loadCheckpoint(last), (c) => c.state.step >= 20, { stillUseful: run.running, what: 'a first periodic checkpoint' });
  run.child.kill('SIGTERM');
  const result = await run.result;
  t.is(result.code, 143, `stderr: ${result.stderr}`);
  t.true(result.stdout.includes(`--resume ${last}`), `stdout does not say how to resume: ${result.stdout}`);
  const stopped = await loadCheckpoint(last);
  t.true(stopped.state.step >= periodic.state.step && stopped.state.step < TOTAL, `stopped at step ${stopped.state.step}`);
});

test('a second Ctrl-C during the last step exits at once with 130: whole checkpoints, no temporary files', async (t) => {
  const out = join(dir.path, 'by-two-sigints');
  const last = join(out, 'last.ckpt');
  // H = 800 makes a step take long enough (tenths of a second) for the second signal to land in it.
  const args = ['train', '--corpus', CORPUS, '--hidden', '800', '--streams', '2', '--steps', '1000', '--threads', '1', '--sample-every', '0', '--checkpoint-every', '2', '--out', out];
  const run = startCli(args, { cwd: dir.path, timeoutMs: CHILD_MS });
  t.teardown(() => void (run.running() && run.child.kill('SIGKILL')));
  let stdout = '';
  run.child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  await pollUntil(() => loadCheckpoint(last), (c) => c.state.step >= 2, { stillUseful: run.running, what: 'a first periodic checkpoint' });
  run.child.kill('SIGINT');
  await pollUntil(async () => stdout, (text) => text.includes('SIGINT: stopping after this step'), { stillUseful: run.running, what: 'the first SIGINT acknowledged' });
  run.child.kill('SIGINT');
  const result = await run.result;
  t.is(result.code, 130, `stderr: ${result.stderr}`);
  t.regex(result.stderr, /^char-rnn: stopped at once by a second SIGINT; the last saved checkpoint is intact\n$/);
  const written = new Set(['history.csv', 'samples.jsonl']); // the run's history, written on purpose
  t.deepEqual(readdirSync(out).filter((name) => !name.endsWith('.ckpt') && !written.has(name)), [], 'debris beside the checkpoints');
  const saved = await loadCheckpoint(last); // decodes and passes its checksum: whole
  t.true(saved.state.step >= 2 && saved.state.step < 1000, `a mid-run checkpoint, at step ${saved.state.step}`);
});

// ----- what a resumed run may and may not change -----

/** A finished 20-step run that the refusals below try to resume, each from its own copy. */
const BASE_STEPS = 20;
let basePromise: Promise<string> | undefined;
function base(): Promise<string> {
  basePromise ??= (async () => {
    const out = join(dir.path, 'base');
    const result = await runCli(['train', ...MATH, '--steps', String(BASE_STEPS), '--threads', '1', '--sample-every', '0', '--eval-every', '0', '--checkpoint-every', '0', '--out', out], { cwd: dir.path, timeoutMs: CHILD_MS });
    if (result.code !== 0) throw new Error(`the base run exited with ${result.code}: ${result.stderr}`);
    return join(out, 'last.ckpt');
  })();
  return basePromise;
}

/** Resuming base() with these arguments exits 2 with one 'char-rnn: ' line matching each pattern, and writes nothing. */
function refuses(title: string, args: (last: string) => string[], patterns: RegExp[]): void {
  test(title, async (t) => {
    // A copy per test, so that a run that wrongly goes ahead cannot disturb the others.
    const folder = mkdtempSync(join(dir.path, 'refused-'));
    const last = join(folder, 'last.ckpt');
    copyFileSync(await base(), last);
    const before = folderSnapshot(folder);
    const result = await runCli(['train', '--resume', last, ...args(last)], { cwd: dir.path });
    t.false(result.timedOut);
    t.is(result.code, 2, `stdout: ${result.stdout}\nstderr: ${result.stderr}`);
    t.true(result.stderr.startsWith('char-rnn: '), result.stderr);
    t.is(result.stderr.indexOf('\n'), result.stderr.length - 1, `not exactly one line: ${JSON.stringify(result.stderr)}`);
    t.false(result.stderr.includes('    at '), 'a stack trace');
    for (const pattern of patterns) t.regex(result.stderr, pattern);
    t.deepEqual(folderSnapshot(folder), before, 'the run folder changed');
  });
}

const OTHER = dir.file('other.txt', pseudoEnglish(50_000, 99));
refuses('resume refuses another corpus', () => ['--corpus', OTHER, '--steps', '40'], [/other\.txt/, /corpus|text/]);

// Same length and vocabulary, one character changed in the middle of the training text.
const mid = Math.floor(TEXT.length / 2);
const EDITED = dir.file('edited.txt', TEXT.slice(0, mid) + (TEXT[mid] === 'e' ? 'a' : 'e') + TEXT.slice(mid + 1));
refuses('resume refuses a corpus of the same length with one character changed', () => ['--corpus', EDITED, '--steps', '40'], [/edited\.txt/]);

// Every code point moved up by one keeps the order of the vocabulary, so the symbol ids, their
// count and their SHA-256 are those of the original text; only the vocabulary tells them apart.
// (In practice: replacing, say, every '.' by ',' in a text that has no ',' or '-'.)
const SHIFTED = dir.file('shifted.txt', Array.from(TEXT, (ch) => String.fromCodePoint(ch.codePointAt(0)! + 1)).join(''));
refuses(
  'resume refuses a different text that happens to encode to the same symbol ids (another vocabulary)',
  () => ['--corpus', SHIFTED, '--steps', '40'],
  [/shifted\.txt/],
);

const MATH_CHANGES: [string, string][] = [
  ['--hidden', '17'],
  ['--seq-length', '24'],
  ['--streams', '3'],
  ['--eta', '0.07'],
  ['--eps', '1e-6'],
  ['--clip', '4'],
  ['--seed', '8'],
  ['--val-frac', '0.1'],
];
for (const [flag, value] of MATH_CHANGES) {
  refuses(`resume refuses ${flag} ${value}, naming the flag`, () => [flag, value, '--steps', '40'], [new RegExp(`${flag}\\b`)]);
}

refuses('resume refuses --init-from beside --resume', (last) => ['--init-from', last, '--steps', '40'], [/--resume/, /--init-from/]);
refuses('resuming a finished run with nothing to do is refused', () => [], [/nothing to do/]);
refuses('resuming with --steps below the checkpoint\'s step is refused', () => ['--steps', String(BASE_STEPS - 5)], [new RegExp(`step ${BASE_STEPS}\\b`)]);

test('speed and bookkeeping options may change on resume, and leave the numbers alone', async (t) => {
  const out = join(dir.path, 'bookkeeping');
  const moved = join(dir.path, 'bookkeeping-moved');
  const quiet = ['--sample-every', '0', '--eval-every', '0', '--checkpoint-every', '0'];
  const first = await runCli(['train', ...MATH, '--steps', '60', '--threads', '2', ...quiet, '--out', out], { cwd: dir.path, timeoutMs: CHILD_MS });
  succeeded(t, first, 'the first 60 steps');
  const before = folderSnapshot(out);

  // The math options given with the values the run already has are not a change.
  const resumed = await runCli(
    ['train', '--resume', join(out, 'last.ckpt'), '--steps', '120', '--threads', '1', '--checkpoint-every', '7', '--sample-every', '50', '--eval-every', '13', '--out', moved, '--hidden', '16', '--seed', '7'],
    { cwd: dir.path, timeoutMs: CHILD_MS },
  );
  succeeded(t, resumed, 'the resumed run');
  t.deepEqual(folderSnapshot(out), before, 'with --out elsewhere, the original folder is left alone');
  t.true(existsSync(join(moved, 'last.ckpt')));

  const straight = join(dir.path, 'bookkeeping-straight');
  const uninterrupted = await runCli(['train', ...MATH, '--steps', '120', '--threads', '2', ...quiet, '--out', straight], { cwd: dir.path, timeoutMs: CHILD_MS });
  succeeded(t, uninterrupted, 'the uninterrupted run');
  const a = (await loadCheckpoint(join(moved, 'last.ckpt'))).state;
  const e = (await loadCheckpoint(join(straight, 'last.ckpt'))).state;
  t.is(a.step, 120);
  t.is(a.position, e.position);
  // The sample at step 100 moved the PRNG, which nothing but samples reads: the weights are the same.
  t.is(Buffer.compare(bytesOf(a.params), bytesOf(e.params)), 0, `params: first difference at ${firstBitDifference(a.params, e.params)}`);
  t.is(Buffer.compare(bytesOf(a.optimizerState), bytesOf(e.optimizerState)), 0);
  t.is(Buffer.compare(bytesOf(a.hidden), bytesOf(e.hidden)), 0);
  t.true(Object.is(a.smoothLoss, e.smoothLoss));
});
