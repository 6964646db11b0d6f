import test from 'ava';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint } from '../src/checkpoint/index.js';
import { makeTrainConfig, type TrainConfig } from '../src/config.js';
import { loadCorpusFile, type Corpus } from '../src/corpus.js';
import { UserError } from '../src/errors.js';
import { HISTORY_HEADER, HistoryLog, parseHistory, parseSamples, readHistory, readSamples, terminalChart, type HistoryRow } from '../src/history/index.js';
import type { Reporter, StepStats } from '../src/progress.js';
import { train } from '../src/train/train.js';
import { silentReporter, tempDir } from './fixtures/harness.js';

const dir = tempDir('history-test-');
test.after.always(() => dir.remove());

const PARAGRAPH = 'The quick brown fox jumps over the lazy dog. A stitch in time saves nine. ';
const CORPUS_FILE = dir.file('paragraph.txt', PARAGRAPH.repeat(60));
let corpusPromise: Promise<Corpus> | undefined;
const corpus = (): Promise<Corpus> => (corpusPromise ??= loadCorpusFile(CORPUS_FILE));

const B = 4;
const T = 10;
/** The math of every run here: resumed runs must keep it. */
function config(out: string, partial: Partial<TrainConfig>): TrainConfig {
  return makeTrainConfig({
    corpus: CORPUS_FILE, hidden: 16, seqLength: T, streams: B, threads: 2, valFrac: 0.1,
    evalEvery: 25, sampleEvery: 30, sampleLength: 20, checkpointEvery: 0, out: join(dir.path, out),
    ...partial,
  });
}

/** A reporter that keeps what the trainer showed: every step's stats and every logged text. */
function recordingReporter(): Reporter & { stats: StepStats[]; logs: string[] } {
  const stats: StepStats[] = [];
  const logs: string[] = [];
  return { ...silentReporter, stats, logs, update: (s) => void stats.push(s), log: (text) => void logs.push(text) };
}

async function historyRows(out: string): Promise<HistoryRow[]> {
  const history = await readHistory(out);
  if (history === undefined) throw new Error(`no history in ${out}`);
  return history.rows;
}

// Training spawns worker threads: one run at a time.

test.serial('after a short run, history.csv has one row per step with the losses the trainer showed', async (t) => {
  const reporter = recordingReporter();
  const c = config('short', { steps: 60 });
  const result = await train(c, await corpus(), reporter);
  const text = readFileSync(join(c.out, 'history.csv'), 'utf8');
  t.true(text.startsWith(`${HISTORY_HEADER}\n`));
  const rows = parseHistory(text, 'history.csv').rows;

  t.deepEqual(rows.map((r) => r.step), Array.from({ length: 60 }, (_, i) => i + 1), 'one row per step, in order');
  // The progress bar got the smooth loss of every step: the same numbers, bit for bit.
  const shown = new Map(reporter.stats.map((s) => [s.step, s.smoothLoss]));
  for (const row of rows) t.true(Object.is(row.smoothLoss, shown.get(row.step)), `step ${row.step}: ${row.smoothLoss} vs ${shown.get(row.step)}`);
  // The loss column is the one the smooth loss was made from (the seed's recurrence, worked here).
  let smooth = rows[0].loss;
  for (const row of rows) {
    smooth = row.step === 1 ? row.loss : 0.999 * smooth + 0.001 * row.loss;
    t.true(Object.is(row.smoothLoss, smooth), `step ${row.step}: smooth ${row.smoothLoss} vs ${smooth} from the loss column`);
  }
  // The checkpoint keeps the smooth loss every 10 steps and every validation loss.
  const state = result.last.state;
  for (const point of state.smoothHistory) t.true(Object.is(rows[point.step - 1].smoothLoss, point.loss), `smooth history at ${point.step}`);
  const validated = rows.filter((r) => r.valLoss !== undefined).map((r) => ({ step: r.step, loss: r.valLoss }));
  t.deepEqual(validated, state.valHistory.map((p) => ({ step: p.step, loss: p.loss })));
  t.deepEqual(validated.map((v) => v.step), [25, 50, 60]);
  // ...and printed each validation loss to 4 decimals.
  for (const v of validated) t.true(reporter.logs.includes(`step ${v.step}: validation ${v.loss!.toFixed(4)} nats/char (${(v.loss! / Math.LN2).toFixed(4)} bits/char)`), `step ${v.step}`);

  for (const row of rows) {
    t.is(row.charsSeen, row.step * B * T);
    t.is(row.epoch, 1);
  }
  t.true(rows.every((r, i) => i === 0 || r.wallSeconds >= rows[i - 1].wallSeconds), 'wall time never goes back');
  t.true(rows.at(-1)!.charsPerSec > 0);

  // The samples printed during training, with the step each was drawn at.
  const { samples } = await readSamples(c.out);
  t.deepEqual(samples.map((s) => s.step), [0, 30]);
  const printed = reporter.logs.filter((l) => l.startsWith('----- sample at step'));
  t.deepEqual(printed, samples.map((s) => `----- sample at step ${s.step} -----\n${s.text}\n-----`));
});

test.serial('a resumed run continues the same history: no gap, no step twice, and the rows of an uninterrupted run', async (t) => {
  const c = await corpus();
  const whole = config('whole', { steps: 200 });
  await train(whole, c, silentReporter);
  const reference = await historyRows(whole.out);

  // A run checkpointed at step 100 goes on to step 130 and dies: rows and samples after step 100
  // are on disk, but the checkpoint it is resumed from is the one at step 100.
  const first = config('resumed', { steps: 100 });
  await train(first, c, silentReporter);
  const at100 = join(first.out, 'at-100.ckpt');
  copyFileSync(join(first.out, 'last.ckpt'), at100);
  await train(config('resumed', { steps: 130 }), c, silentReporter, { start: { kind: 'resume', checkpoint: await loadCheckpoint(at100) } });
  t.is((await historyRows(first.out)).at(-1)!.step, 130);
  t.true((await readSamples(first.out)).samples.some((s) => s.step === 120), 'a sample drawn after the checkpoint');

  await train(config('resumed', { steps: 200 }), c, silentReporter, { start: { kind: 'resume', checkpoint: await loadCheckpoint(at100) } });
  const rows = await historyRows(first.out);
  t.deepEqual(rows.map((r) => r.step), Array.from({ length: 200 }, (_, i) => i + 1), 'no gap and no duplicate');
  // Resuming is exact, so every training number matches the uninterrupted run's.
  const numbers = (r: HistoryRow) => [r.step, r.epoch, r.charsSeen, r.loss, r.smoothLoss, r.valLoss];
  t.deepEqual(rows.map(numbers), reference.map(numbers));
  t.true(rows.every((r, i) => i === 0 || r.wallSeconds >= rows[i - 1].wallSeconds), 'wall time continues across the resume');
  t.deepEqual((await readSamples(first.out)).samples, (await readSamples(whole.out)).samples, 'the same samples, each once');
});

test.serial('a resumed run with another --out carries the history over', async (t) => {
  const c = await corpus();
  const first = config('moved-from', { steps: 40 });
  await train(first, c, silentReporter);
  const checkpoint = await loadCheckpoint(join(first.out, 'last.ckpt'));
  const moved = config('moved-to', { steps: 70 });
  await train(moved, c, silentReporter, { start: { kind: 'resume', checkpoint }, historyFrom: first.out });
  t.deepEqual((await historyRows(moved.out)).map((r) => r.step), Array.from({ length: 70 }, (_, i) => i + 1));
  t.is((await historyRows(first.out)).length, 40, 'the original folder is left as it was');
});

test.serial('a new run in a folder replaces the old run\'s history and samples', async (t) => {
  const c = await corpus();
  await train(config('reused', { steps: 40 }), c, silentReporter);
  await train(config('reused', { steps: 10, sampleEvery: 0 }), c, silentReporter);
  t.is((await historyRows(join(dir.path, 'reused'))).length, 10);
  t.deepEqual((await readSamples(join(dir.path, 'reused'))).samples, []);
});

test('rows wait in memory and are written in one append about once a second, or every 500 rows', async (t) => {
  const out = join(dir.path, 'buffered');
  const log = await HistoryLog.open({ out, step: 0, charsPerStep: 100 });
  const file = join(out, 'history.csv');
  const lines = (): number => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').length - 2 : -1); // less the header and the final ''
  for (let step = 1; step <= 400; step++) log.record(step, 1, 2, 2, step * 0.001); // 0.4 s of 1 ms steps
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.is(lines(), -1, 'nothing written yet');
  log.record(401, 1, 2, 2, 1.2); // a second has passed: the 400 rows before it are written
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.is(lines(), 400);
  for (let step = 402; step <= 1000; step++) log.record(step, 1, 2, 2, 1.2);
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.is(lines(), 900, 'rows 401-900 once 500 were pending');
  await log.flush();
  t.is(lines(), 1000);
});

test('a torn last line is left out; a damaged line or steps that go back are refused, naming the line', (t) => {
  const good = `${HISTORY_HEADER}\n1,1,10,3,3,,5,0.1\n2,1,20,2.5,2.99,1.5,6,0.2\n`;
  t.deepEqual(parseHistory(`${good}3,1,30,2`, 'h.csv').rows.map((r) => r.step), [1, 2]);
  t.is(parseHistory(good, 'h.csv').rows[1].valLoss, 1.5);
  t.throws(() => parseHistory(`${good}3,1,30,x,2,,1,1\n4,1,40,2,2,,1,1\n`, 'h.csv'), { instanceOf: UserError, message: /h\.csv is damaged: line 4 is not a history row/ });
  t.throws(() => parseHistory(`${good}2,1,20,2,2,,1,1\n`, 'h.csv'), { instanceOf: UserError, message: /line 4 has step 2 after step 2/ });
  t.throws(() => parseHistory('hello\n', 'h.csv'), { instanceOf: UserError, message: /not a history file/ });
  t.throws(() => parseSamples('{"step":1,"epoch":1,"text":"a"}\nnot json\n', 's.jsonl'), { instanceOf: UserError, message: /line 2 is not a sample/ });
});

test('the terminal chart shows both losses per character, the steps and a legend', (t) => {
  const rows: HistoryRow[] = Array.from({ length: 200 }, (_, i) => ({
    step: i + 1, epoch: 1, charsSeen: 0, loss: 0, smoothLoss: 50 - i * 0.1, valLoss: (i + 1) % 100 === 0 ? 1.5 - i * 0.001 : undefined, charsPerSec: 0, wallSeconds: 0,
  }));
  const chart = terminalChart(rows, { seqLength: 25, width: 40, height: 8 });
  const lines = chart.split('\n');
  t.is(lines.length, 9 + 2, chart);
  // 40 columns of 5 steps each show each group's last step: the first column is step 5.
  t.regex(lines[0], /^\s+1\.984 ┼/, 'the highest is step 5\'s smooth loss, 49.6 / 25');
  t.regex(chart, /\s1\.301 ┤/, 'the lowest is the last validation loss, 1.5 - 0.199');
  t.regex(lines.at(-2)!, /step 1\s+200$/);
  t.regex(lines.at(-1)!, /smooth training loss.*validation loss/);
  t.is(terminalChart([], { seqLength: 25 }), '');
});
