/**
 * The recent training loss: the mean of the last RECENT_STEPS steps' losses (of all the steps
 * while fewer are done). The seed's smooth loss (0.999 smooth + 0.001 loss, from the first step's
 * loss) still carries a fifth of its start after 1,600 steps, so early in a run it sits far above
 * what the model does now. A fixed window means the same thing in every run and across a resume
 * (a window proportional to the run would change with --steps); 100 steps average out the
 * step-to-step noise and lag the model by 50 steps.
 */
export const RECENT_STEPS = 100;

/** The label of the recent loss wherever it is shown. */
export const RECENT_LABEL = `last ${RECENT_STEPS} steps`;

/** A trailing mean over a fixed window, O(1) a value: for the training loop. */
export class TrailingMean {
  readonly #window: Float64Array;
  #count = 0;
  #sum = 0;

  /** earlier: values before the first add() (the end of a resumed run's history), oldest first. */
  constructor(size: number, earlier: readonly number[] = []) {
    this.#window = new Float64Array(size);
    for (const value of earlier.slice(-size)) this.add(value);
  }

  add(value: number): void {
    const size = this.#window.length;
    const slot = this.#count % size;
    this.#sum += value - this.#window[slot];
    this.#window[slot] = value;
    this.#count++;
    // Adding and taking away leaves rounding behind; sum afresh once a window.
    if (slot === size - 1) this.#sum = this.#window.reduce((a, b) => a + b, 0);
  }

  /** NaN before the first value. */
  mean(): number {
    return this.#sum / this.count();
  }

  /** How many values the mean is over: all so far, up to the window's size. */
  count(): number {
    return Math.min(this.#count, this.#window.length);
  }
}

/** The trailing mean at every index, for the charts: each is computed as TrailingMean would. */
export function trailingMeans(values: readonly number[], size = RECENT_STEPS): number[] {
  const mean = new TrailingMean(size);
  return values.map((value) => {
    mean.add(value);
    return mean.mean();
  });
}
