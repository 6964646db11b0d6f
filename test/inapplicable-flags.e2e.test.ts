/**
 * A flag that the run's other options make meaningless is refused in one line naming what makes it
 * so, rather than silently ignored: another optimizer's constant, another schedule's setting,
 * patience or evaluations with nothing to count, a preset for a resumed run.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { loadCheckpoint } from '../src/checkpoint/index.js';
import { oneLineError, pseudoEnglish, runCli, tempDir } from './fixtures/harness.js';

const dir = tempDir('inapplicable-flags-test-');
test.after.always(() => dir.remove());

const CORPUS = dir.file('corpus.txt', pseudoEnglish(5_000, 9));
const TINY = ['--corpus', CORPUS, '--hidden', '8', '--layers', '1', '--seq-length', '8', '--streams', '2', '--threads', '1', '--sample-every', '0', '--no-report'];


function emptyFolder(name: string): string {
  const path = join(dir.path, name);
  mkdirSync(path);
  return path;
}

const NEW_RUN_CASES: [string, string[], RegExp][] = [
  ['--beta1 with AdaGrad', ['--optimizer', 'adagrad', '--beta1', '0.8'], /^char-rnn: --beta1 does nothing with --optimizer adagrad \(only adam reads it\): drop --beta1\n$/],
  ['--beta2 with RMSProp', ['--optimizer', 'rmsprop', '--beta2', '0.99'], /--beta2 does nothing with --optimizer rmsprop \(only adam reads it\)/],
  ['--decay with the gru\'s default Adam', ['--decay', '0.8'], /--decay does nothing with --optimizer adam \(only rmsprop reads it\): drop --decay or pass --optimizer rmsprop/],
  ['--decay with the rnn\'s default AdaGrad', ['--cell', 'rnn', '--decay', '0.8'], /--decay does nothing with --optimizer adagrad/],
  ['--lr-decay with the constant schedule', ['--lr-decay', '0.5'], /--lr-decay does nothing with --lr-schedule constant \(only step reads it\): drop --lr-decay or pass --lr-schedule step/],
  ['--lr-decay-every with cosine', ['--lr-schedule', 'cosine', '--steps', '10', '--lr-decay-every', '100'], /--lr-decay-every does nothing with --lr-schedule cosine \(only step reads it\): drop --lr-decay-every\n$/],
  ['--lr-min without cosine', ['--lr-schedule', 'step', '--lr-min', '0.001'], /--lr-min does nothing with --lr-schedule step \(only cosine reads it\)/],
  ['--patience with --eval-every 0', ['--patience', '3', '--eval-every', '0'], /--patience counts evaluations of the validation loss, and --eval-every 0 makes none before the end/],
  ['--eval-every with --val-frac 0', ['--eval-every', '100', '--val-frac', '0'], /--eval-every 100 evaluates the held-out text, and this run holds out none \(--val-frac 0\)/],
  ['--eval-every with the seed preset', ['--preset', 'seed', '--eval-every', '100'], /--eval-every 100 evaluates the held-out text, and this run holds out none/],
];

for (const [what, flags, pattern] of NEW_RUN_CASES) {
  test(`a new run refuses ${what}, writing nothing`, async (t) => {
    const cwd = emptyFolder(what.replace(/[^a-z0-9]+/gi, '-'));
    const result = await runCli(['train', ...TINY, '--steps', '5', ...flags], { cwd });
    oneLineError(t, result, what);
    t.regex(result.stderr, pattern);
    t.deepEqual(readdirSync(cwd), [], 'it wrote something');
  });
}

test('the flags each optimizer and schedule reads are taken with it', async (t) => {
  for (const flags of [
    ['--optimizer', 'rmsprop', '--decay', '0.9'], ['--optimizer', 'adam', '--beta1', '0.8', '--beta2', '0.99'],
    ['--lr-schedule', 'step', '--lr-decay', '0.5', '--lr-decay-every', '3'], ['--lr-schedule', 'cosine', '--lr-min', '0.0001'],
    ['--patience', '2', '--eval-every', '2'],
  ]) {
    const cwd = emptyFolder(`ok${flags.join('')}`.replace(/[^a-z0-9]+/gi, '-'));
    const result = await runCli(['train', ...TINY, '--steps', '6', ...flags], { cwd });
    t.is(result.code, 0, `${flags.join(' ')}: ${result.stderr}`);
  }
});

/** A finished Adam run to resume. */
async function adamRun(t: ExecutionContext, name: string): Promise<string> {
  const out = join(dir.path, name);
  const result = await runCli(['train', ...TINY, '--optimizer', 'adam', '--steps', '5', '--out', out]);
  t.is(result.code, 0, result.stderr);
  return out;
}

test('resuming an Adam run with --decay is refused as a flag Adam does not read, not as a change of the math', async (t) => {
  const out = await adamRun(t, 'adam-decay');
  const result = await runCli(['train', '--resume', out, '--steps', '10', '--decay', '0.8']);
  oneLineError(t, result, '--resume --decay');
  t.regex(result.stderr, /^char-rnn: --decay does nothing with --optimizer adam \(only rmsprop reads it\): drop --decay\n$/);
  t.is((await loadCheckpoint(join(out, 'last.ckpt'))).state.step, 5);
});

test('--preset with --resume is refused: a resumed run keeps its own options', async (t) => {
  const out = await adamRun(t, 'adam-preset');
  const result = await runCli(['train', '--resume', out, '--steps', '10', '--preset', 'seed']);
  oneLineError(t, result, '--resume --preset');
  t.regex(result.stderr, /--preset fills in the options of a new run, and a resumed run keeps its own: drop --preset/);
});

test('--init-from takes the optimizer of the checkpoint\'s cell, and refuses another optimizer\'s flag for it', async (t) => {
  const rnn = join(dir.path, 'rnn-run');
  t.is((await runCli(['train', ...TINY, '--cell', 'rnn', '--steps', '5', '--out', rnn])).code, 0);
  const cwd = emptyFolder('init-from-beta1');
  const result = await runCli(['train', '--init-from', join(rnn, 'last.ckpt'), '--corpus', CORPUS, '--steps', '5', '--beta1', '0.8', '--out', join(cwd, 'tuned')], { cwd });
  oneLineError(t, result, '--init-from --beta1');
  t.regex(result.stderr, /--beta1 does nothing with --optimizer adagrad \(only adam reads it\): drop --beta1 or pass --optimizer adam/);
  t.deepEqual(readdirSync(cwd), []);
});
