import { Piscina } from 'piscina';
import { TrainingError } from '../errors.js';
import type { Task, WorkerSetup } from './messages.js';

export const DEFAULT_WORKER_URL = new URL('../../workers/train-worker.js', import.meta.url);

/** The worker threads of one training run: each call fans a range out over the threads and waits. */
export interface TrainPool {
  /** Starts every thread and loads the worker module, so the first step is not slowed by it. */
  warmUp(): Promise<void>;
  step(position: number): Promise<void>;
  evaluate(): Promise<void>;
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

  const fanOut = async (count: number, task: (first: number, end: number) => Task): Promise<void> => {
    if (failure) throw asTrainingError(failure);
    const parts = splitRange(count, threads);
    try {
      await Promise.all(parts.map(([first, end]) => pool.run(task(first, end))));
    } catch (error) {
      throw asTrainingError(error);
    }
  };

  return {
    warmUp: () => fanOut(threads, () => ({ kind: 'eval', first: 0, end: 0 })),
    step: (position) => fanOut(setup.streams, (first, end) => ({ kind: 'step', first, end, position })),
    evaluate: () => fanOut(setup.evalSegments.length, (first, end) => ({ kind: 'eval', first, end })),
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
