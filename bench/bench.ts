/**
 * The throughput and memory benchmark: trains a few steps at each thread count, every run in a
 * fresh process (bench/run-one.ts), round-robin over configurations so that the machine's noise
 * hits them all alike, beside the numpy reference when it is there, and prints medians and
 * ratios measured in this one invocation. Figures from different invocations are not comparable.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, platform, arch } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { UserError } from '../src/errors.js';
import { optionsHelp, parseOptions, type OptionSpec } from '../src/options.js';
import type { RunResult } from './run-one.js';
import { measureCheckpoints } from './checkpoint-speed.js';
import { measureSampling } from './sample-speed.js';

const BENCH_OPTIONS: readonly OptionSpec[] = [
  { name: 'streams', kind: 'int', default: 16, min: 1, max: 4096, help: 'streams B of the multi-thread configurations' },
  // ~4 s at one thread for 16 streams on a 2-core cloud VM (about 9,700 chars/s = 400 chars per step).
  { name: 'steps', kind: 'int', default: 100, min: 1, help: 'steps per run; the 1-stream run takes --streams times as many (same characters)' },
  { name: 'runs', kind: 'int', default: 3, min: 1, help: 'runs of each configuration' },
  { name: 'threads-list', kind: 'string', help: 'comma-separated thread counts (default: 1, powers of two, and the core count)' },
  { name: 'hidden', kind: 'int', default: 100, min: 1, max: 4096, help: 'hidden units H' },
  { name: 'corpus', kind: 'string', help: 'UTF-8 text file (default: the bundled corpus)' },
  { name: 'help', kind: 'flag', help: 'print this help' },
];

/** numpy_rnn.py --updates for each of its two configurations: about 2 s each at ~200k and ~55k chars/s. */
const NUMPY_UPDATES = { streams16: 1200, streams1: 4000 } as const;
const SEQ_LENGTH = 25; // T: the trainer's default, and numpy_rnn.py's fixed SEQ

const repoRoot = fileURLToPath(new URL('../../', import.meta.url)); // this file runs as dist/bench/bench.js
const runOneScript = fileURLToPath(new URL('./run-one.js', import.meta.url));
const execFileAsync = promisify(execFile);

interface OurConfig {
  readonly streams: number;
  readonly threads: number;
  readonly steps: number;
  readonly runs: RunResult[];
}

interface NumpyConfig {
  readonly streams: number;
  readonly updates: number;
  readonly rates: number[]; // chars/s, one per run
}

interface NumpyPeer {
  readonly script: string;
  readonly versions: string; // "python 3.x, numpy 2.y"
  readonly vocab: number | undefined; // K of its training slice, when readable
  readonly configs: readonly NumpyConfig[];
  failure: string | undefined; // set when a run failed: the reference is dropped, ours goes on
}

async function main(argv: readonly string[]): Promise<void> {
  const { values: v } = parseOptions('bench', BENCH_OPTIONS, argv);
  if (v.help === true) {
    process.stdout.write(`usage: npm run bench -- [options]\n\n${optionsHelp(BENCH_OPTIONS)}\n`);
    return;
  }
  const streams = v.streams as number;
  const steps = v.steps as number;
  const runs = v.runs as number;
  const hidden = v.hidden as number;
  const corpus = v.corpus as string | undefined;
  const threadCounts = parseThreadsList(v['threads-list'] as string | undefined) ?? defaultThreadCounts(Math.min(availableParallelism(), streams));

  if (threadCounts.some((t) => t > streams)) {
    throw new UserError(`--threads-list goes above --streams ${streams}: threads beyond the streams would idle`);
  }
  const ours: OurConfig[] = threadCounts.map((threads) => ({ streams, threads, steps, runs: [] }));
  const single: OurConfig = { streams: 1, threads: 1, steps: steps * streams, runs: [] };
  ours.push(single);
  const peer = await findNumpyPeer();

  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  process.stdout.write(`parallel-char-rnn benchmark, ${new Date().toISOString()}\n`);
  process.stdout.write(`machine: ${cpu}, ${availableParallelism()} cores, node ${process.version}, ${platform()} ${arch()}\n`);
  process.stdout.write(
    `work per run: H=${hidden}, T=${SEQ_LENGTH}, ${streams} streams x ${steps} steps (streams 1: ${single.steps} steps); ` +
      `${runs} runs of each configuration, interleaved; every run a fresh process\n`,
  );
  if (typeof peer === 'string') process.stdout.write(`numpy reference skipped: ${peer}\n`);
  else process.stdout.write(`numpy reference: ${peer.script} (${peer.versions}, OPENBLAS_NUM_THREADS=1)\n`);

  // One round runs every configuration once; each numpy figure follows our matching row.
  const round: Array<{ label: string; once: () => Promise<number> }> = ours.map((config) => ({
    label: ourLabel(config),
    once: async () => {
      const result = await runOurs(config, hidden, corpus);
      config.runs.push(result);
      return result.charsPerSec;
    },
  }));
  if (typeof peer !== 'string') {
    const turn = (config: NumpyConfig) => ({ label: `numpy, streams ${config.streams}`, once: () => runNumpyTurn(peer, config) });
    round.splice(threadCounts.length, 0, turn(peer.configs[0]));
    round.push(turn(peer.configs[1]));
  }
  const started = performance.now();
  for (let run = 1; run <= runs; run++) {
    for (const { label, once } of round) {
      const rate = await once();
      if (Number.isFinite(rate)) process.stderr.write(`[run ${run}/${runs}] ${label}: ${group(rate)} chars/s\n`);
    }
  }

  const K = ours[0].runs[0].vocab;
  const flopsPerChar = 6 * hidden * hidden + 6 * hidden * K;
  process.stdout.write(`\n${formatTable(ours, typeof peer === 'string' ? undefined : peer, hidden, flopsPerChar)}\n\n`);
  process.stdout.write(
    `GFLOP/s = chars/s x FLOPs per character; FLOPs per character = 6*H*H + 6*H*K = 6*${hidden}*${hidden} + 6*${hidden}*${K} = ${group(flopsPerChar)}\n` +
      '  (forward W h and V h, backward dV, V^T dy, dW, W^T da: six matrix-vector-sized products, a multiply-add counted as 2; O(H+K) terms ignored)\n' +
      'speedup and peak RSS growth: against the 1-thread row with the same streams; RSS after load: right after the corpus is read, before any worker starts\n',
  );
  if (typeof peer !== 'string' && peer.vocab !== undefined && peer.vocab !== K) {
    process.stdout.write(`numpy trains on its own slice of the text with K=${peer.vocab}, so its GFLOP/s use 6*H*H + 6*H*${peer.vocab}; ours/numpy compares chars/s\n`);
  }
  if (typeof peer !== 'string' && peer.failure !== undefined) process.stdout.write(`numpy reference dropped: ${peer.failure}\n`);
  const sampleLength = 300_000;
  const sampling = measureSampling(hidden, K, sampleLength, runs);
  process.stdout.write(`\nchar-rnn sample, one thread, H=${hidden}, K=${K}, random weights from N(0, 0.1^2), ${group(sampleLength)} characters a run, median of ${runs}:\n`);
  for (const { label, rates } of sampling) {
    process.stdout.write(`  ${label.padEnd(24)} ${group(median(rates)).padStart(9)} chars/s   (${range(rates)})\n`);
  }
  const checkpoints = await measureCheckpoints(runs);
  process.stdout.write(
    `\ncheckpoint of ${group(checkpoints.parameters)} parameters (${(checkpoints.fileBytes / 2 ** 20).toFixed(1)} MiB), median of ${runs}: ` +
      `save ${median(checkpoints.saveMs).toFixed(0)} ms (atomic: temp file, fsync, rename), load ${median(checkpoints.loadMs).toFixed(0)} ms (decode and checksum)\n`,
  );
  process.stdout.write(`benchmark wall time: ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}

/** One numpy run, or NaN once the reference has failed: a broken reference never stops the benchmark. */
async function runNumpyTurn(peer: NumpyPeer, config: NumpyConfig): Promise<number> {
  if (peer.failure !== undefined) return Number.NaN;
  try {
    const rate = await runNumpy(peer.script, config);
    config.rates.push(rate);
    return rate;
  } catch (error) {
    peer.failure = firstLine(error);
    process.stderr.write(`numpy reference dropped: ${peer.failure}\n`);
    return Number.NaN;
  }
}

async function runOurs(config: OurConfig, hidden: number, corpus: string | undefined): Promise<RunResult> {
  const args = [runOneScript, '--threads', String(config.threads), '--streams', String(config.streams), '--steps', String(config.steps), '--hidden', String(hidden)];
  if (corpus !== undefined) args.push('--corpus', corpus);
  const result = parseJsonLine<RunResult>(await spawnOutput(process.execPath, args));
  if (!(result.charsPerSec > 0 && result.peakRssMB > 0)) throw new Error(`run-one printed no usable figures: ${JSON.stringify(result)}`);
  return result;
}

async function runNumpy(script: string, config: NumpyConfig): Promise<number> {
  const out = await spawnOutput('python3', [script, '--streams', String(config.streams), '--updates', String(config.updates)], {
    ...process.env,
    OPENBLAS_NUM_THREADS: '1',
  });
  const match = /chars\/s=(\d+(?:\.\d+)?)/.exec(out);
  if (match === null) throw new Error(`numpy_rnn.py printed no chars/s=: ${out.trim()}`);
  return Number(match[1]);
}

/** The reference, or why it is skipped. Never throws: the benchmark runs without it. */
async function findNumpyPeer(): Promise<NumpyPeer | string> {
  const script = process.env.NUMPY_PEER ?? resolve(repoRoot, '../shared/peers/numpy_rnn.py');
  if (!existsSync(script)) return `${script} does not exist (set NUMPY_PEER to the path of numpy_rnn.py)`;
  let versions: string;
  try {
    const out = await spawnOutput('python3', ['-c', 'import platform, numpy; print(platform.python_version(), numpy.__version__)']);
    const [python, numpy] = out.trim().split(' ');
    versions = `python ${python}, numpy ${numpy}`;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'python3 is not on the PATH' : `python3 cannot import numpy: ${firstLine(error)}`;
  }
  return {
    script,
    versions,
    vocab: vocabOf(join(dirname(script), 'data/sotu_train.txt')),
    configs: [
      { streams: 16, updates: NUMPY_UPDATES.streams16, rates: [] },
      { streams: 1, updates: NUMPY_UPDATES.streams1, rates: [] },
    ],
    failure: undefined,
  };
}

/** Distinct code points of the numpy script's default training text (its K), or undefined if unreadable. */
function vocabOf(path: string): number | undefined {
  if (!existsSync(path)) return undefined;
  return new Set(readFileSync(path, 'utf8')).size;
}

async function spawnOutput(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const { stdout } = await execFileAsync(command, args, { env, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/** The last non-empty line of a child's stdout, parsed as JSON. */
function parseJsonLine<T>(stdout: string): T {
  const line = stdout.trim().split('\n').at(-1);
  if (line === undefined || line === '') throw new Error('run-one printed nothing');
  return JSON.parse(line) as T;
}

function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function formatTable(ours: readonly OurConfig[], peer: NumpyPeer | undefined, hidden: number, flopsPerChar: number): string {
  const numpyRate = (streams: number): number | undefined => {
    const rates = peer?.configs.find((c) => c.streams === streams)?.rates ?? [];
    return rates.length > 0 ? median(rates) : undefined;
  };
  const header = ['configuration', 'chars/s (median)', 'min-max', 'speedup', 'GFLOP/s', 'RSS after load MB', 'peak RSS MB', 'peak vs 1 thread', 'ours/numpy'];
  const rows = ours.map((config) => {
    const rate = median(config.runs.map((r) => r.charsPerSec));
    const peak = median(config.runs.map((r) => r.peakRssMB));
    const base = ours.find((c) => c.streams === config.streams && c.threads === 1);
    const baseRate = base === undefined ? Number.NaN : median(base.runs.map((r) => r.charsPerSec));
    const basePeak = base === undefined ? Number.NaN : median(base.runs.map((r) => r.peakRssMB));
    const numpy = numpyRate(config.streams);
    return [
      ourLabel(config),
      group(rate),
      range(config.runs.map((r) => r.charsPerSec)),
      `${(rate / baseRate).toFixed(2)}x`,
      gflops(rate * flopsPerChar),
      median(config.runs.map((r) => r.loadedRssMB)).toFixed(0),
      peak.toFixed(0),
      config === base ? '-' : signed(peak - basePeak),
      numpy === undefined ? '-' : `${(rate / numpy).toFixed(3)}x`,
    ];
  });
  for (const config of peer?.configs ?? []) {
    if (config.rates.length === 0) continue;
    const rate = median(config.rates);
    const numpyFlops = 6 * hidden * hidden + 6 * hidden * (peer?.vocab ?? Number.NaN);
    rows.push([`numpy, streams ${config.streams}`, group(rate), range(config.rates), '-', gflops(rate * numpyFlops), '-', '-', '-', '-']);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: readonly string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function ourLabel(config: OurConfig): string {
  return `streams ${config.streams}, threads ${config.threads}`;
}

function range(values: readonly number[]): string {
  return `${group(Math.min(...values))}-${group(Math.max(...values))}`;
}

function group(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-';
}

function gflops(flopsPerSec: number): string {
  return Number.isFinite(flopsPerSec) ? (flopsPerSec / 1e9).toFixed(3) : '-';
}

function signed(mb: number): string {
  if (!Number.isFinite(mb)) return '-';
  const rounded = Math.round(mb);
  return rounded > 0 ? `+${rounded}` : String(rounded);
}

function firstLine(error: unknown): string {
  const { stderr } = error as { stderr?: string };
  const text = stderr !== undefined && stderr.trim() !== '' ? stderr : error instanceof Error ? error.message : String(error);
  return text.trim().split('\n').at(-1) ?? '';
}

/** 1, the powers of two below the maximum, and the maximum; every count up to 4. */
function defaultThreadCounts(max: number): number[] {
  const counts = new Set<number>([1, max]);
  for (let t = 2; t < max; t *= 2) counts.add(t);
  if (max <= 4) for (let t = 1; t <= max; t++) counts.add(t);
  return [...counts].sort((a, b) => a - b);
}

function parseThreadsList(text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const counts = text.split(',').map((part) => Number(part.trim()));
  if (counts.length === 0 || counts.some((n) => !Number.isSafeInteger(n) || n < 1)) {
    throw new UserError(`--threads-list must be positive integers separated by commas, got '${text}'`);
  }
  const sorted = [...new Set(counts)].sort((a, b) => a - b);
  if (sorted[0] !== 1) sorted.unshift(1); // speedups are against the 1-thread row
  return sorted;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(error instanceof UserError ? `bench: ${error.message}\n` : `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = error instanceof UserError ? 2 : 1;
});
