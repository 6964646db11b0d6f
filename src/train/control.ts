/**
 * The control block: a few int32 fields in a SharedArrayBuffer through which the coordinator
 * starts each command and the workers report back, without a message per step. Every write the
 * coordinator makes before it bumps `generation` (Atomics.add, sequentially consistent) is seen
 * by a worker after it reads the new generation; every write a worker makes before it counts
 * itself into `done` is seen by the coordinator once it reads that count. So the shared buffers
 * themselves need no Atomics.
 */
export const Field = {
  /** Bumped by the coordinator to start `command`; workers wait on it. */
  generation: 0,
  command: 1,
  /** The step's position within every stream. */
  position: 2,
  /** Workers that have started; each takes the count before its arrival as its index. */
  ready: 3,
  /** Workers done with BPTT in this step: all must be before anyone updates the parameters. */
  arrived: 4,
  /** Workers done with the command. */
  done: 5,
  /** The next validation segment to claim. */
  nextSegment: 6,
  /** Set to stop claiming validation segments (Ctrl-C during an evaluation). */
  abort: 7,
  /** The next group of streams to claim for BPTT. */
  nextGroup: 8,
  /** The next chunk of parameters to claim for the update. */
  nextChunk: 9,
  /** The step's index from the start of the run (uint32): it keys the dropout masks. */
  step: 10,
  /** The next chunk of the mean gradient to sum the squares of (--clip-norm). */
  nextNormChunk: 11,
  /** Workers done summing squares: all must be before anyone reads the norm. */
  normed: 12,
} as const;
const FIELDS = 13;

export const Command = { step: 1, evaluate: 2, stop: 3 } as const;

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
