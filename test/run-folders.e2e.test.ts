import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint } from '../src/checkpoint/index.js';
import { folderSnapshot, pollUntil, pseudoEnglish, runCli, startCli, tempDir, type CliResult } from './fixtures/harness.js';

// Every CLI child runs with cwd in a folder under this one and writes only under it.
const dir = tempDir('run-folders-test-');
test.after.always(() => dir.remove());

const CORPUS = dir.file('corpus.txt', pseudoEnglish(5_000, 11));
const TINY = ['--corpus', CORPUS, '--hidden', '8', '--seq-length', '8', '--streams', '2', '--threads', '1', '--sample-every', '0', '--eval-every', '0'];
/** Every file a run may leave in its folder; a new run must not overwrite any of them without --force. */
const RUN_FILES = ['last.ckpt', 'best.ckpt', 'history.csv', 'samples.jsonl', 'report.html', 'loss.svg', 'loss.png', 'gradcheck.json'];

/** A fresh working directory for a group of CLI runs. */
function workdir(name: string): string {
  const path = join(dir.path, name);
  mkdirSync(path);
  return path;
}

function succeeded(t: ExecutionContext, result: CliResult, what: string): void {
  t.false(result.timedOut, `${what} timed out`);
  t.is(result.code, 0, `${what}: stdout ${result.stdout}\nstderr ${result.stderr}`);
}

function oneLineError(t: ExecutionContext, result: CliResult, what: string, code = 2): void {
  t.false(result.timedOut, `${what} timed out`);
  t.is(result.code, code, `${what}: stdout ${result.stdout}\nstderr ${result.stderr}`);
  t.true(result.stderr.startsWith('char-rnn: '), `${what}: ${result.stderr}`);
  t.is(result.stderr.indexOf('\n'), result.stderr.length - 1, `${what}: not exactly one line: ${JSON.stringify(result.stderr)}`);
  t.false(result.stderr.includes('    at '), `${what}: a stack trace`);
}

/** The step column of history.csv, under its header. */
function historySteps(folder: string): number[] {
  const lines = readFileSync(join(folder, 'history.csv'), 'utf8').split('\n').filter((line) => line !== '');
  return lines.slice(1).map((line) => Number(line.split(',')[0]));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** The pid of a process that has exited: `node -e ''`, waited for. */
function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', () => resolve(child.pid!));
  });
}

/** The temporary files of saves (`.NAME.PID.HEX.tmp`) anywhere under folder. */
function temporaryFiles(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.tmp'));
}

// ----- numbered run folders, and the newest run -----

// These tests share one working directory and run in order: run-1, run-2, then run-1 resumed.
const RUNS = workdir('numbered');
const run1 = join('checkpoints', 'run-1');
const run2 = join('checkpoints', 'run-2');

test.serial('with no run at all, sample, report and inspect exit 2 in one line saying to train one', async (t) => {
  for (const args of [['sample'], ['report'], ['inspect'], ['inspect', '--json']]) {
    const what = args.join(' ');
    const result = await runCli(args, { cwd: RUNS });
    oneLineError(t, result, what);
    t.true(result.stderr.includes('npx parallel-char-rnn train'), `${what}: ${result.stderr}`);
    t.is(result.stdout, '', `${what} printed ${result.stdout}`);
  }
  t.deepEqual(readdirSync(RUNS), [], 'they created nothing');
});

test.serial('train without --out puts each run in a new numbered folder, and the second leaves the first byte-identical', async (t) => {
  const first = await runCli(['train', ...TINY, '--steps', '20'], { cwd: RUNS });
  succeeded(t, first, 'the first run');
  t.deepEqual(readdirSync(join(RUNS, 'checkpoints')), ['run-1']);
  for (const name of ['last.ckpt', 'best.ckpt', 'history.csv', 'report.html']) t.true(existsSync(join(RUNS, run1, name)), `run-1 has no ${name}`);
  t.true(first.stdout.includes(join(run1, 'last.ckpt')), `the first run does not say where it saved: ${first.stdout}`);
  const before = folderSnapshot(join(RUNS, run1));

  const second = await runCli(['train', ...TINY, '--steps', '20'], { cwd: RUNS });
  succeeded(t, second, 'the second run');
  t.deepEqual(readdirSync(join(RUNS, 'checkpoints')).sort(), ['run-1', 'run-2']);
  t.true(second.stdout.includes(join(run2, 'last.ckpt')), `the second run does not say where it saved: ${second.stdout}`);
  t.true(existsSync(join(RUNS, run2, 'last.ckpt')));
  t.deepEqual(folderSnapshot(join(RUNS, run1)), before, 'run-1 changed when run-2 trained');
});

test.serial('sample, inspect and report with no path use the newest run, run-2', async (t) => {
  const run1Before = folderSnapshot(join(RUNS, run1));

  const sampled = await runCli(['sample', '--length', '20', '--seed', '3'], { cwd: RUNS });
  succeeded(t, sampled, 'sample');
  t.true(sampled.stderr.includes(`sampling from ${join(run2, 'best.ckpt')}`), sampled.stderr);
  t.is(sampled.stdout.length, 20);

  const inspected = await runCli(['inspect'], { cwd: RUNS });
  succeeded(t, inspected, 'inspect');
  t.true(inspected.stdout.includes(join(run2, 'last.ckpt')), inspected.stdout);
  t.false(inspected.stdout.includes('run-1'), inspected.stdout);

  const reported = await runCli(['report'], { cwd: RUNS });
  succeeded(t, reported, 'report');
  t.true(reported.stdout.includes(join(run2, 'report.html')), reported.stdout);
  t.deepEqual(folderSnapshot(join(RUNS, run1)), run1Before, 'report wrote into run-1');
});

test.serial('sample --checkpoint and inspect accept a run folder: its best.ckpt and last.ckpt', async (t) => {
  const sampled = await runCli(['sample', '--checkpoint', run2, '--length', '20', '--seed', '3'], { cwd: RUNS });
  succeeded(t, sampled, 'sample --checkpoint run-2');
  const fromFile = await runCli(['sample', '--checkpoint', join(run2, 'best.ckpt'), '--length', '20', '--seed', '3'], { cwd: RUNS });
  succeeded(t, fromFile, 'sample --checkpoint run-2/best.ckpt');
  t.is(sampled.stdout, fromFile.stdout, 'the folder means its best.ckpt');

  const inspected = await runCli(['inspect', run2], { cwd: RUNS });
  succeeded(t, inspected, 'inspect run-2');
  t.true(inspected.stdout.includes(join(run2, 'last.ckpt')), inspected.stdout);
});

test.serial('--resume with a run folder continues in that folder: no new run folder, and its history.csv grows', async (t) => {
  const runs = readdirSync(join(RUNS, 'checkpoints')).sort();
  const history = readFileSync(join(RUNS, run1, 'history.csv'));
  t.deepEqual(historySteps(join(RUNS, run1)), range(1, 20));
  const run2Before = folderSnapshot(join(RUNS, run2));

  const resumed = await runCli(['train', '--resume', run1, '--steps', '30', '--threads', '1'], { cwd: RUNS });
  succeeded(t, resumed, 'the resumed run');
  t.deepEqual(readdirSync(join(RUNS, 'checkpoints')).sort(), runs, 'a new run folder appeared');
  t.is((await loadCheckpoint(join(RUNS, run1, 'last.ckpt'))).state.step, 30);
  const grown = readFileSync(join(RUNS, run1, 'history.csv'));
  t.true(grown.length > history.length && grown.subarray(0, history.length).equals(history), 'the old rows are not kept as they were');
  t.deepEqual(historySteps(join(RUNS, run1)), range(1, 30));
  t.deepEqual(folderSnapshot(join(RUNS, run2)), run2Before, 'run-2 changed');
});

test.serial('after run-1 is resumed, it is the newest run for sample, inspect and report', async (t) => {
  const run2Before = folderSnapshot(join(RUNS, run2));

  const sampled = await runCli(['sample', '--length', '20', '--seed', '3'], { cwd: RUNS });
  succeeded(t, sampled, 'sample');
  t.true(sampled.stderr.includes(`sampling from ${join(run1, 'best.ckpt')}`), sampled.stderr);

  const inspected = await runCli(['inspect', '--json'], { cwd: RUNS });
  succeeded(t, inspected, 'inspect --json');
  t.is((JSON.parse(inspected.stdout) as { state: { step: number } }).state.step, 30, 'not run-1\'s last.ckpt');

  const reported = await runCli(['report'], { cwd: RUNS });
  succeeded(t, reported, 'report');
  t.true(reported.stdout.includes(join(run1, 'report.html')), reported.stdout);
  t.deepEqual(folderSnapshot(join(RUNS, run2)), run2Before, 'run-2 changed');
});

// ----- --out over another run, and --force -----

test('--out a folder holding another run is refused in one line naming --resume and --force, and the folder is unchanged', async (t) => {
  const cwd = workdir('occupied');
  const out = join(cwd, 'run');
  succeeded(t, await runCli(['train', ...TINY, '--steps', '20', '--no-report', '--out', out], { cwd }), 'the first run');
  const before = folderSnapshot(out);
  const result = await runCli(['train', ...TINY, '--steps', '10', '--out', out], { cwd });
  oneLineError(t, result, 'a second run into the same --out');
  t.true(result.stderr.includes(`--resume ${join(out, 'last.ckpt')}`), result.stderr);
  t.true(result.stderr.includes('--force'), result.stderr);
  t.deepEqual(folderSnapshot(out), before);
});

test('--out a folder holding either checkpoint is refused, naming --force, and the folder is unchanged', async (t) => {
  const cwd = workdir('one-file');
  for (const name of ['last.ckpt', 'best.ckpt']) {
    const out = join(cwd, name.replace('.', '-'));
    mkdirSync(out);
    writeFileSync(join(out, name), `an earlier run's ${name}\n`);
    const before = folderSnapshot(out);
    const result = await runCli(['train', ...TINY, '--steps', '10', '--out', out], { cwd });
    oneLineError(t, result, `--out holding ${name}`);
    t.true(result.stderr.includes('--force'), `${name}: ${result.stderr}`);
    t.true(result.stderr.includes(out), `${name}: the folder is not named: ${result.stderr}`);
    t.deepEqual(folderSnapshot(out), before, `--out holding ${name} changed`);
  }
});

test('--out a folder holding a run\'s other files but no checkpoint (a start that never saved) is taken by a new run, which says so', async (t) => {
  const cwd = workdir('unfinished-start');
  for (const name of RUN_FILES.filter((file) => !file.endsWith('.ckpt'))) {
    const out = join(cwd, name.replace('.', '-'));
    mkdirSync(out);
    writeFileSync(join(out, name), `an unfinished start's ${name}\n`);
    const result = await runCli(['train', ...TINY, '--steps', '10', '--no-report', '--out', out], { cwd });
    succeeded(t, result, `--out holding ${name}`);
    t.true(result.stdout.includes(`${out} holds the files of a start that saved no checkpoint (${name})`), `${name}: ${result.stdout}`);
    t.is((await loadCheckpoint(join(out, 'last.ckpt'))).state.step, 10);
    const left = existsSync(join(out, name)) ? readFileSync(join(out, name), 'utf8') : '';
    t.false(left.includes('unfinished start'), `${name} is still the unfinished start's`);
    t.deepEqual(readdirSync(out).filter((file) => file.startsWith('.')), [], `${name}: hidden files left`);
  }
});

test('--force replaces the other run; with --no-report the old report files are gone', async (t) => {
  const cwd = workdir('forced');
  const out = join(cwd, 'run');
  succeeded(t, await runCli(['train', ...TINY, '--steps', '20', '--out', out], { cwd }), 'the first run');
  writeFileSync(join(out, 'gradcheck.json'), '{}\n'); // as a run with --gradcheck leaves it
  for (const name of ['report.html', 'loss.svg', 'loss.png', 'gradcheck.json']) t.true(existsSync(join(out, name)), `the first run left no ${name}`);

  const result = await runCli(['train', ...TINY, '--steps', '10', '--out', out, '--force', '--no-report'], { cwd });
  succeeded(t, result, 'the forced run');
  for (const name of ['report.html', 'loss.svg', 'loss.png', 'gradcheck.json']) t.false(existsSync(join(out, name)), `the old ${name} is still there`);
  t.is((await loadCheckpoint(join(out, 'last.ckpt'))).state.step, 10);
  t.is((await loadCheckpoint(join(out, 'best.ckpt'))).state.step, 10);
  t.deepEqual(historySteps(out), range(1, 10), 'history.csv still holds the old run\'s rows');
  t.deepEqual(temporaryFiles(out), []);
});

/** Flags that make a GRU's loss NaN at step 2, long before its first checkpoint. */
const DIVERGING = ['--cell', 'gru', '--eta', '1e300', '--clip', '1e300'];

test('--force checks everything before it touches the old run: a checkpoint inside it to start from, a missing corpus, a model too large', async (t) => {
  const cwd = workdir('force-checks-first');
  const out = join(cwd, 'run');
  succeeded(t, await runCli(['train', ...TINY, '--steps', '20', '--no-report', '--out', out], { cwd }), 'the first run');
  const before = folderSnapshot(out);
  const cases: [string, string[], RegExp][] = [
    ['--init-from its own last.ckpt', ['--init-from', join(out, 'last.ckpt'), '--corpus', CORPUS], /--init-from .*last\.ckpt lies in .*which --force would replace/],
    ['--init-from a checkpoint missing from it', ['--init-from', join(out, 'gone.ckpt'), '--corpus', CORPUS], /lies in .*which --force would replace/],
    ['a corpus that is not there', ['--corpus', join(cwd, 'typo.txt')], /corpus file not found/],
    ['a model too large', ['--corpus', CORPUS, '--cell', 'gru', '--hidden', '4096', '--layers', '16'], /more than WebAssembly's 4 GiB/],
    ['a flag a new run refuses', ['--corpus', CORPUS, '--decay', '0.9', '--optimizer', 'adam'], /--decay does nothing with --optimizer adam/],
  ];
  for (const [what, args, pattern] of cases) {
    const result = await runCli(['train', '--steps', '5', '--hidden', '8', '--seq-length', '8', '--streams', '2', '--threads', '1', ...args, '--out', out, '--force'], { cwd });
    oneLineError(t, result, what);
    t.regex(result.stderr, pattern, what);
    t.deepEqual(folderSnapshot(out), before, `${what}: the old run changed`);
  }
});

test('--force whose new run fails before its first checkpoint puts the old run back as it was', async (t) => {
  const cwd = workdir('force-fails');
  const out = join(cwd, 'run');
  succeeded(t, await runCli(['train', ...TINY, '--steps', '20', '--out', out], { cwd }), 'the first run');
  const before = folderSnapshot(out);
  const result = await runCli(['train', ...TINY, ...DIVERGING, '--steps', '50', '--out', out, '--force'], { cwd });
  oneLineError(t, result, 'a diverging run', 1);
  t.regex(result.stderr, /the loss became NaN/);
  t.deepEqual(folderSnapshot(out), before, 'the old run is not back as it was');
  t.deepEqual(readdirSync(out).filter((name) => name.startsWith('.')), [], 'hidden folders left');
});

test('a new run that fails before its first checkpoint leaves nothing, so the folder takes the next run', async (t) => {
  const cwd = workdir('first-save-never-came');
  const out = join(cwd, 'run');
  const failed = await runCli(['train', ...TINY, ...DIVERGING, '--steps', '50', '--out', out], { cwd });
  oneLineError(t, failed, 'a diverging run', 1);
  t.false(existsSync(out), `it left ${existsSync(out) ? readdirSync(out).join(', ') : ''}`);
  succeeded(t, await runCli(['train', ...TINY, '--steps', '10', '--no-report', '--out', out], { cwd }), 'the next run into the same --out');
  t.is((await loadCheckpoint(join(out, 'last.ckpt'))).state.step, 10);
});

test('--force killed before its first checkpoint: the next train in the folder puts the old run back and resumes it', async (t) => {
  const cwd = workdir('force-killed');
  const out = join(cwd, 'run');
  succeeded(t, await runCli(['train', ...TINY, '--steps', '20', '--no-report', '--out', out], { cwd }), 'the first run');
  const before = folderSnapshot(out);
  const run = startCli(['train', ...TINY, '--steps', '100000', '--checkpoint-every', '0', '--no-report', '--out', out, '--force'], { cwd });
  t.teardown(() => void (run.running() && run.child.kill('SIGKILL')));
  let stdout = '';
  run.child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  await pollUntil(async () => stdout, (text) => /^step \d+\/100000/m.test(text), { stillUseful: run.running, what: 'the new run training' });
  run.child.kill('SIGKILL');
  await run.result;
  t.false(existsSync(join(out, 'last.ckpt')), 'the killed run saved a checkpoint: it was killed too late');

  const resumed = await runCli(['train', '--resume', out, '--steps', '25', '--no-report'], { cwd });
  succeeded(t, resumed, 'the resume');
  t.true(resumed.stdout.includes(`put back the run in ${out} that a trainer killed before its first checkpoint was replacing`), resumed.stdout);
  t.is((await loadCheckpoint(join(out, 'last.ckpt'))).state.step, 25);
  t.deepEqual(historySteps(out), range(1, 25), 'the old run\'s history, continued');
  t.deepEqual(readdirSync(out).filter((name) => name.startsWith('.')), [], 'hidden folders left');
  t.truthy(before['last.ckpt']);
});

test('--force killed after its first checkpoint: the next claim deletes the old run it had replaced', async (t) => {
  const cwd = workdir('force-killed-late');
  const out = join(cwd, 'run');
  succeeded(t, await runCli(['train', ...TINY, '--steps', '20', '--no-report', '--out', out], { cwd }), 'the first run');
  const run = startCli(['train', ...TINY, '--steps', '100000', '--checkpoint-every', '5', '--no-report', '--out', out, '--force'], { cwd });
  t.teardown(() => void (run.running() && run.child.kill('SIGKILL')));
  await pollUntil(() => loadCheckpoint(join(out, 'last.ckpt')), (c) => c.options.steps === 100000, { stillUseful: run.running, what: 'the new run\'s first checkpoint' });
  run.child.kill('SIGKILL');
  await run.result;
  const end = (await loadCheckpoint(join(out, 'last.ckpt'))).state.step + 10; // a loaded machine may have saved more than once
  const resumed = await runCli(['train', '--resume', out, '--steps', String(end), '--no-report'], { cwd });
  succeeded(t, resumed, 'the resume');
  t.is((await loadCheckpoint(join(out, 'last.ckpt'))).options.steps, end);
  t.deepEqual(readdirSync(out).filter((name) => name.startsWith('.')), [], 'the old run is still kept aside');
});

test('--force with --resume is refused in one line, and the run is unchanged', async (t) => {
  const cwd = workdir('force-resume');
  const out = join(cwd, 'run');
  succeeded(t, await runCli(['train', ...TINY, '--steps', '20', '--no-report', '--out', out], { cwd }), 'the first run');
  const before = folderSnapshot(out);
  for (const args of [['--resume', out], ['--resume', join(out, 'last.ckpt'), '--out', out]]) {
    const result = await runCli(['train', ...args, '--force', '--steps', '30'], { cwd });
    oneLineError(t, result, `train ${args.join(' ')} --force`);
    t.true(result.stderr.includes('--force') && result.stderr.includes('--resume'), result.stderr);
  }
  t.deepEqual(folderSnapshot(out), before);
});

// ----- the lock -----

test('a running trainer\'s lock names its pid; other trainers are refused naming it and touch nothing; SIGINT removes it', async (t) => {
  const cwd = workdir('locked');
  const out = join(cwd, 'run');
  const lock = join(out, 'train.lock');
  const run = startCli(['train', ...TINY, '--steps', '100000', '--checkpoint-every', '50', '--no-report', '--out', out], { cwd });
  t.teardown(() => void (run.running() && run.child.kill('SIGKILL')));
  await pollUntil(() => Promise.resolve(existsSync(lock) && existsSync(join(out, 'last.ckpt'))), (ready) => ready, {
    stillUseful: run.running,
    what: 'train.lock and a first periodic checkpoint',
  });
  const pid = String(run.child.pid);
  const lockText = readFileSync(lock, 'utf8');
  t.is(lockText.split('\n')[0], pid, `the lock's first line is not the trainer's pid: ${JSON.stringify(lockText)}`);
  t.is(lockText.split('\n')[1], hostname(), 'the lock\'s second line is not this host');
  const present = RUN_FILES.filter((name) => existsSync(join(out, name)));

  for (const args of [
    ['train', ...TINY, '--steps', '10', '--out', out, '--force'],
    ['train', '--resume', out, '--threads', '1'],
    ['train', '--resume', join(out, 'last.ckpt'), '--threads', '1'],
  ]) {
    const what = args.filter((arg) => !TINY.includes(arg)).join(' ');
    const result = await runCli(args, { cwd });
    oneLineError(t, result, what);
    t.regex(result.stderr, new RegExp(`\\b${pid}\\b`), `${what}: the pid is not named`);
    t.is(readFileSync(lock, 'utf8'), lockText, `${what}: the lock changed`);
    for (const name of present) t.true(existsSync(join(out, name)), `${what}: ${name} is gone`);
  }
  t.true(run.running(), 'the first trainer is still running');

  run.child.kill('SIGINT');
  const result = await run.result;
  t.is(result.code, 130, result.stderr);
  t.false(existsSync(lock), 'train.lock is still there');
  const saved = await loadCheckpoint(join(out, 'last.ckpt'));
  // A second writer would have started over at step 1 (--force) or repeated the checkpoint's steps (--resume).
  const steps = historySteps(out);
  t.deepEqual(steps, range(1, steps.length), 'history.csv has rows from another trainer');
  t.true(steps.length >= saved.state.step, `history ends at step ${steps.length}, the checkpoint is at ${saved.state.step}`);
  t.deepEqual(temporaryFiles(out), []);
});

test('a stale lock (its pid has exited, on this host) is taken over: the run exits 0 and removes it', async (t) => {
  const cwd = workdir('stale-lock');
  const out = join(cwd, 'run');
  mkdirSync(out);
  const pid = await deadPid();
  writeFileSync(join(out, 'train.lock'), `${pid}\n${hostname()}\n`);
  const result = await runCli(['train', ...TINY, '--steps', '20', '--no-report', '--out', out], { cwd });
  succeeded(t, result, `a run over the stale lock of pid ${pid}`);
  t.false(existsSync(join(out, 'train.lock')));
  t.is((await loadCheckpoint(join(out, 'last.ckpt'))).state.step, 20);
});

test('a lock naming a live pid on this host is refused, naming that pid, and the folder is unchanged', async (t) => {
  const cwd = workdir('live-lock');
  const out = join(cwd, 'run');
  succeeded(t, await runCli(['train', ...TINY, '--steps', '20', '--no-report', '--out', out], { cwd }), 'the first run');
  writeFileSync(join(out, 'train.lock'), `${process.pid}\n${hostname()}\n`);
  const before = folderSnapshot(out);
  for (const args of [['train', '--resume', out, '--steps', '30'], ['train', ...TINY, '--steps', '10', '--out', out, '--force']]) {
    const what = args.filter((arg) => !TINY.includes(arg)).join(' ');
    const result = await runCli(args, { cwd });
    oneLineError(t, result, what);
    t.regex(result.stderr, new RegExp(`\\b${process.pid}\\b`), `${what}: the pid is not named`);
  }
  t.deepEqual(folderSnapshot(out), before);
});

// ----- debris of killed saves -----

test('temporary files of a killed save are removed by the next run in the folder (and it says so); a live process\'s are kept', async (t) => {
  const cwd = workdir('debris');
  const out = join(cwd, 'run');
  succeeded(t, await runCli(['train', ...TINY, '--steps', '20', '--no-report', '--out', out], { cwd }), 'the first run');
  const dead = `.last.ckpt.${await deadPid()}.0badf00d.tmp`;
  const live = `.last.ckpt.${process.pid}.c0ffee42.tmp`;
  const bytes = readFileSync(join(out, 'last.ckpt')).subarray(0, 1000); // a save cut short
  writeFileSync(join(out, dead), bytes);
  writeFileSync(join(out, live), bytes);

  const result = await runCli(['train', '--resume', out, '--steps', '30', '--no-report'], { cwd });
  succeeded(t, result, 'the resumed run');
  t.false(existsSync(join(out, dead)), 'the dead process\'s temporary file is still there');
  t.true(existsSync(join(out, live)), 'the live process\'s temporary file was removed');
  t.deepEqual(readFileSync(join(out, live)), bytes);
  const line = result.stdout.split('\n').find((text) => /\bremoved 1\b/.test(text));
  t.truthy(line, `stdout does not say it removed the file: ${result.stdout}`);
  t.true(line?.includes(out), `the line does not name the folder: ${line}`);
  t.is((await loadCheckpoint(join(out, 'last.ckpt'))).state.step, 30);
});

// ----- failures before anything is written -----

test('a run whose corpus does not exist leaves no folder behind: no checkpoints/run-N, no --out, no parents of --out', async (t) => {
  const fresh = workdir('no-corpus-fresh');
  const missing = join(dir.path, 'no-such-corpus.txt');
  const args = ['train', '--corpus', missing, '--hidden', '8', '--steps', '20'];

  let result = await runCli(args, { cwd: fresh });
  oneLineError(t, result, 'a new numbered run');
  t.deepEqual(readdirSync(fresh), [], 'a folder was left in an empty working directory');

  // Beside earlier runs: no run-N+1.
  const beside = workdir('no-corpus-beside');
  mkdirSync(join(beside, 'checkpoints', 'run-1'), { recursive: true });
  writeFileSync(join(beside, 'checkpoints', 'run-1', 'history.csv'), 'step\n');
  const before = folderSnapshot(beside);
  result = await runCli(args, { cwd: beside });
  oneLineError(t, result, 'a numbered run beside run-1');
  t.deepEqual(readdirSync(join(beside, 'checkpoints')), ['run-1']);
  t.deepEqual(folderSnapshot(beside), before);

  result = await runCli([...args, '--out', 'new-run'], { cwd: fresh });
  oneLineError(t, result, '--out new-run');
  result = await runCli([...args, '--out', join('a', 'b', 'c')], { cwd: fresh });
  oneLineError(t, result, '--out a/b/c');
  t.deepEqual(readdirSync(fresh), [], 'a folder was left behind');

  // An existing --out folder stays, empty as it was.
  mkdirSync(join(fresh, 'kept'));
  result = await runCli([...args, '--out', join('kept', 'x', 'y')], { cwd: fresh });
  oneLineError(t, result, '--out kept/x/y');
  t.deepEqual(readdirSync(fresh), ['kept']);
  t.deepEqual(readdirSync(join(fresh, 'kept')), []);
});
