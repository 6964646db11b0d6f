import test, { type ExecutionContext } from 'ava';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint } from '../src/checkpoint/index.js';
import { sample } from '../src/generate.js';
import { HISTORY_HEADER_PER_SEQUENCE, readHistory, readSamples } from '../src/history/index.js';
import { escapeHtml, lossChartSpec, renderSvg, reportHtml, throughputChartSpec } from '../src/report/index.js';
import { RECENT_SERIES, REPORT_COLUMN_PX, SMOOTH_SERIES } from '../src/report/chart-specs.js';
import { HANG_MS, pollUntil, pseudoEnglish, runCli, startCli, tempDir, type CliResult } from './fixtures/harness.js';

// Every CLI child runs with cwd in this folder and writes only under it.
const dir = tempDir('report-test-');
test.after.always(() => dir.remove());

const CORPUS = dir.file('corpus.txt', pseudoEnglish(30_000, 3));
const TRAIN = ['train', '--corpus', CORPUS, '--cell', 'rnn', '--hidden', '16', '--seq-length', '20', '--streams', '4', '--threads', '2', '--steps', '120', '--eval-every', '40', '--sample-every', '50', '--sample-length', '40', '--checkpoint-every', '60'];
const CHILD_MS = HANG_MS;

/** One run with the default report, shared by the tests that read it. */
let runPromise: Promise<{ out: string; result: CliResult }> | undefined;
function trainedRun(): Promise<{ out: string; result: CliResult }> {
  runPromise ??= (async () => {
    const out = join(dir.path, 'run');
    const result = await runCli([...TRAIN, '--out', out], { cwd: dir.path, timeoutMs: CHILD_MS });
    if (result.code !== 0) throw new Error(`training exited with ${result.code}: ${result.stderr}`);
    return { out, result };
  })();
  return runPromise;
}

const VOID_ELEMENTS = new Set(['meta', 'link', 'br', 'hr', 'img', 'input', 'col', 'area', 'base', 'wbr', 'source']);

/**
 * Checks that the page is well-formed: a doctype, every element closed in order (HTML's void
 * elements and self-closed SVG elements excepted), and no bare '<' or '&' in the text.
 */
function assertWellFormed(t: ExecutionContext, html: string): void {
  t.true(html.startsWith('<!DOCTYPE html>\n'), 'doctype');
  const body = html.slice('<!DOCTYPE html>'.length);
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+(?:="[^"]*")?)*)\s*(\/?)>/y;
  let i = 0;
  let problems = 0;
  while (i < body.length && problems === 0) {
    const lt = body.indexOf('<', i);
    const text = body.slice(i, lt < 0 ? body.length : lt);
    if (/&(?!(#\d+|#x[0-9a-f]+|[a-z]+);)/i.test(text)) problems++, t.fail(`a bare & in ${JSON.stringify(text.slice(0, 80))}`);
    if (lt < 0) break;
    tag.lastIndex = lt;
    const m = tag.exec(body);
    if (m === null) {
      problems++;
      t.fail(`not a tag at ${lt}: ${JSON.stringify(body.slice(lt, lt + 80))}`);
      break;
    }
    const [, closing, rawName, , selfClosing] = m;
    const name = rawName.toLowerCase();
    if (closing === '/') {
      const open = stack.pop();
      if (open !== name) problems++, t.fail(`</${name}> closes <${open}>`);
    } else if (selfClosing !== '/' && !VOID_ELEMENTS.has(name)) {
      stack.push(name);
    }
    i = tag.lastIndex;
  }
  t.deepEqual(stack, [], 'elements left open');
  t.is(problems, 0);
}

/** The vertices of the line drawn for a series: vega writes one 'M' or 'L' per data point. */
function lineVertices(svg: string, series: string): number {
  const name = series.replace(/[()]/g, '\\$&');
  const path = new RegExp(`<path [^>]*aria-label="[^"]*series: ${name}"[^>]*aria-roledescription="line mark"[^>]* d="([^"]*)"`).exec(svg);
  if (path === null) return 0;
  return (path[1].match(/[ML]/g) ?? []).length;
}

function oneLineError(t: ExecutionContext, result: CliResult, pattern: RegExp): void {
  t.false(result.timedOut);
  t.is(result.code, 2, `stdout ${result.stdout}\nstderr ${result.stderr}`);
  t.true(result.stderr.startsWith('char-rnn: '), result.stderr);
  t.is(result.stderr.indexOf('\n'), result.stderr.length - 1, `not one line: ${JSON.stringify(result.stderr)}`);
  t.false(result.stderr.includes('    at '), 'a stack trace');
  t.regex(result.stderr, pattern);
}

test('train writes a well-formed, self-contained report whose learning curve has one point per logged step', async (t) => {
  const { out, result } = await trainedRun();
  t.regex(result.stdout, new RegExp(`report: ${out}/report\\.html`));
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assertWellFormed(t, html);
  t.false(/<script|<link|src="http|href="http|@import/i.test(html), 'nothing loaded from elsewhere');

  const rows = (await readHistory(out))!.rows;
  t.is(rows.length, 120);
  const svg = readFileSync(join(out, 'loss.svg'), 'utf8');
  t.true(html.includes(svg), 'the inline chart is loss.svg');
  t.is(lineVertices(svg, SMOOTH_SERIES), rows.length, 'one point per logged step');
  t.is(lineVertices(svg, RECENT_SERIES), rows.length, 'and of the recent loss');
  t.is(lineVertices(svg, 'validation loss'), rows.filter((r) => r.valLoss !== undefined).length);
  t.is(rows.filter((r) => r.valLoss !== undefined).length, 3); // steps 40, 80, 120
  t.true(html.includes('id="throughput"'), 'a throughput chart');

  const png = readFileSync(join(out, 'loss.png'));
  t.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG file');
  const svgWidth = Number(/<svg[^>]* width="(\d+)"/.exec(svg)![1]);
  t.is(png.readUInt32BE(16), 2 * svgWidth, 'the PNG is the SVG at twice its size');
  // Every chart fits report.html's column (60rem), so that none needs a scrollbar.
  t.is(html.match(/<svg /g)!.length, 2);
  for (const [, width] of html.matchAll(/<svg[^>]* width="([\d.]+)"/g)) t.true(Number(width) <= REPORT_COLUMN_PX, `a chart ${width} px wide`);
  t.true(html.includes('max-width: 60rem;'), 'the column');

  // The run's configuration and corpus.
  t.true(html.includes(`<tr><th>source</th><td>${escapeHtml(CORPUS)}</td></tr>`));
  t.true(html.includes('<tr><th>hidden units H</th><td>16</td></tr>'));
  // The samples taken during training, step by step, as written in samples.jsonl.
  const { samples } = await readSamples(out);
  t.deepEqual(samples.map((s) => s.step), [50, 100], 'none at step 0, before training');
  let at = 0;
  for (const s of samples) {
    const found = html.indexOf(`<h3>step ${s.step} <span class="note">(epoch ${s.epoch})</span></h3>\n<pre>${escapeHtml(s.text)}</pre>`, at);
    t.true(found > at, `sample at step ${s.step}, after the one before it`);
    at = found;
  }
  // The long sample: 1,000 characters from best.ckpt with the run's seed.
  const best = await loadCheckpoint(join(out, 'best.ckpt'));
  const long = sample(best, { length: 1000, seed: best.options.seed });
  t.is([...long].length, 1000);
  t.true(html.includes(`<pre>${escapeHtml(long)}</pre>`), 'the long sample from best.ckpt');
  t.false(html.includes('Gradient check'), 'no gradient check unless asked');
});

test('train prints a terminal chart of the losses under its last progress line', async (t) => {
  const { result } = await trainedRun();
  const legend = result.stdout.indexOf('nats/char:  * training loss (last 100 steps)');
  t.true(legend > 0, result.stdout);
  t.true(legend < result.stdout.indexOf('done: 120 steps'), 'before the summary');
  const chart = result.stdout.split('\n').filter((line) => / ┤/.test(line));
  t.is(chart.length, 10);
  t.true(chart.every((line) => line.length <= 60), 'not a terminal: 60 columns');
});

test('char-rnn report rewrites the report; without best.ckpt the long sample comes from last.ckpt and says so', async (t) => {
  const { out } = await trainedRun();
  const copy = join(dir.path, 'no-best');
  cpSync(out, copy, { recursive: true });
  rmSync(join(copy, 'best.ckpt'));
  rmSync(join(copy, 'report.html'));
  const result = await runCli(['report', '--out', copy], { cwd: dir.path, timeoutMs: CHILD_MS });
  t.is(result.code, 0, result.stderr);
  t.is(result.stdout, `report: ${copy}/report.html (chart: ${copy}/loss.svg, ${copy}/loss.png)\n`);
  const html = readFileSync(join(copy, 'report.html'), 'utf8');
  t.true(html.includes('There is no best.ckpt in this folder, so this sample comes from last.ckpt.'));
  const last = await loadCheckpoint(join(copy, 'last.ckpt'));
  t.true(html.includes(`<pre>${escapeHtml(sample(last, { length: 1000, seed: last.options.seed }))}</pre>`));
});

test('report --gradcheck adds the gradient check, kept in gradcheck.json for later reports', async (t) => {
  const { out } = await trainedRun();
  const copy = join(dir.path, 'gradcheck');
  cpSync(out, copy, { recursive: true });
  const result = await runCli(['report', '--out', copy, '--gradcheck'], { cwd: dir.path, timeoutMs: CHILD_MS });
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /gradient check passed/);
  const saved = JSON.parse(readFileSync(join(copy, 'gradcheck.json'), 'utf8')) as { H: number; T: number; checks: { name: string; passed: boolean }[] };
  t.is(saved.H, 16);
  t.is(saved.T, 20);
  t.deepEqual(saved.checks.map((c) => [c.name, c.passed]), [['W', true], ['U', true], ['V', true], ['b', true], ['c', true]]);
  const again = await runCli(['report', '--out', copy], { cwd: dir.path, timeoutMs: CHILD_MS });
  t.is(again.code, 0, again.stderr);
  const html = readFileSync(join(copy, 'report.html'), 'utf8');
  assertWellFormed(t, html);
  t.true(html.includes('<h2>Gradient check</h2>'));
  t.true(html.includes('id="gradcheck"'));
});

test('--no-report leaves no report; --no-report with --gradcheck is refused', async (t) => {
  const out = join(dir.path, 'no-report');
  const result = await runCli([...TRAIN, '--steps', '10', '--out', out, '--no-report'], { cwd: dir.path, timeoutMs: CHILD_MS });
  t.is(result.code, 0, result.stderr);
  t.true(existsSync(join(out, 'history.csv')));
  t.false(existsSync(join(out, 'report.html')));
  t.false(result.stdout.includes('report:'));
  oneLineError(t, await runCli([...TRAIN, '--out', out, '--no-report', '--gradcheck'], { cwd: dir.path }), /--gradcheck.*--no-report/);
});

test('report on a missing or damaged folder fails with one line and exit code 2', async (t) => {
  const { out } = await trainedRun();
  const report = (folder: string): Promise<CliResult> => runCli(['report', '--out', folder], { cwd: dir.path, timeoutMs: CHILD_MS });

  oneLineError(t, await report(join(dir.path, 'nowhere')), /nowhere does not exist/);
  oneLineError(t, await report(CORPUS), /corpus\.txt is a file/);
  const empty = join(dir.path, 'empty');
  mkdirSync(empty);
  oneLineError(t, await report(empty), /empty holds no training history \(history\.csv not found\)/);

  const damaged = (name: string, file: string, change: (bytes: Buffer) => Buffer | string): string => {
    const copy = join(dir.path, name);
    cpSync(out, copy, { recursive: true });
    writeFileSync(join(copy, file), change(readFileSync(join(copy, file))));
    return copy;
  };
  oneLineError(t, await report(damaged('bad-row', 'history.csv', (b) => b.toString('utf8').replace(/\n50,[^\n]*\n/, '\n50,1,oops\n'))), /history\.csv is damaged: line 51 is not a history row/);
  oneLineError(t, await report(damaged('not-history', 'history.csv', () => 'name,age\nbob,3\n')), /history\.csv is not a history file/);
  oneLineError(t, await report(damaged('bad-samples', 'samples.jsonl', (b) => `{"step":\n${b.toString('utf8')}`)), /samples\.jsonl is damaged: line 1 is not a sample/);
  oneLineError(t, await report(damaged('bad-ckpt', 'last.ckpt', (b) => b.subarray(0, b.length >> 1))), /last\.ckpt/);
  const noCheckpoint = damaged('no-ckpt', 'history.csv', (b) => b);
  rmSync(join(noCheckpoint, 'last.ckpt'));
  oneLineError(t, await report(noCheckpoint), /no last\.ckpt/);
});

test('Ctrl-C: the chart and the report cover every step done; the resumed run continues the same curve', async (t) => {
  const out = join(dir.path, 'interrupted');
  const last = join(out, 'last.ckpt');
  const args = ['train', '--corpus', CORPUS, '--hidden', '16', '--seq-length', '20', '--streams', '4', '--threads', '1', '--steps', '100000', '--eval-every', '300', '--sample-every', '200', '--sample-length', '30', '--checkpoint-every', '50'];
  const run = startCli([...args, '--out', out], { cwd: dir.path, timeoutMs: CHILD_MS });
  t.teardown(() => void (run.running() && run.child.kill('SIGKILL')));
  await pollUntil(() => loadCheckpoint(last), (c) => c.state.step >= 400, { stillUseful: run.running, what: 'a checkpoint at step 400 or later' });
  run.child.kill('SIGINT');
  const stopped = await run.result;
  t.is(stopped.code, 130, stopped.stderr);
  const at = (await loadCheckpoint(last)).state.step;
  t.true(stopped.stdout.includes('o validation loss'), 'the terminal chart');
  t.true(stopped.stdout.includes(`report: ${out}/report.html`), stopped.stdout);
  const rows = (await readHistory(out))!.rows;
  t.deepEqual(rows.map((r) => r.step), Array.from({ length: at }, (_, i) => i + 1), 'every step up to the one saved');
  t.is(lineVertices(readFileSync(join(out, 'loss.svg'), 'utf8'), SMOOTH_SERIES), at);

  const resumed = await runCli(['train', '--resume', last, '--steps', String(at + 150), '--threads', '2'], { cwd: dir.path, timeoutMs: CHILD_MS });
  t.is(resumed.code, 0, resumed.stderr);
  const after = (await readHistory(out))!.rows;
  t.deepEqual(after.map((r) => r.step), Array.from({ length: at + 150 }, (_, i) => i + 1), 'no gap and no step twice');
  t.deepEqual(after.slice(0, at - 1), rows.slice(0, at - 1), 'the rows before the resume are kept as they were');
  // A Ctrl-C during the evaluation at a multiple of 300 abandons it; the resumed run makes it, and fills that row's val_loss.
  const evaluatedOnResume = at % 300 === 0 && rows[at - 1].valLoss === undefined;
  t.deepEqual(after[at - 1], evaluatedOnResume ? { ...rows[at - 1], valLoss: after[at - 1].valLoss } : rows[at - 1], 'the row of the resumed step');
  if (evaluatedOnResume) t.true(Number.isFinite(after[at - 1].valLoss), 'the evaluation the Ctrl-C abandoned');
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  t.is(lineVertices(html, SMOOTH_SERIES), at + 150);
  const steps = (await readSamples(out)).samples.map((s) => s.step);
  t.deepEqual(steps, [...new Set(steps)].sort((a, b) => a - b), 'samples in order, each once');
});

test('report.html shows control characters in samples as marked escapes; newlines and tabs stay', async (t) => {
  const { out } = await trainedRun();
  const last = await loadCheckpoint(join(out, 'last.ckpt'));
  const rows = (await readHistory(out))!.rows;
  const text = 'a\u0002b\tc\nd\u001b[31m<e>\u007f\u0085';
  const html = reportHtml({
    folder: out, createdAt: 'now', last, rows, lossSvg: '<svg></svg>', lossStride: 1, throughputSvg: undefined,
    samples: [{ step: 50, epoch: 1, text }],
    longSample: { text, from: 'best.ckpt', fellBack: false, step: 120 },
    gradcheck: undefined,
  });
  const expected = 'a<span class="ctl">\\x02</span>b\tc\nd<span class="ctl">\\x1b</span>[31m&#60;e&#62;<span class="ctl">\\x7f</span><span class="ctl">\\x85</span>';
  t.is(html.split(`<pre>${expected}</pre>`).length, 3, 'the sample during training and the long sample');
  assertWellFormed(t, html);
  // The summary gives the mean of the last 100 steps' losses per character.
  const recent = rows.slice(-100).reduce((sum, r) => sum + r.loss, 0) / 100;
  t.true(html.includes(`<tr><th>training loss, mean of the last 100 steps</th><td>${recent.toFixed(4)} nats/char`), 'the recent loss');
});

test('torn last lines in history.csv and samples.jsonl are left out with a warning; a history of the first format is read with the checkpoint\'s T', async (t) => {
  const { out } = await trainedRun();
  const copy = join(dir.path, 'torn');
  cpSync(out, copy, { recursive: true });
  const rows = (await readHistory(out))!.rows;
  // The first format: losses per sequence of T = 20, as an older char-rnn wrote them (multiples of 1/4, so that / 20 is what the new format would hold).
  const lines = rows.map((r, i) => `${r.step},${r.epoch},${r.charsSeen},${40 + i / 4},${50 - i / 4},${r.valLoss ?? ''},${r.charsPerSec},${r.wallSeconds.toFixed(3)}\n`);
  writeFileSync(join(copy, 'history.csv'), `${HISTORY_HEADER_PER_SEQUENCE}\n${lines.join('')}121,1,9680,3`);
  writeFileSync(join(copy, 'samples.jsonl'), `${readFileSync(join(out, 'samples.jsonl'), 'utf8')}{"step":150,"ep`);
  const result = await runCli(['report', '--out', copy], { cwd: dir.path, timeoutMs: CHILD_MS });
  t.is(result.code, 0, result.stderr);
  t.regex(result.stderr, /history\.csv: its last line, line 122, has no end/);
  t.regex(result.stderr, /samples\.jsonl: its last line, line 3, has no end/);
  const html = readFileSync(join(copy, 'report.html'), 'utf8');
  assertWellFormed(t, html);
  const recent = rows.slice(-100).reduce((sum, _r, i) => sum + (40 + (i + 20) / 4) / 20, 0) / 100;
  t.true(html.includes(`<tr><th>training loss, mean of the last 100 steps</th><td>${recent.toFixed(4)} nats/char`), `the recent loss per character, ${recent}`);
  t.is(lineVertices(readFileSync(join(copy, 'loss.svg'), 'utf8'), SMOOTH_SERIES), 120);
});

test('chart axes read 0, 500, 1k, 1.5k ... and every chart fits the column, however many steps', async (t) => {
  for (const steps of [2500, 60_000]) {
    const rows = Array.from({ length: steps }, (_, i) => ({
      step: i + 1, epoch: 1, charsSeen: (i + 1) * 100, loss: 3 - i / steps, smoothLoss: 3.5 - i / steps,
      valLoss: (i + 1) % 500 === 0 ? 2.5 : undefined, charsPerSec: 40_000, wallSeconds: (i + 1) * 0.0025,
    }));
    for (const spec of [lossChartSpec(rows).spec, throughputChartSpec(rows)!]) {
      const svg = await renderSvg(spec);
      t.true(Number(/<svg[^>]* width="([\d.]+)"/.exec(svg)![1]) <= REPORT_COLUMN_PX);
      const labels = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
      t.false(labels.some((l) => /^0(\.\d+)?k$/.test(l)), labels.join(' '));
      const ticks = steps === 2500 ? ['0', '500', '1k', '1.5k', '2k', '2.5k'] : ['0', '10k', '20k', '50k', '60k'];
      for (const tick of ticks) t.true(labels.includes(tick), `${tick} among ${labels.slice(0, 40).join(' ')}`);
    }
  }
});
