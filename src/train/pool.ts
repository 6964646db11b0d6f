import { setMaxListeners } from 'node:events';
import { Piscina } from 'piscina';
import { TrainingError } from '../errors.js';
import type { Task, WorkerSetup } from './messages.js';

export const DEFAULT_WORKER_URL = new URL('../../workers/train-worker.js', import.meta.url);

/** The worker threads of one training run: each call fans tasks out over the threads and waits. */
export interface TrainPool {
  /** Starts every thread and loads the worker module, so the first step is not slowed by it. */
  warmUp(): Promise<void>;
  /** BPTT on every stream, one contiguous range of streams per thread. */
  step(position: number): Promise<void>;
  /** Scores every evaluation segment, one task each; false if the signal stopped it first. */
  evaluate(signal?: AbortSignal): Promise<boolean>;
  destroy(): Promise<void>;
}

export function createTrainPool(setup: WorkerSetup, threads: number, workerUrl: URL = DEFAULT_WORKER_URL): TrainPool {
  const pool = new Piscina<Task, void>({
    filename: workerUrl.href,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Number.MAX_SAFE_INTEGER,
    workerData: setup,
  });
  let failure: Error | undefined;
  pool.on('error', (error: Error) => {
    failure = error;
  });

  const runAll = async (tasks: Task[], signal?: AbortSignal): Promise<boolean> => {
    if (failure) throw asTrainingError(failure);
    // Piscina listens on a task's signal until the task ends: one listener per task, so each
    // call gets its own signal, sized for its tasks, instead of crowding the caller's.
    const local = new AbortController();
    setMaxListeners(tasks.length + 1, local.signal);
    const stop = (): void => local.abort(signal?.reason);
    signal?.addEventListener('abort', stop, { once: true });
    if (signal?.aborted) stop();
    try {
      await Promise.all(tasks.map((task) => pool.run(task, { signal: signal ? local.signal : null })));
      return true;
    } catch (error) {
      if (signal?.aborted) return false;
      throw asTrainingError(error);
    } finally {
      signal?.removeEventListener('abort', stop);
    }
  };

  return {
    warmUp: async () => {
      await runAll(Array.from({ length: threads }, () => ({ kind: 'eval', first: 0, end: 0 })));
    },
    step: async (position) => {
      await runAll(splitRange(setup.streams, threads).map(([first, end]) => ({ kind: 'step', first, end, position })));
    },
    evaluate: (signal) => runAll(setup.evalSegments.map((_, e) => ({ kind: 'eval', first: e, end: e + 1 })), signal),
    destroy: () => pool.destroy(),
  };
}

/** [0, count) cut into at most `parts` contiguous, non-empty ranges whose sizes differ by at most one. */
export function splitRange(count: number, parts: number): [number, number][] {
  const n = Math.max(1, Math.min(parts, count));
  const ranges: [number, number][] = [];
  for (let i = 0; i < n; i++) ranges.push([Math.floor((i * count) / n), Math.floor(((i + 1) * count) / n)]);
  return ranges.filter(([first, end]) => end > first);
}

function asTrainingError(error: unknown): TrainingError {
  const message = error instanceof Error ? error.message : String(error);
  return new TrainingError(`a worker thread failed: ${message}`, { cause: error });
}
