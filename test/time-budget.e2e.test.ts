/**
 * A run bounded by --minutes keeps its budget and the time it has spent in its checkpoints: a
 * resume goes on with what is left, or with what --minutes, --steps or --epochs says, and says which.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { encodeCheckpoint, loadCheckpoint } from '../src/checkpoint/index.js';
import { folderSnapshot, oneLineError, pollUntil, pseudoEnglish, runCli, startCli, succeeded, tempDir } from './fixtures/harness.js';

const dir = tempDir('time-budget-test-');
test.after.always(() => dir.remove());

const CORPUS = dir.file('corpus.txt', pseudoEnglish(20_000, 3));
const TINY = ['--corpus', CORPUS, '--cell', 'gru', '--layers', '1', '--hidden', '8', '--seq-length', '8', '--streams', '2', '--threads', '1', '--sample-every', '0', '--eval-every', '0', '--no-report'];



/** A finished run of --minutes 0.02 (1.2 s) in its own folder. */
async function spentRun(t: ExecutionContext, name: string): Promise<string> {
  const out = join(dir.path, name);
  const result = await runCli(['train', ...TINY, '--minutes', '0.02', '--out', out], {});
  succeeded(t, result, 'the budgeted run');
  t.regex(result.stdout, /stopped at the time budget of 0\.02 minutes/);
  return out;
}

test('a run that has spent its budget is not resumed for ever: the resume exits 2 saying so, and writes nothing', async (t) => {
  const out = await spentRun(t, 'spent');
  const saved = await loadCheckpoint(join(out, 'last.ckpt'));
  t.is(saved.options.minutes, 0.02);
  t.is(saved.options.epochs, Infinity, 'no epoch bound');
  t.true(saved.state.seconds >= 1.2, `it stopped after ${saved.state.seconds} s of a 1.2 s budget`);
  const before = folderSnapshot(out);
  const result = await runCli(['train', '--resume', out], {});
  oneLineError(t, result, 'resuming a spent budget');
  t.regex(result.stderr, /has spent its time budget of 1s \(--minutes 0\.02\): give --minutes M to train M more minutes, or --steps or --epochs/);
  t.deepEqual(folderSnapshot(out), before);
});

test('inspect and the report give a budgeted run\'s length as time, not a million epochs', async (t) => {
  const out = await spentRun(t, 'inspected');
  const inspected = await runCli(['inspect', join(out, 'last.ckpt')]);
  succeeded(t, inspected, 'inspect');
  t.regex(inspected.stdout, /^length: +1s of training$/m);
  t.regex(inspected.stdout, /--minutes 0\.02/);
  t.false(/1000000|epochs? Infinity/.test(inspected.stdout), inspected.stdout);
  const json = JSON.parse((await runCli(['inspect', join(out, 'last.ckpt'), '--json'])).stdout) as { options: { minutes: number; epochs: number | null } };
  t.is(json.options.minutes, 0.02);
  t.is(json.options.epochs, null);
  succeeded(t, await runCli(['report', '--out', out]), 'report');
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  t.regex(html, /planned length<\/th>\s*<td>1s of training/);
  t.false(html.includes('1000000'));
});

test('a resumed --minutes M trains M more minutes, and says so', async (t) => {
  const out = await spentRun(t, 'more');
  const spent = (await loadCheckpoint(join(out, 'last.ckpt'))).state;
  const result = await runCli(['train', '--resume', out, '--minutes', '0.02'], {});
  succeeded(t, result, 'the resume');
  t.true(result.stdout.includes(`resuming ${join(out, 'last.ckpt')} for 1s more (--minutes 0.02)`), result.stdout);
  t.regex(result.stdout, /stopped at the time budget/);
  const after = await loadCheckpoint(join(out, 'last.ckpt'));
  t.true(after.state.step > spent.step, 'it trained');
  t.is(after.options.minutes, spent.seconds / 60 + 0.02, 'the budget is what was spent plus 0.02 minutes');
  t.true(after.state.seconds >= spent.seconds + 1.2, `${after.state.seconds} s after ${spent.seconds} s and 1.2 more`);
});

test('a budgeted run stopped by Ctrl-C resumes with what is left of its budget, and says how much', async (t) => {
  const out = join(dir.path, 'interrupted');
  const run = startCli(['train', ...TINY, '--minutes', '0.15', '--checkpoint-every', '20', '--out', out], {});
  t.teardown(() => void (run.running() && run.child.kill('SIGKILL')));
  await pollUntil(() => loadCheckpoint(join(out, 'last.ckpt')), (c) => c.state.seconds > 0, { stillUseful: run.running, what: 'a first checkpoint' });
  run.child.kill('SIGINT');
  t.is((await run.result).code, 130);
  const stopped = (await loadCheckpoint(join(out, 'last.ckpt'))).state;
  t.true(stopped.seconds < 9, `stopped after ${stopped.seconds} s of a 9 s budget`);
  const result = await runCli(['train', '--resume', out], {});
  succeeded(t, result, 'the resume');
  const left = /resuming \S+ with (\d+)s left of its time budget of 9s \(--minutes 0\.15; give --minutes M for M more minutes instead\)/.exec(result.stdout);
  t.truthy(left, result.stdout);
  t.is(Number(left?.[1]), Math.round(9 - stopped.seconds));
  t.regex(result.stdout, /stopped at the time budget of 0\.15 minutes/);
  const finished = (await loadCheckpoint(join(out, 'last.ckpt'))).state;
  t.true(finished.seconds >= 9 && finished.seconds < 18, `the run trained ${finished.seconds} s in all on a 9 s budget`);
});

test('--steps or --epochs on a budgeted run replace its budget, and say so', async (t) => {
  const out = await spentRun(t, 'bounded');
  const step = (await loadCheckpoint(join(out, 'last.ckpt'))).state.step;
  const result = await runCli(['train', '--resume', out, '--steps', String(step + 30)], {});
  succeeded(t, result, 'the resume');
  t.true(result.stdout.includes(`up to step ${step + 30} (--steps); its time budget of 1s no longer applies`), result.stdout);
  const after = await loadCheckpoint(join(out, 'last.ckpt'));
  t.is(after.state.step, step + 30);
  t.is(after.options.minutes, undefined);
});

test('a file from before the budget was saved, planning a million epochs, asks how long to go on', async (t) => {
  const out = join(dir.path, 'old-file');
  succeeded(t, await runCli(['train', ...TINY, '--steps', '10', '--out', out]), 'a run');
  const data = await loadCheckpoint(join(out, 'last.ckpt'));
  // What --minutes alone wrote before the budget had a field of its own.
  writeFileSync(join(out, 'last.ckpt'), encodeCheckpoint({ ...data, options: { ...data.options, epochs: 1_000_000, steps: undefined, minutes: undefined } }));
  const before = folderSnapshot(out);
  const result = await runCli(['train', '--resume', out], {});
  oneLineError(t, result, 'resuming the old file');
  t.regex(result.stderr, /plans 1000000 epochs, .*: say how long to go on with --minutes, --steps or --epochs/);
  t.deepEqual(folderSnapshot(out), before);
  succeeded(t, await runCli(['train', '--resume', out, '--steps', '15']), 'with --steps');
});
