/**
 * The gated cells' throughput: `npm run bench -- --cells` (or node dist/bench/cells.js). For each
 * cell x H x L and thread count, trains B streams of T characters for a number of steps chosen
 * from the cell's FLOP count (about --target-gflop of work a run), every run a fresh process
 * (run-one.ts), round-robin over the configurations, beside PyTorch's nn.LSTM / nn.GRU on the same
 * text, the same shapes and the same steps (bench/peers/torch_cells_train.py), in float64 and
 * float32 on both sides (--dtype). Both sides leave --warmup-steps steps out of the clock. Prints medians and ratios
 * measured in this one invocation: figures from different invocations are not comparable.
 */
import { realpathSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, arch, cpus, platform, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCorpusFile, loadDefaultCorpus } from '../src/corpus.js';
import { UserError } from '../src/errors.js';
import { modelLayout, type ModelDims } from '../src/model/cells/cell.js';
import { CELL_NAMES, cellNamed, findCell } from '../src/model/cells/registry.js';
import { optionsHelp, parseOptions, type OptionSpec } from '../src/options.js';
import { decodeIds } from '../src/symbols.js';
import { firstLine, fixed, formatTable, gflops, group, isPositiveInt, median, parseJsonLine, parseList, ratio, runMain, spawnOutput } from './format.js';
import { findPeer, type PeerConfig, type PythonPeer } from './peers.js';
import type { RunResult } from './run-one.js';
import { measureSimdPeak } from './simd-peak.js';
import type { Dtype } from '../src/model/precision.js';

const CELLS_OPTIONS: readonly OptionSpec[] = [
  { name: 'cells-list', kind: 'string', default: 'lstm,gru', help: `comma-separated cells (${CELL_NAMES.join(', ')}; rnn only with L=1)` },
  { name: 'hidden-list', kind: 'string', default: '128,256,512', help: 'comma-separated hidden units H' },
  { name: 'layers-list', kind: 'string', default: '1,2', help: 'comma-separated layer counts L' },
  { name: 'threads-list', kind: 'string', default: '1,2', help: 'comma-separated thread counts, ours and torch.set_num_threads alike (1 is always added)' },
  { name: 'streams', kind: 'int', default: 32, min: 1, max: 4096, help: 'streams B' },
  { name: 'seq-length', kind: 'int', default: 64, min: 1, max: 100000, help: 'characters per sequence T' },
  { name: 'target-gflop', kind: 'number', default: 20, min: 0, minExclusive: true, help: 'work of the timed steps of a run, in GFLOP: steps = max(2, ceil(this / (FLOPs per char x B x T)))' },
  { name: 'warmup-steps', kind: 'int', default: 2, min: 0, help: 'untimed steps before the timed ones, both sides' },
  { name: 'runs', kind: 'int', default: 3, min: 1, help: 'runs of each configuration' },
  { name: 'corpus', kind: 'string', metavar: 'FILE', help: 'UTF-8 text file (default: the bundled corpus, written once to a temporary file for both sides)' },
  { name: 'torch', kind: 'string', metavar: 'FILE', help: 'the PyTorch peer (default: bench/peers/torch_cells_train.py)' },
  { name: 'torch-threads', kind: 'string', metavar: 'LIST', help: 'comma-separated torch.set_num_threads values, a subset of the thread counts (default: all of them)' },
  { name: 'dtypes', kind: 'string', default: 'float64,float32', help: 'comma-separated dtypes, ours (--dtype) and torch\'s alike' },
  { name: 'python', kind: 'string', metavar: 'FILE', help: 'python with torch (default: $PYTHON, else the first of python3, /usr/bin/python3 that imports torch)' },
  { name: 'no-torch', kind: 'flag', help: 'skip the PyTorch columns' },
  { name: 'help', kind: 'flag', help: 'print this help' },
];

const runOneScript = fileURLToPath(new URL('./run-one.js', import.meta.url));
const torchCellsScript = fileURLToPath(new URL('../../bench/peers/torch_cells_train.py', import.meta.url)); // this file runs as dist/bench/cells.js

/** The formula of each cell's trainFlopsPerChar (its descriptor, src/model/cells/), for the note under the table. */
const FLOP_FORMULAS: Readonly<Record<string, string>> = {
  rnn: '3*(2*H^2 + 2*K*H): forward W h and V h; the one-hot U x is a column lookup',
  lstm: '3*(2*G*H^2*(2L-1) + 2*K*H), G=4: forward layer 0\'s W_hh h, each higher layer\'s W_ih x and W_hh h, the output\'s V h',
  gru: '3*(2*G*H^2*(2L-1) + 2*K*H), G=3: the same products as the LSTM\'s, with three gates',
};

interface Model {
  readonly dims: ModelDims;
  readonly params: number; // P
  readonly flopsPerChar: number;
  readonly steps: number; // timed steps, after the warm-up
}

interface OurConfig {
  readonly model: Model;
  readonly dtype: string;
  readonly threads: number;
  readonly runs: RunResult[];
  failure: string | undefined; // set when a run failed: this configuration is dropped, the rest go on
}

interface TorchConfig extends PeerConfig {
  readonly model: Model;
  readonly threads: number;
  readonly dtype: string;
  reported: TorchResult | undefined; // the last run's line
}

/** What torch_cells_train.py prints. */
interface TorchResult {
  readonly chars_per_sec: number;
  readonly seconds: number;
  readonly chars: number;
  readonly threads: number;
  readonly dtype: string;
  readonly vocab: number;
  readonly params: number;
  readonly blas: string; // torch's BLAS_INFO
  readonly blas_library?: string; // the libblas files its process mapped (/proc/self/maps)
}

interface Turn {
  readonly label: string;
  readonly once: () => Promise<number>;
}

const out = (text: string): boolean => process.stdout.write(text);

export async function runCells(argv: readonly string[]): Promise<void> {
  const { values: v } = parseOptions('bench --cells', CELLS_OPTIONS, argv);
  if (v.help === true) {
    out(`usage: npm run bench -- --cells [options]   (or: node dist/bench/cells.js [options])\n\n${optionsHelp(CELLS_OPTIONS)}\n`);
    return;
  }
  const cellNames = (v['cells-list'] as string).split(',').map((name) => name.trim());
  const unknown = cellNames.filter((name) => findCell(name) === undefined);
  if (unknown.length > 0) throw new UserError(`--cells-list takes ${CELL_NAMES.join(', ')}, got '${unknown.join(', ')}'`);
  const hiddens = parseList('hidden-list', v['hidden-list'] as string, (n) => isPositiveInt(n) && n <= 4096, 'integers from 1 to 4096');
  const layerCounts = parseList('layers-list', v['layers-list'] as string, (n) => isPositiveInt(n) && n <= 16, 'integers from 1 to 16');
  const threadCounts = [...new Set([1, ...parseList('threads-list', v['threads-list'] as string, isPositiveInt, 'positive integers')])].sort((a, b) => a - b);
  const streams = v.streams as number;
  const T = v['seq-length'] as number;
  const targetGflop = v['target-gflop'] as number;
  const warmup = v['warmup-steps'] as number;
  const runs = v.runs as number;
  if (threadCounts.some((t) => t > streams)) throw new UserError(`--threads-list goes above --streams ${streams}: threads beyond the streams would idle`);
  const torchThreads = v['torch-threads'] === undefined ? threadCounts : [...new Set(parseList('torch-threads', v['torch-threads'] as string, (n) => threadCounts.includes(n), `thread counts of --threads-list (${threadCounts.join(', ')})`))];
  const dtypes = (v.dtypes as string).split(',').map((d) => d.trim());
  if (dtypes.some((d) => d !== 'float64' && d !== 'float32')) throw new UserError(`--dtypes takes float64 and float32, got '${v.dtypes}'`);
  const torchDtypes = v['no-torch'] === true ? [] : dtypes;

  // Both sides read one file: the user's, or the bundled corpus written out once.
  const given = v.corpus as string | undefined;
  const dir = given === undefined ? await mkdtemp(join(tmpdir(), 'char-rnn-cells-')) : undefined;
  try {
    const corpus = given === undefined ? await loadDefaultCorpus() : await loadCorpusFile(given);
    const corpusPath = dir === undefined ? resolve(given as string) : join(dir, 'corpus.txt');
    if (dir !== undefined) await writeFile(corpusPath, decodeIds(corpus.ids, corpus.vocab), 'utf8');
    const K = corpus.vocab.length;

    const models: Model[] = [];
    const skipped: string[] = [];
    for (const cell of cellNames) {
      for (const L of layerCounts) {
        if (!cellNamed(cell).stacks && L !== 1) {
          skipped.push(`${cell} L=${L} (one layer only)`);
          continue;
        }
        for (const H of hiddens) {
          const dims: ModelDims = { cell, L, H, K };
          const descriptor = cellNamed(cell);
          const flopsPerChar = descriptor.trainFlopsPerChar(dims);
          const steps = Math.max(2, Math.ceil((targetGflop * 1e9) / (flopsPerChar * streams * T)));
          models.push({ dims, params: modelLayout(descriptor, dims).size, flopsPerChar, steps });
        }
      }
    }
    if (models.length === 0) throw new UserError(`no configuration to run: ${skipped.join(', ')}`);

    const torch = torchDtypes.length === 0 ? 'not asked for (--no-torch)' : await findTorch((v.torch as string | undefined) ?? torchCellsScript, v.python as string | undefined);
    const ours: OurConfig[] = [];
    const peers: TorchConfig[] = [];
    const round: Turn[] = [];
    for (const model of models) {
      for (const dtype of dtypes) {
        if (dtype !== 'float64' && !cellNamed(model.dims.cell).stacks) continue; // the rnn is float64 only
        for (const threads of threadCounts) {
          const config: OurConfig = { model, dtype, threads, runs: [], failure: undefined };
          ours.push(config);
          round.push(ourTurn(config, streams, T, warmup, corpusPath));
        }
      }
      if (typeof torch === 'string') continue;
      for (const dtype of torchDtypes) {
        for (const threads of torchThreads) {
          const config = torchConfig(torch, model, threads, dtype, streams, T, warmup, corpusPath);
          peers.push(config);
          round.push({ label: config.label, once: () => runTorchTurn(config) });
        }
      }
    }

    const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
    out(`parallel-char-rnn gated-cell benchmark, ${new Date().toISOString()}\n`);
    out(`machine: ${cpu}, ${availableParallelism()} cores, node ${process.version}, ${platform()} ${arch()}\n`);
    out(`corpus: ${corpus.source} (${group(corpus.ids.length)} characters, K=${K}), ${given === undefined ? `written to ${corpusPath}` : 'read'} by both sides\n`);
    out(
      `work per run: B=${streams} streams x T=${T} characters a step, ${warmup} untimed warm-up steps, then the steps of about ${targetGflop} GFLOP; ` +
        `${runs} run${runs === 1 ? '' : 's'} of each configuration, interleaved; every run a fresh process\n`,
    );
    out(typeof torch === 'string' ? `PyTorch skipped: ${torch}\n` : `PyTorch peer: ${torch.script} (${torch.python}: ${torch.versions}; ${torchDtypes.join(', ')}; torch.set_num_threads ${torchThreads.join(', ')})\n`);
    if (skipped.length > 0) out(`skipped: ${skipped.join(', ')}\n`);

    const started = performance.now();
    // The ceiling is timed at the start of every round, as the runs are: on a shared machine it moves with them.
    const peaks = new Map<string, number[]>(dtypes.map((dtype) => [dtype, []]));
    for (let run = 1; run <= runs; run++) {
      for (const dtype of dtypes) peaks.get(dtype)?.push(measureSimdPeak(dtype as Dtype));
      for (const { label, once } of round) {
        const rate = await once();
        if (Number.isFinite(rate)) process.stderr.write(`[run ${run}/${runs}] ${label}: ${group(rate)} chars/s\n`);
      }
    }

    const peak = new Map([...peaks].map(([dtype, rates]) => [dtype, median(rates)]));
    out(`\n${cellTable(ours, peers, runs, peak)}\n\n`);
    out(`GFLOP/s = chars/s x FLOPs per character (the cell's trainFlopsPerChar, a multiply-add counted as 2, training three times the forward; K=${K}):\n`);
    for (const cell of new Set(models.map((m) => m.dims.cell))) out(`  ${cell}: ${FLOP_FORMULAS[cell] ?? '(see its descriptor)'}\n`);
    const ceilings = [...peaks].map(([dtype, rates]) => `${dtype} ${fixed(peak.get(dtype) ?? Number.NaN, 1)} GFLOP/s (${rates.map((p) => fixed(p, 1)).join(', ')})`);
    out(
      `of SIMD ceiling: GFLOP/s per thread over what one core issues of the products' inner loop (two loads, four broadcasts, ` +
        `eight multiplies and eight adds of float64x2 or float32x4) with every operand in the L1 cache (bench/simd-peak.ts; the median of ${runs} timings, one at the start of each round): ${ceilings.join('; ')}\n`,
    );
    out(
      'chars/s: the timed steps only (after the warm-up; ours without the final checkpoint save); speedup: against the 1-thread row of the same model;\n' +
        'torch: nn.LSTM/nn.GRU(K, H, L) + nn.Linear(H, K) with autograd and Adagrad in the row\'s dtype, the same steps, torch.set_num_threads = the row\'s threads; best torch: its fastest thread count\n',
    );
    const blas = [...new Set(peers.flatMap((p) => (p.reported === undefined ? [] : [p.reported.blas])))];
    const mapped = [...new Set(peers.flatMap((p) => (p.reported?.blas_library === undefined ? [] : [p.reported.blas_library])))];
    if (blas.length > 0) {
      const library = mapped.length > 0 ? `it mapped ${mapped.join('; ')}` : `the system's libblas.so.3 is ${systemBlas()}`;
      out(`torch BLAS_INFO=${blas.join(', ')}${blas.includes('generic') ? ` (torch calls libblas.so.3: ${library}; the reference BLAS, Debian's default, makes it several times slower than OpenBLAS)` : ''}\n`);
    }
    for (const p of peers) {
      const r = p.reported;
      if (r !== undefined && r.vocab !== K) out(`${p.label}: read K=${r.vocab} symbols, ours K=${K}\n`);
      if (r !== undefined && r.params !== p.model.params && p.model.dims.cell !== 'rnn') out(`${p.label}: ${group(r.params)} parameters, ours ${group(p.model.params)}\n`);
    }
    for (const c of ours) if (c.failure !== undefined) out(`${ourLabel(c)} dropped: ${c.failure}\n`);
    for (const p of peers) if (p.failure !== undefined) out(`${p.label} dropped: ${p.failure}\n`);
    out(`\nevery run, chars/s in order:\n`);
    const detail = [
      ...ours.map((c) => [ourLabel(c), String(c.model.steps), c.runs.map((r) => group(r.timedCharsPerSec)).join(', ')]),
      ...peers.filter((p) => p.rates.length > 0).map((p) => [p.label, String(p.model.steps), p.rates.map(group).join(', ')]),
    ];
    out(`${formatTable(['configuration', 'timed steps', 'chars/s'], detail)}\n`);
    out(`benchmark wall time: ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  } finally {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }
}

function modelLabel({ dims: { cell, L, H } }: Model): string {
  return `${cell} L=${L} H=${H}`;
}

function ourLabel(config: OurConfig): string {
  return `ours ${config.dtype === 'float32' ? 'f32' : 'f64'} ${modelLabel(config.model)}, threads ${config.threads}`;
}

function ourTurn(config: OurConfig, streams: number, T: number, warmup: number, corpus: string): Turn {
  const { dims, steps } = config.model;
  const args = [
    runOneScript, '--cell', dims.cell, '--dtype', config.dtype, '--layers', String(dims.L), '--hidden', String(dims.H), '--seq-length', String(T),
    '--streams', String(streams), '--threads', String(config.threads), '--steps', String(warmup + steps), '--warmup-steps', String(warmup), '--corpus', corpus,
  ];
  return {
    label: ourLabel(config),
    once: async () => {
      if (config.failure !== undefined) return Number.NaN;
      try {
        const result = parseJsonLine<RunResult>(await spawnOutput(process.execPath, args));
        if (!(result.timedCharsPerSec > 0)) throw new Error(`run-one printed no usable figures: ${JSON.stringify(result)}`);
        config.runs.push(result);
        return result.timedCharsPerSec;
      } catch (error) {
        config.failure = firstLine(error);
        process.stderr.write(`${ourLabel(config)} dropped: ${config.failure}\n`);
        return Number.NaN;
      }
    },
  };
}

function torchConfig(peer: PythonPeer, model: Model, threads: number, dtype: string, streams: number, T: number, warmup: number, corpus: string): TorchConfig {
  const { dims, steps } = model;
  return {
    label: `torch ${dtype === 'float32' ? 'f32' : 'f64'} ${modelLabel(model)}, threads ${threads}`,
    streams,
    vocab: undefined,
    command: peer.python,
    args: [
      peer.script, '--cell', dims.cell, '--layers', String(dims.L), '--hidden', String(dims.H), '--streams', String(streams), '--seq-length', String(T),
      '--steps', String(steps), '--warmup', String(warmup), '--threads', String(threads), '--dtype', dtype, '--corpus', corpus,
    ],
    // torch.set_num_threads sets the count; these keep OpenMP and BLAS from starting more beside it.
    env: { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) },
    rates: [],
    failure: undefined,
    model,
    threads,
    dtype,
    reported: undefined,
  };
}

/** One run of a torch configuration: its chars/s, or NaN once it has failed. */
async function runTorchTurn(config: TorchConfig): Promise<number> {
  if (config.failure !== undefined) return Number.NaN;
  try {
    const result = parseJsonLine<TorchResult>(await spawnOutput(config.command, config.args, config.env));
    if (!(result.chars_per_sec > 0)) throw new Error(`printed no usable chars_per_sec: ${JSON.stringify(result)}`);
    config.rates.push(result.chars_per_sec);
    config.reported = result;
    return result.chars_per_sec;
  } catch (error) {
    config.failure = firstLine(error);
    process.stderr.write(`${config.label} dropped: ${config.failure}\n`);
    return Number.NaN;
  }
}

/**
 * The peer through findPeer (peers.ts), which runs $PYTHON, else python3: with no --python and no
 * $PYTHON, python3 and then /usr/bin/python3 are tried, the first that imports torch wins.
 */
export async function findTorch(script: string, python: string | undefined): Promise<PythonPeer | string> {
  const candidates = python !== undefined ? [python] : process.env.PYTHON !== undefined ? [process.env.PYTHON] : ['python3', '/usr/bin/python3'];
  const saved = process.env.PYTHON;
  const failures: string[] = [];
  try {
    for (const candidate of candidates) {
      process.env.PYTHON = candidate;
      const peer = await findPeer('torch', script);
      if (typeof peer !== 'string') return peer;
      failures.push(peer);
    }
  } finally {
    if (saved === undefined) delete process.env.PYTHON;
    else process.env.PYTHON = saved;
  }
  return `${failures.join('; ')} (pass --python FILE)`;
}

/** One row per model, dtype and thread count: our figures, then PyTorch's in that dtype, at the same threads and at its best. */
function cellTable(ours: readonly OurConfig[], peers: readonly TorchConfig[], runs: number, peak: ReadonlyMap<string, number>): string {
  const header = [
    'cell', 'L', 'H', 'params P', 'dtype', 'threads', `chars/s (median of ${runs})`, 'GFLOP/s', 'of SIMD ceiling', 'speedup vs 1 thread',
    'torch chars/s', 'ours/torch', 'best torch chars/s', 'ours/best torch',
  ];
  const rate = (config: OurConfig | undefined): number => (config === undefined ? Number.NaN : median(config.runs.map((r) => r.timedCharsPerSec)));
  const rows = ours.map((config) => {
    const { model, threads, dtype } = config;
    const ourRate = rate(config);
    const base = rate(ours.find((c) => c.model === model && c.dtype === dtype && c.threads === 1));
    const sameDtype = peers.filter((p) => p.model === model && p.dtype === dtype && p.rates.length > 0);
    const torchRate = median(sameDtype.find((p) => p.threads === threads)?.rates ?? []);
    const bestTorch = sameDtype.length === 0 ? Number.NaN : Math.max(...sameDtype.map((p) => median(p.rates)));
    return [
      model.dims.cell, String(model.dims.L), String(model.dims.H), group(model.params), dtype, String(threads),
      group(ourRate), gflops(ourRate * model.flopsPerChar), `${fixed((100 * ourRate * model.flopsPerChar) / 1e9 / threads / (peak.get(dtype) ?? Number.NaN), 0)}%`,
      `${fixed(ourRate / base, 2)}x`, group(torchRate), ratio(ourRate / torchRate), group(bestTorch), ratio(ourRate / bestTorch),
    ];
  });
  return formatTable(header, rows);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runMain('cells', runCells, process.argv.slice(2));
}

/** Which library provides libblas.so.3 on a Debian system, by the path its link resolves to. */
function systemBlas(): string {
  for (const link of ['/usr/lib/x86_64-linux-gnu/libblas.so.3', '/usr/lib/aarch64-linux-gnu/libblas.so.3']) {
    try {
      const target = realpathSync(link);
      return target.includes('openblas') ? `OpenBLAS (${target})` : target.includes('/blas/') ? `the reference BLAS (${target})` : target;
    } catch {
      // not this architecture's path: try the next
    }
  }
  return 'provider unknown';
}
