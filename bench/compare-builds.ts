/**
 * Two builds of this project side by side, for a change that must not slow training: each
 * configuration runs in both builds' run-one.js, alternating, every run a fresh process, and the
 * medians and their ratio are printed. Only the ratio means anything on a shared machine.
 *
 *   node dist/bench/compare-builds.js --before ../old-checkout --runs 5
 *
 * --before (and --after, default this checkout) are checkouts where `npm run build` has run.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseOptions, type OptionSpec } from '../src/options.js';
import { runMain } from './format.js';
import type { RunResult } from './run-one.js';

const run = promisify(execFile);

const OPTIONS: readonly OptionSpec[] = [
  { name: 'before', kind: 'string', metavar: 'DIR', help: 'the checkout measured first in each pair (required)' },
  { name: 'after', kind: 'string', metavar: 'DIR', help: 'the other checkout (default: this one)' },
  { name: 'runs', kind: 'int', default: 5, min: 1, help: 'runs of each configuration in each build' },
  { name: 'cells', kind: 'string', default: 'rnn,lstm,gru', metavar: 'LIST', help: 'comma-separated cells whose configurations run' },
  { name: 'threads-list', kind: 'string', default: '1,2', metavar: 'LIST', help: 'comma-separated thread counts whose configurations run' },
];

/** The configurations: the seed's rnn on 16 streams as npm run bench runs it (1,600 steps, so a run lasts seconds), and the gated cells in both precisions, on 1 and 2 threads. */
const CONFIGS: readonly (readonly string[])[] = [
  ['--cell', 'rnn', '--streams', '16', '--steps', '1600', '--threads', '1'],
  ['--cell', 'rnn', '--streams', '16', '--steps', '1600', '--threads', '2'],
  ...['lstm', 'gru'].flatMap((cell) => ['float32', 'float64'].flatMap((dtype) => ['1', '2'].map((threads) => [
    '--cell', cell, '--dtype', dtype, '--layers', '2', '--hidden', '128', '--seq-length', '50', '--streams', '32', '--steps', '60', '--warmup-steps', '10', '--threads', threads,
  ]))),
];

async function charsPerSec(checkout: string, args: readonly string[]): Promise<number> {
  const { stdout } = await run(process.execPath, [resolve(checkout, 'dist/bench/run-one.js'), ...args], { maxBuffer: 1 << 20 });
  const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as RunResult;
  return result.timedSteps > 0 ? result.timedCharsPerSec : result.charsPerSec;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function main(argv: readonly string[]): Promise<void> {
  const { values: v } = parseOptions('compare-builds', OPTIONS, argv);
  if (v.before === undefined) throw new Error('give --before DIR: a checkout built with npm run build');
  const before = resolve(v.before as string);
  const after = resolve((v.after as string | undefined) ?? fileURLToPath(new URL('../..', import.meta.url)));
  const runs = v.runs as number;
  const cells = (v.cells as string).split(',');
  const threads = (v['threads-list'] as string).split(',');
  const configs = CONFIGS.filter((args) => cells.includes(args[args.indexOf('--cell') + 1]) && threads.includes(args[args.indexOf('--threads') + 1]));
  if (configs.length === 0) throw new Error(`no configuration has --cells ${v.cells as string} and --threads-list ${v['threads-list'] as string} (cells rnn, lstm, gru; threads 1, 2)`);
  process.stdout.write(`before: ${before}\nafter:  ${after}\n${runs} runs of each configuration in each build, alternating; chars/s medians\n\n`);
  process.stdout.write('configuration | before (min-max) | after (min-max) | after/before\n---|---|---|---\n');
  for (const args of configs) {
    const times: { before: number[]; after: number[] } = { before: [], after: [] };
    for (let r = 0; r < runs; r++) {
      // alternate which build goes first, so that a drift in the machine's load falls on both
      const order = r % 2 === 0 ? (['before', 'after'] as const) : (['after', 'before'] as const);
      for (const side of order) times[side].push(await charsPerSec(side === 'before' ? before : after, args));
    }
    const b = median(times.before);
    const a = median(times.after);
    const spread = (values: readonly number[]): string => `${Math.round(Math.min(...values))}-${Math.round(Math.max(...values))}`;
    const label = args.filter((_, i) => i % 2 === 1 && ['--cell', '--dtype', '--threads'].includes(args[i - 1])).join(' ');
    process.stdout.write(`${label} | ${Math.round(b)} (${spread(times.before)}) | ${Math.round(a)} (${spread(times.after)}) | ${(a / b).toFixed(3)}\n`);
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runMain('compare-builds', main, process.argv.slice(2));
}
