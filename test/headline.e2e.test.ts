/**
 * The loss a run ends on is the validation loss, or without validation text the mean training loss
 * of the last 100 steps, in the last lines of 'char-rnn train' and at the top of the report; the
 * seed's smooth loss is there too, named as the lagging moving average it is, and sets no chart's range.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { loadCheckpoint } from '../src/checkpoint/index.js';
import { readHistory, type HistoryRow } from '../src/history/index.js';
import { formatMinutes, formatPerChar } from '../src/progress/format.js';
import { budgetStopLine, endOfRunLines } from '../src/progress/headline.js';
import { lossChartSpec } from '../src/report/index.js';
import { noSamplesNote } from '../src/report/report-html.js';
import { pseudoEnglish, runCli, succeeded, tempDir } from './fixtures/harness.js';

const dir = tempDir('headline-test-');
test.after.always(() => dir.remove());

const CORPUS = dir.file('corpus.txt', pseudoEnglish(20_000, 5));
const TINY = ['train', '--corpus', CORPUS, '--cell', 'rnn', '--hidden', '16', '--seq-length', '10', '--streams', '4', '--threads', '1', '--sample-length', '20'];

/** The mean of the last n rows' training losses, computed here from history.csv. */
const meanLoss = (rows: readonly HistoryRow[], n: number): number => rows.slice(-n).reduce((sum, row) => sum + row.loss, 0) / Math.min(n, rows.length);

test('with validation text the run ends on the validation loss, then the seed\'s smooth loss, named as such', async (t) => {
  const out = join(dir.path, 'with-val');
  const result = await runCli([...TINY, '--steps', '150', '--eval-every', '50', '--sample-every', '1000', '--out', out], {});
  succeeded(t, result, 'the run');
  const { state } = await loadCheckpoint(join(out, 'last.ckpt'));
  const lines = result.stdout.split('\n');
  const done = lines.findIndex((line) => line.startsWith('done: 150 steps'));
  t.is(lines[done + 1], `validation loss: ${formatPerChar(state.valLoss!)}`);
  t.is(lines[done + 2], `the seed's smooth loss (a 0.999 moving average): ${formatPerChar(state.smoothLoss / 10)}, ${state.smoothLoss.toFixed(3)} per 10 characters`);

  // The report leads with the same loss, and says why it has no samples: the run ended before the first was due.
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  const rows = (await readHistory(out))!.rows;
  const summary = [...html.matchAll(/<tr><th>([^<]*)<\/th><td>([^<]*)<\/td><\/tr>/g)].map((m) => [m[1], m[2]]);
  const losses = summary.filter(([label]) => /loss/.test(label));
  t.deepEqual(losses.slice(0, 3), [
    ['validation loss', formatPerChar(state.valLoss!)],
    ['training loss, mean of the last 100 steps', formatPerChar(meanLoss(rows, 100))],
    ['the seed&#39;s smooth loss (a 0.999 moving average)', `${formatPerChar(state.smoothLoss / 10)}, ${state.smoothLoss.toFixed(3)} per 10 characters`],
  ]);
  t.true(html.includes('No samples were taken during training: the first was due at step 1000 (--sample-every 1000), and the run ended at step 150.'));
  t.false(html.includes('--sample-every 0'));
});

test('without validation text the run ends on the mean training loss of its last steps', async (t) => {
  const out = join(dir.path, 'no-val');
  const result = await runCli([...TINY, '--steps', '40', '--val-frac', '0', '--sample-every', '0', '--out', out], {});
  succeeded(t, result, 'the run');
  const rows = (await readHistory(out))!.rows;
  t.is(rows.length, 40);
  t.true(result.stdout.includes(`\ntraining loss, mean of all 40 steps: ${formatPerChar(meanLoss(rows, 100))}; no validation text (--val-frac 0)\n`), result.stdout);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  t.true(html.includes(`<tr><th>training loss, mean of all 40 steps</th><td>${formatPerChar(meanLoss(rows, 100))} (no validation text)</td></tr>`));
  t.false(html.includes('<tr><th>validation loss'));
  t.true(html.includes('No samples were taken during training (--sample-every 0).'));
});

test('the lines and notes read as English: one minute, all steps, why no sample', (t) => {
  t.is(budgetStopLine(1), 'stopped at the time budget of 1 minute (--minutes)');
  t.is(budgetStopLine(0.5), 'stopped at the time budget of 0.5 minutes (--minutes)');
  t.is(formatMinutes(2), '2 minutes');
  const lines = endOfRunLines({ valLoss: undefined, recentLoss: Math.LN2, recentSteps: 1, smoothLoss: 25 * Math.LN2, seqLength: 25 });
  t.deepEqual(lines, [
    'training loss, mean of all 1 step: 0.6931 nats/char (1.0000 bits/char); no validation text (--val-frac 0)',
    "the seed's smooth loss (a 0.999 moving average): 0.6931 nats/char (1.0000 bits/char), 17.329 per 25 characters",
  ]);
  t.is(noSamplesNote(500, 2000), 'No samples from training are in samples.jsonl.');
});

test('the report\'s learning curve takes its range from the training and validation losses, and clips the smooth loss', (t) => {
  // The smooth loss lags 1 nat above the training loss, which falls from 3 to 2.01; the validation loss is 2.5 at step 50.
  const rows: HistoryRow[] = Array.from({ length: 100 }, (_, i) => ({
    step: i + 1, epoch: 1, charsSeen: 0, loss: 3 - i / 100, smoothLoss: 4 - i / 100, valLoss: i === 49 ? 2.5 : undefined, charsPerSec: 0, wallSeconds: 0,
  }));
  const { spec } = lossChartSpec(rows);
  const lines = (spec as { layer: { mark: { type: string; clip?: boolean }; encoding?: { y?: { scale?: { domain?: number[] } } } }[] }).layer.find((layer) => layer.mark.type === 'line');
  // The highest is step 1's training loss, 3 (the smooth loss's 4 is left out); the lowest the
  // validation loss, 2.5, under step 100's trailing mean of 3 ... 2.01, 2.505.
  t.true(meanLoss(rows, 100) > 2.5);
  t.deepEqual(lines?.encoding?.y?.scale?.domain, [2.5, 3]);
  t.true(lines?.mark.clip);
});
