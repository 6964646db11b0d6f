import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import {
  CHECKPOINT_FORMAT_VERSION,
  checkpointJson,
  corpusFingerprint,
  decodeCheckpoint,
  describeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  loadCheckpointFile,
  saveCheckpoint,
  type CheckpointData,
} from '../src/checkpoint/index.js';
import { float64FromLittleEndian, littleEndianBytes } from '../src/checkpoint/endian.js';
import { nominalOptions } from '../src/checkpoint/nominal.js';
import { checkpointMessageType, type WireCheckpoint } from '../src/checkpoint/schema.js';
import { UserError } from '../src/errors.js';
import { paramLayout } from '../src/model/cells/rnn-layout.js';
import { Prng } from '../src/model/prng.js';

// Values whose bits a careless codec would change: signed zero, subnormals, the extremes.
const SPECIAL_VALUES = [-0, 0, 5e-324, -5e-324, 2.2250738585072014e-308, 2.225073858507201e-308, 1.7976931348623157e308, -1.7976931348623157e308, 1e-300, -3.5e250, 1 / 3];

/** A small, realistic checkpoint: H=5, K=7 (with an astral and an accented symbol), B=3. */
function sampleData(overrides: { H?: number; B?: number; state?: Partial<CheckpointData['state']>; options?: Partial<CheckpointData['options']> } = {}): CheckpointData {
  const H = overrides.H ?? 5;
  const B = overrides.B ?? 3;
  const step = overrides.state?.step ?? 1234;
  const vocab = Uint32Array.from([0x0a, 0x20, 0x61, 0x62, 0xe9, 0x3c0, 0x1f600]);
  const K = vocab.length;
  const P = paramLayout({ H, K }).size;
  const prng = Prng.fromSeed(7);
  const gaussians = (n: number) => Float64Array.from({ length: n }, () => prng.nextGaussian() * 0.01);
  const params = gaussians(P);
  params.set(SPECIAL_VALUES, 3);
  const optimizerState = Float64Array.from(gaussians(P), (x) => x * x);
  optimizerState.set([5e-324, 0, 1e300], 0);
  const hidden = gaussians(B * H);
  hidden[B * H - 1] = -0;
  return {
    packageVersion: '0.1.0',
    createdAt: '2025-11-26T04:20:00.000Z',
    model: { cell: 'rnn', L: 1, H, K, vocab },
    options: nominalOptions({
      seqLength: 25, streams: B, eta: 0.1, eps: 1e-8, clip: 5, seed: 42, valFrac: 0.05, dropout: 0, dtype: 'float64', optimizer: 'adagrad', clipNorm: 0, decay: 0.95, beta1: 0.9, beta2: 0.999,
      lrSchedule: 'constant', lrDecay: 0.97, lrDecayEvery: 0, lrMin: 0, lrHorizon: 0, warmupSteps: 0, epochs: 3, steps: undefined,
      evalEvery: 1000, sampleEvery: 500, sampleLength: 200, sampleTemperature: 1, checkpointEvery: 250, threads: 4, minutes: undefined, patience: 0,
      ...overrides.options,
    }),
    corpus: { source: 'texts/tiny shakespeare.txt', length: 1_115_394, sha256: createHash('sha256').update('corpus').digest() },
    state: {
      // where streams of 17,000 characters stand after `step` steps of 25: 679 steps an epoch
      step, epoch: 1 + Math.floor(Math.max(0, step - 1) / 679), position: step === 0 ? 0 : (((step - 1) % 679) + 1) * 25,
      streamLength: 17_000, charsSeen: step * B * 25, seconds: 1234.5,
      params, optimizerState, hidden,
      prngState: Uint32Array.from([0xdeadbeef, 1, 0xffffffff, 12345]),
      smoothLoss: 58.123456789, bestLoss: 1.712345, bestStep: 1000, bestMetric: 'val', valLoss: 1.75,
      smoothHistory: [{ step: 0, loss: 48.6 }, { step: 100, loss: 55.25 }, { step: 1234, loss: 58.123456789 }],
      valHistory: [{ step: 1000, loss: 1.712345 }],
      ...overrides.state,
    },
  };
}

/** The message with the whole-file SHA-256 field appended, as proto/checkpoint.proto prescribes; computed here, not by src/. */
function signed(message: Uint8Array): Buffer {
  return Buffer.concat([message, Buffer.from([0x5a, 0x20]), createHash('sha256').update(message).digest()]);
}

/** A file's bytes before its 34-byte SHA-256 field. */
function unsigned(file: Uint8Array): Buffer {
  return Buffer.from(file.subarray(0, file.length - 34));
}

function bits(values: Float64Array | Uint32Array | Uint8Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

/** Every field equal; typed arrays compared bit for bit and by kind. */
function assertSameCheckpoint(t: ExecutionContext, actual: CheckpointData, expected: CheckpointData): void {
  const { state: s, model: m, corpus: c, ...rest } = actual;
  const { state: es, model: em, corpus: ec, ...expectedRest } = expected;
  t.deepEqual(rest, expectedRest);
  t.deepEqual({ ...m, vocab: Array.from(m.vocab) }, { ...em, vocab: Array.from(em.vocab) });
  t.true(m.vocab instanceof Uint32Array);
  t.deepEqual({ ...c, sha256: bits(c.sha256) }, { ...ec, sha256: bits(ec.sha256) });
  for (const name of ['params', 'optimizerState', 'hidden'] as const) {
    t.true(s[name] instanceof Float64Array, name);
    t.true(bits(s[name]).equals(bits(es[name])), `${name} differ`);
  }
  t.true(s.prngState instanceof Uint32Array);
  t.deepEqual(Array.from(s.prngState), Array.from(es.prngState));
  const scalars = (state: CheckpointData['state']) => {
    const { params: _p, optimizerState: _a, hidden: _h, prngState: _r, ...others } = state;
    return others;
  };
  t.deepEqual(scalars(s), scalars(es));
  t.true(Object.is(s.smoothLoss, es.smoothLoss) && Object.is(s.bestLoss, es.bestLoss));
}

function assertOneLineUserError(t: ExecutionContext, error: unknown, path: string, pattern: RegExp): void {
  t.true(error instanceof UserError, `expected a UserError, got ${String(error)}`);
  const { message } = error as UserError;
  t.false(message.includes('\n'), message);
  t.true(message.includes(path), message);
  t.regex(message, pattern);
}

function decodeError(bytes: Uint8Array, path = 'checkpoints/x.ckpt'): unknown {
  try {
    decodeCheckpoint(bytes, path);
  } catch (error) {
    return error;
  }
  return undefined;
}

async function tempFolder(t: ExecutionContext): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'char-rnn-checkpoint-'));
  t.teardown(() => rm(folder, { recursive: true, force: true }));
  return folder;
}

test('a checkpoint round-trips exactly, tensors bit for bit', (t) => {
  const data = sampleData();
  assertSameCheckpoint(t, decodeCheckpoint(encodeCheckpoint(data), 'x.ckpt'), data);
});

test('a corpus joined from several paths keeps their list; one path leaves the list out', (t) => {
  const one = sampleData();
  const joined: CheckpointData = { ...one, corpus: { ...one.corpus, source: 'a.txt + poems', sources: ['a.txt', 'poems'] } };
  assertSameCheckpoint(t, decodeCheckpoint(encodeCheckpoint(joined), 'x.ckpt'), joined);
  t.deepEqual(decodeCheckpoint(encodeCheckpoint(joined), 'x.ckpt').corpus.sources, ['a.txt', 'poems']);
  t.false('sources' in decodeCheckpoint(encodeCheckpoint(one), 'x.ckpt').corpus);
});

test('optional fields round-trip both set and unset, and so do NaN and Infinity losses', (t) => {
  const fresh = sampleData({
    options: { steps: 5000 },
    state: { step: 0, smoothLoss: Number.NaN, bestLoss: Infinity, bestStep: 0, bestMetric: 'smooth', valLoss: undefined, smoothHistory: [], valHistory: [] },
  });
  const decoded = decodeCheckpoint(encodeCheckpoint(fresh), 'x.ckpt');
  assertSameCheckpoint(t, decoded, fresh);
  t.is(decoded.options.steps, 5000);
  t.is(decoded.state.valLoss, undefined);
  t.true(Number.isNaN(decoded.state.smoothLoss));
});

test('large counters past 2^32 round-trip', (t) => {
  const data = sampleData({ state: { step: 2 ** 33 + 1 }, options: { evalEvery: 2 ** 35, steps: 2 ** 34 } });
  t.true(data.state.charsSeen > 2 ** 32);
  assertSameCheckpoint(t, decodeCheckpoint(encodeCheckpoint(data), 'x.ckpt'), data);
});

test('tensors over a SharedArrayBuffer, as the trainer keeps them, encode the same', (t) => {
  const data = sampleData();
  const shared = (values: Float64Array) => {
    const copy = new Float64Array(new SharedArrayBuffer(values.byteLength));
    copy.set(values);
    return copy;
  };
  const { params, hidden } = data.state;
  const sharedData = { ...data, state: { ...data.state, params: shared(params), hidden: shared(hidden) } };
  t.true(Buffer.from(encodeCheckpoint(sharedData)).equals(Buffer.from(encodeCheckpoint(data))));
});

test('decoded tensors are fresh, aligned arrays, not views into the file', (t) => {
  const data = sampleData();
  const encoded = encodeCheckpoint(data);
  // Shift the file by one byte so that no tensor is 8-byte aligned within its buffer.
  const shifted = new Uint8Array(encoded.length + 1).subarray(1);
  shifted.set(encoded);
  const decoded = decodeCheckpoint(shifted, 'x.ckpt');
  for (const name of ['params', 'optimizerState', 'hidden'] as const) {
    t.is(decoded.state[name].byteOffset, 0);
    t.not(decoded.state[name].buffer, shifted.buffer);
  }
  const before = Array.from(decoded.state.params);
  shifted.fill(0);
  t.deepEqual(Array.from(decoded.state.params), before);
});

test('the file is a standard protobuf message: magic string, then the format version', (t) => {
  const bytes = encodeCheckpoint(sampleData());
  const magic = Buffer.from('char-rnn checkpoint');
  // field 1, wire type 2 (length-delimited) = 0x0a; field 2, wire type 0 (varint) = 0x10.
  t.deepEqual(Array.from(bytes.subarray(0, 2)), [0x0a, magic.length]);
  t.true(Buffer.from(bytes.subarray(2, 2 + magic.length)).equals(magic));
  t.deepEqual(Array.from(bytes.subarray(2 + magic.length, 4 + magic.length)), [0x10, CHECKPOINT_FORMAT_VERSION]);
});

test('tensors are stored as little-endian float64 bytes, on either host byte order', (t) => {
  // 1.0 is 0x3FF0000000000000; -2.5 is 0xC004000000000000.
  const expected = [0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0x04, 0xc0];
  const values = Float64Array.from([1, -2.5]);
  t.deepEqual(Array.from(littleEndianBytes(values, true)), expected);
  t.deepEqual(Array.from(littleEndianBytes(values, false)), expected); // the big-endian host's path
  t.deepEqual(Array.from(littleEndianBytes(Uint16Array.from([0x0102]), false)), [0x02, 0x01]);
  const bytes = Uint8Array.from(expected);
  t.deepEqual(Array.from(float64FromLittleEndian(bytes, true)), [1, -2.5]);
  t.deepEqual(Array.from(float64FromLittleEndian(bytes, false)), [1, -2.5]);
  // And the whole file carries params in that form.
  const data = sampleData();
  const file = Buffer.from(encodeCheckpoint(data));
  t.true(file.indexOf(Buffer.from(littleEndianBytes(data.state.params, false))) > 0);
});

test('corpusFingerprint hashes the ids as little-endian integers of the corpus width', (t) => {
  const narrow = corpusFingerprint({ source: 'a.txt', vocab: Uint32Array.from([0x61, 0x62]), ids: Uint8Array.from([0, 1, 1]) });
  t.deepEqual(narrow.source, 'a.txt');
  t.is(narrow.length, 3);
  t.true(bits(narrow.sha256).equals(createHash('sha256').update(Uint8Array.from([0, 1, 1])).digest()));
  const wide = corpusFingerprint({ source: 'b.txt', vocab: new Uint32Array(300), ids: Uint16Array.from([0x0102, 7]) });
  t.true(bits(wide.sha256).equals(createHash('sha256').update(Uint8Array.from([0x02, 0x01, 7, 0])).digest()));
});

test('a truncated file is rejected with one line', (t) => {
  const bytes = encodeCheckpoint(sampleData());
  for (const length of [bytes.length >> 1, bytes.length - 1, 10]) {
    assertOneLineUserError(t, decodeError(bytes.subarray(0, length)), 'checkpoints/x.ckpt', /checkpoints\/x\.ckpt (is not a char-rnn checkpoint|is damaged)/);
  }
});

test('random bytes are rejected with one line', (t) => {
  const prng = Prng.fromSeed(2024);
  for (let trial = 0; trial < 200; trial++) {
    const bytes = Uint8Array.from({ length: 1 + (prng.nextUint32() % 300) }, () => prng.nextUint32() & 0xff);
    assertOneLineUserError(t, decodeError(bytes), 'checkpoints/x.ckpt', /is not a char-rnn checkpoint .*; pass a file written by 'char-rnn train'$/);
  }
});

test('a flipped bit inside the params fails the integrity check', (t) => {
  const data = sampleData();
  const bytes = Buffer.from(encodeCheckpoint(data));
  const offset = bytes.indexOf(Buffer.from(littleEndianBytes(data.state.params)));
  t.true(offset > 0);
  bytes[offset + 8 * 10 + 3] ^= 0x10;
  assertOneLineUserError(t, decodeError(bytes), 'checkpoints/x.ckpt', /is damaged: its bytes do not match the checksum they end with \(the file was altered or partly written\); use another checkpoint$/);
});

test('a file from a newer format asks for an upgrade', (t) => {
  const bytes = unsigned(encodeCheckpoint(sampleData()));
  const at = 2 + 'char-rnn checkpoint'.length;
  t.deepEqual([bytes[at], bytes[at + 1]], [0x10, CHECKPOINT_FORMAT_VERSION]);
  bytes[at + 1] = 7;
  assertOneLineUserError(t, decodeError(signed(bytes)), 'checkpoints/x.ckpt', /was written by a newer char-rnn \(format 7; this one reads up to 2\): upgrade parallel-char-rnn$/);
  // Unsigned, the way a later format might be: still a newer format, not a damaged file.
  assertOneLineUserError(t, decodeError(bytes), 'checkpoints/x.ckpt', /was written by a newer char-rnn \(format 7/);
});

test('another protobuf message, a missing section and inconsistent sizes are rejected', (t) => {
  const type = checkpointMessageType();
  const encode = (wire: WireCheckpoint) => signed(type.encode({ ...wire, sha256: undefined }).finish());
  assertOneLineUserError(t, decodeError(encode({ formatVersion: 1 })), 'checkpoints/x.ckpt', /lacks the char-rnn checkpoint marker/);
  const good = type.toObject(type.decode(encodeCheckpoint(sampleData())), { longs: Number }) as WireCheckpoint;
  assertOneLineUserError(t, decodeError(encode({ ...good, model: undefined })), 'checkpoints/x.ckpt', /is damaged: it has no model section/);
  assertOneLineUserError(t, decodeError(encode({ ...good, tensors: undefined })), 'checkpoints/x.ckpt', /is damaged: it has no tensors section/);
  // The tensors still match their checksum, but no longer fit H.
  assertOneLineUserError(t, decodeError(encode({ ...good, model: { ...good.model, hidden: 6 } })), 'checkpoints/x.ckpt', /is damaged: its params hold 107 numbers but rnn H=6, K=7 need 133/);
  assertOneLineUserError(t, decodeError(encode({ ...good, options: { ...good.options, streams: 4 } })), 'checkpoints/x.ckpt', /its hidden states hold 15 numbers but 4 streams of rnn H=5, K=7 need 20/);
  assertOneLineUserError(t, decodeError(encode({ ...good, model: { ...good.model, cell: 'transformer' } })), 'checkpoints/x.ckpt', /holds a 'transformer' model.*upgrade/);
  assertOneLineUserError(t, decodeError(encode({ ...good, model: { ...good.model, cell: 'lstm' } })), 'checkpoints/x.ckpt', /its params hold 107 numbers but lstm H=5, K=7 need 322/);
});

test('encoding inconsistent data throws a RangeError', (t) => {
  const data = sampleData();
  t.throws(() => encodeCheckpoint({ ...data, state: { ...data.state, params: new Float64Array(3) } }), { instanceOf: RangeError, message: /params hold 3 numbers/ });
  t.throws(() => encodeCheckpoint({ ...data, state: { ...data.state, step: 1.5 } }), { instanceOf: RangeError, message: /state\.step is 1\.5/ });
});

test('saving and loading round-trip through a file, creating the folder, leaving no temporary files', async (t) => {
  const folder = join(await tempFolder(t), 'runs', 'a');
  const path = join(folder, 'latest.ckpt');
  const data = sampleData();
  await saveCheckpoint(path, data);
  assertSameCheckpoint(t, await loadCheckpoint(path), data);
  const next = sampleData({ state: { step: 2000 } });
  await saveCheckpoint(path, next);
  const { data: loaded, fileBytes } = await loadCheckpointFile(path);
  assertSameCheckpoint(t, loaded, next);
  t.is(fileBytes, (await stat(path)).size);
  t.deepEqual(await readdir(folder), ['latest.ckpt']);
});

test('a failed save leaves the previous file intact and no temporary file', async (t) => {
  const folder = await tempFolder(t);
  const path = join(folder, 'latest.ckpt');
  await saveCheckpoint(path, sampleData());
  const before = await readFile(path);
  const data = sampleData();
  const bad = { ...data, state: { ...data.state, params: new Float64Array(3) } };
  await t.throwsAsync(saveCheckpoint(path, bad), { instanceOf: RangeError });
  t.true((await readFile(path)).equals(before));
  t.deepEqual(await readdir(folder), ['latest.ckpt']);
});

test('a save that fails after writing (the target is a folder) removes its temporary file', async (t) => {
  const folder = await tempFolder(t);
  const path = join(folder, 'taken');
  await mkdir(join(path, 'inside'), { recursive: true });
  const error = await t.throwsAsync(saveCheckpoint(path, sampleData()));
  assertOneLineUserError(t, error, path, /cannot write checkpoint/);
  t.deepEqual(await readdir(folder), ['taken']);
});

test('saving where part of the path is a file is a one-line UserError', async (t) => {
  const folder = await tempFolder(t);
  await writeFile(join(folder, 'plain'), 'not a folder');
  for (const path of [join(folder, 'plain', 'x.ckpt'), join(folder, 'plain', 'sub', 'x.ckpt')]) {
    assertOneLineUserError(t, await t.throwsAsync(saveCheckpoint(path, sampleData())), path, /^cannot write checkpoint .*: (a file is in the way \(EEXIST\)|part of the path is a file, not a folder \(ENOTDIR\))/);
    }
  t.deepEqual(await readdir(folder), ['plain']);
});

test('loading a missing path, a folder or an empty file is a one-line UserError', async (t) => {
  const folder = await tempFolder(t);
  const missing = join(folder, 'nope.ckpt');
  assertOneLineUserError(t, await t.throwsAsync(loadCheckpoint(missing)), missing, /^checkpoint not found: /);
  assertOneLineUserError(t, await t.throwsAsync(loadCheckpoint(folder)), folder, /is a folder, not a checkpoint file/);
  const empty = join(folder, 'empty.ckpt');
  await writeFile(empty, '');
  assertOneLineUserError(t, await t.throwsAsync(loadCheckpoint(empty)), empty, /is not a char-rnn checkpoint \(it is empty\)/);
});

test('describeCheckpoint names the step, H and the corpus length', (t) => {
  const data = sampleData();
  const text = describeCheckpoint(data, 'checkpoints/x.ckpt', 4321);
  t.regex(text, /step 1,234\b/);
  t.regex(text, /H=5\b/);
  t.regex(text, /1,115,394 symbols/);
  t.regex(text, /1\.7500 nats\/char \(2\.5247 bits\/char\)/); // 1.75 / ln 2
  t.regex(text, /checkpoints\/x\.ckpt: 4\.2 KiB/);
  t.false(text.includes('NaN'));
});

test('checkpointJson survives JSON.stringify and summarizes the tensors', (t) => {
  const data = sampleData({ state: { smoothLoss: Number.NaN, bestLoss: Infinity } });
  const json = JSON.parse(JSON.stringify(checkpointJson(data, 999))) as {
    fileBytes: number;
    model: { parameters: number; vocab: string };
    state: { step: number; smoothLoss: null; params: { length: number; sha256: string } };
  };
  t.is(json.fileBytes, 999);
  t.is(json.state.step, 1234);
  t.is(json.state.smoothLoss, null);
  t.is(json.model.parameters, paramLayout({ H: 5, K: 7 }).size);
  t.is(json.model.vocab, '\n abé\u03c0\u{1f600}');
  t.is(json.state.params.length, data.state.params.length);
  t.is(json.state.params.sha256, createHash('sha256').update(bits(data.state.params)).digest('hex'));
});
