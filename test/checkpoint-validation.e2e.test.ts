/**
 * Damaged or hostile checkpoints: every field is checked on load, the whole file is covered by a
 * checksum, and a format-1 file from before both still loads. Crafted files are encoded here with
 * protobufjs from proto/checkpoint.proto and signed by this file's own signer, so that the value
 * checks, not the checksum, are what refuses them.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import protobuf from 'protobufjs';
import { decodeCheckpoint, encodeCheckpoint, loadCheckpoint } from '../src/checkpoint/index.js';
import type { WireCheckpoint, WireOptions, WireProgress } from '../src/checkpoint/schema.js';
import { UserError } from '../src/errors.js';
import { encodeKnown } from '../src/symbols.js';
import { FORMAT_V1_BYTES } from './fixtures/format-v1.js';
import { runCli, tempDir, type CliResult } from './fixtures/harness.js';

const dir = tempDir('checkpoint-validation-test-');
test.after.always(() => dir.remove());

// The format-1 fixture as a file, for the CLI; the schema is read from the source tree (tests run from dist/test/).
const V1_PATH = dir.file('format-v1.ckpt', FORMAT_V1_BYTES);
const V1_BYTES = readFileSync(V1_PATH);
const type = protobuf.loadSync(fileURLToPath(new URL('../../proto/checkpoint.proto', import.meta.url))).lookupType('charrnn.Checkpoint');

/**
 * What test/fixtures/format-v1.ts holds: 'char-rnn train --corpus corpus.txt --steps 3 --hidden 8
 * --seq-length 8 --streams 2 --threads 1 --val-frac 0.2 --eval-every 0 --sample-every 0
 * --sample-length 50 --seed 7' on this corpus, with parallel-char-rnn 0.1.0 (format 1).
 */
const V1_CORPUS = 'the cat sat on the mat, ô café 😀\n'.repeat(8);
/** 'char-rnn sample --checkpoint format-v1.ckpt --length 40 --seed 1' as the format-1 code printed it. */
const V1_SAMPLE = 'môheehnaote😀f😀hnac e😀😀 an\n\n😀ô\nme\n\na,, tt';

const TRAILER = 34; // 0x5a 0x20 and a 32-byte SHA-256

/** The message with the whole-file SHA-256 field appended: 0x5a (field 11, length-delimited), 0x20, SHA-256 of the message. */
function sign(message: Uint8Array): Buffer {
  return Buffer.concat([message, Buffer.from([0x5a, 0x20]), createHash('sha256').update(message).digest()]);
}

/** Whether the file ends with a SHA-256 field that matches everything before it. */
function signedCorrectly(file: Uint8Array): boolean {
  const at = file.length - TRAILER;
  return at > 0 && file[at] === 0x5a && file[at + 1] === 0x20 && createHash('sha256').update(file.subarray(0, at)).digest().equals(file.subarray(at + 2));
}

function wireOf(bytes: Uint8Array): WireCheckpoint {
  return type.toObject(type.decode(bytes), { longs: Number }) as WireCheckpoint;
}

/** The fixture's message as format 2, edited, encoded with protobufjs and signed: its checksum is valid. */
function crafted(edit: (wire: WireCheckpoint) => void = () => {}): Buffer {
  const wire = wireOf(V1_BYTES);
  wire.formatVersion = 2;
  delete wire.sha256;
  edit(wire);
  return sign(type.encode(wire).finish());
}

function withOptions(options: WireOptions): Buffer {
  return crafted((wire) => Object.assign(wire.options!, options));
}

function withProgress(progress: WireProgress): Buffer {
  return crafted((wire) => Object.assign(wire.progress!, progress));
}

function withVocab(edit: (vocab: number[]) => void): Buffer {
  return crafted((wire) => edit(wire.model!.vocab!));
}

/** The one-line UserError decodeCheckpoint throws for bytes, checked to match pattern. */
function refused(t: ExecutionContext, bytes: Uint8Array, pattern: RegExp, what = String(pattern)): void {
  const error = t.throws(() => decodeCheckpoint(bytes, 'runs/crafted.ckpt'), { instanceOf: UserError }, what);
  if (error === undefined) return;
  t.false(error.message.includes('\n'), error.message);
  t.true(error.message.startsWith('runs/crafted.ckpt '), error.message);
  t.regex(error.message, pattern, what);
}

function oneLineError(t: ExecutionContext, result: CliResult, what: string): void {
  t.false(result.timedOut, `${what} timed out`);
  t.is(result.code, 2, `${what}: stdout ${result.stdout.slice(0, 200)}\nstderr ${result.stderr}`);
  t.true(result.stderr.startsWith('char-rnn: '), `${what}: ${result.stderr}`);
  t.is(result.stderr.indexOf('\n'), result.stderr.length - 1, `${what}: not exactly one line: ${JSON.stringify(result.stderr)}`);
  t.false(result.stderr.includes('    at '), `${what}: a stack trace`);
  t.is(result.stdout, '', `${what}: printed ${result.stdout.slice(0, 200)}`);
}

/** [field, start, end) of each top-level field of a protobuf message, tag and length included. */
function topLevelFields(bytes: Uint8Array): { field: number; start: number; end: number }[] {
  const fields: { field: number; start: number; end: number }[] = [];
  let at = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  while (at < bytes.length) {
    const start = at;
    const key = varint();
    const wireType = key & 7;
    if (wireType === 0) varint();
    else if (wireType === 1) at += 8;
    else if (wireType === 2) {
      const length = varint(); // read before at is, since it moves at past itself
      at += length;
    }
    else if (wireType === 5) at += 4;
    else throw new Error(`wire type ${wireType} at ${start}`);
    fields.push({ field: Math.floor(key / 8), start, end: at });
  }
  return fields;
}

// ----- format 1 still loads -----

test('a format-1 checkpoint from before the whole-file checksum still loads, with its values', async (t) => {
  t.is(wireOf(V1_BYTES).formatVersion, 1);
  t.false(signedCorrectly(V1_BYTES), 'the fixture has no whole-file checksum');
  const data = await loadCheckpoint(V1_PATH);
  t.is(String.fromCodePoint(...data.model.vocab), [...new Set(V1_CORPUS)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!).join(''));
  t.like(data.model, { cell: 'rnn', H: 8, K: 16 });
  t.like(data.options, { seqLength: 8, streams: 2, steps: 3, seed: 7, valFrac: 0.2, sampleLength: 50, threads: 1 });
  t.like(data.state, { step: 3, epoch: 1, position: 24, streamLength: 106, charsSeen: 48, bestStep: 3, bestMetric: 'val' });
  t.is(data.corpus.length, [...V1_CORPUS].length);
  t.is(data.state.params.length, 8 * 8 + 2 * 8 * 16 + 8 + 16);
});

test('a format-1 checkpoint samples the same text as the format-1 code did, and inspects', async (t) => {
  const sampled = await runCli(['sample', '--checkpoint', V1_PATH, '--length', '40', '--seed', '1'], { cwd: dir.path });
  t.is(sampled.code, 0, sampled.stderr);
  t.is(sampled.stdout, V1_SAMPLE);
  const inspected = await runCli(['inspect', V1_PATH, '--json'], { cwd: dir.path });
  t.is(inspected.code, 0, inspected.stderr);
  t.like(JSON.parse(inspected.stdout), { model: { H: 8, K: 16 }, state: { step: 3 } });
});

test('a format-1 checkpoint resumes, and the run saves format 2 with the whole-file checksum', async (t) => {
  const corpus = dir.file('v1-corpus.txt', V1_CORPUS);
  const out = join(dir.path, 'resumed-v1');
  const result = await runCli(
    ['train', '--resume', V1_PATH, '--corpus', corpus, '--steps', '5', '--threads', '1', '--no-report', '--out', out],
    { cwd: dir.path },
  );
  t.is(result.code, 0, result.stderr);
  const saved = readFileSync(join(out, 'last.ckpt'));
  t.is(wireOf(saved).formatVersion, 2);
  t.true(signedCorrectly(saved));
  t.like((await loadCheckpoint(join(out, 'last.ckpt'))).state, { step: 5, charsSeen: 5 * 2 * 8 });
  t.true(readFileSync(V1_PATH).equals(V1_BYTES), 'the fixture was not touched');
});

test('a format-1 checkpoint\'s tensors are still checked by their own checksum', (t) => {
  const params = wireOf(V1_BYTES).tensors?.params as Uint8Array;
  const at = V1_BYTES.indexOf(params);
  t.true(at > 0);
  const flipped = Buffer.from(V1_BYTES);
  flipped[at + 8 * 5 + 2] ^= 0x04;
  refused(t, flipped, /is damaged: its tensors do not match their checksum/);
});

// ----- the whole-file checksum -----

test('a saved checkpoint is format 2 and ends with the SHA-256 of everything before it', async (t) => {
  const bytes = encodeCheckpoint(await loadCheckpoint(V1_PATH));
  t.true(signedCorrectly(bytes));
  const wire = wireOf(bytes); // a plain protobuf message, field 11 included
  t.is(wire.formatVersion, 2);
  t.true(Buffer.from(wire.sha256 ?? []).equals(bytes.subarray(bytes.length - 32)));
  t.true(sign(bytes.subarray(0, bytes.length - TRAILER)).equals(bytes), 'this file\'s signer agrees with the writer');
});

test('the crafted files of this test load when nothing is wrong with them', async (t) => {
  const path = join(dir.path, 'crafted-good.ckpt');
  await writeFile(path, crafted());
  const data = await loadCheckpoint(path);
  t.is(data.state.step, 3);
  const result = await runCli(['sample', '--checkpoint', path, '--length', '10', '--seed', '1'], { cwd: dir.path });
  t.is(result.code, 0, result.stderr);
  t.is([...result.stdout].length, 10);
});

test('a format-2 file without its checksum, with it moved before the end, or with a wrong one is refused', (t) => {
  const good = crafted();
  const body = good.subarray(0, good.length - TRAILER);
  const trailer = good.subarray(good.length - TRAILER);
  refused(t, body, /is damaged: it lacks the checksum that format 2 files end with/);
  // Right after format_version (field 2), and then after the tensors.
  const afterVersion = 2 + 'char-rnn checkpoint'.length + 2;
  refused(t, Buffer.concat([body.subarray(0, afterVersion), trailer, body.subarray(afterVersion)]), /is damaged: its checksum is not its last 34 bytes/);
  const history = topLevelFields(body).find(({ field }) => field === 10);
  t.truthy(history);
  refused(t, Buffer.concat([body.subarray(0, history!.start), trailer, body.subarray(history!.start)]), /is damaged: its checksum is not its last 34 bytes/);
  // Signed over the message but placed first, and then followed by a stale second copy.
  refused(t, Buffer.concat([trailer, body]), /is damaged: its checksum is not its last 34 bytes/);
  const wrong = Buffer.from(good);
  wrong[wrong.length - 1] ^= 1;
  refused(t, wrong, /is damaged: its bytes do not match the checksum they end with/);
  // A format-1 file that carries the field is held to it too.
  const v1Signed = sign(V1_BYTES);
  t.is(decodeCheckpoint(v1Signed, 'x.ckpt').state.step, 3);
  v1Signed[100] ^= 0x20;
  refused(t, v1Signed, /is damaged: its bytes do not match the checksum they end with/);
});

test('every flipped bit of the options and progress of a real checkpoint is refused by loadCheckpoint', async (t) => {
  const bytes = Buffer.from(encodeCheckpoint(await loadCheckpoint(V1_PATH)));
  const spans = topLevelFields(bytes).filter(({ field }) => field === 6 || field === 8);
  t.is(spans.length, 2);
  const path = join(dir.path, 'flipped.ckpt');
  let flips = 0;
  for (const { start, end } of spans) {
    for (let bit = start * 8; bit < end * 8; bit++) {
      const flipped = Buffer.from(bytes);
      flipped[bit >> 3] ^= 1 << (bit & 7);
      await writeFile(path, flipped);
      const error = await t.throwsAsync(loadCheckpoint(path), { instanceOf: UserError }, `bit ${bit}`);
      if (error === undefined) return;
      if (!/ is damaged: | is not a char-rnn checkpoint /.test(error.message)) {
        t.fail(`bit ${bit}: ${error.message}`);
        return;
      }
      flips++;
    }
  }
  t.true(flips > 500, `${flips} bits`);
});

test('every flipped bit outside the tensors, and a dense sample inside them, is refused as damage', async (t) => {
  const bytes = Buffer.from(encodeCheckpoint(await loadCheckpoint(V1_PATH)));
  const tensors = topLevelFields(bytes).find(({ field }) => field === 9);
  t.truthy(tensors);
  let flips = 0;
  for (let bit = 0; bit < bytes.length * 8; bit++) {
    const inTensors = bit >= tensors!.start * 8 + 32 && bit < tensors!.end * 8;
    if (inTensors && bit % 13 !== 0) continue;
    const flipped = Buffer.from(bytes);
    flipped[bit >> 3] ^= 1 << (bit & 7);
    let message: string | undefined;
    try {
      decodeCheckpoint(flipped, 'x.ckpt');
    } catch (error) {
      message = error instanceof UserError ? error.message : `not a UserError: ${String(error)}`;
    }
    // Never taken for a newer format either: the checksum is checked before the version is read.
    if (message === undefined || !/^x\.ckpt (is damaged: |is not a char-rnn checkpoint )/.test(message)) {
      t.fail(`bit ${bit} (byte ${bit >> 3} of ${bytes.length}): ${message ?? 'loaded'}`);
      return;
    }
    flips++;
  }
  t.true(flips > 4000, `${flips} bits`);
});

// ----- the vocabulary, through the real CLI -----

/**
 * 'sample' and 'inspect --json' both refuse the file in one line naming it and matching pattern,
 * quickly (a lookup table sized by a code point read from the file once took 11.8 GB in 10 s).
 * Serial, so that the time measured is this command's, not its neighbours'.
 */
function refusedByCli(title: string, file: () => Buffer, pattern: RegExp): void {
  test.serial(title, async (t) => {
    const path = join(dir.path, `${title.replace(/[^a-z0-9]+/gi, '-')}.ckpt`);
    await writeFile(path, file());
    for (const args of [['sample', '--checkpoint', path, '--length', '10', '--seed', '1'], ['inspect', path, '--json']]) {
      const what = args.join(' ');
      const result = await runCli(args, { cwd: dir.path });
      oneLineError(t, result, what);
      t.true(result.stderr.includes(path), `${what}: the path is not named: ${result.stderr}`);
      t.regex(result.stderr, pattern, what);
      t.true(result.ms < 10_000, `${what} took ${result.ms} ms`);
    }
  });
}

// The fixture's vocabulary: \n, space, ',', a c e f h m n o s t, é (U+00E9), ô (U+00F4), 😀 (U+1F600).
refusedByCli('a vocabulary holding code point 0xFFFFFFFF is refused at once', () => withVocab((v) => void (v[15] = 0xffffffff)), /is damaged: its vocabulary holds U\+FFFFFFFF \(symbol 15\), beyond the last Unicode code point/);
refusedByCli('a vocabulary holding code point 0x110000 is refused', () => withVocab((v) => void (v[15] = 0x110000)), /its vocabulary holds U\+110000 \(symbol 15\), beyond/);
refusedByCli('a vocabulary holding a surrogate is refused', () => withVocab((v) => void (v[14] = 0xd800)), /its vocabulary holds U\+D800 \(symbol 14\), a surrogate/);
refusedByCli('a vocabulary listing a code point twice is refused', () => withVocab((v) => void (v[4] = v[3])), /its vocabulary lists U\+0061 twice \(symbols 3 and 4\)/);
refusedByCli('a vocabulary of other than K code points is refused', () => withVocab((v) => void v.pop()), /its vocabulary lists 15 symbols but K is 16/);
refusedByCli('an option out of range is refused by the CLI too', () => withOptions({ eta: Number.NaN }), /is damaged: its eta option is NaN, not a finite number above 0/);
refusedByCli('inconsistent progress is refused by the CLI too', () => withProgress({ position: 107 }), /is damaged: its position 107 is beyond its stream length 106/);

test('encodeKnown and its lookup table stay small whatever the vocabulary holds', (t) => {
  // Before: an Int32Array of 2^32 entries for this vocabulary.
  const started = performance.now();
  const { ids, unknown } = encodeKnown('ab😀c', Uint32Array.of(0x61, 0x62, 0x1f600, 0x110000, 0xffffffff));
  t.deepEqual(Array.from(ids), [0, 1, 2]);
  t.deepEqual(unknown, [0x63]);
  t.true(performance.now() - started < 1000);
});

// ----- options and progress, each out of range -----

const OPTION_CASES: [string, WireOptions, RegExp][] = [
  ['eta 0', { eta: 0 }, /its eta option is 0,/],
  ['eta NaN', { eta: Number.NaN }, /its eta option is NaN,/],
  ['eta Infinity', { eta: Infinity }, /its eta option is Infinity,/],
  ['eta negative', { eta: -0.05 }, /its eta option is -0\.05,/],
  ['eps 0', { eps: 0 }, /its eps option is 0,/],
  ['eps NaN', { eps: Number.NaN }, /its eps option is NaN,/],
  ['eps negative', { eps: -1e-8 }, /its eps option is -1e-8,/],
  ['clip 0', { clip: 0 }, /its clip option is 0,/],
  ['clip Infinity', { clip: Infinity }, /its clip option is Infinity,/],
  ['clip negative', { clip: -5 }, /its clip option is -5,/],
  ['seq-length 0', { seqLength: 0 }, /its seq-length option is 0, not in 1\.\.100000/],
  ['seq-length above the CLI\'s maximum', { seqLength: 100_001 }, /its seq-length option is 100001, not in 1\.\.100000/],
  ['streams 0', { streams: 0 }, /its streams is 0/],
  ['val-frac 1', { valFrac: 1 }, /its val-frac option is 1, not in \[0, 0\.5\]/],
  ['val-frac 0.5, above the CLI\'s maximum', { valFrac: 0.6 }, /its val-frac option is 0\.6, not in \[0, 0\.5\]/],
  ['val-frac -0.1', { valFrac: -0.1 }, /its val-frac option is -0\.1,/],
  ['val-frac NaN', { valFrac: Number.NaN }, /its val-frac option is NaN,/],
  ['sample-length 0', { sampleLength: 0 }, /its sample-length option is 0, not in 1\.\.1000000/],
  ['sample-length huge', { sampleLength: 0xffffffff }, /its sample-length option is 4294967295, not in 1\.\.1000000/],
  ['epochs 0 without steps or a time budget', { epochs: 0, steps: undefined }, /its epochs option is 0 \(none\), and neither steps nor a time budget bound the run/],
  ['steps 0', { steps: 0 }, /its steps option is 0, not 1 or more/],
  ['threads 0', { threads: 0 }, /its threads option is 0, not in 1\.\.1024/],
  ['dropout on the rnn', { dropout: 0.2 }, /its rnn model has dropout 0\.2, which that cell does not take/],
  ['dropout 1', { dropout: 1 }, /its dropout option is 1, not in \[0, 0\.95\]/],
  ['decay 1', { decay: 1 }, /its decay option is 1, not in \[0, 0\.9999\]/],
  ['beta1 negative', { beta1: -0.1 }, /its beta1 option is -0\.1,/],
  ['beta2 NaN', { beta2: Number.NaN }, /its beta2 option is NaN,/],
  ['clip-norm negative', { clipNorm: -1 }, /its clip-norm option is -1, not a finite number >= 0/],
  ['lr-decay 0', { lrDecay: 0 }, /its lr-decay option is 0, not in \(0, 1\]/],
  ['lr-min Infinity', { lrMin: Infinity }, /its lr-min option is Infinity,/],
];

for (const [name, options, pattern] of OPTION_CASES) {
  test(`a checkpoint whose option ${name} is refused, naming it`, (t) => {
    refused(t, withOptions(options), new RegExp(`is damaged: ${pattern.source}`));
  });
}

test('a checkpoint from an optimizer or schedule this version does not know asks for an upgrade', (t) => {
  refused(t, withOptions({ optimizer: 'lion' }), /was trained with the 'lion' optimizer, which this char-rnn does not know: upgrade parallel-char-rnn/);
  refused(t, withOptions({ lrSchedule: 'onecycle' }), /follows the 'onecycle' learning-rate schedule, which this char-rnn does not know: upgrade parallel-char-rnn/);
});

// The fixture stands at step 3, epoch 1, position 24 of 106 in each of 2 streams of 8 characters (48
// seen), corpus 264 symbols; best step 3; one point at step 3 in each history.
const PROGRESS_CASES: [string, WireProgress | ((wire: WireCheckpoint) => void), RegExp][] = [
  ['epoch 0', { epoch: 0 }, /its epoch is 0, not 1 or more/],
  ['position beyond the stream length', { position: 107 }, /its position 107 is beyond its stream length 106/],
  ['stream length too short for a sequence', { streamLength: 8, position: 0 }, /its stream length 8 is less than seq-length \+ 1 \(9\)/],
  ['streams longer than the corpus', { streamLength: 133 }, /its stream length 133 times 2 streams is more than its corpus length 264/],
  ['characters seen inconsistent with the step', { charsSeen: 49 }, /its characters seen \(49\) are not 3 steps of 2 streams of 8 characters/],
  ['step inconsistent with characters seen', { step: 4 }, /its characters seen \(48\) are not 4 steps/],
  ['best step beyond the step', { bestStep: 4 }, /its best step 4 is beyond its step 3/],
  ['smooth loss NaN after step 0', { smoothLoss: Number.NaN }, /its smooth loss is NaN at step 3/],
  ['smooth loss negative', { smoothLoss: -1 }, /its smooth loss is -1, not a finite number >= 0/],
  ['smooth loss Infinity', { smoothLoss: Infinity }, /its smooth loss is Infinity,/],
  ['best loss NaN', { bestLoss: Number.NaN }, /its best loss is NaN, not Infinity or a finite number >= 0/],
  ['best loss -Infinity', { bestLoss: -Infinity }, /its best loss is -Infinity,/],
  ['validation loss Infinity', { valLoss: Infinity }, /its validation loss is Infinity, not a finite number >= 0/],
  ['validation loss negative', { valLoss: -0.5 }, /its validation loss is -0\.5,/],
  ['history step beyond the step', (wire) => void (wire.history!.smooth = [{ step: 4, loss: 22 }]), /its smooth loss history has step 4, beyond its step 3/],
  ['history steps out of order', (wire) => void (wire.history!.val = [{ step: 2, loss: 2.7 }, { step: 2, loss: 2.6 }]), /its validation loss history is not in step order: step 2 follows step 2/],
  ['history loss NaN', (wire) => void (wire.history!.val = [{ step: 3, loss: Number.NaN }]), /its validation loss history has loss NaN at step 3/],
];

for (const [name, edit, pattern] of PROGRESS_CASES) {
  test(`a checkpoint whose ${name} is refused, naming it`, (t) => {
    const bytes = typeof edit === 'function' ? crafted(edit) : withProgress(edit);
    refused(t, bytes, new RegExp(`is damaged: ${pattern.source}`));
  });
}

test('what a run writes before its first step loads: no smooth loss, no best, no validation loss', (t) => {
  const fresh = crafted((wire) => {
    Object.assign(wire.progress!, { step: 0, position: 0, charsSeen: 0, smoothLoss: Number.NaN, bestLoss: Infinity, bestStep: 0 });
    delete wire.progress!.valLoss;
    wire.history = { smooth: [], val: [] };
  });
  const { state } = decodeCheckpoint(fresh, 'x.ckpt');
  t.true(Number.isNaN(state.smoothLoss));
  t.is(state.bestLoss, Infinity);
  t.is(state.valLoss, undefined);
});

test('the encoder refuses what the decoder would, so no run writes a file it cannot load', async (t) => {
  const data = await loadCheckpoint(V1_PATH);
  t.throws(() => encodeCheckpoint({ ...data, options: { ...data.options, eta: 0 } }), { instanceOf: RangeError, message: /cannot encode the checkpoint: its eta option is 0/ });
  const vocab = data.model.vocab.slice();
  vocab[1] = vocab[0];
  t.throws(() => encodeCheckpoint({ ...data, model: { ...data.model, vocab } }), { instanceOf: RangeError, message: /its vocabulary lists U\+[0-9A-F]+ twice \(symbols 0 and 1\)/ });
  t.throws(() => encodeCheckpoint({ ...data, state: { ...data.state, charsSeen: 47 } }), { instanceOf: RangeError, message: /its characters seen \(47\)/ });
});

// ----- numbers and places no run writes, through sample, eval and train --resume -----

interface Tensors {
  params: number[];
  optimizerState: number[];
  hidden: number[];
}

function float64s(bytes: Uint8Array | undefined): number[] {
  const view = new DataView(bytes!.buffer, bytes!.byteOffset, bytes!.byteLength);
  return Array.from({ length: bytes!.byteLength / 8 }, (_, i) => view.getFloat64(i * 8, true));
}

function littleEndian(values: readonly number[]): Buffer {
  const bytes = Buffer.alloc(values.length * 8);
  values.forEach((value, i) => bytes.writeDoubleLE(value, i * 8));
  return bytes;
}

/** The fixture with its tensors (and options) edited, their own checksum recomputed and the file signed: only the values are wrong. */
function withTensors(edit: (tensors: Tensors, wire: WireCheckpoint) => void): Buffer {
  return crafted((wire) => {
    const tensors = { params: float64s(wire.tensors!.params), optimizerState: float64s(wire.tensors!.optimizerState), hidden: float64s(wire.tensors!.hidden) };
    edit(tensors, wire);
    const [params, optimizerState, hidden] = [tensors.params, tensors.optimizerState, tensors.hidden].map(littleEndian);
    wire.tensors = { params, optimizerState, hidden, sha256: createHash('sha256').update(params).update(optimizerState).update(hidden).digest() };
  });
}

/** The fixture as an Adam run: m then v, each P long, v as given. */
function asAdam(v: (i: number) => number): Buffer {
  return withTensors((tensors, wire) => {
    wire.options!.optimizer = 'adam';
    tensors.optimizerState = [...tensors.params.map((p) => p / 10), ...tensors.params.map((_, i) => v(i))];
  });
}

const V1_CORPUS_FILE = dir.file('v1-text.txt', V1_CORPUS);

/** sample, eval and train --resume each refuse the file in one line matching pattern, exit 2, and write nothing. */
function refusedEverywhere(title: string, file: () => Buffer, pattern: RegExp): void {
  test(title, async (t) => {
    const name = title.replace(/[^a-z0-9]+/gi, '-');
    const path = join(dir.path, `${name}.ckpt`);
    await writeFile(path, file());
    const out = join(dir.path, `${name}-resumed`);
    for (const args of [
      ['sample', '--checkpoint', path, '--length', '10', '--seed', '1'],
      ['eval', '--checkpoint', path, '--text-file', V1_CORPUS_FILE],
      ['train', '--resume', path, '--corpus', V1_CORPUS_FILE, '--steps', '10', '--threads', '1', '--no-report', '--out', out],
    ]) {
      const what = args.slice(0, 2).join(' ');
      const result = await runCli(args, { cwd: dir.path });
      oneLineError(t, result, what);
      t.true(result.stderr.includes(path), `${what}: the path is not named: ${result.stderr}`);
      t.regex(result.stderr, pattern, what);
    }
    t.false(existsSync(out), 'the resume wrote a run');
  });
}

test('the crafted tensors of these tests load when nothing is wrong with them, as AdaGrad and as Adam', (t) => {
  t.is(decodeCheckpoint(withTensors(() => {}), 'x.ckpt').state.step, 3);
  t.is(decodeCheckpoint(asAdam(() => 0.25), 'x.ckpt').options.optimizer, 'adam');
});

refusedEverywhere('NaN in the parameters is refused', () => withTensors((x) => void (x.params[5] = Number.NaN)), /is damaged: its parameters hold NaN \(entry 5\)/);
refusedEverywhere('Infinity in the parameters is refused', () => withTensors((x) => void (x.params[0] = -Infinity)), /is damaged: its parameters hold -Infinity \(entry 0\)/);
refusedEverywhere('NaN in the optimizer state is refused', () => withTensors((x) => void (x.optimizerState[7] = Number.NaN)), /is damaged: its optimizer state hold NaN \(entry 7\)/);
refusedEverywhere('Infinity in a saved stream state is refused', () => withTensors((x) => void (x.hidden[3] = Infinity)), /is damaged: its saved states hold Infinity \(entry 3\)/);
refusedEverywhere('a negative AdaGrad sum of squares is refused', () => withTensors((x) => void (x.optimizerState[2] = -1e-3)), /is damaged: its adagrad state holds -0\.001 \(entry 2\) where it keeps squares, never negative/);
refusedEverywhere('a negative Adam v is refused', () => asAdam((i) => (i === 4 ? -0.5 : 0.25)), /is damaged: its adam state holds -0\.5 \(entry \d+\) where it keeps squares/);
refusedEverywhere('a sample temperature above the CLI\'s maximum is refused', () => withOptions({ sampleTemperature: 1000 }), /is damaged: its sample-temperature option is 1000, not in \(0, 100\]/);
refusedEverywhere('a NaN sample temperature is refused, not read as 1', () => withOptions({ sampleTemperature: Number.NaN }), /is damaged: its sample-temperature option is NaN/);
refusedEverywhere('a cosine schedule ending above its eta is refused', () => withOptions({ lrSchedule: 'cosine', lrMin: 1, lrHorizon: 3 }), /is damaged: its cosine schedule falls to lr-min 1, above its eta 0\.05/);
refusedEverywhere('a cosine schedule with a horizon of 0 is refused', () => withOptions({ lrSchedule: 'cosine', lrMin: 0, lrHorizon: 0 }), /is damaged: its cosine schedule has a horizon of 0 steps/);
refusedEverywhere('a validation fraction of 0.5 or more, beyond the CLI\'s bound, is refused', () => withOptions({ valFrac: 0.9 }), /is damaged: its val-frac option is 0\.9, not in \[0, 0\.5\]/);
refusedEverywhere('an epoch impossible at the step is refused', () => withProgress({ epoch: 2 }), /is damaged: it stands at position 24 of epoch 2 after 3 steps, where streams of 106 characters read 8 at a time stand at position 24 of epoch 1/);
refusedEverywhere('a position that is not a multiple of T is refused', () => withProgress({ position: 25 }), /is damaged: it stands at position 25 of epoch 1 after 3 steps/);
refusedEverywhere('a position other than the step\'s is refused', () => withProgress({ position: 80 }), /is damaged: it stands at position 80 of epoch 1 after 3 steps/);
refusedEverywhere('a stream length of 6000 is refused', () => withProgress({ streamLength: 6000 }), /is damaged: its stream length 6000 times 2 streams is more than its corpus length 264/);

test('a resume whose streams do not match the split its text and options give is refused in one line, writing nothing', async (t) => {
  // val-frac 0.3 passes every check of the file alone; the text it names splits into streams of 92, not 106.
  const path = join(dir.path, 'other-split.ckpt');
  await writeFile(path, withOptions({ valFrac: 0.3 }));
  t.is(decodeCheckpoint(readFileSync(path), path).state.streamLength, 106);
  const out = join(dir.path, 'other-split-resumed');
  const result = await runCli(['train', '--resume', path, '--corpus', V1_CORPUS_FILE, '--steps', '10', '--threads', '1', '--no-report', '--out', out], { cwd: dir.path });
  t.is(result.code, 2, result.stderr);
  t.regex(result.stderr, /^char-rnn: \S+ is damaged: it trains streams of 106 characters, where its text and options give 92 [^\n]*\n$/);
  t.false(existsSync(out));
});
