import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { saveCheckpoint } from '../src/checkpoint/index.js';
import { folderSnapshot, oneLineError, runCli, succeeded, tempDir } from './fixtures/harness.js';
import { gatedCheckpoint } from './fixtures/gated-model.js';

const dir = tempDir('export-errors-');
test.after.always(() => dir.remove());

const ckpt = join(dir.path, 'lstm.ckpt');
const good = join(dir.path, 'good'); // a well-formed export that the import cases spoil a copy of
const ready = (async () => {
  await saveCheckpoint(ckpt, gatedCheckpoint({ cell: 'lstm', dtype: 'float64', L: 2, H: 3, seed: 9 }));
  const result = await runCli(['export', '--checkpoint', ckpt, '--out', good]);
  if (result.code !== 0) throw new Error(result.stderr);
})();
test.before(() => ready);

/** The tests run serially: each one's snapshot covers the whole folder. Runs args, expecting exit 2 in one line matching pattern, and that nothing under the temp folder changed. */
async function refused(t: ExecutionContext, args: readonly string[], pattern: RegExp): Promise<void> {
  const before = folderSnapshot(dir.path);
  const result = await runCli(args);
  oneLineError(t, result, args.join(' '));
  t.regex(result.stderr, pattern);
  t.deepEqual(Object.keys(folderSnapshot(dir.path)), Object.keys(before), 'a file was written');
  t.deepEqual(folderSnapshot(dir.path), before, 'a file was changed');
}

/** A copy of the good export with one file replaced. */
function spoiled(name: string, file: string, contents: Uint8Array | string): string {
  const folder = join(dir.path, name);
  mkdirSync(folder);
  for (const f of ['model.safetensors', 'config.json']) writeFileSync(join(folder, f), readFileSync(join(good, f)));
  writeFileSync(join(folder, file), contents);
  return folder;
}

test.serial('export: an unknown --format says which formats there are', async (t) => {
  await refused(t, ['export', '--checkpoint', ckpt, '--format', 'gguf', '--out', join(dir.path, 'x')], /unknown --format 'gguf' \(formats: safetensors, onnx, web\)/);
});

test.serial('export: a bad --dtype, a missing --out, a flag it does not take', async (t) => {
  await refused(t, ['export', '--checkpoint', ckpt, '--dtype', 'float16', '--out', join(dir.path, 'x')], /--dtype is 'float16'; safetensors takes float64 or float32/);
  await refused(t, ['export', '--checkpoint', ckpt, '--format', 'onnx', '--dtype', 'float64', '--out', join(dir.path, 'x.onnx')], /--dtype is 'float64'; onnx takes float32 \(onnxruntime's recurrent operators run in float32\)/);
  await refused(t, ['export', '--checkpoint', ckpt], /pass --out PATH, where to write the safetensors export/);
  await refused(t, ['export', '--checkpoint', ckpt, '--out', join(dir.path, 'x'), '--forse'], /unknown flag --forse \(did you mean --force\?\)/);
});

test.serial('export: an --out that holds an export is kept unless --force', async (t) => {
  await refused(t, ['export', '--checkpoint', ckpt, '--out', good], /model\.safetensors exists \(pass --force/);
  await refused(t, ['export', '--checkpoint', ckpt, '--out', ckpt], /lstm\.ckpt is a file; a safetensors export is a folder/);
  const onnx = join(dir.path, 'kept.onnx');
  succeeded(t, await runCli(['export', '--checkpoint', ckpt, '--format', 'onnx', '--out', onnx]), 'onnx export');
  await refused(t, ['export', '--checkpoint', ckpt, '--format', 'onnx', '--out', onnx], /kept\.onnx exists \(pass --force/);
  const again = join(dir.path, 'again');
  succeeded(t, await runCli(['export', '--checkpoint', ckpt, '--out', again]), 'first export');
  succeeded(t, await runCli(['export', '--checkpoint', ckpt, '--out', again, '--force', '--dtype', 'float32']), 'forced export');
  t.true(readFileSync(join(again, 'model.safetensors')).includes('"F32"'));
});

test.serial('export: a folder that cannot be written', async (t) => {
  await refused(t, ['export', '--checkpoint', ckpt, '--format', 'onnx', '--out', join(ckpt, 'model.onnx')], /cannot write the export to .*lstm\.ckpt\/model\.onnx/);
  await refused(t, ['export', '--checkpoint', ckpt, '--out', join(ckpt, 'sub')], /cannot write the export to .*lstm\.ckpt\/sub/);
});

test.serial('export: a missing or damaged checkpoint', async (t) => {
  await refused(t, ['export', '--checkpoint', join(dir.path, 'none.ckpt'), '--out', join(dir.path, 'x')], /checkpoint not found/);
  const damaged = dir.file('damaged.ckpt', readFileSync(ckpt).subarray(0, 200));
  await refused(t, ['export', '--checkpoint', damaged, '--out', join(dir.path, 'x')], /damaged\.ckpt/);
});

test.serial('import: a missing folder, or one without an export', async (t) => {
  await refused(t, ['import', '--from', join(dir.path, 'nowhere')], /config\.json not found/);
  await refused(t, ['import'], /pass --from DIR/);
});

test.serial('import: a truncated or crafted model.safetensors writes no checkpoint', async (t) => {
  const model = readFileSync(join(good, 'model.safetensors'));
  await refused(t, ['import', '--from', spoiled('truncated', 'model.safetensors', model.subarray(0, model.length - 8))], /not a valid safetensors file: .*outside the/);
  const crafted = Buffer.from(model);
  crafted.writeBigUInt64LE(2n ** 60n, 0);
  await refused(t, ['import', '--from', spoiled('crafted', 'model.safetensors', crafted)], /header length 1152921504606846976 runs past the end of the file/);
});

test.serial('import: a config that does not fit the tensors, or is not a config', async (t) => {
  const config = JSON.parse(readFileSync(join(good, 'config.json'), 'utf8'));
  await refused(t, ['import', '--from', spoiled('hidden', 'config.json', JSON.stringify({ ...config, hidden: 4 }))], /holds rnn\.weight_ih_l0 of shape \[12, 9\], where a lstm model of 2 layers, H=4, K=9 has \[16, 9\]/);
  await refused(t, ['import', '--from', spoiled('cell', 'config.json', JSON.stringify({ ...config, cell: 'gru' }))], /shape \[12, 9\], where a gru model/);
  await refused(t, ['import', '--from', spoiled('layers', 'config.json', JSON.stringify({ ...config, layers: 1 }))], /holds a tensor rnn\.weight_ih_l1, which a lstm model of 1 layer/);
  await refused(t, ['import', '--from', spoiled('unknown-cell', 'config.json', JSON.stringify({ ...config, cell: 'transformer' }))], /its cell is "transformer"/);
  await refused(t, ['import', '--from', spoiled('not-json', 'config.json', '{ "cell": ')], /config\.json is not a char-rnn export config: it is not JSON/);
  await refused(t, ['import', '--from', spoiled('twice', 'config.json', JSON.stringify({ ...config, vocab: [config.vocab[0], ...config.vocab.slice(0, -1)] }))], /its vocab lists 10 after 10, where code points go in strictly ascending order/);
  await refused(t, ['import', '--from', spoiled('unsorted', 'config.json', JSON.stringify({ ...config, vocab: [config.vocab[1], config.vocab[0], ...config.vocab.slice(2)] }))], /its vocab lists 10 after 32, where code points go in strictly ascending order/);
  await refused(t, ['import', '--from', spoiled('surrogate', 'config.json', JSON.stringify({ ...config, vocab: [...config.vocab.slice(0, -1), 0xd800] }))], /its vocab holds 55296, not a Unicode scalar value/);
  await refused(t, ['import', '--from', spoiled('nan', 'model.safetensors', withValue(readFileSync(join(good, 'model.safetensors')), NaN))], /holds NaN \(parameter \d+\); a model to import has finite weights/);
  await refused(t, ['import', '--from', spoiled('inf', 'model.safetensors', withValue(readFileSync(join(good, 'model.safetensors')), Infinity))], /holds Infinity/);
});

/** The safetensors file with its last float64 value replaced. */
function withValue(model: Buffer, value: number): Buffer {
  const copy = Buffer.from(model);
  copy.writeDoubleLE(value, copy.length - 8);
  return copy;
}

test.serial('import: an existing checkpoint is kept unless --force', async (t) => {
  const out = dir.file('existing.ckpt', 'keep me');
  await refused(t, ['import', '--from', good, '--out', out], /existing\.ckpt exists \(pass --force/);
  succeeded(t, await runCli(['import', '--from', good, '--out', out, '--force']), 'forced import');
  t.not(readFileSync(out, 'utf8'), 'keep me');
});
