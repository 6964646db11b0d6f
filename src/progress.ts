import { performance } from 'node:perf_hooks';
import { InteractiveReporter } from './progress/interactive.js';
import { PlainReporter } from './progress/plain.js';
import type { Reporter } from './progress/reporter.js';

export type { Clock, Reporter, StepStats } from './progress/reporter.js';

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
