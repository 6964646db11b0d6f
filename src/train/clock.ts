/**
 * A run's two times. The time budget (--minutes) counts wall-clock seconds from the start of
 * training, all sessions together; the rate and the ETA count this session's training alone,
 * to each step's end, leaving evaluations, samples and saves out.
 */
export class TrainingClock {
  readonly #secondsBefore: number;
  readonly #budgetSeconds: number | undefined;
  #started = Number.NaN;
  #stepsBefore = 0;
  #steps = 0;
  /** Seconds of training this session, to the last step's end. */
  trainingSeconds = 0;

  /** secondsBefore: the earlier sessions' seconds (a resumed checkpoint's); minutes: the budget, if any. */
  constructor(secondsBefore: number, minutes: number | undefined) {
    this.#secondsBefore = secondsBefore;
    this.#budgetSeconds = minutes === undefined ? undefined : minutes * 60;
  }

  /** Training starts now, at the run's step `step`. */
  start(step: number): void {
    this.#started = performance.now();
    this.#stepsBefore = step;
    this.#steps = step;
  }

  /** The run's step `step` ended `trainingSeconds` into this session's training. */
  stepEnded(step: number, trainingSeconds: number): void {
    this.#steps = step;
    this.trainingSeconds = trainingSeconds;
  }

  /** Milliseconds on this thread's clock to seconds since this session started training. */
  sessionSeconds(ms: number): number {
    return (ms - this.#started) / 1000;
  }

  /** Wall-clock seconds of training, all sessions together. */
  runSeconds(): number {
    return this.#secondsBefore + (Number.isNaN(this.#started) ? 0 : this.sessionSeconds(performance.now()));
  }

  /** What is left of the time budget, in seconds; undefined without one. */
  secondsLeft(): number | undefined {
    return this.#budgetSeconds === undefined ? undefined : Math.max(0, this.#budgetSeconds - this.runSeconds());
  }

  budget(): { seconds: number; left: number } | undefined {
    return this.#budgetSeconds === undefined ? undefined : { seconds: this.#budgetSeconds, left: this.secondsLeft() ?? 0 };
  }

  budgetSpent(): boolean {
    return this.#budgetSeconds !== undefined && this.runSeconds() >= this.#budgetSeconds;
  }

  /** Characters per second of this session's training, `charsPerStep` a step. */
  charsPerSec(charsPerStep: number): number {
    return this.trainingSeconds > 0 ? ((this.#steps - this.#stepsBefore) * charsPerStep) / this.trainingSeconds : 0;
  }
}
