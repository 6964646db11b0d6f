/** --corpus with a folder, or repeated: the texts joined in order, refused by name when one is not text, and resumed from where they came. */
import test from 'ava';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint } from '../src/checkpoint/index.js';
import { loadCorpus } from '../src/corpus.js';
import { decodeIds } from '../src/symbols.js';
import { oneLineError, runCli, succeeded, tempDir } from './fixtures/harness.js';

const dir = tempDir('corpus-paths-test-');
test.after.always(() => dir.remove());

const POEMS = join(dir.path, 'poems');
mkdirSync(join(POEMS, 'drafts'), { recursive: true });
writeFileSync(join(POEMS, 'b.txt'), 'Roses are red,\nviolets are blue.\n');
writeFileSync(join(POEMS, 'a.txt'), '\uFEFFOnce upon a time there was a fox'); // a byte-order mark and no final line break
writeFileSync(join(POEMS, '.DS_Store'), Buffer.from([0, 0, 0, 1, 0x42, 0x75, 0x64, 0x31]));
writeFileSync(join(POEMS, 'drafts', 'c.txt'), 'not read: a subfolder');
const PROSE = dir.file('prose.txt', 'It was a dark and stormy night; the rain fell in torrents.\n');
/** What the folder joins to, written out by hand: name order, a line break ending each file, a blank line between. */
const POEMS_TEXT = 'Once upon a time there was a fox\n\nRoses are red,\nviolets are blue.\n';

const TINY = ['--cell', 'rnn', '--hidden', '8', '--seq-length', '4', '--streams', '2', '--threads', '1', '--no-report', '--sample-every', '0', '--eval-every', '0'];

test('a folder is its files in name order, each ending a line, a blank line between; subfolders and hidden files are left out', async (t) => {
  for (const chunkBytes of [undefined, 1, 3]) {
    const corpus = await loadCorpus(POEMS, { chunkBytes });
    t.is(decodeIds(corpus.ids, corpus.vocab), POEMS_TEXT, `chunks of ${chunkBytes ?? 'default'} bytes`);
    t.is(corpus.source, POEMS);
    t.is(corpus.files, 2);
    t.is(corpus.sources, undefined);
  }
});

test('several paths are joined in the order given, a folder among them', async (t) => {
  const corpus = await loadCorpus([PROSE, POEMS]);
  t.is(decodeIds(corpus.ids, corpus.vocab), `It was a dark and stormy night; the rain fell in torrents.\n\n${POEMS_TEXT}`);
  t.deepEqual(corpus.sources, [PROSE, POEMS]);
  t.is(corpus.files, 3);
});

/** Trains 3 steps on the corpus, then resumes twice without --corpus: each resume must load the same paths again. */
function resumesFrom(title: string, corpusArgs: readonly string[], loaded: string, sources: readonly string[] | undefined): void {
  test(title, async (t) => {
    const out = join(dir.path, `run-${title.replace(/\W+/g, '-')}`);
    const first = await runCli(['train', ...corpusArgs, ...TINY, '--steps', '3', '--out', out], { cwd: dir.path });
    succeeded(t, first, 'train');
    t.true(first.stdout.includes(`loaded ${loaded}:`), first.stdout);
    for (const steps of ['5', '7']) {
      const resumed = await runCli(['train', '--resume', out, '--steps', steps, '--threads', '1'], { cwd: dir.path });
      succeeded(t, resumed, `resume to step ${steps}`);
      t.true(resumed.stdout.includes(`loaded ${loaded}:`), resumed.stdout);
      const checkpoint = await loadCheckpoint(join(out, 'last.ckpt'));
      t.is(checkpoint.state.step, Number(steps));
      t.deepEqual(checkpoint.corpus.sources, sources);
    }
  });
}

resumesFrom('a run on a folder resumes from the folder', ['--corpus', POEMS], `${POEMS} (2 files)`, undefined);
resumesFrom('a run on several paths resumes from all of them', ['--corpus', PROSE, '--corpus', POEMS], `${PROSE} + ${POEMS} (3 files)`, [PROSE, POEMS]);

test('a binary file in a folder is refused by name, in one line', async (t) => {
  const folder = join(dir.path, 'with-binary');
  mkdirSync(folder);
  writeFileSync(join(folder, 'a.txt'), 'some text\n');
  writeFileSync(join(folder, 'b.dat'), 'text\0with a NUL');
  const result = await runCli(['train', '--corpus', folder, ...TINY], { cwd: dir.path });
  oneLineError(t, result, 'a binary file');
  t.regex(result.stderr, /corpus file .*with-binary\/b\.dat is binary.*move it out of .*with-binary/);
});

test('a file that is not UTF-8 in a folder is refused by name, in one line', async (t) => {
  const folder = join(dir.path, 'with-image');
  mkdirSync(folder);
  writeFileSync(join(folder, 'a.txt'), 'some text\n');
  writeFileSync(join(folder, 'b.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a]));
  const result = await runCli(['train', '--corpus', folder, ...TINY], { cwd: dir.path });
  oneLineError(t, result, 'a PNG');
  t.regex(result.stderr, /corpus file .*with-image\/b\.png is not valid UTF-8 near byte 0 .*move it out of .*with-image/);
});

test('an empty folder and a missing path among several are refused in one line', async (t) => {
  const empty = join(dir.path, 'empty-folder');
  mkdirSync(empty);
  const none = await runCli(['train', '--corpus', empty, ...TINY], { cwd: dir.path });
  oneLineError(t, none, 'an empty folder');
  t.regex(none.stderr, /corpus folder .*empty-folder has no files/);
  const missing = await runCli(['train', '--corpus', PROSE, '--corpus', join(dir.path, 'no-such.txt'), ...TINY], { cwd: dir.path });
  oneLineError(t, missing, 'a missing second path');
  t.regex(missing.stderr, /corpus file not found: .*no-such\.txt/);
});
