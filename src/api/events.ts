import type { TrainEvent } from '../train/events.js';

/**
 * The events of one run, for one reader that iterates them while training goes on. Step events
 * come many per second: while the reader is behind, a newer step replaces a step still waiting
 * at the end of the queue, so that memory stays bounded however slow the reader; every other
 * event is kept. Ends when the run ends, and throws what the run threw.
 */
export class EventQueue implements AsyncIterable<TrainEvent> {
  private readonly waiting: TrainEvent[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  private failure: { error: unknown } | undefined;
  private taken = false;

  push(event: TrainEvent): void {
    if (this.ended) return;
    if (event.type === 'step' && this.waiting.at(-1)?.type === 'step') this.waiting[this.waiting.length - 1] = event;
    else this.waiting.push(event);
    this.wakeReader();
  }

  end(): void {
    this.ended = true;
    this.wakeReader();
  }

  fail(error: unknown): void {
    this.failure = { error };
    this.end();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<TrainEvent> {
    if (this.taken) throw new TypeError('the events of a training run can be iterated once');
    this.taken = true;
    for (;;) {
      const event = this.waiting.shift();
      if (event !== undefined) {
        yield event;
        continue;
      }
      if (this.ended) break;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
    if (this.failure !== undefined) throw this.failure.error;
  }

  private wakeReader(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
