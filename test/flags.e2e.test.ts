import test, { type ExecutionContext } from 'ava';
import { CELL_NAMES } from '../src/model/cells/registry.js';
import { mkdtempSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pseudoEnglish, runCli, runCommand, tempDir, type CliResult } from './fixtures/harness.js';

// Every CLI child runs in a fresh folder under this one, so that a test can see that nothing was written.
const dir = tempDir('flags-test-');
test.after.always(() => dir.remove());

const TEXT = pseudoEnglish(3_000, 31);
const CORPUS = dir.file('corpus.txt', TEXT);
const K = new Set(TEXT).size;
const TINY = ['--corpus', CORPUS, '--hidden', '4', '--layers', '1', '--seq-length', '4', '--streams', '1', '--threads', '1', '--steps', '1', '--sample-every', '0', '--eval-every', '0', '--no-report'];
const BENCH_PATH = fileURLToPath(new URL('../bench/bench.js', import.meta.url));

/** An empty folder to run one command in. */
function freshFolder(): string {
  return mkdtempSync(join(dir.path, 'run-'));
}

/**
 * A refusal: exit code 2, exactly one stderr line 'char-rnn: ...' matching `message`, no stack
 * trace, and nothing on stdout unless `loads` (train says what it loaded before it plans the model).
 */
function refused(t: ExecutionContext, result: CliResult, message: RegExp, what: string, loads = false): void {
  t.false(result.timedOut, `${what} timed out`);
  t.is(result.code, 2, `${what}: stdout ${result.stdout}\nstderr ${result.stderr}`);
  t.true(result.stderr.startsWith('char-rnn: '), `${what}: ${result.stderr}`);
  t.is(result.stderr.indexOf('\n'), result.stderr.length - 1, `${what}: not exactly one line: ${JSON.stringify(result.stderr)}`);
  t.false(result.stderr.includes('    at '), `${what}: a stack trace`);
  t.regex(result.stderr, message, what);
  if (!loads) t.is(result.stdout, '', `${what} printed ${result.stdout}`);
}

/** Runs char-rnn in a fresh folder and checks that it refused and wrote nothing there. */
async function refusesAndWritesNothing(
  t: ExecutionContext, args: readonly string[], message: RegExp, { timeoutMs = 20_000, loads = false } = {},
): Promise<CliResult> {
  const cwd = freshFolder();
  const result = await runCli(args, { cwd, timeoutMs });
  refused(t, result, message, args.join(' '), loads);
  t.deepEqual(readdirSync(cwd), [], `${args.join(' ')} wrote files`);
  return result;
}

// ---- gradcheck refuses, at once, a model that train refuses for its size ---------------------------

test('gradcheck refuses a model too large to train in one line, at once, naming its own flags', async (t) => {
  // it used to build the problem first: gigabytes and minutes, where the timeout now stops it
  await refusesAndWritesNothing(
    t,
    ['gradcheck', '--cell', 'gru', '--hidden', '4096', '--layers', '16'],
    /^char-rnn: gru with L=16, H=4096 and 1 stream needs [\d.]+ GiB of shared memory, more than WebAssembly's 4 GiB \(use a smaller --hidden, fewer --layers, a smaller --vocab or a shorter --seq-length\)$/m,
    { timeoutMs: 10_000 },
  );
});

test('gradcheck refuses what train refuses for the same model, with the same size', async (t) => {
  const model = ['--cell', 'lstm', '--hidden', '2048', '--layers', '4', '--seq-length', '25'];
  const trained = await refusesAndWritesNothing(t, ['train', ...model, '--corpus', CORPUS, '--streams', '1', '--steps', '1'], /shared memory/, { loads: true });
  const checked = await refusesAndWritesNothing(t, ['gradcheck', ...model, '--vocab', String(K)], /shared memory/, { timeoutMs: 10_000 });
  const gib = (stderr: string): string | undefined => /and 1 stream needs ([\d.]+) GiB/.exec(stderr)?.[1];
  t.not(gib(trained.stderr), undefined, trained.stderr);
  t.is(gib(checked.stderr), gib(trained.stderr));
  t.regex(trained.stderr, /\(use a smaller --hidden, fewer --layers or fewer --streams\)$/m, 'train keeps its advice');
});

test('gradcheck still checks a model train can hold', async (t) => {
  const result = await runCli(['gradcheck', '--cell', 'gru', '--hidden', '3', '--layers', '2', '--vocab', '4', '--seq-length', '3', '--samples', '5']);
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /^PASS/m);
});

test('a sequence so long that the kernels\' scratch passes 2 GiB is refused for its size, not run out of bounds', async (t) => {
  // at H=512, L=4 a group's scratch for 100000 steps is about 32 GiB, whose byte count an int32 wrapped to a negative one
  const long = dir.file('long.txt', pseudoEnglish(110_000, 7));
  await refusesAndWritesNothing(
    t,
    ['train', '--corpus', long, '--cell', 'gru', '--hidden', '512', '--layers', '4', '--seq-length', '100000', '--streams', '1', '--val-frac', '0', '--steps', '1'],
    /^char-rnn: gru with L=4, H=512 and 1 stream needs [\d.]+ GiB of shared memory, more than WebAssembly's 4 GiB/m,
    { loads: true },
  );
});

// ---- names typed by the user are looked up in the tables' own properties only -----------------------

for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
  test(`--preset ${name} is refused, not trained as the default`, async (t) => {
    await refusesAndWritesNothing(t, ['train', ...TINY, '--preset', name], new RegExp(`^char-rnn: --preset must be one of default, seed, got '${name}'$`, 'm'));
  });
}

test('--cell, --optimizer, --lr-schedule and --dtype refuse the names of Object.prototype', async (t) => {
  for (const name of ['__proto__', 'constructor', 'toString']) {
    await refusesAndWritesNothing(t, ['train', ...TINY, '--cell', name], new RegExp(`--cell must be one of ${CELL_NAMES.join(', ')}, got '${name}'`));
    await refusesAndWritesNothing(t, ['train', ...TINY, '--optimizer', name], new RegExp(`--optimizer must be one of .*, got '${name}'`));
    await refusesAndWritesNothing(t, ['train', ...TINY, '--lr-schedule', name], new RegExp(`--lr-schedule must be one of .*, got '${name}'`));
    await refusesAndWritesNothing(t, ['train', ...TINY, '--dtype', name], new RegExp(`--dtype must be one of .*, got '${name}'`));
    await refusesAndWritesNothing(t, ['gradcheck', '--cell', name], new RegExp(`--cell must be one of ${CELL_NAMES.join(', ')}, got '${name}'`));
  }
});

test('flags named after Object.prototype are unknown flags', async (t) => {
  for (const command of ['train', 'gradcheck', 'sample']) {
    for (const flag of [['--__proto__', 'x'], ['--constructor', 'x'], ['--toString'], ['--hasOwnProperty']]) {
      await refusesAndWritesNothing(t, [command, ...flag], new RegExp(`unknown flag ${flag[0]} \\(`));
    }
  }
});

test('the quality race refuses an entry named after Object.prototype', async (t) => {
  const cwd = freshFolder();
  const missing = join(cwd, 'no-such.txt');
  const result = await runCommand(process.execPath, [BENCH_PATH, '--quality', '--minutes', '0.01', '--entries', 'default,toString', '--train', missing, '--val', missing], { cwd });
  t.is(result.code, 2, result.stderr);
  t.regex(result.stderr, /^bench: --entries: no entry named toString; choose from default, /);
  t.is(result.stderr.indexOf('\n'), result.stderr.length - 1, JSON.stringify(result.stderr));
  t.deepEqual(readdirSync(cwd), []);
});

// ---- number flags are decimal -------------------------------------------------------------------------

/** `text` as a regular expression that matches it literally. */
function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const NOT_DECIMAL = ['0x10', '0X10', '0b1', '0o7', '1_000', '', ' 5', '5 ', '\t5', 'Infinity', '-Infinity', 'NaN', '5e', 'e5', '.', '+-5', '--5'];

/** The parser is shared: train gets every form, the other commands a few. */
const FEW = ['0x10', ' 5', ''];

test('integer flags take decimal digits only, in every command', async (t) => {
  const message = (flag: string, raw: string): RegExp => new RegExp(`^char-rnn: ${flag} must be an integer, got '${escaped(raw)}'$`, 'm');
  for (const raw of [...NOT_DECIMAL, '1e1', '1.0', '1.', '2.5']) await refusesAndWritesNothing(t, ['train', ...TINY, `--layers=${raw}`], message('--layers', raw));
  for (const raw of [...FEW, '1e1']) {
    await refusesAndWritesNothing(t, ['gradcheck', `--hidden=${raw}`], message('--hidden', raw));
    await refusesAndWritesNothing(t, ['sample', `--length=${raw}`], message('--length', raw));
  }
});

test('number flags take decimal numbers only, in every command', async (t) => {
  const message = (flag: string, raw: string): RegExp => new RegExp(`^char-rnn: ${flag} must be a number, got '${escaped(raw)}'$`, 'm');
  for (const raw of NOT_DECIMAL) await refusesAndWritesNothing(t, ['train', ...TINY, `--eta=${raw}`], message('--eta', raw));
  for (const raw of [...FEW, 'Infinity']) {
    await refusesAndWritesNothing(t, ['gradcheck', `--dropout=${raw}`], message('--dropout', raw));
    await refusesAndWritesNothing(t, ['sample', `--temperature=${raw}`], message('--temperature', raw));
  }
});

test('the benchmark\'s lists of numbers are decimal too', async (t) => {
  const cwd = freshFolder();
  const result = await runCommand(process.execPath, [BENCH_PATH, '--cells', '--hidden-list', '0x10', '--corpus', join(cwd, 'no-such.txt')], { cwd });
  t.is(result.code, 2, result.stderr);
  t.is(result.stderr, "bench: --hidden-list must be integers from 1 to 4096 separated by commas, got '0x10'\n");
});

test('decimal numbers in every form parse, and a signed integer gets its range message', async (t) => {
  const gradcheck = ['gradcheck', '--cell', 'gru', '--hidden', '+3', '--layers', '02', '--vocab', '4', '--seq-length', '3', '--samples', '3'];
  for (const raw of ['.5', '0.5', '5e-1', '5.e-1', '0.05E1', '+.5']) {
    const result = await runCli([...gradcheck, '--dropout', raw]);
    t.is(result.code, 0, `--dropout ${raw}: ${result.stderr}`);
    t.regex(result.stdout, /gru, 2 layers, dropout 0\.5 \(fixed masks\), H=3 /, `--dropout ${raw}`);
  }
  await refusesAndWritesNothing(t, [...gradcheck, '--dropout', '5.'], /^char-rnn: --dropout must be at least 0 and below 1, got 5$/m);
  await refusesAndWritesNothing(t, [...gradcheck, '--dropout', '-0.5'], /^char-rnn: --dropout must be at least 0, got -0\.5$/m);
  await refusesAndWritesNothing(t, ['train', ...TINY, '--steps', '-1'], /^char-rnn: --steps must be at least 1, got -1$/m);
  await refusesAndWritesNothing(t, ['train', ...TINY, '--eta', '-1e-3'], /^char-rnn: --eta must be greater than 0, got -1e-3$/m);
});
