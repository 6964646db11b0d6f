import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { loadCheckpoint, saveCheckpoint, type CheckpointData } from '../src/checkpoint/index.js';
import { scoreText, UserError } from '../src/index.js';
import { modelLayout } from '../src/model/cells/cell.js';
import { cellNamed } from '../src/model/cells/registry.js';
import type { Dtype } from '../src/model/precision.js';
import { Prng } from '../src/model/prng.js';
import { meanLoss, TextScorer } from '../src/score-text.js';
import { encodeKnown } from '../src/symbols.js';
import { textChunks } from '../src/text-file.js';
import { EVAL_SEGMENT_LENGTH, planStreams } from '../src/train/plan.js';
import { CLI_PATH, pseudoEnglish, runCli, runCommand, tempDir } from './fixtures/harness.js';
import { scoresReference, softmaxReference, stepReference, tinyCheckpoint, type TinyWeights } from './fixtures/tiny-model.js';

const dir = tempDir('eval-');
test.after.always(() => dir.remove());

// H = 2, K = 4, every weight non-zero, so that the loss depends on the whole history.
const SYMBOLS = ['\n', ' ', 'a', 'b'];
const WEIGHTS: TinyWeights = {
  W: [[0.5, -0.3], [0.2, 0.8]],
  U: [[0.1, -0.7, 0.4, 0.9], [-0.6, 0.3, 0.2, -0.5]],
  V: [[1.1, -0.4], [-0.9, 0.6], [0.3, 1.2], [-0.2, -1.3]],
  b: [0.05, -0.1],
  c: [0.2, -0.1, 0.4, 0.0],
};
const tiny = tinyCheckpoint(SYMBOLS, WEIGHTS);
const TINY = join(dir.path, 'tiny.ckpt');
test.before(() => saveCheckpoint(TINY, tiny));

/** The loss per prediction by hand: from h = 0, read each character and score the next. */
function referenceNatsPerChar(text: string): number {
  const x = [...text].map((ch) => SYMBOLS.indexOf(ch));
  let h = [0, 0];
  let loss = 0;
  for (let t = 0; t + 1 < x.length; t++) {
    h = stepReference(WEIGHTS, h, x[t]);
    loss -= Math.log(softmaxReference(scoresReference(WEIGHTS, h))[x[t + 1]]);
  }
  return loss / (x.length - 1);
}

interface EvalJson {
  checkpoint: string;
  textFile: string;
  characters: number;
  predictions: number;
  natsPerChar: number;
  bitsPerChar: number;
  skipped: { character: string; codePoint: number; count: number }[];
}

async function evalJson(t: ExecutionContext, args: readonly string[], cwd?: string): Promise<EvalJson> {
  const result = await runCli(['eval', ...args, '--json'], { cwd });
  t.is(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as EvalJson;
}

/** The one line the CLI prints for a UserError, with no stack trace. */
function assertOneLineError(t: ExecutionContext, stderr: string, pattern: RegExp): void {
  t.regex(stderr, /^char-rnn: [^\n]*\n$/);
  t.regex(stderr, pattern);
}

test("on the held-out tail it gives the checkpoint's validation loss, bit for bit", async (t) => {
  const corpus = pseudoEnglish(3000);
  const n = [...corpus].length;
  const plan = planStreams(n, { streams: 2, seqLength: 8, valFrac: 0.1 });
  t.is(plan.evalSegments.length, 1, 'the held-out text is one segment, read from one zero state as eval reads it');
  const [segment] = plan.evalSegments;
  t.true(segment.count <= EVAL_SEGMENT_LENGTH);
  const tail = [...corpus].slice(segment.start).join('');
  const cwd = join(dir.path, 'trained');
  mkdirSync(cwd);
  const corpusFile = join(cwd, 'corpus.txt');
  const tailFile = join(cwd, 'tail.txt');
  dir.file('trained/corpus.txt', corpus);
  dir.file('trained/tail.txt', tail);
  const trained = await runCli(
    ['train', '--corpus', corpusFile, '--hidden', '8', '--seq-length', '8', '--streams', '2', '--threads', '1', '--steps', '40',
      '--val-frac', '0.1', '--eval-every', '0', '--sample-every', '0', '--no-report'],
    { cwd },
  );
  t.is(trained.code, 0, trained.stderr);
  const last = await loadCheckpoint(join(cwd, 'checkpoints/run-1/last.ckpt'));
  const valLoss = last.state.valLoss;
  t.not(valLoss, undefined);

  const scored = await evalJson(t, ['--checkpoint', 'checkpoints/run-1/last.ckpt', '--text-file', tailFile], cwd);
  t.is(scored.characters, n - segment.start);
  t.is(scored.predictions, segment.count);
  t.is(scored.natsPerChar, valLoss as number); // Object.is: the same double
  t.is(scored.bitsPerChar, (valLoss as number) / Math.LN2);
  t.deepEqual(scored.skipped, []);
  t.is(scoreText(last, tail).natsPerChar, valLoss as number);

  // No --checkpoint: the newest run's best.ckpt, saved at the same final step.
  const byDefault = await evalJson(t, ['--text-file', tailFile], cwd);
  t.is(byDefault.checkpoint, join('checkpoints', 'run-1', 'best.ckpt'));
  t.is(byDefault.natsPerChar, valLoss as number);
  const plain = await runCli(['eval', '--checkpoint', 'checkpoints/run-1', '--text-file', tailFile], { cwd });
  t.is(plain.code, 0, plain.stderr);
  t.is(plain.stderr, '');
  const nats = valLoss as number;
  t.is(plain.stdout, `checkpoints/run-1/best.ckpt on ${tailFile}: ${n - segment.start} characters, ${nats.toFixed(4)} nats/char (${(nats / Math.LN2).toFixed(4)} bits/char)\n`);
});

test('a hand-built model on a 4-character text: the loss of 3 predictions worked out by hand', async (t) => {
  const text = 'ab a';
  const expected = referenceNatsPerChar(text);
  const library = scoreText(tiny, text);
  t.is(library.characters, 4);
  t.is(library.predictions, 3);
  t.true(Math.abs(library.natsPerChar - expected) <= 1e-12, `${library.natsPerChar} vs ${expected}`);
  const cli = await evalJson(t, ['--checkpoint', TINY, '--text-file', dir.file('abba.txt', text)]);
  t.is(cli.natsPerChar, library.natsPerChar);
  t.is(cli.characters, 4);
  t.is(cli.predictions, 3);
  t.is(cli.textFile, join(dir.path, 'abba.txt'));
  t.is(cli.checkpoint, TINY);
  // Two characters: one prediction, the second character's -ln p after reading the first.
  t.true(Math.abs(scoreText(tiny, 'b\n').natsPerChar - referenceNatsPerChar('b\n')) <= 1e-12);
});

test('characters outside the vocabulary: one line naming each, exit 2; --skip-unknown removes them with a warning', async (t) => {
  const text = 'ab xaé\nbx 😀a';
  const file = dir.file('unknown.txt', text);
  const refused = await runCli(['eval', '--checkpoint', TINY, '--text-file', file]);
  t.is(refused.code, 2);
  t.is(refused.stdout, '');
  assertOneLineError(t, refused.stderr, /unknown\.txt has 3 characters not in the checkpoint's vocabulary: "x" \(U\+0078\), "é" \(U\+00E9\), "😀" \(U\+1F600\) .*--skip-unknown/);
  t.is(refused.stderr.split('"x"').length, 2, 'a character is named once however often it occurs');

  const cleaned = 'ab a\nb a';
  const skipped = await runCli(['eval', '--checkpoint', TINY, '--text-file', file, '--skip-unknown', '--json']);
  t.is(skipped.code, 0, skipped.stderr);
  t.regex(skipped.stderr, /^char-rnn: warning: [^\n]*"x" \(U\+0078\)[^\n]*"😀" \(U\+1F600\)[^\n]*removed 4 of the text's 12 characters[^\n]*\n$/);
  const result = JSON.parse(skipped.stdout) as EvalJson;
  const alone = await evalJson(t, ['--checkpoint', TINY, '--text-file', dir.file('cleaned.txt', cleaned)]);
  t.is(result.natsPerChar, alone.natsPerChar);
  t.is(result.characters, 8);
  t.is(result.predictions, 7);
  t.deepEqual(result.skipped, [
    { character: 'x', codePoint: 0x78, count: 2 },
    { character: 'é', codePoint: 0xe9, count: 1 },
    { character: '😀', codePoint: 0x1f600, count: 1 },
  ]);
  t.true(Math.abs(result.natsPerChar - referenceNatsPerChar(cleaned)) <= 1e-12);

  // The library: the same refusal as a UserError, the same removal with skipUnknown.
  const error = t.throws(() => scoreText(tiny, text), { instanceOf: UserError });
  t.regex(error?.message ?? '', /3 characters not in the checkpoint's vocabulary: "x" .*skipUnknown/);
  const fromCode = scoreText(tiny, text, { skipUnknown: true });
  t.is(fromCode.natsPerChar, alone.natsPerChar);
  t.deepEqual(fromCode.skipped, result.skipped);
});

test('a missing, empty, folder, non-UTF-8 or one-character text file: one line, exit 2', async (t) => {
  const cases: [string, RegExp][] = [
    [join(dir.path, 'nope.txt'), /cannot read text file .*nope\.txt: no such file or folder \(ENOENT\)/],
    [dir.file('empty.txt', ''), /text file .*empty\.txt is empty/],
    [dir.path, /cannot read text file .*: it is a folder \(EISDIR\)/],
    [dir.file('latin1.txt', Uint8Array.from([0x61, 0x62, 0xe9, 0x61])), /text file .*latin1\.txt is not valid UTF-8 near byte 2/],
    [dir.file('one.txt', 'a'), /text file .*one\.txt has 1 character: at least 2 are needed/],
    [dir.file('one-known.txt', 'xax'), /one-known\.txt has 1 character the model knows: at least 2/],
  ];
  const results = await Promise.all(cases.map(([file]) => runCli(['eval', '--checkpoint', TINY, '--text-file', file, '--skip-unknown'])));
  results.forEach((result, i) => {
    t.is(result.code, 2, cases[i][0]);
    t.is(result.stdout, '');
    const lines = result.stderr.split('\n').filter((line) => !line.startsWith('char-rnn: warning:'));
    assertOneLineError(t, lines.join('\n'), cases[i][1]);
  });
  t.throws(() => scoreText(tiny, 'a'), { instanceOf: UserError, message: /1 character: at least 2/ });
  const noFile = await runCli(['eval', '--checkpoint', TINY]);
  t.is(noFile.code, 2);
  assertOneLineError(t, noFile.stderr, /--text-file FILE/);
});

test("no run and no --checkpoint: one line naming 'npx parallel-char-rnn train'", async (t) => {
  const cwd = join(dir.path, 'no-runs');
  mkdirSync(cwd);
  const result = await runCli(['eval', '--text-file', dir.file('some.txt', 'ab a')], { cwd });
  t.is(result.code, 2);
  t.is(result.stdout, '');
  assertOneLineError(t, result.stderr, /no training run found in checkpoints\/.*npx parallel-char-rnn train/);
});

test('eval --help lists the flags with FILE metavars and says how predictions are counted', async (t) => {
  const result = await runCli(['eval', '--help']);
  t.is(result.code, 0);
  for (const flag of ['--checkpoint FILE', '--text-file FILE', '--json', '--skip-unknown']) t.true(result.stdout.includes(flag), flag);
  t.regex(result.stdout, /N characters give N - 1 predictions/);
  const usage = await runCli(['--help']);
  t.regex(usage.stdout, /\n {2}eval {8}print a model's loss on a text/);
});

/** n characters drawn uniformly from symbols by a seeded generator. */
function randomText(symbols: readonly string[], n: number, seed: number): string {
  const prng = Prng.fromSeed(seed);
  return Array.from({ length: n }, () => symbols[Math.floor(prng.nextDouble() * symbols.length)]).join('');
}

/** tiny's vocabulary and size with a gated cell of two layers and its own initial weights. */
function gatedCheckpoint(base: CheckpointData, cell: 'gru' | 'lstm', dtype: Dtype): CheckpointData {
  const dims = { cell, L: 2, H: 4, K: base.model.K };
  const descriptor = cellNamed(cell);
  const layout = modelLayout(descriptor, dims);
  const params = new Float64Array(layout.size);
  descriptor.init(params, layout, Prng.fromSeed(11));
  return { ...base, model: { ...base.model, ...dims }, options: { ...base.options, dtype }, state: { ...base.state, params } };
}

test('a file read in chunks scores as the whole text, bit for bit, with multi-byte characters cut at chunk ends', async (t) => {
  const symbols = ['a', 'é', '€', '😀']; // 1, 2, 3 and 4 bytes of UTF-8
  const rnn = tinyCheckpoint(symbols, WEIGHTS);
  // more than three of the RNN's 65,536-prediction pieces, and a hundred of the gated cells' 2,048
  const long = randomText(symbols, 200_000, 3);
  const short = [...long].slice(0, 5_000).join('');
  const cases: [string, CheckpointData, string, number][] = [
    ['rnn', rnn, long, 4093],
    ['gru float64', gatedCheckpoint(rnn, 'gru', 'float64'), long, 4093],
    ['lstm float64', gatedCheckpoint(rnn, 'lstm', 'float64'), long, 4093],
    ['gru float32', gatedCheckpoint(rnn, 'gru', 'float32'), long, 4093],
    ...[1, 2, 3].map((bytes): [string, CheckpointData, string, number] => [`gru float32, ${bytes}-byte chunks`, gatedCheckpoint(rnn, 'gru', 'float32'), short, bytes]),
  ];
  const files = new Map([long, short].map((text, i) => [text, dir.file(`multibyte-${i}.txt`, text)]));
  for (const [what, checkpoint, text, chunkBytes] of cases) {
    const { ids, unknown } = encodeKnown(text, checkpoint.model.vocab);
    t.is(unknown.length, 0);
    const scorer = new TextScorer(checkpoint, false);
    let pieces = 0;
    for await (const chunk of textChunks(files.get(text) as string, 'text file', { chunkBytes })) {
      scorer.add(chunk);
      // a score taken on the way leaves the stream as it was
      if (++pieces === 37) t.true(Number.isFinite(scorer.score().natsPerChar));
    }
    const score = scorer.score();
    t.is(score.characters, ids.length, what);
    t.is(score.predictions, ids.length - 1, what);
    t.is(score.natsPerChar, meanLoss(checkpoint, ids), what); // Object.is: the same double
    if (chunkBytes === 4093) t.is(scoreText(checkpoint, text).natsPerChar, score.natsPerChar, what);
  }
  const ckpt = join(dir.path, 'multibyte.ckpt');
  await saveCheckpoint(ckpt, rnn);
  const cli = await evalJson(t, ['--checkpoint', ckpt, '--text-file', files.get(long) as string]);
  t.is(cli.natsPerChar, meanLoss(rnn, encodeKnown(long, rnn.model.vocab).ids));
});

test('invalid UTF-8 is reported at the byte where it breaks, whatever the chunk size', async (t) => {
  const cases: [string, number[], string][] = [
    ['cut.txt', [0x61, 0xc3, 0xa9, 0xe2, 0x82, 0x61], 'near byte 3'], // a 3-byte sequence cut short by "a"
    ['stray.txt', [0x61, 0xf0, 0x9f, 0x98, 0x80, 0x80], 'near byte 5'], // a continuation byte after a whole 4-byte sequence
    ['starts.txt', [0x80, 0x61], 'near byte 0'],
    ['ends.txt', [0x61, 0xc3, 0xa9, 0xe2, 0x82], 'at its end'],
  ];
  for (const [name, bytes, where] of cases) {
    const file = dir.file(name, Uint8Array.from(bytes));
    for (const chunkBytes of [1, 2, 3, 4, 5, 1024]) {
      const read = async (): Promise<void> => {
        for await (const chunk of textChunks(file, 'text file', { chunkBytes })) t.is(typeof chunk, 'string');
      };
      await t.throwsAsync(read, { instanceOf: UserError, message: `text file ${file} is not valid UTF-8 ${where} (save it as UTF-8 text)` }, `${name}, ${chunkBytes}-byte chunks`);
    }
  }
});

test('eval reads its text a chunk at a time: 30 MB take no more memory than 4 characters', async (t) => {
  const unit = randomText(SYMBOLS, 1_000_000, 5);
  const file = join(dir.path, 'long.txt');
  writeFileSync(file, unit.repeat(30));
  // peak RSS of the CLI on a text, by a module preloaded in its process
  const peakMB = async (text: string): Promise<number> => {
    const rssFile = join(dir.path, 'peak-rss');
    const args = ['--import', new URL('fixtures/max-rss.js', import.meta.url).href, CLI_PATH, 'eval', '--checkpoint', TINY, '--text-file', text, '--json'];
    const result = await runCommand(process.execPath, args, { env: { CHAR_RNN_TEST_MAX_RSS: rssFile } });
    t.is(result.code, 0, result.stderr);
    return Number(readFileSync(rssFile, 'utf8')) / 2 ** 20;
  };
  const small = await peakMB(dir.file('four.txt', 'ab a'));
  const large = await peakMB(file);
  // a text held whole, as a string and its ids, takes some 27 bytes per character: 770 MB here
  t.true(large - small < 40, `scoring 30 MB took ${large.toFixed(0)} MB at its peak, 4 characters ${small.toFixed(0)} MB`);
  t.log(`peak RSS: ${small.toFixed(0)} MB for 4 characters, ${large.toFixed(0)} MB for 30 MB`);
});
