import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import ort from 'onnxruntime-node';
import { saveCheckpoint, type CheckpointData } from '../src/checkpoint/index.js';
import { createFastStepper } from '../src/model/kernel-stepper.js';
import { gatedCheckpoint, GATED_SYMBOLS } from './fixtures/gated-model.js';
import { runCli, runCommand, succeeded, tempDir } from './fixtures/harness.js';
import { PYTHON, pythonHas } from './fixtures/python.js';

/**
 * onnxruntime, not our code, is the judge here: it runs each exported file, and its loss and
 * next-character distributions along a text must equal char-rnn eval's and our sampler's.
 */

const dir = tempDir('onnx-');
test.after.always(() => dir.remove());

const MODELS = [
  { cell: 'rnn', L: 1, H: 6, dtype: 'float64' },
  { cell: 'lstm', L: 2, H: 5, dtype: 'float32' },
  { cell: 'gru', L: 2, H: 4, dtype: 'float32' },
  { cell: 'lstm', L: 1, H: 7, dtype: 'float64' },
  { cell: 'gru', L: 3, H: 5, dtype: 'float64' },
] as const;

const K = GATED_SYMBOLS.length;
/** A held-out text in the fixture's symbols: 400 characters drawn by a fixed rule. */
const TEXT = Array.from({ length: 400 }, (_, i) => GATED_SYMBOLS[(i * 7 + ((i * i) >> 3)) % K]).join('');
const IDS = Array.from(TEXT, (c) => GATED_SYMBOLS.indexOf(c));

interface Exported { readonly checkpoint: CheckpointData; readonly ckpt: string; readonly onnx: string }

async function exported(name: string, model: (typeof MODELS)[number]): Promise<Exported> {
  const checkpoint = gatedCheckpoint({ ...model, seed: 21 });
  const ckpt = join(dir.path, `${name}.ckpt`);
  await saveCheckpoint(ckpt, checkpoint);
  const onnx = join(dir.path, `${name}.onnx`);
  const result = await runCli(['export', '--checkpoint', ckpt, '--format', 'onnx', '--out', onnx]);
  if (result.code !== 0) throw new Error(result.stderr);
  return { checkpoint, ckpt, onnx };
}

/** The feeds for ids [rows, sequence] from zero states, or from the states given. */
function feeds(rows: readonly (readonly number[])[], { cell, L, H }: { cell: string; L: number; H: number }, states: Record<string, ort.Tensor> = {}): Record<string, ort.Tensor> {
  const zeros = () => new ort.Tensor('float32', new Float32Array(L * rows.length * H), [L, rows.length, H]);
  return {
    ids: new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0].length]),
    h0: states.h0 ?? zeros(),
    ...(cell === 'lstm' ? { c0: states.c0 ?? zeros() } : {}),
  };
}

/** softmax of each K-row of logits. */
function softmaxRows(logits: ArrayLike<number>): Float64Array[] {
  return Array.from({ length: logits.length / K }, (_, t) => {
    const row = Float64Array.from({ length: K }, (_, k) => logits[t * K + k]);
    const top = Math.max(...row);
    const e = row.map((x) => Math.exp(x - top));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / sum);
  });
}

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

for (const [index, model] of MODELS.entries()) {
  const { cell, L, dtype } = model;
  const name = `${cell}-${L}-${dtype}-${index}`;
  const ready = exported(name, model);

  test(`${cell} (L=${L}, trained ${dtype}): onnxruntime's loss equals char-rnn eval's and its distributions our sampler's`, async (t) => {
    const { checkpoint, ckpt, onnx } = await ready;
    const textFile = dir.file(`${name}.txt`, TEXT);
    const evaluated = await runCli(['eval', '--checkpoint', ckpt, '--text-file', textFile, '--json']);
    succeeded(t, evaluated, 'eval');
    const ours = JSON.parse(evaluated.stdout).natsPerChar as number;

    const { logits } = await (await ort.InferenceSession.create(onnx)).run(feeds([IDS], model));
    t.deepEqual(logits.dims, [1, IDS.length, K]);
    const theirs = softmaxRows(logits.data as Float32Array);
    let loss = 0;
    for (let i = 0; i + 1 < IDS.length; i++) loss -= Math.log(theirs[i][IDS[i + 1]]);
    loss /= IDS.length - 1;
    t.true(Math.abs(loss - ours) <= 1e-5 * ours, `onnxruntime ${loss} nats/char, char-rnn eval ${ours}`);

    const stepper = createFastStepper(checkpoint.state.params, checkpoint.model, checkpoint.options.dtype);
    let worst = 0;
    for (const [i, id] of IDS.entries()) {
      stepper.feed(id);
      worst = Math.max(worst, maxAbsDifference(softmaxRows(stepper.scores())[0], theirs[i]));
    }
    t.true(worst <= 1e-5, `the next-character probabilities differ by up to ${worst}`);
  });

  test(`${cell} (L=${L}): the final states carry a text on, and a batch's rows are independent`, async (t) => {
    const s = await ort.InferenceSession.create((await ready).onnx);
    const whole = (await s.run(feeds([IDS], model))).logits.data as Float32Array;
    const cut = 150;
    const first = await s.run(feeds([IDS.slice(0, cut)], model));
    t.deepEqual(first.hn.dims, [L, 1, model.H]);
    const second = (await s.run(feeds([IDS.slice(cut)], model, { h0: first.hn, c0: first.cn }))).logits.data as Float32Array;
    t.true(maxAbsDifference(second, whole.subarray(cut * K)) <= 1e-5, 'the second half from the first half\'s states differs from the whole text');

    const other = [...IDS].reverse();
    const batch = (await s.run(feeds([IDS, other], model))).logits.data as Float32Array;
    const alone = (await s.run(feeds([other], model))).logits.data as Float32Array;
    t.true(maxAbsDifference(batch.subarray(0, IDS.length * K), whole) <= 1e-6);
    t.true(maxAbsDifference(batch.subarray(IDS.length * K), alone) <= 1e-6);
  });
}

test('examples/onnx/score.mjs, reading the vocabulary from the metadata, scores a text as char-rnn eval does', async (t) => {
  const { ckpt, onnx } = await exported('example', MODELS[1]);
  const textFile = dir.file('example.txt', TEXT);
  const script = fileURLToPath(new URL('../../examples/onnx/score.mjs', import.meta.url));
  const [example, evaluated] = await Promise.all([runCommand(process.execPath, [script, onnx, textFile]), runCli(['eval', '--checkpoint', ckpt, '--text-file', textFile, '--json'])]);
  t.is(example.code, 0, example.stderr);
  const theirs = JSON.parse(example.stdout) as { characters: number; natsPerChar: number };
  const ours = JSON.parse(evaluated.stdout) as { characters: number; natsPerChar: number };
  t.is(theirs.characters, ours.characters);
  t.true(Math.abs(theirs.natsPerChar - ours.natsPerChar) <= 1e-5 * ours.natsPerChar, `example ${theirs.natsPerChar}, eval ${ours.natsPerChar}`);
});

const onnxChecker = pythonHas(['onnx']);
if (!onnxChecker.ok) console.log(`skipped: the ONNX checker tests (${onnxChecker.reason})`);
(onnxChecker.ok ? test : test.skip)('(Python: onnx) onnx.checker.check_model(full_check=True) accepts every export, whose metadata names the vocabulary and the source', async (t) => {
  const files = await Promise.all(MODELS.map((model, index) => exported(`checked-${index}`, model)));
  const script = [
    'import json, sys, onnx',
    'for path in sys.argv[1:]:',
    '    model = onnx.load(path)',
    '    onnx.checker.check_model(model, full_check=True)',
    '    print(json.dumps({p.key: p.value for p in model.metadata_props}))',
  ].join('\n');
  const result = await runCommand(PYTHON, ['-c', script, ...files.map((f) => f.onnx)], {});
  t.is(result.code, 0, result.stderr);
  const metadata = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, string>);
  for (const [i, { checkpoint, ckpt }] of files.entries()) {
    t.deepEqual(JSON.parse(metadata[i].vocab), [...checkpoint.model.vocab]);
    t.like(metadata[i], { cell: checkpoint.model.cell, layers: String(checkpoint.model.L), hidden: String(checkpoint.model.H), dtype: checkpoint.options.dtype });
    t.is(metadata[i].source_checkpoint_sha256, createHash('sha256').update(readFileSync(ckpt)).digest('hex'));
  }
});
