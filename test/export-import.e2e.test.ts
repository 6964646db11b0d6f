import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { loadCheckpoint, saveCheckpoint } from '../src/checkpoint/index.js';
import { decodeSafetensors, encodeSafetensors } from '../src/export/safetensors.js';
import { bytesOf, firstBitDifference, folderSnapshot, oneLineError, runCli, succeeded, tempDir } from './fixtures/harness.js';
import { gatedCheckpoint, GATED_SYMBOLS } from './fixtures/gated-model.js';
import { GATED_CELLS } from './fixtures/cells.js';
import { ONNX_CELLS } from '../src/export/onnx.js';
import { tinyCheckpoint } from './fixtures/tiny-model.js';

const dir = tempDir('export-import-');
test.after.always(() => dir.remove());

// every registered cell: the rnn, then each gated cell (lstm H=5, gru H=4, mgu H=3, ...)
const MODELS = [{ cell: 'rnn' as const, L: 1, H: 6 }, ...GATED_CELLS.map((cell, i) => ({ cell, L: 2, H: Math.max(2, 5 - i) }))];

for (const { cell, L, H } of MODELS) {
  test(`${cell} (L=${L}): export then import gives the same params bit for bit, and the same samples`, async (t) => {
    const original = gatedCheckpoint({ cell, dtype: 'float64', L, H, seed: 11 });
    const ckpt = join(dir.path, `${cell}.ckpt`);
    await saveCheckpoint(ckpt, original);
    const out = join(dir.path, `${cell}-export`);
    succeeded(t, await runCli(['export', '--checkpoint', ckpt, '--format', 'safetensors', '--out', out]), 'export');
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    t.like(config, { cell, layers: L, hidden: H, dropout: 0, dtype: 'float64' });
    t.deepEqual(config.vocab, GATED_SYMBOLS.map((s) => s.codePointAt(0)));
    t.is(config.source_checkpoint_sha256, createHash('sha256').update(readFileSync(ckpt)).digest('hex'));

    const imported = join(dir.path, `${cell}-imported.ckpt`);
    succeeded(t, await runCli(['import', '--from', out, '--out', imported]), 'import');
    const back = await loadCheckpoint(imported);
    t.deepEqual({ ...back.model }, { ...original.model });
    t.is(Buffer.compare(bytesOf(back.state.params), bytesOf(original.state.params)), 0, `params differ at ${firstBitDifference(back.state.params, original.state.params)}`);
    succeeded(t, await runCli(['inspect', imported]), 'inspect');

    const sample = (path: string) => runCli(['sample', '--checkpoint', path, '--prime', 'the ', '--length', '300', '--seed', '5', '--temperature', '0.9']);
    const [a, b] = await Promise.all([sample(ckpt), sample(imported)]);
    succeeded(t, a, 'sample the original');
    t.is(b.stdout, a.stdout);
    const text = dir.file(`${cell}.txt`, 'the bat ate the hat\n'.repeat(5));
    const evaluate = async (path: string) => JSON.parse((await runCli(['eval', '--checkpoint', path, '--text-file', text, '--json'])).stdout).natsPerChar as number;
    const [ea, eb] = await Promise.all([evaluate(ckpt), evaluate(imported)]);
    t.true(ea > 0);
    t.true(Object.is(eb, ea), `eval: ${eb} vs ${ea}`);
  });
}

for (const cell of GATED_CELLS.filter((name) => !ONNX_CELLS.includes(name))) {
  test(`${cell}: export --format onnx refuses in one line naming the cell and what to do, and writes nothing`, async (t) => {
    const ckpt = join(dir.path, `${cell}-onnx.ckpt`);
    await saveCheckpoint(ckpt, gatedCheckpoint({ cell, dtype: 'float32', L: 2, H: 3, seed: 6 }));
    const out = join(dir.path, `${cell}-onnx`);
    const result = await runCli(['export', '--checkpoint', ckpt, '--format', 'onnx', '--out', out]);
    oneLineError(t, result, 'onnx export');
    t.regex(result.stderr, new RegExp(`no operator for the ${cell} cell.*--format safetensors`));
    t.false(existsSync(`${out}.onnx`) || existsSync(out));
  });
}

test('the tensors carry PyTorch names and shapes: nn.LSTM(K, H, 2) gates (4H rows), then the decoder', async (t) => {
  const K = GATED_SYMBOLS.length;
  const H = 3;
  const ckpt = join(dir.path, 'names.ckpt');
  await saveCheckpoint(ckpt, gatedCheckpoint({ cell: 'lstm', dtype: 'float64', L: 2, H, seed: 2 }));
  const out = join(dir.path, 'names');
  succeeded(t, await runCli(['export', '--checkpoint', ckpt, '--out', out]), 'export');
  const { tensors, metadata } = decodeSafetensors(readFileSync(join(out, 'model.safetensors')), 'x');
  t.deepEqual(metadata, { format: 'pt' });
  t.deepEqual(tensors.map((x) => [x.name, x.shape.join('x')]), [
    ['rnn.weight_ih_l0', `${4 * H}x${K}`], ['rnn.weight_hh_l0', `${4 * H}x${H}`], ['rnn.bias_ih_l0', `${4 * H}`], ['rnn.bias_hh_l0', `${4 * H}`],
    ['rnn.weight_ih_l1', `${4 * H}x${H}`], ['rnn.weight_hh_l1', `${4 * H}x${H}`], ['rnn.bias_ih_l1', `${4 * H}`], ['rnn.bias_hh_l1', `${4 * H}`],
    ['decoder.weight', `${K}x${H}`], ['decoder.bias', `${K}`],
  ]);
});

// The vanilla rnn by hand: h = tanh(W h + U x + b), o = V h + c, H = 2, K = 3.
const HAND = { W: [[1, 2], [3, 4]], U: [[5, 6, 7], [8, 9, 10]], V: [[11, 12], [13, 14], [15, 16]], b: [17, -0], c: [19, 20, 21] };

test('the rnn maps to nn.RNN: U is weight_ih_l0, W weight_hh_l0, b bias_ih_l0, a zero bias_hh_l0, V and c the decoder', async (t) => {
  const ckpt = join(dir.path, 'hand.ckpt');
  await saveCheckpoint(ckpt, tinyCheckpoint(['a', 'b', 'c'], HAND));
  const out = join(dir.path, 'hand');
  succeeded(t, await runCli(['export', '--checkpoint', ckpt, '--out', out]), 'export');
  const { tensors } = decodeSafetensors(readFileSync(join(out, 'model.safetensors')), 'x');
  const got = Object.fromEntries(tensors.map((x) => [x.name, [x.shape, [...x.values]]]));
  t.deepEqual(got, {
    'rnn.weight_ih_l0': [[2, 3], HAND.U.flat()],
    'rnn.weight_hh_l0': [[2, 2], HAND.W.flat()],
    'rnn.bias_ih_l0': [[2], HAND.b],
    'rnn.bias_hh_l0': [[2], [0, 0]],
    'decoder.weight': [[3, 2], HAND.V.flat()],
    'decoder.bias': [[3], HAND.c],
  });
  // and back, b's -0 included: adding the zero bias_hh would have made it +0
  const imported = join(dir.path, 'hand-imported.ckpt');
  succeeded(t, await runCli(['import', '--from', out, '--out', imported]), 'import');
  const back = (await loadCheckpoint(imported)).state.params;
  const original = (await loadCheckpoint(ckpt)).state.params;
  t.is(Buffer.compare(bytesOf(back), bytesOf(original)), 0, `params differ at ${firstBitDifference(back, original)}`);
  t.true(Object.is(back[17], -0));
});

test('importing an nn.RNN folds bias_hh_l0 into b', async (t) => {
  const ckpt = join(dir.path, 'fold.ckpt');
  await saveCheckpoint(ckpt, tinyCheckpoint(['a', 'b', 'c'], HAND));
  const out = join(dir.path, 'fold');
  succeeded(t, await runCli(['export', '--checkpoint', ckpt, '--out', out]), 'export');
  const path = join(out, 'model.safetensors');
  const file = decodeSafetensors(readFileSync(path), 'x');
  const tensors = file.tensors.map((x) => (x.name === 'rnn.bias_hh_l0' ? { ...x, values: Float64Array.from([0.5, -3]) } : x));
  writeFileSync(path, encodeSafetensors({ tensors, metadata: file.metadata }));
  const imported = join(dir.path, 'fold.ckpt.imported');
  succeeded(t, await runCli(['import', '--from', out, '--out', imported]), 'import');
  const { params } = (await loadCheckpoint(imported)).state;
  // W (4), U (6), V (6), then b (2), c (3)
  t.deepEqual([...params.subarray(16, 18)], [17.5, -3]);
  t.deepEqual([...params.subarray(0, 4)], HAND.W.flat());
});

test('--dtype float32 writes F32 tensors that import as the params rounded to float32', async (t) => {
  const original = gatedCheckpoint({ cell: 'gru', dtype: 'float32', L: 2, H: 3, seed: 4 });
  const ckpt = join(dir.path, 'f32.ckpt');
  await saveCheckpoint(ckpt, original);
  const out = join(dir.path, 'f32');
  succeeded(t, await runCli(['export', '--checkpoint', ckpt, '--out', out, '--dtype', 'float32']), 'export');
  t.true(decodeSafetensors(readFileSync(join(out, 'model.safetensors')), 'x').tensors.every((x) => x.dtype === 'F32'));
  succeeded(t, await runCli(['import', '--from', out]), 'import');
  const back = await loadCheckpoint(join(out, 'model.ckpt'));
  t.deepEqual([...back.state.params], [...original.state.params].map(Math.fround));
  t.is(back.options.dtype, 'float32');
});

test('a vocabulary out of order (as --extend-vocab leaves it) is exported ascending, as the same function', async (t) => {
  const original = gatedCheckpoint({ cell: 'lstm', dtype: 'float64', L: 2, H: 4, seed: 8 });
  const order = [3, 0, 8, 1, 5, 2, 7, 4, 6]; // symbol ids renumbered: the model's own order is not ascending
  const unsorted = { ...original, model: { ...original.model, vocab: Uint32Array.from(order, (i) => original.model.vocab[i]) } };
  const ckpt = join(dir.path, 'unsorted.ckpt');
  await saveCheckpoint(ckpt, unsorted);
  const out = join(dir.path, 'unsorted');
  succeeded(t, await runCli(['export', '--checkpoint', ckpt, '--out', out]), 'export');
  const vocab = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).vocab as number[];
  t.deepEqual(vocab, [...unsorted.model.vocab].sort((a, b) => a - b));
  succeeded(t, await runCli(['import', '--from', join(out, 'model.safetensors')]), 'import from the file');
  const imported = join(out, 'model.ckpt');
  t.deepEqual([...(await loadCheckpoint(imported)).model.vocab], vocab);

  const text = dir.file('unsorted.txt', `${GATED_SYMBOLS.join('')}the bat ate the hat é😀\n`.repeat(4));
  const evaluate = async (path: string) => JSON.parse((await runCli(['eval', '--checkpoint', path, '--text-file', text, '--json'])).stdout).natsPerChar as number;
  const [before, after] = await Promise.all([evaluate(ckpt), evaluate(imported)]);
  t.true(before > 0);
  // the same sums in another order: equal to rounding
  t.true(Math.abs(after - before) <= 1e-12 * before, `eval: ${after} vs ${before}`);
});
