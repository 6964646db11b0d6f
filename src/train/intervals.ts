import type { TrainConfig } from '../train-options.js';

// When a run evaluates on the held-out text and prints a sample. --eval-every and --sample-every
// say it in steps. Without them, a run with a time budget spreads about BUDGET_EVALUATIONS
// evaluations and BUDGET_SAMPLES samples over its time, however fast the machine: it measures its
// step rate over the first stretch of training, then fixes the intervals in steps. Steps, not
// seconds, so that its checkpoints can record them and a resume goes on with the same ones.
// Neither interval changes the trained numbers: they only say where the windows end.

export const BUDGET_EVALUATIONS = 10;
/** A sample with every second evaluation, so that the two come at the same steps. */
const EVALUATIONS_PER_SAMPLE = 2;
export const BUDGET_SAMPLES = BUDGET_EVALUATIONS / EVALUATIONS_PER_SAMPLE;
/** The intervals of a run without a time budget. */
export const DEFAULT_EVAL_EVERY = 2000;
export const DEFAULT_SAMPLE_EVERY = 1000;
/**
 * The intervals are fixed after this share of a session's budget, at most MEASURE_SECONDS of
 * training, from the step rate over its second half: the first steps run slow (the kernels warm
 * up), and a rate taken over too short a time follows a passing load on the machine.
 */
const MEASURE_SHARE = 0.1;
const MEASURE_SECONDS = 10;

/** Steps between evaluations and between samples; 0: none during training. */
export interface Intervals {
  readonly evalEvery: number;
  readonly sampleEvery: number;
}

/** Where a session stands: its first step, the step now, the run's last step, its steps per second of training, and the seconds it has left. */
export interface SessionPace {
  readonly startStep: number;
  readonly step: number;
  readonly totalSteps: number; // Infinity: the budget alone ends the run
  readonly stepsPerSecond: number;
  readonly secondsLeft: number;
}

/**
 * The intervals that cut the session's expected length (its steps at the rate so far over the
 * time left, or up to the run's last step if that comes first) into BUDGET_EVALUATIONS parts, and
 * a sample every EVALUATIONS_PER_SAMPLE of them: the last part ends with the final evaluation.
 */
export function budgetIntervals(pace: SessionPace): Intervals {
  const end = Math.min(pace.totalSteps, pace.step + pace.stepsPerSecond * Math.max(0, pace.secondsLeft));
  const span = end - pace.startStep;
  const evalEvery = Math.max(1, Math.round(span / BUDGET_EVALUATIONS));
  return { evalEvery, sampleEvery: EVALUATIONS_PER_SAMPLE * evalEvery };
}

/** The intervals of one session of a run: given, the defaults, or measured from the budget. */
export class IntervalSchedule {
  readonly #given: Partial<Intervals>;
  readonly #session: { readonly startStep: number; readonly totalSteps: number };
  /** Seconds of training after which the rate is measured; Infinity when nothing is left to measure. */
  readonly #measureAfter: number;
  #fixed: Intervals | undefined;
  /** The first observation past half the measuring time: the rate is taken from there. */
  #mark: { readonly step: number; readonly trainingSeconds: number } | undefined;
  #pace: SessionPace | undefined;

  /** secondsLeft: the time budget left as the session starts; undefined without one. */
  constructor(
    config: Pick<TrainConfig, 'evalEvery' | 'sampleEvery'>,
    session: { readonly startStep: number; readonly totalSteps: number; readonly secondsLeft: number | undefined },
  ) {
    this.#given = { evalEvery: config.evalEvery, sampleEvery: config.sampleEvery };
    this.#session = session;
    const bothGiven = config.evalEvery !== undefined && config.sampleEvery !== undefined;
    if (session.secondsLeft === undefined || bothGiven) {
      this.#fixed = { evalEvery: config.evalEvery ?? DEFAULT_EVAL_EVERY, sampleEvery: config.sampleEvery ?? DEFAULT_SAMPLE_EVERY };
      this.#measureAfter = Infinity;
    } else {
      this.#measureAfter = Math.min(MEASURE_SECONDS, MEASURE_SHARE * session.secondsLeft);
    }
  }

  /** The intervals in force: 0 for one still being measured. */
  current(): Intervals {
    return this.#fixed ?? { evalEvery: this.#given.evalEvery ?? 0, sampleEvery: this.#given.sampleEvery ?? 0 };
  }

  /** Whether the validation loss is due after `step` steps (the final evaluation aside). */
  evalDue(step: number): boolean {
    const { evalEvery } = this.current();
    return evalEvery > 0 && step % evalEvery === 0;
  }

  /** Whether a sample is due after `step` steps: at step 0 a new model's would be noise. */
  sampleDue(step: number): boolean {
    const { sampleEvery } = this.current();
    return sampleEvery > 0 && step > 0 && step % sampleEvery === 0;
  }

  /**
   * Takes in where the session stands after a step; true when this fixes the intervals, so that
   * the running window should end and the next one stop at the first evaluation or sample.
   */
  observe(step: number, trainingSeconds: number, secondsLeft: number): boolean {
    if (this.#fixed !== undefined) return false;
    // A run that --steps or --epochs ends first is measured over a tenth of its steps instead.
    const { startStep, totalSteps } = this.#session;
    const measured = Math.max(trainingSeconds / this.#measureAfter, (step - startStep) / (MEASURE_SHARE * (totalSteps - startStep)));
    if (this.#mark === undefined && measured >= 0.5) this.#mark = { step, trainingSeconds };
    const from = this.#mark !== undefined && trainingSeconds > this.#mark.trainingSeconds ? this.#mark : { step: startStep, trainingSeconds: 0 };
    const stepsPerSecond = trainingSeconds > from.trainingSeconds ? (step - from.step) / (trainingSeconds - from.trainingSeconds) : 0;
    this.#pace = { ...this.#session, step, stepsPerSecond, secondsLeft };
    if (measured < 1) return false;
    this.#fixed = this.#measured(this.#pace);
    return true;
  }

  /** What a checkpoint records: the intervals in force, or while measuring those the rate so far gives (before any step, the defaults). */
  saved(): Intervals {
    if (this.#fixed !== undefined) return this.#fixed;
    const pace = this.#pace;
    if (pace === undefined || !(pace.stepsPerSecond > 0)) {
      return { evalEvery: this.#given.evalEvery ?? DEFAULT_EVAL_EVERY, sampleEvery: this.#given.sampleEvery ?? DEFAULT_SAMPLE_EVERY };
    }
    return this.#measured(pace);
  }

  #measured(pace: SessionPace): Intervals {
    const fitted = budgetIntervals(pace);
    return { evalEvery: this.#given.evalEvery ?? fitted.evalEvery, sampleEvery: this.#given.sampleEvery ?? fitted.sampleEvery };
  }
}
