import { Writable } from 'node:stream';
import { WriteStream } from 'node:tty';
import test from 'ava';
import { terminalColors } from '../src/history/index.js';
import { createReporter, type StepStats } from '../src/progress.js';
import { barLine, type BarView } from '../src/progress/bar-line.js';

interface Capture {
  readonly stream: Writable & { columns?: number };
  text(): string;
  /** Every write, as written: the bar's redraws are one write each. */
  readonly writes: string[];
}

/** A fake terminal; `env` is what its hasColors() reads, as a tty.WriteStream reads process.env. */
function capture(tty?: { columns: number | undefined; env?: NodeJS.ProcessEnv }): Capture {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      writes.push(String(chunk));
      callback();
    },
  });
  if (tty !== undefined) {
    // What ora and cli-progress use from a tty.WriteStream; the cursor moves are irrelevant here.
    Object.assign(stream, {
      isTTY: true,
      columns: tty.columns,
      rows: 40,
      cursorTo: (_x: number, _y?: unknown, cb?: () => void) => (cb?.(), true),
      moveCursor: (_dx: number, _dy: number, cb?: () => void) => (cb?.(), true),
      clearLine: (_dir: number, cb?: () => void) => (cb?.(), true),
      hasColors: () => WriteStream.prototype.hasColors(tty.env ?? { TERM: 'xterm-256color' }),
    });
  }
  return { stream, writes, text: () => writes.join('') };
}

function manualClock(): { now: () => number; set(ms: number): void } {
  let t = 0;
  return { now: () => t, set: (ms) => (t = ms) };
}

function stats(step: number, overrides: Partial<StepStats> = {}): StepStats {
  return {
    step,
    totalSteps: 100,
    epoch: 1,
    epochs: 0.4,
    recentLoss: 2.0931,
    recentSteps: 100,
    smoothLoss: 2.2140,
    valLoss: undefined,
    trainingSeconds: step, // one step a second
    charsPerSec: 41_234,
    budget: undefined,
    ...overrides,
  };
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

function plainReporter(plainIntervalMs = 1000) {
  const out = capture();
  const clock = manualClock();
  const reporter = createReporter({ stream: out.stream, interactive: false, plainIntervalMs, now: clock.now });
  return { out, clock, reporter };
}

test('plain: rapid updates within the interval give one line, the next interval another', (t) => {
  const { out, clock, reporter } = plainReporter(1000);
  reporter.startTraining(100, 0);
  for (let step = 1; step <= 5; step++) {
    clock.set(10 * step);
    reporter.update(stats(step));
  }
  t.is(lines(out.text()).length, 1);
  t.true(out.text().startsWith('step 1/100 '));

  clock.set(1010);
  reporter.update(stats(6));
  clock.set(1020);
  reporter.update(stats(7));
  const printed = lines(out.text());
  t.is(printed.length, 2);
  t.true(printed[1].startsWith('step 6/100 '));
});

test('plain: the final step always prints', (t) => {
  const { out, clock, reporter } = plainReporter(60_000);
  reporter.startTraining(100, 0);
  clock.set(1);
  reporter.update(stats(99));
  clock.set(2);
  reporter.update(stats(100));
  const printed = lines(out.text());
  t.is(printed.length, 2);
  t.true(printed[1].startsWith('step 100/100 (100%) '));
  t.true(printed[1].endsWith('| ETA 0s'));
});

test('plain: line format without validation loss, every loss per character', (t) => {
  const { out, clock, reporter } = plainReporter();
  reporter.startTraining(100, 0);
  // 10 steps in 10 s of training: 1 step/s, so 90 steps left take 90 s.
  clock.set(10_000);
  reporter.update(stats(10));
  t.is(out.text(), 'step 10/100 (10%) | epoch 1/1 | nats/char: loss 2.093 (last 100 steps), smooth 2.214, val - | 41.2k chars/s | ETA 1m30s\n');
});

test('plain: validation loss in nats and bits per character', (t) => {
  const { out, clock, reporter } = plainReporter();
  reporter.startTraining(5000, 0);
  clock.set(1000);
  reporter.update(stats(1200, { totalSteps: 5000, epoch: 2, epochs: 2.3, valLoss: 1.8734, recentSteps: 37 }));
  const bits = 1.8734 / Math.log(2); // 2.7027...
  const line = out.text();
  t.true(line.startsWith('step 1200/5000 (24%) | epoch 2/3 | nats/char: loss 2.093 (last 37 steps), smooth 2.214, '));
  t.true(line.includes(`, val 1.873 (${bits.toFixed(3)} bits) |`));
  t.true(line.includes('(2.703 bits)'));
});

test('plain and interactive: the ETA counts training time only, whatever the clock says', (t) => {
  for (const interactive of [false, true]) {
    const out = capture({ columns: 200 });
    const clock = manualClock();
    const reporter = createReporter({ stream: out.stream, interactive, plainIntervalMs: 0, now: clock.now });
    reporter.startTraining(100, 20);
    // 20 steps in 8 s of training, though 68 s passed (a minute of evaluation): 60 steps left at 0.4 s take 24 s.
    clock.set(68_000);
    reporter.update(stats(40, { trainingSeconds: 8 }));
    reporter.finish();
    t.true(out.text().includes('ETA 24s'), `${interactive ? 'bar' : 'plain'}: ${JSON.stringify(out.text().slice(-300))}`);
  }
});

test('plain and interactive: a time budget that ends the run first shows its share and what is left, and no step or epoch total', (t) => {
  for (const interactive of [false, true]) {
    const out = capture({ columns: 200 });
    const reporter = createReporter({ stream: out.stream, interactive, plainIntervalMs: 0, now: manualClock().now });
    reporter.startTraining(6_000_000, 0);
    // a million epochs planned (--minutes alone), 90 s of a 5-minute budget gone
    reporter.update(stats(90, { totalSteps: 6_000_000, epochs: 1_000_000, budget: { seconds: 300, left: 210 } }));
    reporter.finish();
    const text = out.text();
    const what = `${interactive ? 'bar' : 'plain'}: ${JSON.stringify(text.slice(-300))}`;
    t.true(text.includes(interactive ? '30% | step 90 | epoch 1 |' : 'step 90 (30% of 5m00s) | epoch 1 |'), what);
    t.true(text.includes('ETA 3m30s'), what);
    t.false(text.includes('6000000') || text.includes('1000000'), what);
  }
  // and when the steps end first, the steps' ETA and totals as before
  const out = capture({ columns: 200 });
  const reporter = createReporter({ stream: out.stream, interactive: false, plainIntervalMs: 0, now: manualClock().now });
  reporter.startTraining(100, 0);
  reporter.update(stats(90, { budget: { seconds: 300, left: 210 } }));
  t.true(out.text().startsWith('step 90/100 (90%) | epoch 1/1 |'), out.text());
  t.true(out.text().includes('ETA 10s'), out.text());
});

test('plain: an evaluation is announced with its step', (t) => {
  const { out, clock, reporter } = plainReporter(60_000);
  reporter.startTraining(100, 0);
  clock.set(10);
  reporter.update(stats(50));
  reporter.startEvaluation(50);
  reporter.endEvaluation();
  reporter.log('step 50: validation 1.8000 nats/char');
  t.deepEqual(lines(out.text()).slice(1), ['step 50: evaluating on the validation text...', 'step 50: validation 1.8000 nats/char']);
});

test('plain: begin, done, fail and log write plain lines with no escape codes', (t) => {
  const { out, clock, reporter } = plainReporter();
  reporter.begin('Loading corpus');
  reporter.done('Loaded 1.1 MB, 96 symbols');
  reporter.begin('Starting 4 workers');
  reporter.fail('Starting 4 workers');
  reporter.fail('again, with no phase');
  reporter.startTraining(100, 0);
  clock.set(500);
  reporter.update(stats(1, { valLoss: 2 }));
  const sample = 'sample:\tthe quick brown fox «é»';
  reporter.log(sample);
  reporter.finish();
  t.is(
    out.text().split('\n').slice(0, 2).join('\n'),
    'Loading corpus...\nLoaded 1.1 MB, 96 symbols',
  );
  t.true(out.text().includes('Starting 4 workers...\nstep 1/100'));
  t.true(out.text().endsWith(`\n${sample}\n`));
  t.false(out.text().includes('\x1b'));
});

test('plain: finish prints the last unprinted step once and is idempotent', (t) => {
  const { out, clock, reporter } = plainReporter(1000);
  reporter.startTraining(100, 0);
  clock.set(100);
  reporter.update(stats(1));
  clock.set(200);
  reporter.update(stats(2));
  reporter.finish();
  reporter.finish();
  clock.set(5000);
  reporter.update(stats(3));
  const printed = lines(out.text());
  t.is(printed.length, 2);
  t.true(printed[1].startsWith('step 2/100 '));
});

test('plain: finish with nothing pending prints nothing', (t) => {
  const { out, reporter } = plainReporter();
  reporter.finish();
  reporter.startTraining(100, 0);
  reporter.update(stats(1));
  reporter.finish();
  t.is(lines(out.text()).length, 1);
});

test('a terminal that reports 0 columns, or none, gets plain lines, not a spinner that would hang', (t) => {
  for (const columns of [0, undefined]) {
    for (const interactive of [undefined, true]) {
      const out = capture({ columns });
      const reporter = createReporter({ stream: out.stream, interactive });
      reporter.begin('Loading corpus');
      reporter.done('Loaded corpus');
      reporter.finish();
      t.is(out.text(), 'Loading corpus...\nLoaded corpus\n', `columns ${columns}, interactive ${interactive}`);
    }
  }
});

test('a stream that is not a TTY defaults to plain mode', (t) => {
  const out = capture();
  const reporter = createReporter({ stream: out.stream });
  reporter.begin('Loading corpus');
  reporter.finish();
  t.is(out.text(), 'Loading corpus...\n');
});

test('rejects a negative plainIntervalMs', (t) => {
  t.throws(() => createReporter({ stream: capture().stream, plainIntervalMs: -1 }), {
    instanceOf: RangeError,
    message: /plainIntervalMs/,
  });
});

test('interactive: spinner, bar, log above the bar, and no timers left after finish', (t) => {
  const timersBefore = countTimers();
  const out = capture({ columns: 120 });
  const clock = manualClock();
  const reporter = createReporter({ stream: out.stream, interactive: true, now: clock.now });

  reporter.fail('no phase yet');
  reporter.begin('Loading corpus');
  reporter.done('Loaded corpus');
  reporter.startTraining(100, 0);
  clock.set(1000);
  reporter.update(stats(41, { valLoss: 1.5 }));
  clock.set(1050);
  reporter.update(stats(42, { valLoss: 1.5 }));
  reporter.log('SAMPLE: to be or not');
  reporter.finish();
  reporter.finish();

  const text = out.text();
  t.true(text.includes('Loaded corpus'));
  t.true(text.includes('SAMPLE: to be or not\n'));
  // Step 42, which came between two redraws, must still be drawn by finish().
  t.true(text.includes('step 42/100'));
  t.true(text.includes('loss 2.093 nats/char (last 100 steps) | val 1.500'));
  t.true(text.indexOf('SAMPLE: to be or not') < text.lastIndexOf('step 42/100'));
  t.is(countTimers(), timersBefore);
});

test('interactive: fail during training stops the bar and later updates are ignored', (t) => {
  const timersBefore = countTimers();
  const out = capture({ columns: 80 });
  const reporter = createReporter({ stream: out.stream, interactive: true, now: manualClock().now });
  reporter.startTraining(10, 0);
  reporter.update(stats(3, { totalSteps: 10 }));
  reporter.fail('training failed');
  const after = out.text().length;
  reporter.update(stats(4, { totalSteps: 10 }));
  reporter.finish();
  t.is(out.text().length, after);
  t.true(out.text().includes('step 3/10'));
  t.is(countTimers(), timersBefore);
});

function countTimers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
}

/** The bar's last redraw: the last write that holds an ETA. */
function lastBarLine(out: Capture): string {
  const line = [...out.writes].reverse().find((w) => w.includes('ETA '));
  if (line === undefined) throw new Error(`no bar line in ${JSON.stringify(out.text())}`);
  return line;
}

test('interactive: at 80 columns the line fits, the graphic, percentage, ETA and rate kept; a resize takes effect at the next redraw', (t) => {
  const timersBefore = countTimers();
  const out = capture({ columns: 80 });
  const reporter = createReporter({ stream: out.stream, interactive: true, now: manualClock().now });
  reporter.startTraining(5000, 0);
  // 1200 steps in 60 s of training: 3800 left at 0.05 s each take 190 s.
  reporter.update(stats(1200, { totalSteps: 5000, valLoss: 1.8734, trainingSeconds: 60 }));
  reporter.log('redraw');
  const narrow = lastBarLine(out);
  t.true(narrow.length < 80, narrow);
  t.is(narrow, '██░░░░░░░░ 24% | 1200/5000 | loss 2.093 | val 1.873 | 41.2k chars/s | ETA 3m10s');

  out.stream.columns = 160;
  reporter.log('redraw');
  t.is(lastBarLine(out), '█████░░░░░░░░░░░░░░░ 24% | step 1200/5000 | epoch 1/1 | loss 2.093 nats/char (last 100 steps) | val 1.873 | 41.2k chars/s | ETA 3m10s');
  reporter.finish();
  t.is(countTimers(), timersBefore);
});

test('interactive: while evaluating, the bar says so with the time it has taken, in place of the rate', (t) => {
  const out = capture({ columns: 120 });
  const clock = manualClock();
  const reporter = createReporter({ stream: out.stream, interactive: true, now: clock.now });
  reporter.startTraining(100, 0);
  reporter.update(stats(50));
  reporter.startEvaluation(50);
  reporter.log('redraw');
  t.regex(lastBarLine(out), /\| evaluating… \| ETA 50s$/);
  clock.set(4000);
  reporter.log('redraw');
  t.regex(lastBarLine(out), /\| evaluating… 4s \| ETA 50s$/);
  reporter.endEvaluation();
  reporter.log('redraw');
  t.regex(lastBarLine(out), /\| 41\.2k chars\/s \| ETA 50s$/);
  reporter.finish();
});

const VIEW: BarView = { step: 1200, totalSteps: 2500, progress: 0.48, byTime: false, epoch: 1, epochs: 1, recentLoss: 2.0931, recentSteps: 100, valLoss: 1.8734, speed: '41.2k chars/s', eta: '1m32s' };

test('the bar line gives way field by field as the terminal narrows, and never drops the ETA', (t) => {
  const expected: [number, string][] = [
    [133, '██████████░░░░░░░░░░ 48% | step 1200/2500 | epoch 1/1 | loss 2.093 nats/char (last 100 steps) | val 1.873 | 41.2k chars/s | ETA 1m32s'],
    [123, '█████░░░░░ 48% | step 1200/2500 | epoch 1/1 | loss 2.093 nats/char (last 100 steps) | val 1.873 | 41.2k chars/s | ETA 1m32s'],
    [107, '█████░░░░░ 48% | step 1200/2500 | epoch 1/1 | loss 2.093 (last 100) | val 1.873 | 41.2k chars/s | ETA 1m32s'],
    [95, '█████░░░░░ 48% | step 1200/2500 | loss 2.093 (last 100) | val 1.873 | 41.2k chars/s | ETA 1m32s'],
    [84, '█████░░░░░ 48% | step 1200/2500 | loss 2.093 | val 1.873 | 41.2k chars/s | ETA 1m32s'],
    [79, '█████░░░░░ 48% | 1200/2500 | loss 2.093 | val 1.873 | 41.2k chars/s | ETA 1m32s'],
    [63, '█████░░░░░ 48% | 1200/2500 | loss 2.093 | val 1.873 | ETA 1m32s'],
    [52, '48% | 1200/2500 | loss 2.093 | val 1.873 | ETA 1m32s'],
    [40, '48% | 1200/2500 | loss 2.093 | ETA 1m32s'],
    [27, '48% | 1200/2500 | ETA 1m32s'],
    [15, '48% | ETA 1m32s'],
    [9, 'ETA 1m32s'],
  ];
  for (const [width, line] of expected) {
    t.is(line.length, width, line);
    t.is(barLine(VIEW, width), line, `at ${width} columns`);
    // One column less and the next form is taken.
    if (width > 9) t.not(barLine(VIEW, width - 1), line);
  }
  t.is(barLine(VIEW, 3), 'ETA 1m32s', 'the ETA even where nothing fits');
});

test('at 80 columns and wider, with a validation loss, the bar keeps its graphic and percentage, however long the other fields', (t) => {
  const long: BarView = { ...VIEW, step: 123456, totalSteps: 1_000_000, progress: 0.123, valLoss: 1.8734, speed: 'evaluating… 1m05s', eta: '1h05m' };
  const budgeted: BarView = { ...VIEW, byTime: true, epochs: undefined };
  for (const view of [VIEW, long, budgeted]) {
    for (const width of [79, 80, 100, 120, 160]) {
      const line = barLine(view, width);
      t.true(line.length <= width, `${line.length} > ${width}: ${line}`);
      t.regex(line, /^█+░+ \d+% \| /, `the graphic and the percentage at ${width} columns: ${line}`);
      t.regex(line, /\| val 1\.873 \|/, 'and the validation loss');
      t.regex(line, / \| ETA \S+$/);
    }
  }
  t.is(barLine(long, 79), '█░░░░░░░░░ 12% | 123456/1000000 | loss 2.093 | val 1.873 | ETA 1h05m', 'the rate gives way first');
});

test('NO_COLOR: the spinner, its symbols and the chart have no colors; without it they do', (t) => {
  const color = /\x1b\[(3\d|9\d)m/;
  for (const [env, colored] of [[{ TERM: 'xterm-256color', NO_COLOR: '1' }, false], [{ TERM: 'xterm-256color' }, true], [{ TERM: 'dumb' }, false]] as const) {
    const out = capture({ columns: 80, env });
    const reporter = createReporter({ stream: out.stream, interactive: true, now: manualClock().now });
    reporter.begin('Loading corpus');
    reporter.done('Loaded corpus');
    reporter.begin('Starting workers');
    reporter.fail('could not start');
    reporter.finish();
    t.is(color.test(out.text()), colored, `${JSON.stringify(env)}: ${JSON.stringify(out.text())}`);
    t.true(out.text().includes(colored ? '\x1b[32m✔\x1b[39m Loaded corpus' : '✔ Loaded corpus'));
    t.is(terminalColors(out.stream), colored);
  }
  t.false(terminalColors(capture().stream), 'a pipe gets no colors');
});
