/**
 * Memory against the thread count (`npm run bench -- --memory`): writes a ~100 MB UTF-8 corpus (the
 * peers' training text repeated, or the bundled corpus), trains a few steps on it in a fresh process
 * per thread count (bench/run-one.ts), and prints the RSS after loading, the peak RSS and the growth
 * per extra worker thread. A worker that copied the corpus would add about its size per thread.
 * Then `char-rnn eval`'s peak RSS on the text once and repeated, which it reads in chunks.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDefaultCorpus } from '../src/corpus.js';
import { optionsHelp, parseOptions, type OptionSpec } from '../src/options.js';
import { decodeIds } from '../src/symbols.js';
import { fixed, formatTable, group, isPositiveInt, median, parseJsonLine, parseList, signed, spawnOutput } from './format.js';
import { peersDataDir } from './peers.js';
import type { RunResult } from './run-one.js';

const MEMORY_OPTIONS: readonly OptionSpec[] = [
  { name: 'mb', kind: 'int', default: 100, min: 1, max: 4000, help: 'corpus size in MB (10^6 bytes)' },
  { name: 'threads-list', kind: 'string', default: '1,2,4,8', help: 'comma-separated thread counts' },
  { name: 'streams', kind: 'int', default: 16, min: 1, max: 4096, help: 'streams B' },
  { name: 'steps', kind: 'int', default: 20, min: 1, help: 'training steps per run' },
  { name: 'runs', kind: 'int', default: 1, min: 1, help: 'runs of each thread count (median printed)' },
  { name: 'text', kind: 'string', metavar: 'FILE', help: 'text to repeat (default: $PEERS_DATA/sotu_train.txt, else the bundled corpus)' },
  { name: 'eval-mb', kind: 'int', default: 20, min: 0, max: 4000, help: "size in MB of the repeated text eval's peak RSS is measured on (0: skip eval)" },
  { name: 'help', kind: 'flag', help: 'print this help' },
];

const runOneScript = fileURLToPath(new URL('./run-one.js', import.meta.url));
const evalOneScript = fileURLToPath(new URL('./eval-one.js', import.meta.url));
const cliScript = fileURLToPath(new URL('../src/cli.js', import.meta.url));

export async function runMemory(argv: readonly string[]): Promise<void> {
  const { values: v } = parseOptions('bench --memory', MEMORY_OPTIONS, argv);
  if (v.help === true) {
    process.stdout.write(`usage: npm run bench -- --memory [options]\n\n${optionsHelp(MEMORY_OPTIONS)}\n`);
    return;
  }
  const threadCounts = [...new Set(parseList('threads-list', v['threads-list'] as string, isPositiveInt, 'positive integers'))].sort((a, b) => a - b);
  const streams = v.streams as number;
  const steps = v.steps as number;
  const runs = v.runs as number;
  const dir = await mkdtemp(join(tmpdir(), 'char-rnn-memory-'));
  try {
    const started = performance.now();
    const { unit, source } = await repeatedText(v.text as string | undefined);
    const path = await writeRepeated(join(dir, 'corpus.txt'), unit, (v.mb as number) * 1e6);
    const bytes = (await stat(path)).size;
    process.stdout.write(`memory: a ${group(bytes)}-byte corpus (${source}, repeated) in ${path}; ${streams} streams x ${steps} steps, val-frac 0; every run a fresh process\n`);
    const results = new Map<number, RunResult[]>(threadCounts.map((t) => [t, []]));
    for (let run = 1; run <= runs; run++) {
      for (const threads of threadCounts) {
        const args = [runOneScript, '--corpus', path, '--threads', String(threads), '--streams', String(streams), '--steps', String(steps)];
        const result = parseJsonLine<RunResult>(await spawnOutput(process.execPath, args));
        results.get(threads)?.push(result);
        process.stderr.write(`[run ${run}/${runs}] threads ${threads}: peak RSS ${result.peakRssMB.toFixed(0)} MB\n`);
      }
    }
    const peak = (t: number): number => median((results.get(t) ?? []).map((r) => r.peakRssMB));
    const first = threadCounts[0];
    const rows = threadCounts.map((t) => {
      const rs = results.get(t) ?? [];
      const growth = peak(t) - peak(first);
      return [
        String(t),
        fixed(median(rs.map((r) => r.loadedRssMB)), 0),
        fixed(peak(t), 0),
        t === first ? '-' : signed(growth),
        t === first ? '-' : fixed(growth / (t - first), 1),
        group(median(rs.map((r) => r.charsPerSec))),
      ];
    });
    const header = ['threads', 'RSS after load MB', 'peak RSS MB', `peak vs ${first} thread${first === 1 ? '' : 's'} MB`, 'MB per extra thread', 'chars/s'];
    process.stdout.write(`\n${formatTable(header, rows)}\n\n`);
    process.stdout.write(
      `MB = 2^20 bytes (process.resourceUsage().maxRSS); the encoded corpus is one SharedArrayBuffer of about ${group(bytes / 2 ** 20)} MB ` +
        `(one byte per character when K <= 256): a worker that copied it would add that much per thread\n`,
    );
    if ((v['eval-mb'] as number) > 0) await evalMemory(dir, unit, (v['eval-mb'] as number) * 1e6);
    process.stdout.write(`memory wall time: ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * `char-rnn eval`'s peak RSS on the text once and repeated to `bytes`, in a fresh process each, with
 * a checkpoint of one training step on the text (H = 8: a small model beside the text).
 */
async function evalMemory(dir: string, unit: Buffer, bytes: number): Promise<void> {
  const once = join(dir, 'eval-once.txt');
  await writeFile(once, unit);
  const repeated = await writeRepeated(join(dir, 'eval-repeated.txt'), unit, bytes);
  const out = join(dir, 'eval-run');
  await spawnOutput(process.execPath, [cliScript, 'train', '--corpus', once, '--cell', 'rnn', '--hidden', '8', '--steps', '1', '--val-frac', '0', '--threads', '1', '--no-report', '--out', out]);
  const peakMB = async (text: string): Promise<string> => {
    const { peakRssMB } = parseJsonLine<{ peakRssMB: number }>(await spawnOutput(process.execPath, [evalOneScript, '--checkpoint', join(out, 'last.ckpt'), '--text-file', text]));
    return `${fixed(peakRssMB, 0)} MB on ${group((await stat(text)).size)} bytes`;
  };
  process.stdout.write(`eval peak RSS (the text read in chunks): ${await peakMB(once)}, ${await peakMB(repeated)}\n`);
}

/** The text to repeat: --text, else the peers' training text, else the bundled corpus; and what it is. */
async function repeatedText(textPath: string | undefined): Promise<{ unit: Buffer; source: string }> {
  const fallback = join(peersDataDir(), 'sotu_train.txt');
  const from = textPath ?? (existsSync(fallback) ? fallback : undefined);
  const unit = Buffer.from(from === undefined ? await bundledText() : readFileSync(from, 'utf8'), 'utf8');
  return { unit, source: from ?? 'the bundled corpus' };
}

/** Writes `unit` repeated up to at least `bytes` bytes to path; returns path. */
async function writeRepeated(path: string, unit: Buffer, bytes: number): Promise<string> {
  const handle = await open(path, 'w');
  try {
    for (let written = 0; written < bytes; written += unit.length) await handle.write(unit);
  } finally {
    await handle.close();
  }
  return path;
}

async function bundledText(): Promise<string> {
  const corpus = await loadDefaultCorpus();
  return decodeIds(corpus.ids, corpus.vocab);
}
