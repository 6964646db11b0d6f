import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { TrainingError } from '../errors.js';
import { Command, Field, WINDOW_STEPS } from './control.js';
import type { Task, WorkerSetup } from './messages.js';

/** The longest the coordinator blocks before it lets the event loop run. */
const YIELD_MS = 20;

export const DEFAULT_WORKER_URL = new URL('../../workers/train-worker.js', import.meta.url);

/** The worker threads of one training run; each call starts one command on all of them and waits. */
export interface TrainPool {
  /** Starts every thread, so the first step is not slowed by it. */
  warmUp(): Promise<void>;
  /**
   * Runs `count` steps from run step `step`, each BPTT on every stream and then the update, as the
   * window's rows of step scalars say (window.ts writeStepScalars), without a round trip here between steps. Calls `onProgress` with
   * the steps done so far at least every YIELD_MS and once at the end; resolves with the steps
   * done, fewer than `count` when stopped early (requestStop, or a loss that is not finite).
   */
  train(step: number, count: number, onProgress: (completed: number) => void): Promise<number>;
  /** Ends the running window after the step in progress. */
  requestStop(): void;
  /** Scores every validation segment; false if the signal stopped it first. */
  evaluate(signal?: AbortSignal): Promise<boolean>;
  destroy(): Promise<void>;
}

/**
 * Piscina owns the threads and runs one long task on each, which serves the commands this side
 * posts through the control block (control.ts): a step costs no message, only a few atomics.
 */
export function createTrainPool(setup: WorkerSetup, workerUrl: URL = DEFAULT_WORKER_URL): TrainPool {
  const { threads } = setup.shape;
  const ctl = new Int32Array(setup.control);
  const pool = new Piscina<Task, void>({
    filename: workerUrl.href,
    minThreads: threads,
    maxThreads: threads,
    concurrentTasksPerWorker: 1,
    idleTimeout: Number.MAX_SAFE_INTEGER,
    workerData: setup,
  });
  let serving: Promise<void>[] = [];
  let failure: unknown;
  const fail = (error: unknown): void => {
    failure ??= error;
  };
  pool.on('error', fail);

  let lastYield = performance.now();
  // With a core to spare this thread polls, which costs nothing the workers need; otherwise it
  // sleeps, leaving every core to them (a wake-up from Atomics.wait takes 50-100 us).
  const spare = threads < availableParallelism();
  /**
   * Resolves once `total` threads have counted themselves into ctl[field]; throws if one failed.
   * Returns to the event loop at least every YIELD_MS, so that worker errors and signals are seen.
   */
  const whenAll = async (field: number, total: number, onWait: () => void = () => {}): Promise<void> => {
    for (;;) {
      if (failure !== undefined) throw asTrainingError(failure);
      const seen = Atomics.load(ctl, field);
      if (seen >= total) break;
      const timedOut = spare ? pollWhileEqual(ctl, field, seen, YIELD_MS) : Atomics.wait(ctl, field, seen, YIELD_MS) === 'timed-out';
      if (timedOut) {
        onWait();
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }
    if (performance.now() - lastYield > YIELD_MS) {
      await yieldToEventLoop();
      lastYield = performance.now();
    }
  };
  const run = async (command: number, step = 0, count = 0, onWait?: () => void): Promise<void> => {
    if (failure !== undefined) throw asTrainingError(failure);
    Atomics.store(ctl, Field.command, command);
    Atomics.store(ctl, Field.step, step | 0);
    Atomics.store(ctl, Field.windowEnd, count);
    Atomics.store(ctl, Field.completed, 0);
    Atomics.store(ctl, Field.stepArrived, 0);
    Atomics.store(ctl, Field.stopRequested, 0);
    Atomics.store(ctl, Field.arrived, 0);
    Atomics.store(ctl, Field.done, 0);
    Atomics.store(ctl, Field.nextSegment, 0);
    Atomics.store(ctl, Field.abort, 0);
    Atomics.store(ctl, Field.nextGroup, 0);
    Atomics.store(ctl, Field.nextChunk, 0);
    Atomics.store(ctl, Field.nextNormChunk, 0);
    Atomics.store(ctl, Field.normed, 0);
    Atomics.add(ctl, Field.generation, 1);
    Atomics.notify(ctl, Field.generation);
    await whenAll(Field.done, threads, onWait);
  };

  return {
    warmUp: async () => {
      serving = Array.from({ length: threads }, () => pool.run({ kind: 'serve' }).catch(fail));
      await whenAll(Field.ready, threads);
    },
    train: async (step, count, onProgress) => {
      if (!(count >= 1 && count <= WINDOW_STEPS)) throw new RangeError(`a window runs 1 to ${WINDOW_STEPS} steps, not ${count}`);
      await run(Command.train, step, count, () => onProgress(Atomics.load(ctl, Field.completed)));
      const completed = Atomics.load(ctl, Field.completed);
      onProgress(completed);
      return completed;
    },
    requestStop: () => Atomics.store(ctl, Field.stopRequested, 1),
    evaluate: async (signal) => {
      const stop = (): void => {
        Atomics.store(ctl, Field.abort, 1);
      };
      signal?.addEventListener('abort', stop, { once: true });
      try {
        if (signal?.aborted) return false;
        await run(Command.evaluate);
        return !signal?.aborted;
      } finally {
        signal?.removeEventListener('abort', stop);
      }
    },
    destroy: async () => {
      if (failure === undefined && serving.length > 0) {
        Atomics.store(ctl, Field.command, Command.stop);
        Atomics.add(ctl, Field.generation, 1);
        Atomics.notify(ctl, Field.generation);
        await Promise.all(serving);
      }
      await pool.destroy(); // a thread stuck waiting for a failed one is terminated here
    },
  };
}

/** Polls until ctl[field] is no longer `value`; true if `ms` passed first. */
function pollWhileEqual(ctl: Int32Array, field: number, value: number, ms: number): boolean {
  const until = performance.now() + ms;
  while (Atomics.load(ctl, field) === value) if (performance.now() > until) return true;
  return false;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function asTrainingError(error: unknown): TrainingError {
  const message = error instanceof Error ? error.message : String(error);
  return new TrainingError(`a worker thread failed: ${message}`, { cause: error });
}
