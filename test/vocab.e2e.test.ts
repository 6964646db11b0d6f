import test from 'ava';
import { join } from 'node:path';
import { makeTrainConfig } from '../src/config.js';
import { loadCorpusFile } from '../src/corpus.js';
import type { Reporter } from '../src/progress.js';
import { train } from '../src/train/train.js';
import { runCli, silentReporter, tempDir } from './fixtures/harness.js';

const dir = tempDir('vocab-test-');
test.after.always(() => dir.remove());

const PHRASE = 'Café 😀 naïve — déjà vu. ';
const TEXT = PHRASE.repeat(40);
const FILE = dir.file('accents.txt', TEXT);
// The distinct code points of PHRASE, listed by hand: C a f é ␠ 😀 n ï v e — d j à u .
const SYMBOLS = ['C', 'a', 'f', 'é', ' ', '😀', 'n', 'ï', 'v', 'e', '—', 'd', 'j', 'à', 'u', '.'];
const CODE_POINTS_PER_PHRASE = 24; // the emoji is one code point but two UTF-16 units

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const allowed = new Set(SYMBOLS);

/** The code points of text that are not symbols of the corpus (a split emoji would show up here). */
function foreign(text: string): string[] {
  return [...text].filter((ch) => !allowed.has(ch));
}

test('an emoji outside the BMP is one symbol, and training on the text runs', async (t) => {
  t.is(PHRASE.length, CODE_POINTS_PER_PHRASE + 1, 'sanity: the emoji takes two UTF-16 units');
  const corpus = await loadCorpusFile(FILE);
  t.is(corpus.vocab.length, SYMBOLS.length);
  t.deepEqual([...corpus.vocab].sort((a, b) => a - b), SYMBOLS.map((s) => s.codePointAt(0)!).sort((a, b) => a - b));
  t.is(corpus.ids.length, 40 * CODE_POINTS_PER_PHRASE);

  const samples: string[] = [];
  const capturing: Reporter = { ...silentReporter, log: (text) => samples.push(text) };
  const H = 8;
  const K = SYMBOLS.length;
  const { state } = (
    await train(
      makeTrainConfig({
        corpus: FILE, cell: 'rnn', hidden: H, seqLength: 8, streams: 4, threads: 2, steps: 20, sampleEvery: 5, sampleLength: 60, evalEvery: 0, valFrac: 0.1,
        checkpointEvery: 0, out: join(dir.path, 'checkpoints'),
      }),
      corpus,
      capturing,
    )
  ).last;
  t.is(state.step, 20);
  t.is(state.params.length, H * H + 2 * H * K + H + K);
  t.true(Number.isFinite(state.smoothLoss) && state.valLoss !== undefined && Number.isFinite(state.valLoss));

  // Samples at steps 5, 10, 15 (none at step 0, before any training): each 60 code points of the corpus's symbols, no half an emoji.
  const bodies = samples.flatMap((text) => {
    const match = /^----- sample at step \d+ -----\n([\s\S]*)\n-----$/.exec(text);
    return match === null ? [] : [match[1]];
  });
  t.is(bodies.length, 3, samples.join('\n'));
  for (const body of bodies) {
    t.false(LONE_SURROGATE.test(body), JSON.stringify(body));
    t.is([...body].length, 60);
    t.deepEqual(foreign(body), []);
  }
});

test('the CLI prints samples with no lone surrogate and only symbols of the corpus', async (t) => {
  const result = await runCli(
    ['train', '--corpus', FILE, '--hidden', '8', '--seq-length', '8', '--streams', '4', '--threads', '2', '--steps', '12', '--sample-every', '4', '--sample-length', '80', '--eval-every', '0'],
    { cwd: dir.path },
  );
  t.false(result.timedOut);
  t.is(result.code, 0, result.stderr);
  // A lone surrogate written to a pipe is encoded as U+FFFD, so look for that as well.
  t.false(LONE_SURROGATE.test(result.stdout));
  t.false(result.stdout.includes('\uFFFD'), 'a surrogate was split somewhere');

  const during = [...result.stdout.matchAll(/----- sample at step \d+ -----\n([^\n]*)\n-----/g)].map((m) => m[1]);
  t.is(during.length, 2, result.stdout); // steps 4 and 8: none at step 0, before any training
  const final = /----- sample from [^\n]* -----\n([^\n]*)\n?$/.exec(result.stdout);
  t.not(final, null, result.stdout);
  for (const body of [...during, final![1]]) {
    t.is([...body].length, 80, JSON.stringify(body));
    t.deepEqual(foreign(body), [], JSON.stringify(body));
  }
});

// String.fromCodePoint(...ids) with one argument per character overflowed the stack above
// ~120k characters although --sample-length allows 1,000,000.
test('a sample of the largest --sample-length is logged, not a stack overflow', async (t) => {
  const corpus = await loadCorpusFile(FILE);
  const samples: string[] = [];
  const capturing: Reporter = { ...silentReporter, log: (text) => samples.push(text) };
  const config = makeTrainConfig({
    corpus: FILE, cell: 'rnn', hidden: 4, seqLength: 8, streams: 2, threads: 1, steps: 2, sampleEvery: 1, sampleLength: 1_000_000, evalEvery: 0, valFrac: 0,
    checkpointEvery: 0, out: join(dir.path, 'checkpoints-long'),
  });
  await train(config, corpus, capturing);
  const body = /^----- sample at step 1 -----\n([\s\S]*)\n-----$/.exec(samples[0] ?? '')?.[1] ?? '';
  t.is([...body].length, 1_000_000);
  t.deepEqual(foreign(body), []);
});
