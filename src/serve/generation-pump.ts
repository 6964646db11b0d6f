/** What a job's step did: there is more to do, it waits for something else to add it back, or it is over. */
export type StepResult = 'more' | 'wait' | 'done';

export interface PumpJob {
  /** Does one piece of work (a chunk of a few ms). */
  step(): StepResult;
}

/**
 * Runs the generations of a server round-robin, one chunk of one at a time, for at most `budgetMs`
 * a turn of the event loop, then lets the I/O in. A stream of its own per generation, each yielding
 * with setImmediate, would run every stream's chunk before any I/O: with 50 streams the server read
 * no request for 50 chunks (some 400 ms). Here a request waits at most one budget, whatever the
 * number of streams, and each stream still gets its turn in order.
 */
export class GenerationPump {
  private readonly queue: PumpJob[] = [];
  private scheduled = false;

  constructor(private readonly budgetMs: number) {}

  /** Queues a job (a new one, or one that waited); it steps in a later turn, after the I/O. */
  add(job: PumpJob): void {
    this.queue.push(job);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.run);
    }
  }

  private readonly run = (): void => {
    this.scheduled = false;
    const started = performance.now();
    let steps = 0;
    while (this.queue.length > 0 && (steps === 0 || performance.now() - started < this.budgetMs)) {
      const job = this.queue.shift() as PumpJob;
      steps++;
      if (job.step() === 'more') this.queue.push(job);
    }
    if (this.queue.length > 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(this.run);
    }
  };
}
