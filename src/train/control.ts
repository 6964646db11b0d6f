/**
 * The control block: a few int32 fields in a SharedArrayBuffer through which the coordinator
 * starts each command and the workers report back, without a message per step. Every write the
 * coordinator makes before it bumps `generation` (Atomics.add, sequentially consistent) is seen
 * by a worker after it reads the new generation; every write a worker makes before it counts
 * itself into a barrier (`arrived`, `stepArrived`, `done`) is seen by whoever reads the count, so
 * the shared buffers themselves need no Atomics.
 *
 * A `train` command runs up to `count` steps, the workers keeping step among themselves: at the
 * end of each, the last thread to arrive resets the step's counters and releases the others by
 * raising `completed`, which is also what the coordinator reads to follow the run. It lowers
 * `windowEnd` to stop early, after the step it ends, when the coordinator asked (`stopRequested`)
 * or the step's loss is not finite: every thread reads the same decision.
 */
export const Field = {
  /** Bumped by the coordinator to start `command`; workers wait on it. */
  generation: 0,
  command: 1,
  /** Workers that have started; each takes the count before its arrival as its index. */
  ready: 2,
  /** Workers done with BPTT in this step: all must be before anyone updates the parameters. */
  arrived: 3,
  /** Workers done with the command. */
  done: 4,
  /** The next validation segment to claim. */
  nextSegment: 5,
  /** Set to stop claiming validation segments (Ctrl-C during an evaluation). */
  abort: 6,
  /** The next group of streams to claim for BPTT. */
  nextGroup: 7,
  /** The next chunk of parameters to claim for the update. */
  nextChunk: 8,
  /** The window's first step index from the start of the run (uint32): it keys the dropout masks. */
  step: 9,
  /** The next chunk of the mean gradient to sum the squares of (--clip-norm). */
  nextNormChunk: 10,
  /** Workers done summing squares: all must be before anyone reads the norm. */
  normed: 11,
  /** Steps the window runs; lowered to stop it early. */
  windowEnd: 12,
  /** Steps of the window done: parameters updated, losses written. */
  completed: 13,
  /** Workers at the end of the current step. */
  stepArrived: 14,
  /** Set by the coordinator to end the window after the step in progress (Ctrl-C, the time budget). */
  stopRequested: 15,
} as const;
const FIELDS = 16;

/** Steps a `train` command runs at most: the rows of the losses and the step scalars. */
export const WINDOW_STEPS = 256;

export const Command = { train: 1, evaluate: 2, stop: 3 } as const;

export function createControl(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(FIELDS * 4));
}

/** Spins briefly (a step is a millisecond or two), then sleeps, until ctl[field] is no longer `value`. */
export function waitWhileEqual(ctl: Int32Array, field: number, value: number): void {
  for (let spin = 0; spin < 20_000; spin++) if (Atomics.load(ctl, field) !== value) return;
  while (Atomics.load(ctl, field) === value) Atomics.wait(ctl, field, value, 100);
}

/** Counts this thread into ctl[field]; the last of `total` wakes those waiting on it. */
export function arrive(ctl: Int32Array, field: number, total: number): void {
  if (Atomics.add(ctl, field, 1) + 1 === total) Atomics.notify(ctl, field);
}

/** Blocks until `total` threads have arrived at ctl[field]. */
export function awaitAll(ctl: Int32Array, field: number, total: number): void {
  for (let seen = Atomics.load(ctl, field); seen < total; seen = Atomics.load(ctl, field)) waitWhileEqual(ctl, field, seen);
}
