import test from 'ava';
import { appendFileSync, copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint } from '../src/checkpoint/index.js';
import { makeTrainConfig, type TrainConfig } from '../src/config.js';
import { loadCorpusFile, type Corpus } from '../src/corpus.js';
import { UserError } from '../src/errors.js';
import {
  HISTORY_HEADER, HISTORY_HEADER_PER_SEQUENCE, HistoryLog, parseHistory, parseSamples, readHistory, readSamples, TrailingMean, trailingMeans, type HistoryRow,
} from '../src/history/index.js';
import type { Reporter, StepStats } from '../src/progress.js';
import { train } from '../src/train/train.js';
import { visibleText } from '../src/visible-text.js';
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
    corpus: CORPUS_FILE, cell: 'rnn', hidden: 16, seqLength: T, streams: B, threads: 2, valFrac: 0.1,
    evalEvery: 25, sampleEvery: 30, sampleLength: 20, checkpointEvery: 0, out: join(dir.path, out),
    ...partial,
  });
}

/** A reporter that keeps what the trainer showed: every step's stats, every logged text, and evaluations as 'eval N' / 'end' in the logs. */
function recordingReporter(): Reporter & { stats: StepStats[]; logs: string[] } {
  const stats: StepStats[] = [];
  const logs: string[] = [];
  return {
    ...silentReporter, stats, logs, update: (s) => void stats.push(s), log: (text) => void logs.push(text),
    startEvaluation: (step) => void logs.push(`eval ${step}`), endEvaluation: () => void logs.push('end'),
  };
}

/** The mean of the last 100 values up to each index, summed afresh: what the recent loss should be. */
function naiveRecent(values: readonly number[]): number[] {
  return values.map((_, i) => {
    const window = values.slice(Math.max(0, i - 99), i + 1);
    return window.reduce((a, b) => a + b, 0) / window.length;
  });
}

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b));

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
  // The progress bar got the smooth loss of every step per character: the same numbers, bit for bit.
  const shown = new Map(reporter.stats.map((s) => [s.step, s]));
  for (const row of rows) t.true(Object.is(row.smoothLoss, shown.get(row.step)!.smoothLoss), `step ${row.step}: ${row.smoothLoss} vs ${shown.get(row.step)!.smoothLoss}`);
  // The loss column is the one the smooth loss was made from (the seed's recurrence per sequence, worked here).
  let smooth = rows[0].loss * T;
  for (const row of rows) {
    smooth = row.step === 1 ? row.loss * T : 0.999 * smooth + 0.001 * row.loss * T;
    t.true(close(row.smoothLoss, smooth / T), `step ${row.step}: smooth ${row.smoothLoss} vs ${smooth / T} from the loss column`);
  }
  // The bar's loss is the mean of the last 100 steps' losses (of all steps before the 100th).
  const recent = naiveRecent(rows.map((r) => r.loss));
  for (const row of rows) {
    const stats = shown.get(row.step)!;
    t.true(close(stats.recentLoss, recent[row.step - 1]), `step ${row.step}: recent ${stats.recentLoss} vs ${recent[row.step - 1]}`);
    t.is(stats.recentSteps, Math.min(row.step, 100));
  }
  // The checkpoint keeps the smooth loss per sequence every 10 steps, and every validation loss.
  const state = result.last.state;
  for (const point of state.smoothHistory) t.true(Object.is(rows[point.step - 1].smoothLoss, point.loss / T), `smooth history at ${point.step}`);
  t.true(Object.is(state.smoothLoss / T, rows.at(-1)!.smoothLoss));
  const validated = rows.filter((r) => r.valLoss !== undefined).map((r) => ({ step: r.step, loss: r.valLoss }));
  t.deepEqual(validated, state.valHistory.map((p) => ({ step: p.step, loss: p.loss })));
  t.deepEqual(validated.map((v) => v.step), [25, 50, 60]);
  // ...and printed each validation loss to 4 decimals, after the evaluation said it began and ended.
  for (const v of validated) {
    const at = reporter.logs.indexOf(`step ${v.step}: validation ${v.loss!.toFixed(4)} nats/char (${(v.loss! / Math.LN2).toFixed(4)} bits/char)`);
    t.deepEqual(reporter.logs.slice(at - 2, at), [`eval ${v.step}`, 'end'], `step ${v.step}`);
  }
  t.is(reporter.logs.filter((l) => l.startsWith('eval ')).length, 3, 'one evaluation each');

  for (const row of rows) {
    t.is(row.charsSeen, row.step * B * T);
    t.is(row.epoch, 1);
  }
  t.true(rows.every((r, i) => i === 0 || r.wallSeconds >= rows[i - 1].wallSeconds), 'wall time never goes back');
  // The rate is over training time, which leaves the evaluations out: never below the wall-clock rate.
  // (wall_seconds is written to the millisecond, the rate to the unit: the bound allows both roundings.)
  for (const row of rows.slice(1)) t.true(row.charsPerSec >= row.charsSeen / (row.wallSeconds + 0.0005) - 1, `step ${row.step}: ${row.charsPerSec} vs ${row.charsSeen / row.wallSeconds}`);
  for (const s of reporter.stats) t.true(close(s.charsPerSec, (s.step * B * T) / s.trainingSeconds), `step ${s.step}: the rate is chars over training seconds`);
  t.is(Math.round(reporter.stats.at(-1)!.charsPerSec), rows.at(-1)!.charsPerSec);

  // The samples printed during training, with the step each was drawn at: none at step 0, before training.
  const { samples } = await readSamples(c.out);
  t.deepEqual(samples.map((s) => s.step), [30]);
  const printed = reporter.logs.filter((l) => l.startsWith('----- sample at step'));
  t.deepEqual(printed, samples.map((s) => `----- sample at step ${s.step} -----\n${visibleText(s.text)}\n-----`));
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
  const log = await HistoryLog.open({ out, step: 0, charsPerStep: 100, seqLength: 10 });
  const record = (step: number, seconds: number): void => log.record({ step, epoch: 1, loss: 2, smoothLoss: 2, seconds, charsPerSec: 1000 });
  const file = join(out, 'history.csv');
  const lines = (): number => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').length - 2 : -1); // less the header and the final ''
  for (let step = 1; step <= 400; step++) record(step, step * 0.001); // 0.4 s of 1 ms steps
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.is(lines(), -1, 'nothing written yet');
  record(401, 1.2); // a second has passed: the 400 rows before it are written
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.is(lines(), 400);
  for (let step = 402; step <= 1000; step++) record(step, 1.2);
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.is(lines(), 900, 'rows 401-900 once 500 were pending');
  await log.flush();
  t.is(lines(), 1000);
});

test('a torn last line is left out with a warning, in either file; a damaged line before it or steps that go back are refused, naming the line', (t) => {
  const good = `${HISTORY_HEADER}\n1,1,10,3,3,,5,0.1\n2,1,20,2.5,2.99,1.5,6,0.2\n`;
  t.deepEqual(parseHistory(good, 'h.csv').warnings, []);
  t.is(parseHistory(good, 'h.csv').rows[1].valLoss, 1.5);
  for (const torn of ['3,1,30,2', '3,1,30,2,2,,1,1', '3,1,30,2\n', '\n']) {
    const parsed = parseHistory(`${good}${torn}`, 'h.csv');
    t.deepEqual(parsed.rows.map((r) => r.step), [1, 2], JSON.stringify(torn));
    t.deepEqual(parsed.warnings, [`h.csv: its last line, line 4, ${torn.endsWith('\n') ? 'is damaged' : 'has no end (a write cut short by a crash or a full disk)'} and is left out`]);
  }
  t.throws(() => parseHistory(`${good}3,1,30,x,2,,1,1\n4,1,40,2,2,,1,1\n`, 'h.csv'), { instanceOf: UserError, message: /h\.csv is damaged: line 4 is not a history row/ });
  t.throws(() => parseHistory(`${good}2,1,20,2,2,,1,1\n`, 'h.csv'), { instanceOf: UserError, message: /line 4 has step 2 after step 2/ });
  t.throws(() => parseHistory('hello\n', 'h.csv'), { instanceOf: UserError, message: /not a history file/ });

  const sample = '{"step":10,"epoch":1,"text":"a\\u0002"}\n';
  for (const torn of ['{"step":20,"ep', '{"step":20,"epoch":1,"text":"b"}', '{"step":\n']) {
    const parsed = parseSamples(`${sample}${torn}`, 's.jsonl');
    t.deepEqual(parsed.samples, [{ step: 10, epoch: 1, text: 'a\u0002' }]);
    t.deepEqual(parsed.ends, [sample.length]);
    t.deepEqual(parsed.warnings, [`s.jsonl: its last line, line 2, ${torn.endsWith('\n') ? 'is damaged' : 'has no end (a write cut short by a crash or a full disk)'} and is left out`]);
  }
  t.throws(() => parseSamples(`${sample}not json\n${sample}`, 's.jsonl'), { instanceOf: UserError, message: /line 2 is not a sample/ });
});

test('a history file of the first format (losses per sequence) is read per character; it needs T', (t) => {
  const old = `${HISTORY_HEADER_PER_SEQUENCE}\n1,1,100,45,45,,5000,0.1\n2,1,200,40,44.995,1.75,5100,0.2\n`;
  const rows = parseHistory(old, 'h.csv', 25).rows;
  t.deepEqual(rows, [
    { step: 1, epoch: 1, charsSeen: 100, loss: 45 / 25, smoothLoss: 45 / 25, valLoss: undefined, charsPerSec: 5000, wallSeconds: 0.1 },
    { step: 2, epoch: 1, charsSeen: 200, loss: 40 / 25, smoothLoss: 44.995 / 25, valLoss: 1.75, charsPerSec: 5100, wallSeconds: 0.2 },
  ]);
  t.is(rows[0].loss, 1.8);
  t.throws(() => parseHistory(old, 'h.csv'), { instanceOf: UserError, message: /h\.csv has losses per sequence/ });
  // The new format does not need T, and ignores it.
  t.deepEqual(parseHistory(`${HISTORY_HEADER}\n1,1,100,1.8,1.8,,5000,0.1\n`, 'h.csv', 25).rows[0].loss, 1.8);
});

test.serial('a resumed run reads a first-format history and torn last lines, and writes them back per character without the torn lines', async (t) => {
  const c = await corpus();
  const first = config('old-format', { steps: 40, sampleEvery: 15 });
  await train(first, c, silentReporter);
  // Make the files what an older char-rnn, stopped by a full disk, would have left: losses per
  // sequence of T, and a line cut short at the end of each file.
  const historyFile = join(first.out, 'history.csv');
  const rowsBefore = await historyRows(first.out);
  const oldLines = rowsBefore.map((r, i) => `${r.step},${r.epoch},${r.charsSeen},${30 + i},${35 + i / 4},${r.valLoss ?? ''},${r.charsPerSec},${r.wallSeconds.toFixed(3)}\n`);
  writeFileSync(historyFile, `${HISTORY_HEADER_PER_SEQUENCE}\n${oldLines.join('')}41,1,1640,29.`);
  appendFileSync(join(first.out, 'samples.jsonl'), '{"step":45,"epoch":1,"te');
  const samplesBefore = (await readSamples(first.out)).samples;
  t.deepEqual(samplesBefore.map((s) => s.step), [15, 30]);

  const reporter = recordingReporter();
  const checkpoint = await loadCheckpoint(join(first.out, 'last.ckpt'));
  await train(config('old-format', { steps: 60, sampleEvery: 15 }), c, reporter, { start: { kind: 'resume', checkpoint } });
  t.deepEqual(reporter.logs.filter((l) => l.startsWith('warning: ')), [
    `warning: ${historyFile}: its last line, line 42, has no end (a write cut short by a crash or a full disk) and is left out`,
    `warning: ${join(first.out, 'samples.jsonl')}: its last line, line 3, has no end (a write cut short by a crash or a full disk) and is left out`,
  ]);
  const text = readFileSync(historyFile, 'utf8');
  t.true(text.startsWith(`${HISTORY_HEADER}\n`), 'rewritten in the current format');
  const rows = parseHistory(text, 'history.csv').rows;
  t.deepEqual(rows.map((r) => r.step), Array.from({ length: 60 }, (_, i) => i + 1));
  for (let i = 0; i < 40; i++) {
    t.is(rows[i].loss, (30 + i) / T);
    t.is(rows[i].smoothLoss, (35 + i / 4) / T);
    t.is(rows[i].valLoss, rowsBefore[i].valLoss);
  }
  // The recent loss went on from the kept rows: at step 41 it is the mean of steps 1-40's losses and step 41's.
  const losses = rows.map((r) => r.loss);
  const at41 = reporter.stats.find((s) => s.step === 41)!;
  t.true(close(at41.recentLoss, naiveRecent(losses)[40]), `${at41.recentLoss} vs ${naiveRecent(losses)[40]}`);
  t.is(at41.recentSteps, 41);
  const samples = readFileSync(join(first.out, 'samples.jsonl'), 'utf8');
  t.false(samples.includes('"te\n') || samples.includes('{"step":45,"epoch":1,"te{'), 'no torn line in the rewritten file');
  t.deepEqual(parseSamples(samples, 'samples.jsonl').samples.map((s) => s.step), [15, 30, 45]);
  t.deepEqual(parseSamples(samples, 'samples.jsonl').samples.slice(0, 2), samplesBefore);
});

test('the trailing mean is the mean of the last values, and goes on from earlier ones', (t) => {
  const values = Array.from({ length: 350 }, (_, i) => Math.sin(i) * 3 + i / 100);
  const expected = naiveRecent(values);
  trailingMeans(values).forEach((mean, i) => t.true(close(mean, expected[i]), `at ${i}: ${mean} vs ${expected[i]}`));
  const resumed = new TrailingMean(100, values.slice(0, 250));
  t.is(resumed.count(), 100);
  for (let i = 250; i < 350; i++) {
    resumed.add(values[i]);
    t.true(close(resumed.mean(), expected[i]), `resumed at ${i}`);
  }
  t.true(Number.isNaN(new TrailingMean(100).mean()));
  t.deepEqual(trailingMeans([1, 2, 3, 4], 2), [1, 1.5, 2.5, 3.5]);
});
