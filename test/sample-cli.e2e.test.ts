import { spawn } from 'node:child_process';
import { join } from 'node:path';
import test from 'ava';
import { saveCheckpoint } from '../src/checkpoint/index.js';
import { CLI_PATH, runCli, settlesWithin, tempDir } from './fixtures/harness.js';
import { gatedCheckpoint } from './fixtures/gated-model.js';
import { countSymbols, hasLoneSurrogate, historyFreeCheckpoint, tinyCheckpoint } from './fixtures/tiny-model.js';

const dir = tempDir('sample-cli-');
test.after.always(() => dir.remove());

const SYMBOLS = ['\n', ' ', 'T', 'a', 'e', 'h', 'é', '😀'];
// Uniform over all eight symbols whatever the history (W = U = 0, b = 0, c = 0).
const uniform = join(dir.path, 'uniform.ckpt');
// Greedy-only test: c favours 'a' by far.
const peaked = join(dir.path, 'peaked.ckpt');
const checkpoints = (async () => {
  await saveCheckpoint(uniform, historyFreeCheckpoint(SYMBOLS, new Array<number>(SYMBOLS.length).fill(0)));
  const H = 2;
  const K = SYMBOLS.length;
  const zeros = (rows: number, cols: number) => Array.from({ length: rows }, () => new Array<number>(cols).fill(0));
  const c = SYMBOLS.map((s) => (s === 'a' ? 3 : 0));
  await saveCheckpoint(peaked, tinyCheckpoint(SYMBOLS, { W: zeros(H, H), U: zeros(H, K), V: zeros(K, H), b: [0, 0], c }));
})();
test.before(() => checkpoints);

/** The one line the CLI prints for a UserError, with no stack trace. */
function assertOneLineError(t: import('ava').ExecutionContext, stderr: string, pattern: RegExp): void {
  t.regex(stderr, /^char-rnn: [^\n]*\n$/);
  t.regex(stderr, pattern);
}

test('the same seed and flags give the same text, byte for byte; the text alone goes to stdout', async (t) => {
  const args = ['sample', '--checkpoint', uniform, '--length', '3000', '--temperature', '0.8', '--prime', 'The', '--seed', '7'];
  const [a, b] = await Promise.all([runCli(args), runCli(args)]);
  t.is(a.code, 0, a.stderr);
  t.is(a.stderr, '');
  t.is(a.stdout, b.stdout);
  t.true(a.stdout.startsWith('The'));
  t.is([...a.stdout].length, 3003);
  t.false(hasLoneSurrogate(a.stdout));
  t.false(a.stdout.includes('\uFFFD')); // the UTF-8 on the wire decoded cleanly: no pair split across writes
  const other = await runCli([...args.slice(0, -1), '8']);
  t.not(other.stdout, a.stdout);
});

test('without --seed a random seed is printed to stderr, and passing it reproduces the text', async (t) => {
  const first = await runCli(['sample', '--checkpoint', uniform, '--length', '500']);
  t.is(first.code, 0, first.stderr);
  const match = /^seed: (\d+) \(pass --seed (\d+) to reproduce\)\n$/.exec(first.stderr);
  t.truthy(match, first.stderr);
  t.is(match?.[1], match?.[2]);
  const again = await runCli(['sample', '--checkpoint', uniform, '--length', '500', '--seed', match?.[1] ?? '']);
  t.is(again.stdout, first.stdout);
  t.is([...first.stdout].length, 500);
});

test('--prime-file primes like --prime; both at once is an error', async (t) => {
  const file = dir.file('prime.txt', 'héé 😀\n');
  const [fromFile, fromFlag, both] = await Promise.all([
    runCli(['sample', '--checkpoint', uniform, '--length', '50', '--seed', '3', '--prime-file', file]),
    runCli(['sample', '--checkpoint', uniform, '--length', '50', '--seed', '3', '--prime', 'héé 😀\n']),
    runCli(['sample', '--checkpoint', uniform, '--prime', 'a', '--prime-file', file]),
  ]);
  t.is(fromFile.code, 0, fromFile.stderr);
  t.true(fromFile.stdout.startsWith('héé 😀\n'));
  t.is(fromFile.stdout, fromFlag.stdout);
  t.is(both.code, 2);
  assertOneLineError(t, both.stderr, /--prime or --prime-file/);
});

test('--temperature 0 takes the likeliest symbol every time', async (t) => {
  const result = await runCli(['sample', '--checkpoint', peaked, '--length', '20', '--temperature', '0', '--prime', 'Th']);
  t.is(result.code, 0, result.stderr);
  t.is(result.stdout, `Th${'a'.repeat(20)}`);
  t.is(result.stderr, ''); // no seed line: nothing is drawn
});

test('--top-k and --top-p keep to the likeliest symbols', async (t) => {
  // c = 3 for 'a', 0 for the others: p(a) = e^3 / (e^3 + 7) = 0.74, so top-p 0.5 and top-k 1 keep 'a' alone.
  const [k, p] = await Promise.all([
    runCli(['sample', '--checkpoint', peaked, '--length', '500', '--top-k', '1', '--seed', '1']),
    runCli(['sample', '--checkpoint', peaked, '--length', '500', '--top-p', '0.5', '--seed', '1']),
  ]);
  t.is(k.stdout, 'a'.repeat(500));
  t.is(p.stdout, 'a'.repeat(500));
  const wide = await runCli(['sample', '--checkpoint', peaked, '--length', '2000', '--top-k', '2', '--seed', '1']);
  // The second place is a seven-way tie at p = 0.037: the lowest id, '\n', is the one kept.
  const counts = countSymbols(wide.stdout, SYMBOLS);
  t.true(counts[0] > 0 && counts[3] > 0);
  t.is(counts[0] + counts[3], 2000);
});

test('prime characters outside the vocabulary: one line naming each, exit 2; --skip-unknown drops them with a warning', async (t) => {
  const args = ['sample', '--checkpoint', uniform, '--length', '10', '--seed', '1', '--prime', 'The Congress'];
  const refused = await runCli(args);
  t.is(refused.code, 2);
  t.is(refused.stdout, '');
  assertOneLineError(t, refused.stderr, /6 characters not in the checkpoint's vocabulary: "C" \(U\+0043\), "o" \(U\+006F\), "n" \(U\+006E\), "g" \(U\+0067\), "r" \(U\+0072\), "s" \(U\+0073\) .*--skip-unknown/);
  t.is(refused.stderr.split('"s"').length, 2, 'a character is named once however often it occurs');

  const skipped = await runCli([...args, '--skip-unknown']);
  t.is(skipped.code, 0, skipped.stderr);
  t.regex(skipped.stderr, /^char-rnn: warning: [^\n]*"C" \(U\+0043\)[^\n]*"s" \(U\+0073\)[^\n]*\n$/);
  t.true(skipped.stdout.startsWith('The e'));
  t.is([...skipped.stdout].length, 'The e'.length + 10);
});

test('a reader that stops early (| head -c 100) ends the run quietly with exit 0', async (t) => {
  const child = spawn(process.execPath, [CLI_PATH, 'sample', '--checkpoint', uniform, '--length', '1000000', '--seed', '1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let received = 0;
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= 100) {
        child.stdout.destroy();
        resolve();
      }
    });
  });
  const code = await settlesWithin(exited, 30_000);
  t.is(code, 0, stderr);
  t.is(stderr, '');
});

test('bad flag values exit 2 with one line naming the flag', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--temperature', '-1'], /--temperature/],
    [['--temperature=-1'], /--temperature must be at least 0/],
    [['--temperature', 'abc'], /--temperature must be a number, got 'abc'/],
    [['--top-k', '0'], /--top-k must be at least 1/],
    [['--top-k', '2.5'], /--top-k must be an integer/],
    [['--top-p', '0'], /--top-p must be greater than 0/],
    [['--top-p', '1.5'], /--top-p must be greater than 0 and at most 1, got 1\.5/],
    [['--length', '-3'], /--length/],
    [['--seed', '4294967296'], /--seed must be at least 0 and at most 4294967295/],
    [['--bogus'], /bogus/],
  ];
  const results = await Promise.all(cases.map(([flags]) => runCli(['sample', '--checkpoint', uniform, ...flags])));
  results.forEach((result, i) => {
    t.is(result.code, 2, cases[i][0].join(' '));
    t.is(result.stdout, '');
    assertOneLineError(t, result.stderr, cases[i][1]);
  });
});

test('a missing checkpoint exits 2 with one line naming it', async (t) => {
  const missing = join(dir.path, 'nope.ckpt');
  const [named, byDefault] = await Promise.all([
    runCli(['sample', '--checkpoint', missing]),
    runCli(['sample'], { cwd: dir.path }), // no run under checkpoints/ there
  ]);
  t.is(named.code, 2);
  assertOneLineError(t, named.stderr, /checkpoint not found: .*nope\.ckpt/);
  t.is(byDefault.code, 2);
  assertOneLineError(t, byDefault.stderr, /no training run found in checkpoints\/.*npx parallel-char-rnn train/);
});

test('sample --help lists the flags', async (t) => {
  const result = await runCli(['sample', '--help']);
  t.is(result.code, 0);
  for (const flag of ['--checkpoint', '--length', '--temperature', '--top-k', '--top-p', '--prime', '--prime-file', '--seed', '--skip-unknown']) {
    t.true(result.stdout.includes(flag), flag);
  }
});

test('--count N draws N samples, each under a header naming its seed, each the text --seed SEED+i gives alone', async (t) => {
  const gated = join(dir.path, 'gru.ckpt');
  await saveCheckpoint(gated, gatedCheckpoint({ cell: 'gru', dtype: 'float32', L: 2, H: 12, seed: 2 }));
  const args = ['sample', '--checkpoint', gated, '--length', '300', '--temperature', '0.9', '--prime', 'the '];
  const [many, ...alone] = await Promise.all([
    runCli([...args, '--seed', '4294967294', '--count', '3']),
    ...[4294967294, 4294967295, 0].map((seed) => runCli([...args, '--seed', String(seed)])),
  ]);
  t.is(many.code, 0, many.stderr);
  t.is(many.stderr, '');
  const expected = alone.map((one, i) => `----- sample ${i + 1} of 3, seed ${[4294967294, 4294967295, 0][i]} -----\n${one.stdout}\n`).join('');
  t.is(many.stdout, expected);
  t.true(alone.every((one) => one.stdout.startsWith('the ') && [...one.stdout].length === 304));
  const zero = await runCli([...args, '--count', '0']);
  t.is(zero.code, 2);
  assertOneLineError(t, zero.stderr, /--count/);
});
