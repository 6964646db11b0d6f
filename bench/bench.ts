/**
 * The throughput benchmark: trains a few steps at each thread count, every run in a fresh process
 * (bench/run-one.ts), round-robin over configurations so that the machine's noise hits them all
 * alike, beside the Python peers (numpy, and PyTorch when asked), and prints medians and ratios
 * measured in this one invocation. Figures from different invocations are not comparable.
 *
 *   npm run bench                     the throughput table, sampling and checkpoint speeds
 *   npm run bench -- --memory ...     peak RSS against the thread count on a 100 MB corpus (memory.ts)
 *   npm run bench -- --quality ...    time to a validation loss (quality.ts)
 *   npm run bench -- --quality --minutes M ...   the race: loss against time beside PyTorch (race.ts)
 *   npm run bench -- --cells ...      LSTM and GRU throughput beside PyTorch (cells.ts)
 */
import { availableParallelism, cpus, platform, arch } from 'node:os';
import { fileURLToPath } from 'node:url';
import { UserError } from '../src/errors.js';
import { optionsHelp, parseOptions, type OptionSpec } from '../src/options.js';
import { runCells } from './cells.js';
import { measureCheckpoints } from './checkpoint-speed.js';
import { measureExports } from './export-speed.js';
import {
  firstLine, fixed, formatTable, gflops, group, isPositiveInt, median, parseJsonLine, parseList, range, ratio, runMain, spawnOutput, trainFlopsPerChar,
} from './format.js';
import { runMemory } from './memory.js';
import {
  findPeer, numpyConfig, numpyScript, runPeerTurn, SEQ_LENGTH, torchConfig, torchScript, type PeerConfig, type PythonPeer,
} from './peers.js';
import { runQuality } from './quality.js';
import { runRace } from './race.js';
import type { RunResult } from './run-one.js';
import { gatedSamplingReport, measureGatedSampling, measureSampling } from './sample-speed.js';
import { measureServe, serveReport } from './serve-speed.js';

const BENCH_OPTIONS: readonly OptionSpec[] = [
  { name: 'streams', kind: 'int', default: 16, min: 1, max: 4096, help: 'streams B of the multi-thread configurations' },
  // About 2.6 s at one thread for 16 streams on a 2-core cloud VM. WebAssembly starts on V8's
  // baseline tier and is recompiled optimized in the background once hot: runs of 100 steps
  // measured mostly that warm-up (64k vs 92k chars/s at one thread); 600 steps measure training.
  { name: 'steps', kind: 'int', default: 600, min: 1, help: 'steps per run; the 1-stream run takes --streams times as many (same characters)' },
  { name: 'scale-steps', kind: 'flag', help: 'multiply the steps by the thread count, so that every run lasts about as long as the 1-thread one' },
  { name: 'runs', kind: 'int', default: 3, min: 1, help: 'runs of each configuration' },
  { name: 'threads-list', kind: 'string', help: 'comma-separated thread counts (default: 1, powers of two, and the core count)' },
  { name: 'hidden', kind: 'int', default: 100, min: 1, max: 4096, help: 'hidden units H' },
  { name: 'corpus', kind: 'string', help: 'UTF-8 text file (default: the bundled corpus)' },
  { name: 'numpy', kind: 'string', metavar: 'FILE', help: 'numpy_rnn.py (default: $NUMPY_PEER, else ../shared/peers/numpy_rnn.py)' },
  { name: 'numpy-threads', kind: 'string', default: '1', help: 'comma-separated OPENBLAS_NUM_THREADS for the numpy runs; the table\'s numpy column uses the first' },
  { name: 'torch', kind: 'string', metavar: 'FILE', help: 'bench/peers/torch_rnn.py, to add PyTorch rows (default: $TORCH_PEER, else none)' },
  { name: 'torch-threads', kind: 'string', default: '1', help: 'comma-separated torch.set_num_threads values' },
  { name: 'torch-dtypes', kind: 'string', default: 'float64,float32', help: 'comma-separated torch dtypes' },
  { name: 'peer-chars', kind: 'int', default: 480_000, min: 1, help: 'characters per multi-stream peer run; the 1-stream numpy run trains a quarter of this, at least 100,000' },
  { name: 'cells', kind: 'flag', help: 'the LSTM and GRU table beside PyTorch instead of this one (cells.ts; --cells --help for its options)' },
  { name: 'training-only', kind: 'flag', help: 'skip the sampling and checkpoint sections' },
  { name: 'help', kind: 'flag', help: 'print this help' },
];

const runOneScript = fileURLToPath(new URL('./run-one.js', import.meta.url));

interface OurConfig {
  readonly streams: number;
  readonly threads: number;
  readonly steps: number;
  readonly runs: RunResult[];
  failure: string | undefined; // set when a run failed: this configuration is dropped, the rest go on
}

interface Turn {
  readonly label: string;
  readonly once: () => Promise<number>;
}

async function main(argv: readonly string[]): Promise<void> {
  const without = (flag: string): string[] => argv.filter((arg) => arg !== flag);
  if (argv.includes('--memory')) return runMemory(without('--memory'));
  if (argv.includes('--quality')) return argv.includes('--minutes') ? runRace(without('--quality')) : runQuality(without('--quality'));
  if (argv.includes('--cells')) return runCells(without('--cells'));
  const { values: v } = parseOptions('bench', BENCH_OPTIONS, argv);
  if (v.help === true) {
    process.stdout.write(
      `usage: npm run bench -- [options]\n       npm run bench -- --memory [options]   (--memory --help)\n       npm run bench -- --quality [options]  (--quality --help)\n       npm run bench -- --cells [options]    (--cells --help)\n\n${optionsHelp(BENCH_OPTIONS)}\n`,
    );
    return;
  }
  const streams = v.streams as number;
  const steps = v.steps as number;
  const runs = v.runs as number;
  const hidden = v.hidden as number;
  const corpus = v.corpus as string | undefined;
  const peerChars = v['peer-chars'] as number;
  const threadCounts = parseThreadsList(v['threads-list'] as string | undefined) ?? defaultThreadCounts(Math.min(availableParallelism(), streams));
  if (threadCounts.some((t) => t > streams)) {
    throw new UserError(`--threads-list goes above --streams ${streams}: threads beyond the streams would idle`);
  }
  const stepsFor = (threads: number): number => (v['scale-steps'] === true ? steps * threads : steps);
  const ours: OurConfig[] = threadCounts.map((threads) => ({ streams, threads, steps: stepsFor(threads), runs: [], failure: undefined }));
  const single: OurConfig | undefined = streams === 1 ? undefined : { streams: 1, threads: 1, steps: steps * streams, runs: [], failure: undefined };
  if (single !== undefined) ours.push(single);

  const numpy = await findPeer('numpy', numpyScript(v.numpy as string | undefined));
  const torchPath = torchScript(v.torch as string | undefined);
  const torch = torchPath === undefined ? 'not asked for (--torch FILE or TORCH_PEER)' : await findPeer('torch', torchPath);
  const numpyThreads = parseList('numpy-threads', v['numpy-threads'] as string, isPositiveInt, 'positive integers');
  const torchThreads = parseList('torch-threads', v['torch-threads'] as string, isPositiveInt, 'positive integers');
  const torchDtypes = (v['torch-dtypes'] as string).split(',').map((d) => d.trim());
  if (torchDtypes.some((d) => d !== 'float64' && d !== 'float32')) throw new UserError(`--torch-dtypes takes float64 and float32, got '${v['torch-dtypes']}'`);

  // Peers for the multi-stream rows, then for the 1-stream row (numpy only, one BLAS thread).
  const multiPeers: PeerConfig[] = [];
  if (typeof numpy !== 'string') multiPeers.push(...numpyThreads.map((t) => numpyConfig(numpy, streams, t, peerChars)));
  if (typeof torch !== 'string') multiPeers.push(...torchDtypes.flatMap((d) => torchThreads.map((t) => torchConfig(torch, streams, t, d, peerChars))));
  const singlePeers: PeerConfig[] = typeof numpy !== 'string' && single !== undefined ? [numpyConfig(numpy, 1, numpyThreads[0], Math.max(100_000, peerChars / 4))] : [];
  const peers = [...multiPeers, ...singlePeers];

  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const out = (text: string): boolean => process.stdout.write(text);
  out(`parallel-char-rnn benchmark, ${new Date().toISOString()}\n`);
  out(`machine: ${cpu}, ${availableParallelism()} cores, node ${process.version}, ${platform()} ${arch()}\n`);
  out(
    `work per run: H=${hidden}, T=${SEQ_LENGTH}, ${streams} streams x ${steps} steps${v['scale-steps'] === true ? ' x the thread count' : ''}` +
      `${single === undefined ? '' : ` (streams 1: ${single.steps} steps)`}; ${runs} runs of each configuration, interleaved; every run a fresh process\n`,
  );
  out(describePeer(numpy, `OPENBLAS_NUM_THREADS=${numpyThreads.join(', ')}`));
  out(describePeer(torch, `${torchDtypes.join(', ')}; torch.set_num_threads ${torchThreads.join(', ')}`));

  const ourTurn = (config: OurConfig): Turn => ({
    label: ourLabel(config),
    once: async () => {
      if (config.failure !== undefined) return Number.NaN;
      try {
        const result = await runOurs(config, hidden, corpus);
        config.runs.push(result);
        return result.charsPerSec;
      } catch (error) {
        config.failure = firstLine(error);
        process.stderr.write(`${ourLabel(config)} dropped: ${config.failure}\n`);
        return Number.NaN;
      }
    },
  });
  const peerTurn = (config: PeerConfig): Turn => ({ label: `${config.label}, streams ${config.streams}`, once: () => runPeerTurn(config) });
  const round: Turn[] = [
    ...ours.filter((c) => c !== single).map(ourTurn),
    ...multiPeers.map(peerTurn),
    ...(single === undefined ? [] : [ourTurn(single)]),
    ...singlePeers.map(peerTurn),
  ];
  const started = performance.now();
  for (let run = 1; run <= runs; run++) {
    for (const { label, once } of round) {
      const rate = await once();
      if (Number.isFinite(rate)) process.stderr.write(`[run ${run}/${runs}] ${label}: ${group(rate)} chars/s\n`);
    }
  }

  const K = ours.find((c) => c.runs.length > 0)?.runs[0].vocab;
  if (K === undefined) throw new Error(`every configuration failed; the first: ${ours[0].failure}`);
  const flopsPerChar = trainFlopsPerChar(hidden, K);
  const numpyColumn = numpyThreads[0];
  out(`\n${ourTable(ours, peers, flopsPerChar, runs, numpyColumn)}\n\n`);
  if (peers.some((p) => p.rates.length > 0)) out(`${peerTable(peers, ours, hidden, runs)}\n\n`);
  out(
    `GFLOP/s = chars/s x FLOPs per character; FLOPs per character = 6*H*H + 6*H*K = 6*${hidden}*${hidden} + 6*${hidden}*${K} = ${group(flopsPerChar)}\n` +
      '  (forward W h and V h, backward dV, V^T dy, dW, W^T da: six matrix-vector-sized products, a multiply-add counted as 2; O(H+K) terms ignored)\n' +
      'speedup: against the 1-thread row with the same streams; peak RSS: the whole process (process.resourceUsage().maxRSS)\n',
  );
  const peerK = typeof numpy !== 'string' ? numpy.vocab : typeof torch !== 'string' ? torch.vocab : undefined;
  if (peerK !== undefined && peerK !== K) {
    out(`the peers train on their own slice of the text with K=${peerK}, so their GFLOP/s use 6*H*H + 6*H*${peerK}; ours/numpy compares chars/s (ours does ${((100 * trainFlopsPerChar(hidden, K)) / trainFlopsPerChar(hidden, peerK) - 100).toFixed(0)}% more work per character)\n`);
  }
  for (const c of ours) if (c.failure !== undefined) out(`${ourLabel(c)} dropped: ${c.failure}\n`);
  for (const p of peers) if (p.failure !== undefined) out(`${p.label}, streams ${p.streams} dropped: ${p.failure}\n`);
  out(`\nevery run, chars/s in order (ours: and the RSS right after the corpus is read, before any worker starts):\n`);
  const detail = [
    ...ours.map((c) => [ourLabel(c), c.runs.map((r) => group(r.charsPerSec)).join(', '), `${fixed(median(c.runs.map((r) => r.loadedRssMB)), 0)} MB`]),
    ...peers.filter((p) => p.rates.length > 0).map((p) => [`${p.label}, streams ${p.streams}`, p.rates.map(group).join(', '), '-']),
  ];
  out(`${formatTable(['configuration', 'chars/s', 'RSS after load'], detail)}\n`);

  if (v['training-only'] !== true) {
    const sampleLength = 300_000;
    const sampling = measureSampling(hidden, K, sampleLength, runs);
    out(`\nchar-rnn sample, one thread, H=${hidden}, K=${K}, random weights from N(0, 0.1^2), ${group(sampleLength)} characters a run, median of ${runs}:\n`);
    for (const { label, rates } of sampling) {
      out(`  ${label.padEnd(24)} ${group(median(rates)).padStart(9)} chars/s   (${range(rates)})\n`);
    }
    out(gatedSamplingReport(measureGatedSampling(runs), runs));
    const checkpoints = await measureCheckpoints(runs);
    out(
      `\ncheckpoint of ${group(checkpoints.parameters)} parameters (${(checkpoints.fileBytes / 2 ** 20).toFixed(1)} MiB), median of ${runs}: ` +
        `save ${median(checkpoints.saveMs).toFixed(0)} ms (atomic: temp file, fsync, rename), load ${median(checkpoints.loadMs).toFixed(0)} ms (decode and checksum)\n`,
    );
    const exports = await measureExports(runs);
    const ms = (times: number[]): string => `${median(times).toFixed(0)} ms`;
    out(
      `export and import of a GRU of ${group(exports.parameters)} parameters, each a whole char-rnn process, median of ${runs}: ` +
        `export safetensors ${ms(exports.safetensorsMs)}, export onnx ${ms(exports.onnxMs)}, import ${ms(exports.importMs)} (a process that only starts and prints its version: ${ms(exports.startMs)})\n`,
    );
    out(serveReport(await measureServe(runs), runs));
  }
  out(`benchmark wall time: ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}

function describePeer(peer: PythonPeer | string, settings: string): string {
  return typeof peer === 'string' ? `peer skipped: ${peer}\n` : `${peer.name} peer: ${peer.script} (${peer.versions}; ${settings})\n`;
}

async function runOurs(config: OurConfig, hidden: number, corpus: string | undefined): Promise<RunResult> {
  const args = [runOneScript, '--threads', String(config.threads), '--streams', String(config.streams), '--steps', String(config.steps), '--hidden', String(hidden)];
  if (corpus !== undefined) args.push('--corpus', corpus);
  const result = parseJsonLine<RunResult>(await spawnOutput(process.execPath, args));
  if (!(result.charsPerSec > 0 && result.peakRssMB > 0)) throw new Error(`run-one printed no usable figures: ${JSON.stringify(result)}`);
  return result;
}

/** The table of "Done means": one row per configuration of ours, with numpy's figure for the same streams. */
function ourTable(ours: readonly OurConfig[], peers: readonly PeerConfig[], flopsPerChar: number, runs: number, numpyThreads: number): string {
  const numpyLabel = `numpy f64, ${numpyThreads} BLAS thread${numpyThreads === 1 ? '' : 's'}`;
  const header = ['configuration', `chars/s (median of ${runs})`, 'GFLOP/s', 'speedup vs 1 thread', 'peak RSS MB', `numpy chars/s (${numpyThreads} BLAS thr.)`, 'ours/numpy'];
  const rows = ours.map((config) => {
    const rate = median(config.runs.map((r) => r.charsPerSec));
    const base = ours.find((c) => c.streams === config.streams && c.threads === 1);
    const baseRate = base === undefined ? Number.NaN : median(base.runs.map((r) => r.charsPerSec));
    const numpyRates = peers.find((p) => p.label === numpyLabel && p.streams === config.streams)?.rates ?? [];
    const numpy = median(numpyRates);
    return [
      ourLabel(config),
      group(rate),
      gflops(rate * flopsPerChar),
      `${fixed(rate / baseRate, 2)}x`,
      fixed(median(config.runs.map((r) => r.peakRssMB)), 0),
      group(numpy),
      ratio(rate / numpy),
    ];
  });
  return formatTable(header, rows);
}

/** Every peer configuration, and how the best of ours with the same streams compares with it. */
function peerTable(peers: readonly PeerConfig[], ours: readonly OurConfig[], hidden: number, runs: number): string {
  const header = ['peer, same rounds', 'streams', `chars/s (median of ${runs})`, 'min-max', 'GFLOP/s', 'best of ours', 'ours/peer'];
  const rows = peers.filter((p) => p.rates.length > 0).map((p) => {
    const rate = median(p.rates);
    const best = Math.max(...ours.filter((c) => c.streams === p.streams && c.runs.length > 0).map((c) => median(c.runs.map((r) => r.charsPerSec))));
    return [
      p.label,
      String(p.streams),
      group(rate),
      range(p.rates),
      p.vocab === undefined ? '-' : gflops(rate * trainFlopsPerChar(hidden, p.vocab)),
      group(best),
      ratio(best / rate),
    ];
  });
  return formatTable(header, rows);
}

function ourLabel(config: OurConfig): string {
  return `streams ${config.streams}, threads ${config.threads}`;
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
  const sorted = [...new Set(parseList('threads-list', text, isPositiveInt, 'positive integers'))].sort((a, b) => a - b);
  if (sorted[0] !== 1) sorted.unshift(1); // speedups are against the 1-thread row
  return sorted;
}

runMain('bench', main, process.argv.slice(2));
