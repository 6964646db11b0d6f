import { Writable } from 'node:stream';
import test from 'ava';
import { createReporter, type StepStats } from '../src/progress.js';

interface Capture {
  readonly stream: Writable;
  text(): string;
}

function capture(tty?: { columns: number }): Capture {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      out += String(chunk);
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
    });
  }
  return { stream, text: () => out };
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
    smoothLoss: 52.3114,
    valLoss: undefined,
    charsPerSec: 41_234,
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

test('plain: line format without validation loss', (t) => {
  const { out, clock, reporter } = plainReporter();
  reporter.startTraining(100, 0);
  // 10 steps in 10 s from the start: 1 step/s, so 90 steps left take 90 s.
  clock.set(10_000);
  reporter.update(stats(10));
  t.is(out.text(), 'step 10/100 (10%) | epoch 1/1 | smooth loss 52.311 | val - | 41.2k chars/s | ETA 1m30s\n');
});

test('plain: validation loss in nats and bits per character', (t) => {
  const { out, clock, reporter } = plainReporter();
  reporter.startTraining(5000, 0);
  clock.set(1000);
  reporter.update(stats(1200, { totalSteps: 5000, epoch: 2, epochs: 2.3, valLoss: 1.8734 }));
  const bits = 1.8734 / Math.log(2); // 2.7027...
  const line = out.text();
  t.true(line.startsWith('step 1200/5000 (24%) | epoch 2/3 | smooth loss 52.311 | '));
  t.true(line.includes(`| val 1.873 nats/char (${bits.toFixed(3)} bits) |`));
  t.true(line.includes('(2.703 bits)'));
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
  // The throttled step 42 must still be drawn by finish().
  t.true(text.includes('step 42/100'));
  t.true(text.includes('loss 52.311 | val 1.500'));
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
