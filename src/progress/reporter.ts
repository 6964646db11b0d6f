/** What the training loop tells a reporter, and the clock reporters read: types only, so that
 * src/progress.ts and the reporters in src/progress/ need not import each other. */

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
  /** The --minutes budget in seconds and what is left of it (wall clock); undefined without one. */
  readonly budget: { readonly seconds: number; readonly left: number } | undefined;
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

export type Clock = () => number;
