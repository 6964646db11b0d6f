import type { TrainConfig } from '../train-options.js';

// When a run evaluates on the held-out text and prints a sample. --eval-every and --sample-every
// say it in steps. Without them, a run with a time budget spreads about BUDGET_EVALUATIONS
// evaluations and BUDGET_SAMPLES samples over its time, however fast the machine: it measures its
// step rate over the first stretch of training, then fixes the intervals in steps. Steps, not
// seconds, so that its checkpoints can record them and a resume goes on with the same ones.
// Neither interval changes the trained numbers: they only say where the windows end. An
// evaluation reads the whole held-out text, which on a large corpus takes seconds; the budget pays
// for them, so fewer are planned where they would take more than EVAL_SHARE of the time.

export const BUDGET_EVALUATIONS = 10;
export const BUDGET_SAMPLES = 5;
/** The most of the time left that the planned evaluations may take. */
const EVAL_SHARE = 0.15;
/**
 * How many characters an evaluation scores in the time training takes for one. It is the forward
 * pass alone, a third of a training step's work, but it runs one held-out segment per kernel call
 * where training runs four streams in lockstep: measured with the default model on the bundled
 * corpus, 2.1 (docs/architecture.md, "When a time budget evaluates and samples").
 */
const EVAL_SPEEDUP = 2;
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
  /** What one evaluation costs, in training steps' time (evaluationSteps); 0 without held-out text. */
  readonly evalSteps: number;
}

/** One evaluation's estimated time in training steps: the held-out text scored forward only. */
export function evaluationSteps(heldOutChars: number, charsPerStep: number): number {
  return heldOutChars / (EVAL_SPEEDUP * charsPerStep);
}

/**
 * The intervals that cut the session's expected length (its steps at the rate so far over the
 * time left less the evaluations', or up to the run's last step if that comes first) into
 * BUDGET_EVALUATIONS parts, fewer where they would take more than EVAL_SHARE of the time, and
 * into BUDGET_SAMPLES for the samples: the last part ends with the final evaluation.
 */
export function budgetIntervals(pace: SessionPace): Intervals {
  const steps = pace.stepsPerSecond * Math.max(0, pace.secondsLeft); // the time left, in steps
  const affordable = pace.evalSteps > 0 ? Math.floor((EVAL_SHARE * steps) / pace.evalSteps) : BUDGET_EVALUATIONS;
  const evaluations = Math.min(BUDGET_EVALUATIONS, Math.max(1, affordable));
  const end = Math.min(pace.totalSteps, pace.step + Math.max(0, steps - evaluations * pace.evalSteps));
  const span = end - pace.startStep;
  return { evalEvery: Math.max(1, Math.round(span / evaluations)), sampleEvery: Math.max(1, Math.round(span / BUDGET_SAMPLES)) };
}

/** The intervals of one session of a run: given, the defaults, or measured from the budget. */
export class IntervalSchedule {
  readonly #given: Partial<Intervals>;
  readonly #session: { readonly startStep: number; readonly totalSteps: number; readonly evalSteps: number };
  /** Seconds of training after which the rate is measured; Infinity when nothing is left to measure. */
  readonly #measureAfter: number;
  #fixed: Intervals | undefined;
  /** The first observation past half the measuring time: the rate is taken from there. */
  #mark: { readonly step: number; readonly trainingSeconds: number } | undefined;
  #pace: SessionPace | undefined;

  /** secondsLeft: the time budget left as the session starts; undefined without one. */
  constructor(
    config: Pick<TrainConfig, 'evalEvery' | 'sampleEvery'>,
    session: { readonly startStep: number; readonly totalSteps: number; readonly evalSteps: number; readonly secondsLeft: number | undefined },
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
