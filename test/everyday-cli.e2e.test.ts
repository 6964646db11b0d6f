/** The commands as a user types them: the package's own command names, typos, no arguments, grouped help, a sample on a terminal. */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { saveCheckpoint } from '../src/checkpoint/index.js';
import { parseTrainRequest, TRAIN_EXAMPLES, TRAIN_GROUPS } from '../src/commands/train.js';
import { TRAIN_OPTIONS } from '../src/config.js';
import { editDistance } from '../src/suggest.js';
import { CLI_PATH, oneLineError, runCli, runCommand, tempDir } from './fixtures/harness.js';
import { tinyCheckpoint } from './fixtures/tiny-model.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dir = tempDir('everyday-cli-test-');
test.after.always(() => dir.remove());

test('the package name is a command, and char-rnn is its short name: both run the CLI', (t) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; bin: Record<string, string> };
  t.is(pkg.name, 'parallel-char-rnn');
  t.deepEqual(pkg.bin, { 'parallel-char-rnn': 'dist/src/cli.js', 'char-rnn': 'dist/src/cli.js' });
});

test('a global install gives both names, and they run from a folder outside the project', async (t) => {
  const prefix = join(dir.path, 'global');
  const elsewhere = join(dir.path, 'elsewhere');
  mkdirSync(elsewhere);
  // a link to this checkout, as 'npm install -g .' makes one; offline and without scripts: the build is already there
  const install = await runCommand('npm', ['install', '--global', '--prefix', prefix, '--offline', '--ignore-scripts', '--no-audit', '--no-fund', ROOT], { cwd: elsewhere });
  t.is(install.code, 0, install.stderr);
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  for (const name of ['char-rnn', 'parallel-char-rnn']) {
    const result = await runCommand(join(prefix, 'bin', name), ['--version'], { cwd: elsewhere });
    t.is(result.code, 0, `${name}: ${result.stderr}`);
    t.is(result.stdout, `${version}\n`, name);
  }
});

/** Every text file of the documents, sources and tests, for what they tell a user to type. */
function textFiles(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) return textFiles(path);
    return /\.(ts|md|sh|py)$/.test(name) ? [path] : [];
  });
}

test('no document, help text or message tells a user to run the short name through npx, which outside the project fetches another package', (t) => {
  const files = [join(ROOT, 'README.md'), ...['src', 'docs', 'bench', 'test', 'workers', 'assembly'].flatMap((folder) => textFiles(join(ROOT, folder)))];
  t.true(files.length > 50, `only ${files.length} files found`);
  // this file names the phrase in order to look for it: its needle is built, not written
  const needle = ['npx', 'char-rnn'].join(' ');
  const offending = files.filter((file) => readFileSync(file, 'utf8').includes(needle));
  t.deepEqual(offending, []);
});

test('a mistyped flag suggests the closest one, for every command that takes flags', async (t) => {
  for (const [args, expected] of [
    [['train', '--minuts', '3'], 'unknown flag --minuts (did you mean --minutes?)'],
    [['train', '--hiden=64'], 'unknown flag --hiden (did you mean --hidden?)'],
    [['train', '--seq', '50'], 'unknown flag --seq (did you mean --seq-length?)'],
    [['sample', '--temprature', '0.8'], 'unknown flag --temprature (did you mean --temperature?)'],
    [['gradcheck', '--cel', 'lstm'], 'unknown flag --cel (did you mean --cell?)'],
    [['eval', '--text', 'x.txt'], 'unknown flag --text (did you mean --text-file?)'],
    [['inspect', '--jsno'], 'unknown flag --jsno (did you mean --json?)'],
    [['export', '--fromat', 'onnx'], 'unknown flag --fromat (did you mean --format?)'],
    [['import', '--form', 'x'], 'unknown flag --form (did you mean --from?)'],
    [['inspect', '--frobnicate'], "unknown flag --frobnicate (see 'char-rnn inspect --help')"],
  ] as const) {
    const result = await runCli(args, { cwd: dir.path });
    oneLineError(t, result, args.join(' '));
    t.is(result.stderr, `char-rnn: ${expected}\n`);
  }
});

test('a flag close to none is named with the way to the help, and no guess', async (t) => {
  const result = await runCli(['train', '--frobnicate', '3'], { cwd: dir.path });
  oneLineError(t, result, '--frobnicate');
  t.is(result.stderr, "char-rnn: unknown flag --frobnicate (see 'char-rnn train --help')\n");
});

test('a mistyped command suggests the closest one; one close to none lists them all', async (t) => {
  for (const [typed, meant] of [['trian', 'train'], ['smaple', 'sample'], ['evl', 'eval'], ['gradchek', 'gradcheck'], ['inpsect', 'inspect']]) {
    const result = await runCli([typed], { cwd: dir.path });
    oneLineError(t, result, typed);
    t.is(result.stderr, `char-rnn: unknown command '${typed}' (did you mean ${meant}?)\n`);
  }
  const far = await runCli(['frobnicate'], { cwd: dir.path });
  oneLineError(t, far, 'frobnicate');
  t.regex(far.stderr, /unknown command 'frobnicate' \(commands: train, sample, eval, gradcheck, inspect, report, export, import, serve; see 'char-rnn --help'\)/);
});

test('edit distance, worked by hand: swaps of neighbours count once', (t) => {
  t.is(editDistance('minuts', 'minutes'), 1); // one insertion
  t.is(editDistance('trian', 'train'), 1); // one swap
  t.is(editDistance('kitten', 'sitting'), 3); // k->s, e->i, +g
  t.is(editDistance('', 'eta'), 3);
  t.is(editDistance('eta', 'eta'), 0);
  t.is(editDistance('ca', 'abc'), 3); // optimal string alignment: no edit of a swapped pair
});

test('char-rnn with no arguments prints the usage on stderr and exits 2', async (t) => {
  const result = await runCli([], { cwd: dir.path });
  t.is(result.code, 2);
  t.is(result.stdout, '');
  t.regex(result.stderr, /^usage: char-rnn <command> \[options\]\n/);
  for (const command of ['train', 'sample', 'eval', 'gradcheck', 'inspect', 'report', 'export', 'import', 'serve']) t.regex(result.stderr, new RegExp(`^  ${command} `, 'm'));
  const help = await runCli(['--help'], { cwd: dir.path });
  t.is(help.code, 0);
  t.is(help.stdout, result.stderr); // the same text, asked for: on stdout, exit 0
});

test('train --help lists every flag once, under its heading, in the headings\' order, and ends with examples', async (t) => {
  const result = await runCli(['train', '--help'], { cwd: dir.path });
  t.is(result.code, 0, result.stderr);
  const [options, examples] = result.stdout.split('\nexamples:\n');
  t.truthy(examples, 'no examples section');
  const headings = [...options.matchAll(/^(\S[^\n]*):$/gm)].map((match) => match[1]);
  t.deepEqual(headings, TRAIN_GROUPS.map((group) => group.title));
  // the flags under each heading are exactly the options of its group
  const sections = options.split(/^\S[^\n]*:$/m).slice(1);
  TRAIN_GROUPS.forEach((group, i) => {
    const listed = [...sections[i].matchAll(/^ {2}--([a-z0-9-]+)/gm)].map((match) => match[1]);
    t.deepEqual(listed, TRAIN_OPTIONS.filter((spec) => spec.group === group.name).map((spec) => spec.name), group.title);
  });
  const everyFlag = [...options.matchAll(/^ {2}--([a-z0-9-]+)/gm)].map((match) => match[1]);
  t.deepEqual([...everyFlag].sort(), TRAIN_OPTIONS.map((spec) => spec.name).sort());
  t.true(TRAIN_GROUPS.length >= 6);
  t.is(examples.trimEnd().split('\n').filter((line) => line.startsWith('  char-rnn train')).length, TRAIN_EXAMPLES.length);
});

test('every example of train --help is a command train accepts', (t) => {
  for (const [command] of TRAIN_EXAMPLES) {
    const args = command.split(' ');
    t.deepEqual(args.slice(0, 2), ['char-rnn', 'train']);
    t.notThrows(() => parseTrainRequest(args.slice(2)), command);
  }
});

test("the other commands' help still works, ungrouped", async (t) => {
  for (const command of ['sample', 'eval', 'gradcheck', 'inspect', 'report', 'export', 'import', 'serve']) {
    const result = await runCli([command, '--help'], { cwd: dir.path });
    t.is(result.code, 0, `${command}: ${result.stderr}`);
    t.regex(result.stdout, new RegExp(`^usage: char-rnn ${command}`), command);
    t.false(result.stdout.includes('\nother:\n'), command);
  }
});

/** The CLI with a pseudo-terminal as stdout (util-linux script), as a user at a shell sees it; the terminal turns \n into \r\n. */
function onTerminal(args: readonly string[]) {
  const quote = (word: string): string => `'${word.replace(/'/g, "'\\''")}'`;
  const command = [process.execPath, CLI_PATH, ...args].map(quote).join(' ');
  return runCommand('script', ['--quiet', '--return', '--command', command, '/dev/null'], { cwd: dir.path });
}

test('a sample printed to a terminal ends its line; piped, it is exactly the text drawn', async (t) => {
  t.notThrows(() => execFileSync('script', ['--version']), 'this test needs the script command of util-linux');
  // c favours 'a' by far: at temperature 0 the text is the prime, then 'a' after 'a'
  const symbols = ['\n', ' ', 'T', 'a', 'e', 'h'];
  const zeros = (rows: number, cols: number) => Array.from({ length: rows }, () => new Array<number>(cols).fill(0));
  const checkpoint = join(dir.path, 'peaked.ckpt');
  await saveCheckpoint(checkpoint, tinyCheckpoint(symbols, { W: zeros(2, 2), U: zeros(2, 6), V: zeros(6, 2), b: [0, 0], c: symbols.map((s) => (s === 'a' ? 3 : 0)) }));
  const args = ['sample', '--checkpoint', checkpoint, '--temperature', '0', '--length', '5', '--prime', 'The '];

  const piped = await runCli(args, { cwd: dir.path });
  t.is(piped.code, 0, piped.stderr);
  t.is(piped.stdout, 'The aaaaa');
  const shown = await onTerminal(args);
  t.is(shown.code, 0, shown.stdout);
  t.is(shown.stdout, 'The aaaaa\r\n');

  // a text that already ends its line gets no second line break
  const ended = ['sample', '--checkpoint', checkpoint, '--length', '0', '--seed', '1', '--prime', 'The\n'];
  t.is((await runCli(ended, { cwd: dir.path })).stdout, 'The\n');
  t.is((await onTerminal(ended)).stdout, 'The\r\n');
});
