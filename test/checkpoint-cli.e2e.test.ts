import test, { type ExecutionContext } from 'ava';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { CHECKPOINT_FORMAT_VERSION, loadCheckpoint, PROTO_PATH, type CheckpointData } from '../src/checkpoint/index.js';
import { sample } from '../src/generate.js';
import { visibleText } from '../src/visible-text.js';
import { folderSnapshot, pseudoEnglish, runCli, sameState, tempDir, type CliResult } from './fixtures/harness.js';

// Every CLI child runs with cwd in this folder and writes only under it.
const dir = tempDir('checkpoint-cli-test-');
test.after.always(() => dir.remove());

const TEXT = pseudoEnglish(30_000, 5); // ASCII only: one symbol per character
const CORPUS = dir.file('corpus.txt', TEXT);
const K = new Set(TEXT).size;
const H = 16;
const T = 20;
const B = 4;
const STEPS = 40;
const ETA = 0.1;
const EPS = 1e-8;
const CLIP = 5;

/** A real checkpoint: STEPS steps on CORPUS, saved in its own folder. */
let goodPromise: Promise<string> | undefined;
function good(): Promise<string> {
  goodPromise ??= (async () => {
    const out = join(dir.path, 'good');
    const result = await runCli(
      ['train', '--corpus', CORPUS, '--cell', 'rnn', '--hidden', String(H), '--seq-length', String(T), '--streams', String(B), '--steps', String(STEPS), '--threads', '2', '--sample-every', '0', '--eval-every', '0', '--checkpoint-every', '0', '--out', out],
      { cwd: dir.path },
    );
    if (result.code !== 0) throw new Error(`the training run exited with ${result.code}: ${result.stderr}`);
    return join(out, 'last.ckpt');
  })();
  return goodPromise;
}

/** `n` as printed with or without thousands separators: 30012 matches '30012' and '30,012'. */
function numberPattern(n: number): RegExp {
  const digits = String(n);
  const head = digits.length % 3 || 3;
  const groups = [digits.slice(0, head)];
  for (let i = head; i < digits.length; i += 3) groups.push(digits.slice(i, i + 3));
  return new RegExp(`(?<![\\d,])${groups.join(',?')}(?![\\d,])`);
}

function oneLineError(t: ExecutionContext, result: CliResult, what: string): void {
  t.false(result.timedOut, `${what} timed out`);
  t.is(result.code, 2, `${what}: stdout ${result.stdout}\nstderr ${result.stderr}`);
  t.true(result.stderr.startsWith('char-rnn: '), `${what}: ${result.stderr}`);
  t.is(result.stderr.indexOf('\n'), result.stderr.length - 1, `${what}: not exactly one line: ${JSON.stringify(result.stderr)}`);
  t.false(result.stderr.includes('    at '), `${what}: a stack trace`);
}

// ----- inspect -----

test('inspect prints readable lines naming the step, H, K and the corpus length', async (t) => {
  const file = await good();
  const result = await runCli(['inspect', file], { cwd: dir.path });
  t.is(result.code, 0, result.stderr);
  t.is(result.stderr, '');
  t.true(result.stdout.trim().split('\n').length >= 3, result.stdout);
  t.regex(result.stdout, new RegExp(`step ${STEPS}\\b`));
  t.regex(result.stdout, new RegExp(`H\\s*=\\s*${H}\\b`));
  t.regex(result.stdout, new RegExp(`K\\s*=\\s*${K}\\b`));
  t.regex(result.stdout, numberPattern(TEXT.length));
});

test('inspect --json parses, and its step, H, K and corpus length are the file\'s', async (t) => {
  const file = await good();
  const result = await runCli(['inspect', file, '--json'], { cwd: dir.path });
  t.is(result.code, 0, result.stderr);
  const json = JSON.parse(result.stdout) as { model: { H: number; K: number }; corpus: { length: number }; state: { step: number } };
  const data = await loadCheckpoint(file);
  t.is(json.state.step, STEPS);
  t.is(json.state.step, data.state.step);
  t.is(json.model.H, H);
  t.is(json.model.H, data.model.H);
  t.is(json.model.K, K);
  t.is(json.corpus.length, TEXT.length);
});

// ----- --init-from -----

test('--init-from starts a new run from the checkpoint\'s weights, with a fresh optimizer', async (t) => {
  const file = await good();
  const out = join(dir.path, 'fine-tuned');
  // No --hidden: the model size comes from the checkpoint.
  const result = await runCli(
    ['train', '--init-from', file, '--corpus', CORPUS, '--seq-length', String(T), '--streams', String(B), '--steps', '1', '--eta', String(ETA), '--threads', '1', '--sample-every', '0', '--eval-every', '0', '--out', out],
    { cwd: dir.path },
  );
  t.is(result.code, 0, result.stderr);
  const old = await loadCheckpoint(file);
  const tuned = await loadCheckpoint(join(out, 'last.ckpt'));
  t.is(tuned.state.step, 1, 'the step count restarts');
  t.is(tuned.state.epoch, 1);
  t.is(tuned.state.charsSeen, B * T);
  t.is(tuned.model.H, H);
  t.deepEqual(Array.from(tuned.model.vocab), Array.from(old.model.vocab));

  // One AdaGrad step from zero memory: m = g^2 with g the clipped gradient, and the step is
  // eta g / sqrt(m + eps), of magnitude eta sqrt(m) / sqrt(m + eps) <= eta. Memory carried over
  // from the checkpoint (m = m0 + g^2) would give a different, smaller step.
  const { params: p0, optimizerState: m0 } = old.state;
  const { params: p1, optimizerState: m1 } = tuned.state;
  t.is(p1.length, p0.length);
  t.true(m0.some((m) => m > 1e-4), 'the checkpoint\'s own memory is large enough to tell apart');
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < p0.length; i++) {
    const m = m1[i];
    const expected = (ETA * Math.sqrt(m)) / Math.sqrt(m + EPS);
    const actual = Math.abs(p1[i] - p0[i]);
    // Rounding of p0 - step: a few ulps of the parameter, plus relative error of the step.
    const tolerance = 4 * Number.EPSILON * Math.max(Math.abs(p0[i]), Math.abs(p1[i])) + 1e-12 * expected;
    const error = Math.abs(actual - expected) - tolerance;
    if (error > worst) [worst, worstAt] = [error, i];
    if (!(m <= CLIP * CLIP && actual <= ETA * (1 + 1e-12))) {
      t.fail(`entry ${i}: memory ${m} (at most clip^2 = ${CLIP * CLIP}), step ${actual} (at most eta = ${ETA})`);
      return;
    }
  }
  t.is(worstAt, -1, `entry ${worstAt}: |new - old| = ${Math.abs(p1[worstAt] - p0[worstAt])}, a fresh AdaGrad step with memory ${m1[worstAt]} is ${(ETA * Math.sqrt(m1[worstAt])) / Math.sqrt(m1[worstAt] + EPS)} (old memory ${m0[worstAt]})`);
});

test('--sample-temperature: the final sample is the sample command\'s at that temperature, and a resume keeps it', async (t) => {
  const out = join(dir.path, 'cool');
  const flags = ['--corpus', CORPUS, '--cell', 'rnn', '--hidden', String(H), '--seq-length', String(T), '--streams', String(B), '--threads', '1', '--sample-every', '0', '--sample-length', '80'];
  const first = await runCli(['train', ...flags, '--steps', '30', '--sample-temperature', '0.5', '--out', out], { cwd: dir.path });
  t.is(first.code, 0, first.stderr);
  const best = await loadCheckpoint(join(out, 'best.ckpt'));
  t.is(best.options.sampleTemperature, 0.5);
  const printed = /----- sample from [^\n]* -----\n([^\n]*)\n?$/.exec(first.stdout)?.[1];
  t.is(printed, visibleText(sample(best, { length: 80, temperature: 0.5, seed: best.options.seed })));
  t.not(printed, visibleText(sample(best, { length: 80, temperature: 1, seed: best.options.seed })), 'the temperature changes the text');
  const resumed = await runCli(['train', '--resume', join(out, 'last.ckpt'), '--steps', '40', '--threads', '1'], { cwd: dir.path });
  t.is(resumed.code, 0, resumed.stderr);
  t.is((await loadCheckpoint(join(out, 'last.ckpt'))).options.sampleTemperature, 0.5);
});

test('a fine-tuned run on a text with fewer characters than the checkpoint resumes, bit for bit as if it never stopped', async (t) => {
  const file = await good();
  const narrower = TEXT.toLowerCase().replace(/[?,]/g, '');
  t.true(new Set(narrower).size < K, 'the text uses fewer characters than the checkpoint knows');
  const text = dir.file('narrower.txt', narrower);
  const flags = ['--init-from', file, '--corpus', text, '--seq-length', String(T), '--streams', String(B), '--threads', '1', '--sample-every', '5', '--sample-length', '20', '--eval-every', '4', '--no-report'];
  const whole = join(dir.path, 'tuned-whole');
  const parted = join(dir.path, 'tuned-parted');
  const uninterrupted = await runCli(['train', ...flags, '--steps', '12', '--out', whole], { cwd: dir.path });
  t.is(uninterrupted.code, 0, uninterrupted.stderr);
  const first = await runCli(['train', ...flags, '--steps', '6', '--out', parted], { cwd: dir.path });
  t.is(first.code, 0, first.stderr);
  const resumed = await runCli(['train', '--resume', join(parted, 'last.ckpt'), '--steps', '12', '--threads', '2'], { cwd: dir.path });
  t.is(resumed.code, 0, `stdout ${resumed.stdout}\nstderr ${resumed.stderr}`);
  const expected = await loadCheckpoint(join(whole, 'last.ckpt'));
  const actual = await loadCheckpoint(join(parted, 'last.ckpt'));
  sameState(t, actual.state, expected.state, 'resumed fine-tuning');
  t.deepEqual(Array.from(actual.model.vocab), Array.from((await loadCheckpoint(file)).model.vocab), 'the checkpoint\'s vocabulary');
});

test('--init-from on a text with characters the checkpoint lacks names each of them', async (t) => {
  const file = await good();
  const missing = ['é', '€', '#'];
  t.true(missing.every((ch) => !TEXT.includes(ch)));
  const text = dir.file('foreign.txt', `${pseudoEnglish(3_000, 8)} Un café coûte 2€ #1.\n`);
  const expectedMissing = [...new Set(readFileSync(text, 'utf8'))].filter((ch) => !TEXT.includes(ch));
  const out = join(dir.path, 'never-written');
  const result = await runCli(['train', '--init-from', file, '--corpus', text, '--steps', '1', '--threads', '1', '--out', out], { cwd: dir.path });
  oneLineError(t, result, '--init-from with foreign characters');
  for (const ch of expectedMissing) t.true(result.stderr.includes(ch), `${JSON.stringify(ch)} is not named: ${result.stderr}`);
  t.false(existsSync(out), 'nothing was written');
});

// ----- bad checkpoint files, through 'inspect' and 'train --resume' -----

const BAD = join(dir.path, 'bad');

/**
 * A run folder holding a real last.ckpt and best.ckpt beside the bad files, so that a
 * 'train --resume' that went ahead would overwrite something.
 */
let badFolderPromise: Promise<void> | undefined;
function badFolder(): Promise<void> {
  badFolderPromise ??= (async () => {
    const file = await good();
    mkdirSync(join(BAD, 'a-folder'), { recursive: true });
    writeFileSync(join(BAD, 'a-folder', 'note.txt'), 'a folder is not a checkpoint');
    copyFileSync(file, join(BAD, 'last.ckpt'));
    copyFileSync(join(file, '..', 'best.ckpt'), join(BAD, 'best.ckpt'));
    const bytes = readFileSync(file);

    writeFileSync(join(BAD, 'truncated-half.ckpt'), bytes.subarray(0, bytes.length >> 1));
    writeFileSync(join(BAD, 'truncated-by-one.ckpt'), bytes.subarray(0, bytes.length - 1));

    let s = 0x2545f491; // xorshift32, for bytes that do not depend on the code under test
    const random = Buffer.alloc(4096, 0).map(() => {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      return s & 0xff;
    });
    writeFileSync(join(BAD, 'random.ckpt'), random);

    writeFileSync(join(BAD, 'flipped-bit.ckpt'), flipParamBit(bytes, (await loadCheckpoint(file)).state.params));
    writeFileSync(join(BAD, 'newer-format.ckpt'), withFormatVersion(bytes, 7));
  })();
  return badFolderPromise;
}

/** The params' bytes as stored (little-endian float64), written with DataView rather than the codec. */
function littleEndian(values: Float64Array): Buffer {
  const out = Buffer.alloc(values.length * 8);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  values.forEach((value, i) => view.setFloat64(i * 8, value, true));
  return out;
}

/** The file with one mantissa bit of params[10] flipped; still a well-formed protobuf message. */
function flipParamBit(bytes: Buffer, params: Float64Array): Buffer {
  const at = bytes.indexOf(littleEndian(params));
  if (at < 0) throw new Error('the params are not in the file as little-endian float64s');
  const copy = Buffer.from(bytes);
  copy[at + 10 * 8 + 3] ^= 0x10;
  const decoded = checkpointType().toObject(checkpointType().decode(copy)) as { tensors: { params: Uint8Array } };
  if (Buffer.compare(Buffer.from(decoded.tensors.params), littleEndian(params)) === 0) throw new Error('the flipped bit is not in the params');
  return copy;
}

/**
 * The file with format_version (field 2, a varint right after the magic string, field 1) set to
 * version, and signed again: its last 34 bytes, the SHA-256 field (0x5a 0x20 and the digest of
 * everything before them), recomputed here.
 */
function withFormatVersion(bytes: Buffer, version: number): Buffer {
  const magic = Buffer.from('char-rnn checkpoint');
  // 0x0a: field 1, length-delimited; 0x10: field 2, varint.
  if (bytes[0] !== 0x0a || bytes[1] !== magic.length || !bytes.subarray(2, 2 + magic.length).equals(magic)) throw new Error('no magic field first');
  const at = 2 + magic.length;
  if (bytes[at] !== 0x10 || bytes[at + 1] !== CHECKPOINT_FORMAT_VERSION) throw new Error(`no format_version ${CHECKPOINT_FORMAT_VERSION} after the magic`);
  const message = Buffer.from(bytes.subarray(0, bytes.length - 34));
  message[at + 1] = version;
  const copy = Buffer.concat([message, Buffer.from([0x5a, 0x20]), createHash('sha256').update(message).digest()]);
  const decoded = checkpointType().toObject(checkpointType().decode(copy)) as { formatVersion: number; magic: string };
  if (decoded.formatVersion !== version || decoded.magic !== magic.toString()) throw new Error(`patched file decodes to format ${decoded.formatVersion}`);
  return copy;
}

let type: protobuf.Type | undefined;
function checkpointType(): protobuf.Type {
  type ??= protobuf.loadSync(PROTO_PATH).lookupType('charrnn.Checkpoint');
  return type;
}

/** Both commands refuse `name` (a path inside BAD): exit 2, one 'char-rnn: ' line matching pattern, and BAD unchanged. */
function badInput(title: string, name: string, pattern: RegExp): void {
  test(title, async (t) => {
    await badFolder();
    const file = join(BAD, name);
    const before = folderSnapshot(BAD);
    for (const args of [['inspect', file], ['inspect', file, '--json'], ['train', '--resume', file, '--threads', '1']]) {
      const what = args.join(' ');
      const result = await runCli(args, { cwd: dir.path });
      oneLineError(t, result, what);
      t.true(result.stderr.includes(file), `${what}: the path is not named: ${result.stderr}`);
      t.regex(result.stderr, pattern, what);
      t.is(result.stdout, '', `${what}: printed ${result.stdout}`);
    }
    t.deepEqual(folderSnapshot(BAD), before, 'the run folder changed');
  });
}

badInput('a checkpoint cut in half is refused', 'truncated-half.ckpt', /not a char-rnn checkpoint|damaged/);
badInput('a checkpoint missing its last byte is refused', 'truncated-by-one.ckpt', /not a char-rnn checkpoint|damaged/);
badInput('random bytes are refused', 'random.ckpt', /not a char-rnn checkpoint/);
badInput('a checkpoint with one bit flipped in its params fails the integrity check', 'flipped-bit.ckpt', /checksum/);
badInput('a checkpoint of a newer format asks for an upgrade', 'newer-format.ckpt', /newer.*\b7\b.*upgrade/);
badInput('a path that does not exist is refused', 'no-such.ckpt', /not found/);
badInput('a folder is refused', 'a-folder', /is a folder|holds no checkpoint/);

test('the untouched checkpoint in the same folder still loads: the bad files above are bad for their own reasons', async (t) => {
  await badFolder();
  const result = await runCli(['inspect', join(BAD, 'last.ckpt'), '--json'], { cwd: dir.path });
  t.is(result.code, 0, result.stderr);
  const data: CheckpointData = await loadCheckpoint(join(BAD, 'last.ckpt'));
  t.is(data.state.step, STEPS);
});
