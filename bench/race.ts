/**
 * The quality race (`npm run bench -- --quality --minutes M`): validation loss against training
 * time for our defaults (one run per --seeds), a few other configurations of ours, and PyTorch
 * language models as a PyTorch user writes them (bench/peers/torch_race.py), one run after another
 * on the same cores, each in a fresh process, all in this one invocation. Both sides measure the
 * validation text the same way (sotu_val.txt as one stream from a zero state) and leave evaluation
 * out of the clock. Prints a table and the targets of the quality issue; writes the points
 * (race-Mmin.json) and the curves (race-Mmin.svg and .png) into --out.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TopLevelSpec } from 'vega-lite';
import { UserError } from '../src/errors.js';
import { optionsHelp, parseOptions, type OptionSpec } from '../src/options.js';
import { renderPng, renderSvg } from '../src/report/render.js';
import { fixed, formatTable, group, parseList, runMain } from './format.js';
import { findTorch } from './cells.js';
import { peersDataDir, repoRoot } from './peers.js';

interface Entry {
  readonly peer: 'ours' | 'torch';
  readonly label: string;
  readonly args: readonly string[];
}

/** What can race. `default` is whatever the trainer does unless told; the rest are fixed configurations. */
const ENTRIES: Readonly<Record<string, Entry>> = {
  default: { peer: 'ours', label: 'ours: the defaults', args: [] },
  rnn: { peer: 'ours', label: 'ours: --cell rnn (the former defaults)', args: ['--cell', 'rnn'] },
  lstm: { peer: 'ours', label: 'ours: --cell lstm', args: ['--cell', 'lstm'] },
  'gru-256': { peer: 'ours', label: 'ours: --hidden 256', args: ['--hidden', '256'] },
  'gru-dropout': { peer: 'ours', label: 'ours: --dropout 0.2', args: ['--dropout', '0.2'] },
  'eta-4e-3': { peer: 'ours', label: 'ours: --eta 0.004', args: ['--eta', '0.004'] },
  'torch-gru': { peer: 'torch', label: 'PyTorch GRU 2x128, 32x50, Adam 2e-3', args: ['--cell', 'gru', '--hidden', '128', '--streams', '32', '--seq-length', '50', '--lr', '2e-3'] },
  'torch-gru-4e-3': { peer: 'torch', label: 'PyTorch GRU 2x128, 32x50, Adam 4e-3', args: ['--cell', 'gru', '--hidden', '128', '--streams', '32', '--seq-length', '50', '--lr', '4e-3'] },
  'torch-lstm': { peer: 'torch', label: 'PyTorch LSTM 2x128, 32x50, Adam 2e-3', args: ['--cell', 'lstm', '--hidden', '128', '--streams', '32', '--seq-length', '50', '--lr', '2e-3'] },
  'torch-lstm-256': { peer: 'torch', label: 'PyTorch LSTM 2x256, 32x50, Adam 2e-3', args: ['--cell', 'lstm', '--hidden', '256', '--streams', '32', '--seq-length', '50', '--lr', '2e-3'] },
};

const RACE_OPTIONS: readonly OptionSpec[] = [
  { name: 'minutes', kind: 'number', min: 0, minExclusive: true, help: 'training time of every run, minutes' },
  { name: 'entries', kind: 'string', default: 'default,rnn,lstm,torch-gru,torch-lstm', help: `comma-separated, from: ${Object.keys(ENTRIES).join(', ')}` },
  { name: 'seeds', kind: 'string', default: '1,2', help: 'seeds of the default configuration, one run each; every other entry runs with the first' },
  { name: 'eval-every', kind: 'number', min: 0, minExclusive: true, help: 'training seconds between validation points (default: a twentieth of the budget, at least 10)' },
  { name: 'threads', kind: 'int', min: 1, max: 1024, help: 'our worker threads (default: every core)' },
  { name: 'torch-threads', kind: 'int', default: 1, min: 1, max: 1024, help: 'torch.set_num_threads (1 was its fastest on the 2-core machine: docs/benchmarks.md, "Gated cells")' },
  { name: 'python', kind: 'string', metavar: 'FILE', help: 'python with torch (default: $PYTHON, else the first of python3, /usr/bin/python3 that imports torch)' },
  { name: 'train', kind: 'string', metavar: 'FILE', help: 'training text (default: $PEERS_DATA/sotu_train.txt, else ../shared/peers/data/sotu_train.txt)' },
  { name: 'val', kind: 'string', metavar: 'FILE', help: 'validation text (default: sotu_val.txt beside it)' },
  { name: 'out', kind: 'string', default: 'bench/results', metavar: 'DIR', help: 'folder for race-Mmin.json, .svg and .png' },
  { name: 'report', kind: 'string', metavar: 'FILE', help: 'run nothing: print the table and targets of a saved race-Mmin.json and draw its curves again beside it' },
  { name: 'help', kind: 'flag', help: 'print this help' },
];

/** The quality issue's figures for the defaults: at most 1.15 after 5 minutes, 1.291 within 60 s, at most 1.08 after 30 minutes. */
const FORMER_FIVE_MINUTES = 1.291;
const TARGETS = { fiveMinutes: 1.15, reachSeconds: 60, thirtyMinutes: 1.08 } as const;

/** What quality.js --json says of the configuration it trains. */
interface OurConfig {
  readonly cell: string;
  readonly layers: number;
  readonly hidden: number;
  readonly dtype: string;
  readonly seqLength: number;
  readonly streams: number;
  readonly optimizer: string;
  readonly eta: number;
  readonly dropout: number;
}

interface Point {
  readonly t: number; // training seconds
  readonly chars: number;
  readonly val: number; // nats per character
}

interface Run {
  readonly entry: string;
  label: string; // the entry's, then with our configuration once its first line says it
  readonly seed: number;
  config: OurConfig | undefined;
  readonly points: Point[];
  failure: string | undefined;
}

const qualityScript = fileURLToPath(new URL('./quality.js', import.meta.url));
const torchRaceScript = resolve(repoRoot, 'bench/peers/torch_race.py');
const err = (text: string): boolean => process.stderr.write(text);

export async function runRace(argv: readonly string[]): Promise<void> {
  const { values: v } = parseOptions('bench --quality --minutes', RACE_OPTIONS, argv);
  if (v.help === true) {
    process.stdout.write(`usage: npm run bench -- --quality --minutes M [options]   (or: node dist/bench/race.js --minutes M)\n\n${optionsHelp(RACE_OPTIONS)}\n`);
    return;
  }
  if (v.report !== undefined) return reportRace(v.report as string);
  if (v.minutes === undefined) throw new UserError('--minutes M is the training time of every run: give it');
  const minutes = v.minutes as number;
  const seconds = minutes * 60;
  const every = (v['eval-every'] as number | undefined) ?? Math.max(10, seconds / 20);
  const names = (v.entries as string).split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !Object.hasOwn(ENTRIES, name));
  if (unknown.length > 0) throw new UserError(`--entries: no entry named ${unknown.join(', ')}; choose from ${Object.keys(ENTRIES).join(', ')}`);
  const seeds = parseList('seeds', v.seeds as string, (n) => Number.isSafeInteger(n) && n >= 0, 'whole numbers');
  const trainPath = resolve((v.train as string | undefined) ?? join(peersDataDir(), 'sotu_train.txt'));
  const valPath = resolve((v.val as string | undefined) ?? join(peersDataDir(), 'sotu_val.txt'));
  for (const [flag, path] of [['train', trainPath], ['val', valPath]]) {
    if (!existsSync(path)) throw new UserError(`no ${flag === 'train' ? 'training' : 'validation'} text at ${path}: pass --${flag} FILE, or set PEERS_DATA to the folder of sotu_train.txt and sotu_val.txt`);
  }
  const threads = (v.threads as number | undefined) ?? availableParallelism();
  const torchThreads = v['torch-threads'] as number;

  const runs: Run[] = names.flatMap((entry) => (entry === 'default' ? seeds : seeds.slice(0, 1)).map((seed) => ({
    entry, label: ENTRIES[entry].label, seed, config: undefined, points: [], failure: undefined,
  })));
  process.stdout.write(
    `quality race: ${runs.length} runs of ${fixed(minutes, 1)} min of training each, one after another; train ${trainPath}, validation ${valPath} ` +
      `as one stream from a zero state every ~${fixed(every, 0)} s (not timed); ours on ${threads} threads, PyTorch on ${torchThreads}\n`,
  );
  const torch = runs.some((run) => ENTRIES[run.entry].peer === 'torch') ? await findTorch(torchRaceScript, v.python as string | undefined) : undefined;
  if (torch !== undefined) process.stdout.write(typeof torch === 'string' ? `PyTorch runs skipped: ${torch}\n` : `PyTorch: ${torch.versions} (${torch.python})\n`);
  const started = performance.now();
  for (const run of runs) {
    const entry = ENTRIES[run.entry];
    const common = ['--train', trainPath, '--val', valPath, '--seed', String(run.seed)];
    const [command, args, env] = entry.peer === 'ours'
      ? [process.execPath, [qualityScript, '--json', '--no-confirm', '--max-seconds', String(seconds), '--eval-every', String(every), '--threads', String(threads), ...common, ...entry.args], process.env]
      : [typeof torch === 'object' ? torch.python : '', [torchRaceScript, '--seconds', String(seconds), '--eval-every', String(every), '--threads', String(torchThreads), ...common, ...entry.args], process.env];
    err(`[race] ${run.label}, seed ${run.seed}\n`);
    if (entry.peer === 'torch' && typeof torch !== 'object') run.failure = 'no python with torch';
    else await runChild(command, args, env, run);
  }
  const wall = (performance.now() - started) / 1000;
  const out = resolve(v.out as string);
  await mkdir(out, { recursive: true });
  const file = join(out, `race-${String(minutes).replace('.', '_')}min.json`);
  const saved: SavedRace = { minutes, train: trainPath, val: valPath, threads, torchThreads, evalEvery: every, wallSeconds: wall, runs };
  await writeFile(file, `${JSON.stringify(saved, null, 1)}\n`);
  await printAndDraw(saved, file);
}

/** What a race leaves in race-Mmin.json. */
interface SavedRace {
  readonly minutes: number;
  readonly train: string;
  readonly val: string;
  readonly threads: number;
  readonly torchThreads: number;
  readonly evalEvery: number;
  readonly wallSeconds: number;
  readonly runs: Run[];
}

async function reportRace(file: string): Promise<void> {
  const text = await readFile(file, 'utf8').catch((error: unknown) => {
    throw new UserError(`cannot read ${file}: ${(error as Error).message} (give a race-Mmin.json that a race wrote)`);
  });
  const saved = JSON.parse(text) as SavedRace;
  process.stdout.write(`the race in ${file}: ${saved.runs.length} runs of ${saved.minutes} min; train ${saved.train}, validation ${saved.val} every ~${fixed(saved.evalEvery, 0)} s; ours on ${saved.threads} threads, PyTorch on ${saved.torchThreads}\n`);
  await printAndDraw(saved, file);
}

/** The table, the targets, and the curves beside the JSON file as .svg and .png. */
async function printAndDraw(race: SavedRace, file: string): Promise<void> {
  const seconds = race.minutes * 60;
  process.stdout.write(`\n${formatTable(TABLE_HEADER, race.runs.map((run) => tableRow(run, seconds)))}\n`);
  process.stdout.write(`val at a time: the last evaluation at or before it (its training second in brackets); at end: the last evaluation; reaches ${FORMER_FIVE_MINUTES}: the first evaluation at or under it\n`);
  process.stdout.write(`${targetLines(race.runs.filter((run) => run.entry === 'default'), seconds, race.evalEvery).join('\n')}\n`);
  process.stdout.write(`race wall time (evaluations and start-ups included): ${fixed(race.wallSeconds / 60, 1)} min\n`);
  const base = file.replace(/\.json$/, '');
  const svg = await renderSvg(raceChartSpec(race.runs, race.minutes));
  await writeFile(`${base}.svg`, svg);
  await writeFile(`${base}.png`, await renderPng(svg));
  process.stdout.write(`wrote ${base}.json, .svg and .png\n`);
}

/** Runs one racer, collecting its JSON lines; a failure is recorded and the race goes on. */
function runChild(command: string, args: readonly string[], env: NodeJS.ProcessEnv, run: Run): Promise<void> {
  return new Promise((done) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines.filter((text) => text.startsWith('{'))) {
        const parsed = JSON.parse(line) as Point | { config: OurConfig };
        if ('config' in parsed) {
          const c = parsed.config;
          run.config = c;
          if (ENTRIES[run.entry].peer === 'ours') {
            run.label += `, ${c.cell.toUpperCase()} ${c.layers}x${c.hidden}${c.dropout > 0 ? ` dropout ${c.dropout}` : ''}, ${c.dtype}, ${c.optimizer} ${c.eta}, ${c.streams}x${c.seqLength}`;
          }
        } else {
          run.points.push({ t: parsed.t, chars: parsed.chars, val: parsed.val });
          err(`[race]   ${fixed(parsed.t, 1).padStart(7)} s  ${group(parsed.chars).padStart(11)} chars  val ${parsed.val.toFixed(4)}\n`);
        }
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    child.on('error', (error) => {
      run.failure = error.message;
      done();
    });
    child.on('close', (code) => {
      if (code !== 0) run.failure = `exit ${code}: ${stderr.trim().split('\n').at(-1) ?? ''}`;
      if (run.failure !== undefined) err(`[race]   failed: ${run.failure}\n`);
      done();
    });
  });
}

const TABLE_HEADER = ['configuration', 'seed', 'chars/s', 'val at 60 s', 'val at half', 'val at end', 'best val', `reaches ${FORMER_FIVE_MINUTES}`];

function tableRow(run: Run, seconds: number): string[] {
  if (run.failure !== undefined && run.points.length === 0) return [run.label, String(run.seed), 'failed', '', '', '', '', ''];
  const last = run.points.at(-1);
  const best = Math.min(...run.points.map((p) => p.val));
  const reach = firstAtOrUnder(run.points, FORMER_FIVE_MINUTES);
  return [
    run.label, String(run.seed), last === undefined ? '-' : group(last.chars / last.t),
    valAt(run.points, 60), valAt(run.points, seconds / 2), last === undefined ? '-' : `${last.val.toFixed(3)} (${fixed(last.t, 0)} s)`, best.toFixed(3),
    reach === undefined ? 'no' : `${fixed(reach.t, 0)} s`,
  ];
}

/** The last point at or before second t, as "1.234 (58 s)". */
function valAt(points: readonly Point[], t: number): string {
  const point = pointAt(points, t);
  return point === undefined ? '-' : `${point.val.toFixed(3)} (${fixed(point.t, 0)} s)`;
}

function pointAt(points: readonly Point[], t: number): Point | undefined {
  return points.filter((p) => p.t <= t + 1).at(-1); // a segment ends on the first step past its mark
}

function firstAtOrUnder(points: readonly Point[], val: number): Point | undefined {
  return points.find((p) => p.val <= val);
}

/** The quality issue's targets, judged on the defaults' runs (every seed must meet one for it to be met). */
function targetLines(defaults: readonly Run[], seconds: number, evalEvery: number): string[] {
  if (defaults.length === 0) return ['targets: not judged (the default configuration did not race)'];
  const verdict = (ok: readonly boolean[]): string => (ok.every(Boolean) ? 'MET' : ok.some(Boolean) ? 'met in some seeds' : 'NOT MET');
  const lines: string[] = [];
  const reach = defaults.map((run) => firstAtOrUnder(run.points, FORMER_FIVE_MINUTES)?.t);
  if (evalEvery > TARGETS.reachSeconds / 3) {
    lines.push(`target: ${FORMER_FIVE_MINUTES} within ${TARGETS.reachSeconds} s: not judged, an evaluation every ${fixed(evalEvery, 0)} s cannot time it (the 5-minute race does)`);
  } else lines.push(`target: ${FORMER_FIVE_MINUTES} within ${TARGETS.reachSeconds} s: ${reach.map((t) => (t === undefined ? 'never' : `${fixed(t, 0)} s`)).join(', ')}: ${verdict(reach.map((t) => t !== undefined && t <= TARGETS.reachSeconds))}`);
  // A run's last evaluation ends its budget (a little past it: the last segment ends on the first step after).
  const at = (run: Run, t: number): Point | undefined => (t === seconds ? run.points.at(-1) : pointAt(run.points, t));
  if (seconds >= 300) {
    const five = defaults.map((run) => at(run, 300)?.val ?? Number.NaN);
    lines.push(`target: at most ${TARGETS.fiveMinutes} after 5 min: ${five.map((x) => x.toFixed(3)).join(', ')}: ${verdict(five.map((x) => x <= TARGETS.fiveMinutes))}`);
  }
  if (seconds >= 1800) {
    const last = (run: Run): number => at(run, 1800)?.t ?? 0;
    const thirty = defaults.map((run) => Math.min(...run.points.filter((p) => p.t <= last(run)).map((p) => p.val)));
    lines.push(`target: at most ${TARGETS.thirtyMinutes} after 30 min (best.ckpt's, the best evaluation): ${thirty.map((x) => x.toFixed(3)).join(', ')}: ${verdict(thirty.map((x) => x <= TARGETS.thirtyMinutes))}`);
  }
  return lines;
}

/** Validation loss against training minutes, one line per run, with the targets as dashed rules. */
function raceChartSpec(runs: readonly Run[], minutes: number): TopLevelSpec {
  // a one-point line is an empty path, which the PNG renderer cannot measure
  const values = runs.filter((run) => run.points.length > 1).flatMap((run) => run.points.map((p) => ({ minutes: p.t / 60, val: p.val, configuration: run.label, run: `${run.entry} ${run.seed}` })));
  const finite = values.map((p) => p.val).filter(Number.isFinite);
  const low = Math.floor((Math.min(...finite) - 0.02) * 20) / 20;
  const rules = [{ val: FORMER_FIVE_MINUTES, what: `${FORMER_FIVE_MINUTES}: the former defaults' 5-minute loss` }, { val: TARGETS.fiveMinutes, what: `${TARGETS.fiveMinutes}: the 5-minute target` }];
  if (minutes >= 30) rules.push({ val: TARGETS.thirtyMinutes, what: `${TARGETS.thirtyMinutes}: the 30-minute target` });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `Validation loss against training time, ${minutes} minutes a run`, subtitle: 'nats per character on sotu_val.txt, read as one stream; evaluation not timed' },
    width: 820,
    height: 420,
    config: { font: 'DejaVu Sans, Helvetica, Arial, sans-serif', axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelLimit: 0, labelFontSize: 11 } },
    layer: [
      {
        data: { values: rules },
        mark: { type: 'rule', strokeDash: [4, 4], color: '#999', clip: true, strokeWidth: 1 },
        encoding: { y: { field: 'val', type: 'quantitative' }, tooltip: { field: 'what' } },
      },
      {
        data: { values },
        mark: { type: 'line', point: { size: 14 }, clip: true },
        encoding: {
          x: { field: 'minutes', type: 'quantitative', title: 'training minutes', scale: { domain: [0, minutes] } },
          y: { field: 'val', type: 'quantitative', title: 'validation loss, nats/char', scale: { domain: [low, 2.2], zero: false } },
          color: { field: 'configuration', type: 'nominal', legend: { orient: 'bottom', direction: 'vertical', title: null } },
          detail: { field: 'run', type: 'nominal' },
        },
      },
    ],
  } as TopLevelSpec;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runMain('race', runRace, process.argv.slice(2));
}
