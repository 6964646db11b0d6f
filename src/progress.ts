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
  /** Training loss in nats per character, the mean of the last RECENT_STEPS steps (of all while fewer are done). */
  readonly recentLoss: number;
  /** How many steps recentLoss averages. */
  readonly recentSteps: number;
  /** The seed's smooth loss in nats per character (the checkpoint keeps it per sequence of T characters). */
  readonly smoothLoss: number;
  /** Last validation loss in nats per character, undefined before the first evaluation. */
  readonly valLoss: number | undefined;
  /** Seconds this session spent in training steps (evaluations, samples and checkpoints left out): the rate and the ETA come from it. */
  readonly trainingSeconds: number;
  /** Characters per second of training time in this session. */
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
  /** An evaluation after `step` steps starts: the bar says so in place of the rate, a plain line says so. */
  startEvaluation(step: number): void;
  /** The evaluation ended (or was abandoned). */
  endEvaluation(): void;
  /** Print text (a sample, an evaluation line, a warning) above the bar without breaking it. */
  log(text: string): void;
  /** Stop the bar (final redraw with the last stats) and any spinner; idempotent. */
  finish(): void;
}

export interface ReporterOptions {
  /** Default process.stdout. */
  readonly stream?: NodeJS.WriteStream | NodeJS.WritableStream;
  /** Default: the stream is a TTY, TERM is not 'dumb' and CI is unset. A stream that does not give its width (or gives 0) is always plain. */
  readonly interactive?: boolean;
  /** Minimum time between two plain progress lines; default 5000. */
  readonly plainIntervalMs?: number;
  /** Clock in milliseconds for throttling and the evaluation's elapsed time; default performance.now. */
  readonly now?: () => number;
}

export type Clock = () => number;

/** A reporter that shows nothing: for library callers, benchmarks and tests. */
export const silentReporter: Reporter = Object.freeze({
  begin() {},
  done() {},
  fail() {},
  startTraining() {},
  update() {},
  startEvaluation() {},
  endEvaluation() {},
  log() {},
  finish() {},
});

const DEFAULT_PLAIN_INTERVAL_MS = 5000;

export function createReporter(options: ReporterOptions = {}): Reporter {
  const stream = options.stream ?? process.stdout;
  const now = options.now ?? (() => performance.now());
  const plainIntervalMs = options.plainIntervalMs ?? DEFAULT_PLAIN_INTERVAL_MS;
  if (!(plainIntervalMs >= 0 && Number.isFinite(plainIntervalMs))) {
    throw new RangeError(`plainIntervalMs must be a finite number >= 0, got ${plainIntervalMs}`);
  }
  // ora divides by the width: a terminal that reports 0 columns would hang it, deaf to Ctrl-C.
  const interactive = (options.interactive ?? isInteractiveStream(stream)) && hasWidth(stream);
  return interactive ? new InteractiveReporter(stream as NodeJS.WriteStream, now) : new PlainReporter(stream, now, plainIntervalMs);
}

function isInteractiveStream(stream: NodeJS.WritableStream): boolean {
  return (stream as Partial<NodeJS.WriteStream>).isTTY === true && !process.env.CI && process.env.TERM !== 'dumb';
}

function hasWidth(stream: NodeJS.WritableStream): boolean {
  const columns = (stream as Partial<NodeJS.WriteStream>).columns;
  return typeof columns === 'number' && Number.isFinite(columns) && columns > 0;
}
