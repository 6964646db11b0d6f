import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint } from '../src/checkpoint/index.js';
import { CLI_PATH, folderSnapshot, pollUntil, pseudoEnglish, runCli, runCommand, settlesWithin, startCli, tempDir, type CliResult } from './fixtures/harness.js';

// Every CLI child runs with cwd in this folder and writes only under it (or under a tmpfs mounted in it).
const dir = tempDir('faults-test-');
const mounts: string[] = [];
test.after.always(() => {
  for (const mount of mounts.reverse()) execFileSync('umount', [mount]);
  dir.remove();
});

const TEXT = pseudoEnglish(5_000, 23);
const CORPUS = dir.file('corpus.txt', TEXT);
const TINY = ['--hidden', '8', '--seq-length', '8', '--streams', '2', '--threads', '1', '--steps', '20', '--sample-every', '0', '--eval-every', '0'];
const PAGE = 4096; // tmpfs charges whole pages

/** Whether this machine lets us mount a tmpfs (root on Linux), decided before the tests are declared. */
const tmpfsProbe = ((): { ok: true } | { ok: false; why: string } => {
  if (process.platform !== 'linux') return { ok: false, why: 'not Linux' };
  const probe = join(dir.path, 'probe');
  mkdirSync(probe);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', probe], { stdio: 'pipe' });
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? error).trim().split('\n')[0];
    return { ok: false, why: `mount -t tmpfs failed: ${stderr}` };
  }
  execFileSync('umount', [probe]);
  return { ok: true };
})();
/** test, or test.skip with a title saying why, for tests that need a real full disk. */
function fullDiskTest(title: string, body: (t: ExecutionContext) => Promise<void>): void {
  if (tmpfsProbe.ok) test.serial(title, body);
  else test.skip(`${title} (skipped: ${tmpfsProbe.why})`, body);
}

/** A tmpfs of `bytes` (rounded up to pages) mounted at dir/name, unmounted after the tests. */
function mountTmpfs(name: string, bytes: number): string {
  const path = join(dir.path, name);
  mkdirSync(path);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${Math.ceil(bytes / PAGE) * PAGE}`, 'tmpfs', path], { stdio: 'pipe' });
  mounts.push(path);
  return path;
}

/** Fills the file system holding `folder` with a file of zeros until a write fails with ENOSPC. */
function fill(folder: string): void {
  const fd = openSync(join(folder, 'filler'), 'w');
  const block = Buffer.alloc(PAGE);
  try {
    for (;;) writeSync(fd, block);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}

/** Runs a bash script (for redirections, pipes, FIFOs and process substitution) in which `cli` is `node dist/src/cli.js`. */
function runShell(script: string, { cwd = dir.path, timeoutMs = 30_000 } = {}): Promise<CliResult> {
  const withCli = `cli() { "$CHAR_RNN_NODE" "$CHAR_RNN_CLI" "$@"; }\n${script}`;
  return runCommand('bash', ['-c', withCli], { cwd, timeoutMs, env: { CHAR_RNN_NODE: process.execPath, CHAR_RNN_CLI: CLI_PATH } });
}

/** A path quoted for bash. */
function q(path: string): string {
  return `'${path.replaceAll("'", "'\\''")}'`;
}

function succeeded(t: ExecutionContext, result: CliResult, what: string): void {
  t.false(result.timedOut, `${what} timed out`);
  t.is(result.code, 0, `${what}: stdout ${result.stdout}\nstderr ${result.stderr}`);
}

function oneLineError(t: ExecutionContext, result: CliResult, what: string, code: number): void {
  t.false(result.timedOut, `${what} timed out`);
  t.is(result.code, code, `${what}: stdout ${result.stdout}\nstderr ${result.stderr}`);
  t.true(result.stderr.startsWith('char-rnn: '), `${what}: ${result.stderr}`);
  t.is(result.stderr.indexOf('\n'), result.stderr.length - 1, `${what}: not exactly one line: ${JSON.stringify(result.stderr)}`);
  t.false(result.stderr.includes('    at '), `${what}: a stack trace`);
}

/** The temporary files of saves (`.NAME.PID.HEX.tmp`) anywhere under folder. */
function temporaryFiles(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.tmp'));
}

async function corpusFingerprint(run: string): Promise<{ length: number; sha256: string }> {
  const result = await runCli(['inspect', run, '--json'], { cwd: dir.path });
  if (result.code !== 0) throw new Error(`inspect ${run} exited with ${result.code}: ${result.stderr}`);
  const { corpus } = JSON.parse(result.stdout) as { corpus: { length: number; sha256: string } };
  return { length: corpus.length, sha256: corpus.sha256 };
}

/** A run of TINY on CORPUS (read as a file), with its report; trained once, shared. */
let referencePromise: Promise<string> | undefined;
function reference(): Promise<string> {
  referencePromise ??= (async () => {
    const out = join(dir.path, 'reference');
    const result = await runCli(['train', '--corpus', CORPUS, ...TINY, '--out', out], { cwd: dir.path });
    if (result.code !== 0) throw new Error(`the reference run exited with ${result.code}: ${result.stderr}`);
    return out;
  })();
  return referencePromise;
}

// ----- --out that cannot be a folder -----

test('--out /proc/x is refused in one line naming it, within seconds', async (t) => {
  // It used to hang for ever; 10 s leaves room for a slow start on a busy machine.
  const result = await runCli(['train', '--corpus', CORPUS, ...TINY, '--out', '/proc/x'], { cwd: dir.path, timeoutMs: 10_000 });
  oneLineError(t, result, '--out /proc/x', 2);
  t.true(result.stderr.includes('/proc/x'), result.stderr);
});

test('--out an existing file is refused in one line saying it is a file, for a new run and for --resume', async (t) => {
  const file = dir.file('a-file', 'not a folder\n');
  const run = await reference();
  const before = folderSnapshot(run);
  for (const args of [['train', '--corpus', CORPUS, ...TINY, '--out', file], ['train', '--resume', join(run, 'last.ckpt'), '--steps', '30', '--out', file]]) {
    const what = args.slice(0, 2).join(' ');
    const result = await runCli(args, { cwd: dir.path });
    oneLineError(t, result, what, 2);
    t.true(result.stderr.includes(file), `${what}: ${result.stderr}`);
    t.regex(result.stderr, /is a file/, what);
    t.is(readFileSync(file, 'utf8'), 'not a folder\n');
  }
  t.deepEqual(folderSnapshot(run), before);
});

// ----- corpora that cannot seek -----

test('a corpus read from a FIFO, /dev/stdin or process substitution trains, with the fingerprint of the file itself', async (t) => {
  const expected = await corpusFingerprint(await reference());
  t.is(expected.length, TEXT.length);
  const fifo = join(dir.path, 'corpus.fifo');
  execFileSync('mkfifo', [fifo]);
  const args = `${TINY.join(' ')} --no-report`;
  const runs: Record<string, string> = {
    // The writer blocks until the trainer opens the FIFO; it is killed if the trainer never does.
    fifo: `cat ${q(CORPUS)} > ${q(fifo)} & writer=$!; cli train --corpus ${q(fifo)} ${args} --out from-fifo; rc=$?; kill $writer 2>/dev/null; exit $rc`,
    stdin: `cli train --corpus /dev/stdin ${args} --out from-stdin < ${q(CORPUS)}`,
    substitution: `cli train --corpus <(cat ${q(CORPUS)}) ${args} --out from-substitution`,
  };
  for (const [what, script] of Object.entries(runs)) {
    const result = await runShell(script);
    succeeded(t, result, what);
    if (result.code !== 0) continue;
    t.deepEqual(await corpusFingerprint(join(dir.path, `from-${what}`)), expected, `${what}: not the file's fingerprint`);
  }
});

// ----- a full disk -----

fullDiskTest('report into a full disk exits 1 in one line naming ENOSPC and the folder, and leaves every file as it was', async (t) => {
  const mount = mountTmpfs('full-report', 512 * 1024);
  const run = join(mount, 'run');
  cpSync(await reference(), run, { recursive: true });
  for (const name of ['last.ckpt', 'best.ckpt', 'history.csv', 'report.html', 'loss.svg', 'loss.png']) t.true(existsSync(join(run, name)), `the reference run has no ${name}`);
  fill(mount);
  const before = folderSnapshot(run);

  const result = await runCli(['report', '--out', run], { cwd: dir.path });
  oneLineError(t, result, 'report', 1);
  t.true(result.stderr.includes('ENOSPC'), result.stderr);
  t.true(result.stderr.includes(run), `the folder is not named: ${result.stderr}`);
  t.deepEqual(temporaryFiles(run), []);
  t.deepEqual(folderSnapshot(run), before, 'a file changed: the checkpoints, the history or the earlier report');
});

fullDiskTest('training into a disk with room for the checkpoints but not the report exits 0, says so in one line, and its checkpoints load', async (t) => {
  // Sizes from a run of the same options on a roomy disk.
  const roomy = join(dir.path, 'reference-no-fill');
  succeeded(t, await runCli(['train', '--corpus', CORPUS, ...TINY, '--out', roomy], { cwd: dir.path }), 'the reference run');
  const pages = (name: string): number => Math.ceil(statSync(join(roomy, name)).size / PAGE);
  const kept = pages('last.ckpt') + pages('best.ckpt') + pages('history.csv') + pages('samples.jsonl');
  // An atomic save holds the old file and the new one at once (counted for all of them, to be
  // safe), plus train.lock and two spare pages.
  const size = (2 * kept + 1 + 2) * PAGE;
  const reportPages = pages('report.html') + pages('loss.svg') + pages('loss.png');
  const leftForReport = size / PAGE - kept;
  t.true(reportPages > leftForReport, `the report (${reportPages} pages) would fit in the ${leftForReport} pages left: this test cannot make it fail`);

  const mount = mountTmpfs('small-train', size);
  const out = join(mount, 'run');
  const result = await runCli(['train', '--corpus', CORPUS, ...TINY, '--out', out], { cwd: dir.path });
  succeeded(t, result, `training into a ${size / 1024} KiB disk`);
  const warnings = result.stderr.split('\n').filter((line) => line !== '');
  t.is(warnings.length, 1, `not one line on stderr: ${result.stderr}`);
  t.regex(warnings[0] ?? '', /^char-rnn: .*report was not written.*checkpoints .*intact/, result.stderr);
  t.false(result.stderr.includes('    at '), 'a stack trace');
  for (const name of ['last.ckpt', 'best.ckpt']) {
    const inspected = await runCli(['inspect', join(out, name)], { cwd: dir.path });
    succeeded(t, inspected, `inspect ${name}`);
  }
  t.is((await loadCheckpoint(join(out, 'last.ckpt'))).state.step, 20);
  t.deepEqual(temporaryFiles(out), []);
  t.false(existsSync(join(out, 'train.lock')), 'train.lock is still there');
  // The report is written all or none: no loss.svg without its report.html.
  for (const name of ['report.html', 'loss.svg', 'loss.png']) t.false(existsSync(join(out, name)), `${name} was left from a report that failed`);
});

test('a cut-off last line in history.csv and samples.jsonl: resume and report succeed, warning about each file', async (t) => {
  const source = join(dir.path, 'with-samples');
  succeeded(t, await runCli(['train', '--corpus', CORPUS, ...TINY, '--sample-every', '5', '--sample-length', '20', '--no-report', '--out', source], { cwd: dir.path }), 'the first run');
  /** A copy of the run whose two logs end in half of a line, as a write cut short by a full disk leaves them. */
  const damagedCopy = (name: string): string => {
    const copy = join(dir.path, name);
    cpSync(source, copy, { recursive: true });
    for (const file of ['history.csv', 'samples.jsonl']) {
      const lines = readFileSync(join(copy, file), 'utf8').split('\n');
      t.true(lines.length >= 3, `${file} has too few lines to cut one`);
      const last = lines[lines.length - 2];
      writeFileSync(join(copy, file), last.slice(0, last.length >> 1), { flag: 'a' });
    }
    return copy;
  };

  const resumedRun = damagedCopy('cut-resumed');
  const resumed = await runCli(['train', '--resume', resumedRun, '--steps', '30', '--no-report'], { cwd: dir.path });
  succeeded(t, resumed, 'train --resume');
  const resumedOutput = `${resumed.stdout}\n${resumed.stderr}`.split('\n');
  for (const file of ['history.csv', 'samples.jsonl']) {
    t.true(resumedOutput.some((line) => /warning/i.test(line) && line.includes(join(resumedRun, file))), `train --resume: no warning naming ${file}:\n${resumed.stdout}\n${resumed.stderr}`);
  }
  t.false(resumed.stderr.includes('    at '), 'a stack trace');
  t.is((await loadCheckpoint(join(resumedRun, 'last.ckpt'))).state.step, 30);

  const reportedRun = damagedCopy('cut-reported');
  const reported = await runCli(['report', '--out', reportedRun], { cwd: dir.path });
  succeeded(t, reported, 'report');
  const reportedOutput = `${reported.stdout}\n${reported.stderr}`.split('\n');
  for (const file of ['history.csv', 'samples.jsonl']) {
    t.true(reportedOutput.some((line) => /warning/i.test(line) && line.includes(join(reportedRun, file))), `report: no warning naming ${file}:\n${reported.stdout}\n${reported.stderr}`);
  }
  t.true(existsSync(join(reportedRun, 'report.html')));
});

// ----- standard output that fails -----

test('sample and inspect writing to /dev/full exit 1 with one line naming ENOSPC', async (t) => {
  const run = await reference();
  for (const command of [`sample --checkpoint ${q(run)} --seed 1 --length 1000`, `inspect ${q(run)}`, `inspect ${q(run)} --json`]) {
    const result = await runShell(`cli ${command} > /dev/full`);
    oneLineError(t, result, command, 1);
    t.true(result.stderr.includes('ENOSPC'), `${command}: ${result.stderr}`);
  }
});

test('sample into "| head -c 10" exits 0 with no error output', async (t) => {
  const run = await reference();
  // Far more than a pipe holds, so that head is gone while sample still writes.
  const result = await runShell(`cli sample --checkpoint ${q(run)} --seed 1 --length 300000 | head -c 10; exit \${PIPESTATUS[0]}`);
  succeeded(t, result, 'sample | head -c 10');
  t.is(result.stdout.length, 10);
  t.is(result.stderr, '');
});

// ----- Ctrl-C while the final report is written -----

test('SIGINT while the final report is written exits 130 with one line saying so, and last.ckpt loads', async (t) => {
  const out = join(dir.path, 'stopped-in-report');
  // The gradient check on H = 48 makes the report take a second or more, after the last progress line.
  const run = startCli(['train', '--corpus', CORPUS, '--hidden', '48', ...TINY.slice(2), '--gradcheck', '--out', out], { cwd: dir.path });
  t.teardown(() => void (run.running() && run.child.kill('SIGKILL')));
  const chunks: Buffer[] = [];
  run.child.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk));
  // The loss chart is printed once training has returned, just before the report is written.
  await pollUntil(() => Promise.resolve(Buffer.concat(chunks).toString('utf8')), (text) => /\bo validation loss/.test(text), {
    stillUseful: run.running,
    what: 'the loss chart after training',
  });
  t.true(run.running(), 'the run ended before the signal');
  t.false(existsSync(join(out, 'report.html')), 'the report was already written: the signal came too late');
  run.child.kill('SIGINT');
  const result = await settlesWithin(run.result, 30_000);
  t.is(result.code, 130, `stdout ${result.stdout}\nstderr ${result.stderr}`);
  t.is(result.stderr.indexOf('\n'), result.stderr.length - 1, `not exactly one line: ${JSON.stringify(result.stderr)}`);
  t.regex(result.stderr, /^char-rnn: .*while writing the report/);
  t.false(result.stderr.includes('    at '), 'a stack trace');
  const inspected = await runCli(['inspect', join(out, 'last.ckpt')], { cwd: dir.path });
  succeeded(t, inspected, 'inspect last.ckpt');
  t.is((await loadCheckpoint(join(out, 'last.ckpt'))).state.step, 20);
  t.deepEqual(temporaryFiles(out), []);
  t.false(existsSync(join(out, 'train.lock')), 'train.lock is still there');
});

// ----- a signal as training finishes -----

test('SIGTERM during the final evaluation says that training finished, not that a report was written, with or without --no-report', async (t) => {
  // Half of a large text held out: the final evaluation takes seconds.
  const corpus = dir.file('long.txt', pseudoEnglish(1_500_000, 31));
  for (const report of [false, true]) {
    const out = join(dir.path, `signalled-at-the-end-${report ? 'report' : 'no-report'}`);
    const args = ['train', '--corpus', corpus, '--cell', 'gru', '--layers', '1', '--hidden', '64', '--seq-length', '8', '--streams', '2', '--threads', '1',
      '--steps', '3', '--sample-every', '0', '--eval-every', '0', '--val-frac', '0.5', ...(report ? [] : ['--no-report']), '--out', out];
    const run = startCli(args, { cwd: dir.path });
    t.teardown(() => void (run.running() && run.child.kill('SIGKILL')));
    let stdout = '';
    run.child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    await pollUntil(async () => stdout, (text) => text.includes('step 3: evaluating on the validation text'), { stillUseful: run.running, what: 'the final evaluation' });
    run.child.kill('SIGTERM');
    const result = await settlesWithin(run.result, 30_000);
    t.is(result.code, 143, `stdout ${result.stdout}\nstderr ${result.stderr}`);
    const expected = `char-rnn: SIGTERM as training finished${report ? ', before the report' : ''}: stopped; training finished and its checkpoints are saved in ${out}\n`;
    t.is(result.stderr, expected);
    t.is((await loadCheckpoint(join(out, 'last.ckpt'))).state.step, 3);
    t.false(existsSync(join(out, 'report.html')), 'a report was written after the signal');
  }
});

// ----- small CLI things -----

test('train --steps -1 exits 2 with one line saying --steps must be at least 1', async (t) => {
  const result = await runCli(['train', '--corpus', CORPUS, '--steps', '-1'], { cwd: dir.path });
  oneLineError(t, result, '--steps -1', 2);
  t.is(result.stderr, 'char-rnn: --steps must be at least 1, got -1\n');
});

test('-V and version print the version in package.json', async (t) => {
  const packageJson = fileURLToPath(new URL('../../package.json', import.meta.url));
  const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
  for (const args of [['-V'], ['version'], ['--version']]) {
    const result = await runCli(args, { cwd: dir.path });
    succeeded(t, result, args[0]);
    t.is(result.stdout, `${version}\n`, args[0]);
    t.is(result.stderr, '', args[0]);
  }
});

test('sample --help shows --checkpoint FILE and --prime-file FILE', async (t) => {
  const result = await runCli(['sample', '--help'], { cwd: dir.path });
  succeeded(t, result, 'sample --help');
  t.regex(result.stdout, /--checkpoint FILE\b/);
  t.regex(result.stdout, /--prime-file FILE\b/);
});
