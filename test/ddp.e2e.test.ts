/**
 * examples/pytorch/train_ddp.py under torchrun (gloo, 2 CPU ranks): it trains, its output imports,
 * its rank split is the data-parallel split (2 ranks = 1 rank), and from our export it takes the
 * same steps as 'char-rnn train --init-from'.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { decodeSafetensors } from '../src/export/safetensors.js';
import { pseudoEnglish, runCli, runCommand, succeeded, tempDir, type CliResult } from './fixtures/harness.js';
import { PYTHON, pythonHas } from './fixtures/python.js';

const TRAIN_DDP = fileURLToPath(new URL('../../examples/pytorch/train_ddp.py', import.meta.url));
const torch = pythonHas(['torch', 'torch.distributed']);
if (!torch.ok) console.log(`skipping the DDP tests: ${torch.reason}`);
const torchTest = torch.ok ? test.serial : test.skip; // serial: two ranks each already fill this machine's cores

const dir = tempDir('ddp-');
test.after.always(() => dir.remove());

const text = pseudoEnglish(6000, 91);
const corpus = dir.file('corpus.txt', text.slice(0, 5000));
const known = new Set(text.slice(0, 5000));
const heldOut = dir.file('held-out.txt', [...text.slice(5000)].filter((c) => known.has(c)).join(''));

/**
 * torchrun as PYTHON's module. --redirects and --tee are named because torch 1.13 under Python
 * 3.11 cannot parse their default '0' (it looks the value up by iterating an IntFlag, which no
 * longer yields NONE); '1' sends rank output to log files and tees stdout back, as
 * '[default0]:'-prefixed lines.
 */
function torchrun(ranks: number, args: readonly string[]): Promise<CliResult> {
  const launcher = ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', String(ranks), '--redirects', '1', '--tee', '1', '--log_dir', join(dir.path, 'logs')];
  return runCommand(PYTHON, [...launcher, TRAIN_DDP, ...args], { env: { OMP_NUM_THREADS: '1' } });
}

const SMALL = ['--corpus', corpus, '--hidden', '16', '--streams', '4', '--seq-length', '20'];

/** The numbers of rank 0's log lines `${label} X nats/char`, in order. */
function logged(stdout: string, label: RegExp): number[] {
  const line = new RegExp(`^(?:\\[\\w+\\]:)?${label.source} (\\S+) nats/char$`, 'gm');
  return [...stdout.matchAll(line)].map((m) => Number(m[1]));
}

function tensors(folder: string): Map<string, Float64Array> {
  const { tensors: list } = decodeSafetensors(readFileSync(join(folder, 'model.safetensors')), folder);
  return new Map(list.map((x) => [x.name, x.values]));
}

/** The largest |a - b| over every entry of two exports with the same tensors. */
function maxDifference(t: ExecutionContext, a: string, b: string): number {
  const [x, y] = [tensors(a), tensors(b)];
  t.deepEqual([...x.keys()].sort(), [...y.keys()].sort());
  let worst = 0;
  for (const [name, values] of x) values.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - y.get(name)![i]))));
  return worst;
}

async function importAndUse(t: ExecutionContext, folder: string): Promise<number> {
  const checkpoint = join(dir.path, `${folder.split('/').at(-1)}.ckpt`);
  succeeded(t, await runCli(['import', '--from', folder, '--out', checkpoint]), `import ${folder}`);
  const sample = await runCli(['sample', '--checkpoint', checkpoint, '--prime', 'The ', '--length', '50', '--seed', '4']);
  succeeded(t, sample, 'sample');
  t.true([...sample.stdout.trimEnd()].length >= 54 && [...sample.stdout.trimEnd()].every((c) => known.has(c)), sample.stdout);
  const result = await runCli(['eval', '--checkpoint', checkpoint, '--text-file', heldOut, '--json']);
  succeeded(t, result, 'eval');
  return JSON.parse(result.stdout).natsPerChar as number;
}

torchTest('2 ranks train a gru from scratch: the loss falls, and char-rnn imports, samples and evaluates the result (Python: torch)', async (t) => {
  const out = join(dir.path, 'scratch');
  const run = await torchrun(2, [...SMALL, '--cell', 'gru', '--layers', '2', '--steps', '60', '--eta', '0.01', '--log-every', '10', '--out', out]);
  succeeded(t, run, 'torchrun train_ddp.py');
  const losses = logged(run.stdout, /step \d+\/60: loss/);
  t.is(losses.length, 7, run.stdout); // steps 1, 10, ..., 60
  t.true(losses.at(-1)! < losses[0] - 0.3, `training loss ${losses[0]} -> ${losses.at(-1)}`);
  const [before, after] = logged(run.stdout, /validation (?:before|after):/);
  t.true(after < before - 0.3, `validation ${before} -> ${after}`);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  t.like(config, { format: 'parallel-char-rnn/1', cell: 'gru', layers: 2, hidden: 16, dtype: 'float64', source_checkpoint_sha256: '' });
  t.deepEqual(config.vocab, [...known].map((c) => c.codePointAt(0)!).sort((a, b) => a - b));
  const nats = await importAndUse(t, out);
  t.true(nats < before, `char-rnn eval ${nats} after training, ${before} before`);
});

torchTest('2 ranks equal 1 rank with the same global streams: the rank split is the data-parallel split (Python: torch)', async (t) => {
  const args = [...SMALL, '--cell', 'lstm', '--layers', '2', '--steps', '10', '--eta', '0.01', '--log-every', '1'];
  const one = await torchrun(1, [...args, '--out', join(dir.path, 'one-rank')]);
  succeeded(t, one, '1 rank');
  const two = await torchrun(2, [...args, '--out', join(dir.path, 'two-ranks')]);
  succeeded(t, two, '2 ranks');
  const [a, b] = [logged(one.stdout, /step \d+\/10: loss/), logged(two.stdout, /step \d+\/10: loss/)];
  t.is(a.length, 10);
  t.deepEqual(b, a); // as logged, to 6 decimals
  // Only the order of the sums differs (each rank's mean, then gloo's mean of the ranks): the
  // weights, moved about 0.1 by ten steps, agree to rounding.
  const worst = maxDifference(t, join(dir.path, 'one-rank'), join(dir.path, 'two-ranks'));
  t.true(worst <= 1e-12, `weights differ by up to ${worst}`);
});

torchTest('from --init of our export, 2 ranks take the same steps as char-rnn train --init-from (Python: torch)', async (t) => {
  const common = ['--corpus', corpus, '--streams', '4', '--seq-length', '20', '--steps', '12'];
  const first = join(dir.path, 'ours-start');
  succeeded(t, await runCli(['train', ...common, '--cell', 'gru', '--layers', '2', '--hidden', '16', '--dtype', 'float64', '--optimizer', 'adam',
    '--eval-every', '0', '--sample-every', '0', '--no-report', '--out', first], {}), 'train the start');
  const start = join(dir.path, 'start-export');
  succeeded(t, await runCli(['export', '--checkpoint', join(first, 'last.ckpt'), '--out', start]), 'export the start');

  const ours = join(dir.path, 'ours-fine-tuned');
  succeeded(t, await runCli(['train', ...common, '--init-from', join(first, 'last.ckpt'), '--cell', 'gru', '--layers', '2', '--hidden', '16',
    '--dtype', 'float64', '--optimizer', 'adam', '--eval-every', '0', '--sample-every', '0', '--no-report', '--out', ours], {}), 'train --init-from');
  const oursExport = join(dir.path, 'ours-fine-tuned-export');
  succeeded(t, await runCli(['export', '--checkpoint', join(ours, 'last.ckpt'), '--out', oursExport]), 'export ours');

  const theirs = join(dir.path, 'ddp-fine-tuned');
  const run = await torchrun(2, [...common, '--init', start, '--log-every', '4', '--out', theirs]);
  succeeded(t, run, 'torchrun train_ddp.py --init');
  const moved = maxDifference(t, start, oursExport);
  const worst = maxDifference(t, oursExport, theirs);
  t.true(moved > 1e-3, `twelve steps moved the weights by only ${moved}`);
  t.true(worst <= 1e-12, `train_ddp.py and char-rnn train differ by up to ${worst} (the steps moved them by ${moved})`);
  const [before, after] = logged(run.stdout, /validation (?:before|after):/);
  t.true(after < before, `validation ${before} -> ${after}`);
  const config = JSON.parse(readFileSync(join(theirs, 'config.json'), 'utf8'));
  t.regex(config.source_checkpoint_sha256, /^[0-9a-f]{64}$/);
  await importAndUse(t, theirs);
});

torchTest('train_ddp.py refuses a corpus character outside --init\'s vocabulary and streams that do not split, once, in one line (Python: torch)', async (t) => {
  const ours = join(dir.path, 'refusals-run');
  succeeded(t, await runCli(['train', '--corpus', corpus, '--cell', 'gru', '--layers', '1', '--hidden', '4', '--dtype', 'float64', '--steps', '1',
    '--streams', '2', '--seq-length', '10', '--eval-every', '0', '--sample-every', '0', '--no-report', '--out', ours], {}), 'train');
  const exported = join(dir.path, 'refusals-export');
  succeeded(t, await runCli(['export', '--checkpoint', join(ours, 'last.ckpt'), '--out', exported]), 'export');
  const odd = dir.file('odd.txt', `${text.slice(0, 500)}\u00e9`);
  const vocab = await torchrun(2, ['--corpus', odd, '--init', exported, '--streams', '2', '--seq-length', '10', '--steps', '1', '--out', join(dir.path, 'never')]);
  t.not(vocab.code, 0);
  const lines = vocab.stderr.split('\n').filter((line) => line.startsWith('train_ddp.py: '));
  t.deepEqual(lines, [`train_ddp.py: ${odd} has 1 character(s) not in the vocabulary of --init ${exported}: 'é' (U+00E9)`], vocab.stderr);

  const uneven = await torchrun(2, [...SMALL, '--streams', '3', '--steps', '1', '--out', join(dir.path, 'never')]);
  t.not(uneven.code, 0);
  t.deepEqual(uneven.stderr.split('\n').filter((line) => line.startsWith('train_ddp.py: ')), ['train_ddp.py: --streams 3 does not split evenly across 2 ranks']);
});
