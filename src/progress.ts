import { performance } from 'node:perf_hooks';
import { InteractiveReporter } from './progress/interactive.js';
import { PlainReporter } from './progress/plain.js';

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

export type Clock = () => number;

const DEFAULT_PLAIN_INTERVAL_MS = 5000;

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
