import test from 'ava';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from './fixtures/harness.js';

const dir = tempDir('cli-errors-test-');
test.after.always(() => dir.remove());

const GOOD = dir.file('good.txt', 'The quick brown fox jumps over the lazy dog. '.repeat(40));
const folder = join(dir.path, 'a-folder');
mkdirSync(folder);

/** A bad invocation: exit code 2 and exactly one stderr line 'char-rnn: ...' that matches `names`. */
function rejects(title: string, args: () => string[], names: RegExp): void {
  test(title, async (t) => {
    const result = await runCli(args(), { cwd: dir.path });
    t.false(result.timedOut);
    t.is(result.code, 2, `stderr: ${result.stderr}`);
    t.true(result.stderr.startsWith('char-rnn: '), result.stderr);
    t.true(result.stderr.endsWith('\n'), JSON.stringify(result.stderr));
    t.is(result.stderr.indexOf('\n'), result.stderr.length - 1, `more than one line: ${JSON.stringify(result.stderr)}`);
    t.false(result.stderr.includes('    at '), 'a stack trace');
    t.regex(result.stderr, names);
  });
}

rejects('a missing corpus file', () => ['train', '--corpus', join(dir.path, 'no-such.txt')], /not found: .*no-such\.txt/);
rejects('an empty corpus file', () => ['train', '--corpus', dir.file('empty.txt', '')], /empty/);
rejects('an empty folder as corpus', () => ['train', '--corpus', folder], /a-folder has no files/);
rejects('a corpus that is not UTF-8', () => ['train', '--corpus', dir.file('latin1.txt', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x61]))], /not valid UTF-8/);
rejects('a text too short for one sequence per stream', () => ['train', '--corpus', dir.file('short.txt', 'x'.repeat(30)), '--streams', '16'], /too short/);
rejects('an unknown flag', () => ['train', '--corpus', GOOD, '--bogus'], /--bogus/);
rejects('an unknown command', () => ['frobnicate'], /unknown command 'frobnicate'/);
rejects('--hidden 0', () => ['train', '--hidden', '0'], /--hidden must be at least 1/);
rejects('--hidden abc', () => ['train', '--hidden', 'abc'], /--hidden must be an integer.*abc/);
rejects('--eta -1 (a value that looks like a flag)', () => ['train', '--eta', '-1'], /--eta/);
rejects('--eta=-1', () => ['train', '--eta=-1'], /--eta must be greater than 0/);
rejects('--val-frac 0.9', () => ['train', '--val-frac', '0.9'], /--val-frac must be at least 0 and at most 0\.5, got 0\.9/);
rejects('--epochs with --steps', () => ['train', '--corpus', GOOD, '--epochs', '2', '--steps', '3'], /--epochs.*--steps/);
rejects('gradcheck --hidden 0', () => ['gradcheck', '--hidden', '0'], /--hidden must be at least 1/);

test('gradcheck on a small problem, every entry, passes', async (t) => {
  const result = await runCli(['gradcheck', '--hidden', '4', '--vocab', '5', '--seq-length', '4', '--all']);
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /^PASS/m);
  t.false(/FAIL/.test(result.stdout));
  t.is(result.stderr, '');
});

test('--help exits 0 with usage, for the program and each command', async (t) => {
  for (const args of [['--help'], ['train', '--help'], ['gradcheck', '--help']]) {
    const result = await runCli(args);
    t.is(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    t.regex(result.stdout, /usage: char-rnn/, args.join(' '));
    t.is(result.stderr, '');
  }
});
