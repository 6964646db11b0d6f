import { performance } from 'node:perf_hooks';
import cliProgress from 'cli-progress';
import ora, { type Ora } from 'ora';

export interface StepStats {
  /** Steps done so far in this run (1-based after the first step). */
  readonly step: number;
  /** The run's planned number of steps. */
  readonly totalSteps: number;
  /** Current epoch, 1-based. */
  readonly epoch: number;
  /** Planned epochs; may be fractional when bounded by --steps, printed rounded up. */
  readonly epochs: number;
  /** Smoothed loss per 25-char sequence, in nats. */
  readonly smoothLoss: number;
  /** Last validation loss in nats per character, undefined before the first evaluation. */
  readonly valLoss: number | undefined;
  /** Training throughput. */
  readonly charsPerSec: number;
}

export interface Reporter {
  /** A phase before training starts (loading the corpus, starting workers): a spinner on a TTY, a log line otherwise. */
  begin(text: string): void;
  /** The current phase finished; text replaces it (spinner succeed / a log line). */
  done(text: string): void;
  /** The current phase failed (spinner fail, or nothing extra in plain mode). Idempotent, safe to call with no active phase. */
  fail(text: string): void;
  /** Training starts: create the bar (TTY) at startStep out of totalSteps. */
  startTraining(totalSteps: number, startStep: number): void;
  /** Called after every step; cheap, throttled (bar ~10 redraws/s, plain lines every `plainIntervalMs`). */
  update(stats: StepStats): void;
  /** Print text (a sample, an evaluation line, a warning) above the bar without breaking it. */
  log(text: string): void;
  /** Stop the bar (final redraw with the last stats) and any spinner; idempotent. */
  finish(): void;
}

export interface ReporterOptions {
  /** Default process.stdout. */
  readonly stream?: NodeJS.WriteStream | NodeJS.WritableStream;
  /** Default: the stream is a TTY, TERM is not 'dumb' and CI is unset. */
  readonly interactive?: boolean;
  /** Minimum time between two plain progress lines; default 5000. */
  readonly plainIntervalMs?: number;
  /** Clock in milliseconds for throttling and ETA; default performance.now. */
  readonly now?: () => number;
}

type Clock = () => number;

const DEFAULT_PLAIN_INTERVAL_MS = 5000;
/** cli-progress redraws on its own 10 fps timer; pushing stats more often only costs formatting. */
const BAR_PUSH_INTERVAL_MS = 100;
const BAR_FORMAT =
  '{bar} {percentage}% | step {value}/{total} | epoch {epoch}/{epochs} | loss {smooth} | val {val}' +
  ' | {speed} chars/s | ETA {remaining}';

export function createReporter(options: ReporterOptions = {}): Reporter {
  const stream = options.stream ?? process.stdout;
  const now = options.now ?? (() => performance.now());
  const plainIntervalMs = options.plainIntervalMs ?? DEFAULT_PLAIN_INTERVAL_MS;
  if (!(plainIntervalMs >= 0 && Number.isFinite(plainIntervalMs))) {
    throw new RangeError(`plainIntervalMs must be a finite number >= 0, got ${plainIntervalMs}`);
  }
  const interactive = options.interactive ?? isInteractiveStream(stream);
  return interactive ? new InteractiveReporter(stream, now) : new PlainReporter(stream, now, plainIntervalMs);
}

function isInteractiveStream(stream: NodeJS.WritableStream): boolean {
  return (stream as Partial<NodeJS.WriteStream>).isTTY === true && !process.env.CI && process.env.TERM !== 'dumb';
}

/** Remaining time from the average step rate since training (re)started. */
class EtaClock {
  constructor(
    private readonly startStep: number,
    private readonly startTime: number,
  ) {}

  /** Seconds left, or undefined while no step has been timed yet. */
  remaining(step: number, totalSteps: number, time: number): number | undefined {
    const steps = step - this.startStep;
    const seconds = (time - this.startTime) / 1000;
    if (steps <= 0 || seconds <= 0) return undefined;
    return (Math.max(0, totalSteps - step) * seconds) / steps;
  }
}

class PlainReporter implements Reporter {
  #eta: EtaClock | undefined;
  #last: StepStats | undefined;
  #lastPrintedAt = -Infinity;
  #unprinted = false;
  #finished = false;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly now: Clock,
    private readonly intervalMs: number,
  ) {}

  begin(text: string): void {
    this.stream.write(`${text}...\n`);
  }

  done(text: string): void {
    this.stream.write(`${text}\n`);
  }

  fail(_text: string): void {
    // The caller prints the error itself; a second line saying the same would be noise.
  }

  startTraining(_totalSteps: number, startStep: number): void {
    this.#eta = new EtaClock(startStep, this.now());
    this.#last = undefined;
    this.#lastPrintedAt = -Infinity;
    this.#unprinted = false;
    this.#finished = false;
  }

  update(stats: StepStats): void {
    if (this.#finished) return;
    if (this.#eta === undefined) this.startTraining(stats.totalSteps, stats.step - 1);
    this.#last = stats;
    const time = this.now();
    if (time - this.#lastPrintedAt >= this.intervalMs || stats.step >= stats.totalSteps) {
      this.#print(stats, time);
    } else {
      this.#unprinted = true;
    }
  }

  log(text: string): void {
    this.stream.write(`${text}\n`);
  }

  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#unprinted && this.#last !== undefined) this.#print(this.#last, this.now());
  }

  #print(stats: StepStats, time: number): void {
    const eta = this.#eta?.remaining(stats.step, stats.totalSteps, time);
    this.stream.write(`${plainLine(stats, eta)}\n`);
    this.#lastPrintedAt = time;
    this.#unprinted = false;
  }
}

class InteractiveReporter implements Reporter {
  #spinner: Ora | undefined;
  #bars: cliProgress.MultiBar | undefined;
  #bar: cliProgress.SingleBar | undefined;
  #eta: EtaClock | undefined;
  #last: StepStats | undefined;
  #lastPushAt = -Infinity;
  #finished = false;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly now: Clock,
  ) {}

  begin(text: string): void {
    this.#settleSpinner();
    // discardStdin puts stdin in raw mode, which delays Ctrl+C while corpus loading blocks the loop.
    this.#spinner = ora({ text, stream: this.stream, isEnabled: true, discardStdin: false }).start();
  }

  done(text: string): void {
    if (this.#spinner === undefined) {
      this.log(text);
      return;
    }
    this.#spinner.succeed(text);
    this.#spinner = undefined;
  }

  fail(text: string): void {
    this.#spinner?.fail(text);
    this.#spinner = undefined;
    if (this.#bars === undefined) return;
    // The caller prints the error next; it must not land on the bar's line or be drawn over.
    this.#finished = true;
    this.#stopBar();
  }

  startTraining(totalSteps: number, startStep: number): void {
    this.#settleSpinner();
    this.#stopBar();
    this.#finished = false;
    this.#last = undefined;
    this.#lastPushAt = -Infinity;
    this.#eta = new EtaClock(startStep, this.now());
    this.#bars = new cliProgress.MultiBar({
      stream: this.stream,
      format: BAR_FORMAT,
      barsize: 20,
      hideCursor: true,
      clearOnComplete: false,
      // Keep terminal line wrapping on so long samples printed by log() are not cut off.
      linewrap: true,
      // After log() the bar line is blank although its text is unchanged; redraw regardless.
      forceRedraw: true,
    });
    this.#bar = this.#bars.create(totalSteps, startStep, placeholderPayload());
  }

  update(stats: StepStats): void {
    if (this.#finished) return;
    if (this.#bar === undefined) this.startTraining(stats.totalSteps, stats.step - 1);
    this.#last = stats;
    const time = this.now();
    if (time - this.#lastPushAt >= BAR_PUSH_INTERVAL_MS || stats.step >= stats.totalSteps) {
      this.#push(stats, time);
    }
  }

  log(text: string): void {
    if (this.#bars === undefined) {
      // A running spinner hooks the stream's write and redraws itself below this text.
      this.stream.write(`${text}\n`);
      return;
    }
    this.#bars.log(`${text}\n`);
    // MultiBar flushes its log buffer on the next timer tick; flush now so output order is kept.
    this.#bars.update();
  }

  finish(): void {
    this.#settleSpinner();
    if (this.#finished) return;
    this.#finished = true;
    this.#stopBar();
  }

  #push(stats: StepStats, time: number): void {
    const bar = this.#bar;
    if (bar === undefined) return;
    if (bar.getTotal() !== stats.totalSteps) bar.setTotal(stats.totalSteps);
    const eta = this.#eta?.remaining(stats.step, stats.totalSteps, time);
    bar.update(stats.step, barPayload(stats, eta));
    this.#lastPushAt = time;
  }

  #stopBar(): void {
    const bars = this.#bars;
    if (bars === undefined) return;
    if (this.#last !== undefined) this.#push(this.#last, this.now());
    // stop() renders the bars but does not flush pending log() text; update() does both.
    bars.update();
    bars.stop();
    this.#bars = undefined;
    this.#bar = undefined;
  }

  /** Leave an unfinished phase's text on screen and stop its timer. */
  #settleSpinner(): void {
    this.#spinner?.stopAndPersist();
    this.#spinner = undefined;
  }
}

interface BarPayload {
  readonly epoch: string;
  readonly epochs: string;
  readonly smooth: string;
  readonly val: string;
  readonly speed: string;
  readonly remaining: string;
}

function placeholderPayload(): BarPayload {
  return { epoch: '-', epochs: '-', smooth: '-', val: '-', speed: '-', remaining: '-' };
}

function barPayload(stats: StepStats, etaSeconds: number | undefined): BarPayload {
  return {
    epoch: String(stats.epoch),
    epochs: String(Math.ceil(stats.epochs)),
    smooth: stats.smoothLoss.toFixed(3),
    val: stats.valLoss === undefined ? '-' : stats.valLoss.toFixed(3),
    speed: formatRate(stats.charsPerSec),
    remaining: formatDuration(etaSeconds),
  };
}

/** e.g. `step 1200/5000 (24%) | epoch 1/1 | smooth loss 52.311 | val 1.873 nats/char (2.702 bits) | 41.2k chars/s | ETA 1m32s` */
function plainLine(stats: StepStats, etaSeconds: number | undefined): string {
  const percent = stats.totalSteps > 0 ? Math.floor((100 * stats.step) / stats.totalSteps) : 100;
  const val =
    stats.valLoss === undefined
      ? 'val -'
      : `val ${stats.valLoss.toFixed(3)} nats/char (${(stats.valLoss / Math.LN2).toFixed(3)} bits)`;
  return [
    `step ${stats.step}/${stats.totalSteps} (${percent}%)`,
    `epoch ${stats.epoch}/${Math.ceil(stats.epochs)}`,
    `smooth loss ${stats.smoothLoss.toFixed(3)}`,
    val,
    `${formatRate(stats.charsPerSec)} chars/s`,
    `ETA ${formatDuration(etaSeconds)}`,
  ].join(' | ');
}

/** 812, 41.2k, 1.35M */
function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '-';
  if (perSecond < 999.5) return String(Math.round(perSecond));
  if (perSecond < 999_950) return `${(perSecond / 1e3).toFixed(1)}k`;
  return `${(perSecond / 1e6).toFixed(2)}M`;
}

/** 45s, 1m32s, 2h05m */
function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${pad2(s % 60)}s`;
  return `${Math.floor(m / 60)}h${pad2(m % 60)}m`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}
