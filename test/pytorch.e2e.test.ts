/**
 * examples/pytorch/char_rnn.py against our CLI: a model trained here and exported loads into
 * nn.LSTM / nn.GRU / nn.RNN (or the example's MGU module) + nn.Linear with strict=True, and scores a text as 'char-rnn eval' does.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { pseudoEnglish, runCli, runCommand, succeeded, tempDir, type CliResult } from './fixtures/harness.js';
import { PYTHON, pythonHas } from './fixtures/python.js';
import { GATED_CELLS } from './fixtures/cells.js';

const CHAR_RNN_PY = fileURLToPath(new URL('../../examples/pytorch/char_rnn.py', import.meta.url));
const torch = pythonHas(['torch']);
if (!torch.ok) console.log(`skipping the PyTorch tests: ${torch.reason}`);
const torchTest = torch.ok ? test : test.skip;

const dir = tempDir('pytorch-');
test.after.always(() => dir.remove());

const text = pseudoEnglish(6000, 77);
const corpus = dir.file('corpus.txt', text.slice(0, 5000));
const known = new Set(text.slice(0, 5000));
// held out: text the model never trained on, in characters it knows
const heldOut = dir.file('held-out.txt', [...text.slice(5000)].filter((c) => known.has(c)).join(''));

function charRnnPy(args: readonly string[]): Promise<CliResult> {
  return runCommand(PYTHON, [CHAR_RNN_PY, ...args], { env: { OMP_NUM_THREADS: '1' } });
}

async function evalNats(t: Parameters<typeof succeeded>[0], checkpoint: string): Promise<number> {
  const result = await runCli(['eval', '--checkpoint', checkpoint, '--text-file', heldOut, '--json']);
  succeeded(t, result, `eval ${checkpoint}`);
  return JSON.parse(result.stdout).natsPerChar as number;
}

async function scoreNats(t: Parameters<typeof succeeded>[0], folder: string, dtype = 'float64'): Promise<number> {
  const result = await charRnnPy(['score', folder, heldOut, '--json', '--dtype', dtype]);
  succeeded(t, result, `char_rnn.py score ${folder} --dtype ${dtype}`);
  return JSON.parse(result.stdout).natsPerChar as number;
}

const relative = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

for (const { cell, L } of [{ cell: 'rnn', L: 1 }, ...GATED_CELLS.map((cell) => ({ cell, L: 2 }))]) {
  torchTest(`${cell} (L=${L}): char_rnn.py scores our float64 export as char-rnn eval does, to 1e-9 (Python: torch)`, async (t) => {
    const run = join(dir.path, `run-${cell}`);
    succeeded(t, await runCli([
      'train', '--corpus', corpus, '--cell', cell, '--layers', String(L), '--hidden', '16', '--dtype', 'float64', '--optimizer', 'adam',
      '--steps', '30', '--streams', '4', '--seq-length', '20', '--eval-every', '0', '--sample-every', '0', '--no-report', '--out', run,
    ], {}), 'train');
    const checkpoint = join(run, 'last.ckpt');
    const f64 = join(dir.path, `${cell}-f64`);
    succeeded(t, await runCli(['export', '--checkpoint', checkpoint, '--format', 'safetensors', '--out', f64]), 'export float64');

    const [ours, theirs] = await Promise.all([evalNats(t, checkpoint), scoreNats(t, f64)]);
    t.true(ours > 0.5 && ours < 5, `eval gives ${ours} nats/char`);
    t.true(relative(theirs, ours) <= 1e-9, `char_rnn.py ${theirs} vs char-rnn eval ${ours}`);

    // float32 export: the weights rounded to float32, then read back as float64 by both sides,
    // is again one model, scored the same to 1e-9 by both.
    const f32 = join(dir.path, `${cell}-f32`);
    succeeded(t, await runCli(['export', '--checkpoint', checkpoint, '--out', f32, '--dtype', 'float32']), 'export float32');
    const imported = join(dir.path, `${cell}-f32.ckpt`);
    succeeded(t, await runCli(['import', '--from', f32, '--out', imported]), 'import float32');
    const [ours32, theirs32in64, theirs32] = await Promise.all([evalNats(t, imported), scoreNats(t, f32), scoreNats(t, f32, 'float32')]);
    t.true(relative(theirs32in64, ours32) <= 1e-9, `float32 file in float64: char_rnn.py ${theirs32in64} vs char-rnn eval ${ours32}`);
    // Computed in float32, the loss moves from the float64 model's by the rounding of the weights
    // (2^-24 relative each) and of every product and sum (another 2^-24 each, over sums of about
    // H + K = 50 terms): a few 1e-7 relative at worst for these small models (about 1e-9 seen).
    // 1e-5 is a hundred float32 epsilons: it passes rounding, and fails a misread tensor.
    t.true(relative(theirs32, ours) <= 1e-5, `char_rnn.py --dtype float32 ${theirs32} vs float64 eval ${ours}`);

    const sample = await charRnnPy(['sample', f64, '--prime', 'The ', '--length', '120', '--temperature', '0.8', '--seed', '3']);
    succeeded(t, sample, 'char_rnn.py sample');
    const drawn = [...sample.stdout.replace(/\n$/, '')];
    t.is(drawn.length, 4 + 120, JSON.stringify(sample.stdout));
    t.is(drawn.slice(0, 4).join(''), 'The ');
    t.true(drawn.every((c) => known.has(c)), `a character outside the vocabulary in ${JSON.stringify(sample.stdout)}`);
    const again = await charRnnPy(['sample', f64, '--prime', 'The ', '--length', '120', '--temperature', '0.8', '--seed', '3']);
    t.is(again.stdout, sample.stdout, 'the same seed draws the same text');
  });
}

torchTest('char_rnn.py names a character outside the vocabulary in one line, exit 2 (Python: torch)', async (t) => {
  const run = join(dir.path, 'run-unknown');
  succeeded(t, await runCli([
    'train', '--corpus', corpus, '--cell', 'gru', '--layers', '1', '--hidden', '4', '--dtype', 'float64', '--steps', '1', '--streams', '2',
    '--seq-length', '10', '--eval-every', '0', '--sample-every', '0', '--no-report', '--out', run,
  ], {}), 'train');
  const exported = join(dir.path, 'unknown-export');
  succeeded(t, await runCli(['export', '--checkpoint', join(run, 'last.ckpt'), '--out', exported]), 'export');
  const result = await charRnnPy(['score', exported, dir.file('odd.txt', 'the \u00e9t\u00e9')]);
  t.is(result.code, 2, result.stderr);
  t.regex(result.stderr, /^char_rnn\.py: .*odd\.txt has 1 character\(s\) not in the model's vocabulary: 'é' \(U\+00E9\)\n$/);
});
