import { workerData } from 'node:worker_threads';
import { modelLayout } from '../src/model/cells/cell.js';
import { cellNamed } from '../src/model/cells/registry.js';
import { sequenceMasks } from '../src/model/dropout.js';
import { clipScale, UPDATE_CHUNK } from '../src/model/optimizers.js';
import { scoreStream, refreshCopies } from '../src/model/kernel-memory.js';
import { instantiateKernels } from '../src/model/kernels.js';
import { idsArrayFor } from '../src/symbols.js';
import { arrive, awaitAll, Command, Field, waitWhileEqual } from '../src/train/control.js';
import { meanLoss } from '../src/train/window.js';
import { bindOptimizer, groupBuffers, scoreBuffers, sharedArrays, STEP_SCALARS, StepScalar } from '../src/train/shared-memory.js';
import type { Task, WorkerSetup } from '../src/train/messages.js';
import type { GroupBuffers } from '../src/model/cells/cell.js';

// Attach once: the shared memory, the corpus, this thread's kernel instance and the cell's entry points.
const setup = workerData as WorkerSetup;
const { shape, plan } = setup;
const { dims, T, B, P, threads } = shape;
const { L, H } = dims;
const kernels = instantiateKernels(setup.memory, setup.module);
const layout = modelLayout(cellNamed(dims.cell), dims);
const cell = cellNamed(dims.cell).bindKernels(kernels, layout, T, plan.model);
const corpus = idsArrayFor(dims.K, setup.ids, setup.idCount);
const ctl = new Int32Array(setup.control);
const buffer = setup.memory.buffer;
const { streamIds, masks, evalLosses, normParts, state, losses, stepEnds, stepScalars } = sharedArrays(buffer, plan, shape);
const update = bindOptimizer(kernels, setup.optimizer, plan, shape, stepScalars);
const { clipNorm } = setup.optimizer;
const { groupStreams } = plan.sizes;

/**
 * A window of steps, run without the coordinator: from run step `first` until the window's end,
 * which the end-of-step barrier may lower. Each step's row of stepScalars says where it reads.
 */
function train(first: number, groupAt: readonly GroupBuffers[]): void {
  for (let row = 0; row < Atomics.load(ctl, Field.windowEnd); row++) {
    const scalars = row * STEP_SCALARS;
    step(stepScalars[scalars + StepScalar.position], (first + row) >>> 0, row, stepScalars[scalars + StepScalar.startsEpoch] !== 0, groupAt);
    endOfStep(row);
  }
}

/**
 * One step: BPTT on groups of streams claimed one at a time, then, once every thread is done, the
 * update of chunks of parameters claimed the same way. Claiming balances the threads when one is
 * slowed; which thread computes what never changes the numbers, since each pair of streams has its
 * own slot and each stream's dropout masks depend only on (seed, step, stream, layer, t). A step
 * that starts an epoch starts every stream from a zero state.
 */
function step(position: number, stepIndex: number, row: number, startsEpoch: boolean, groupAt: readonly GroupBuffers[]): void {
  for (let group = Atomics.add(ctl, Field.nextGroup, 1); group < groupAt.length; group = Atomics.add(ctl, Field.nextGroup, 1)) {
    const first = group * groupStreams;
    const end = Math.min(first + groupStreams, B);
    if (startsEpoch) state.fill(0, first * shape.S, end * shape.S);
    for (let s = first; s < end; s++) {
      const from = s * setup.streamLength + position;
      for (let t = 0; t <= T; t++) streamIds[s * (T + 1) + t] = corpus[from + t];
      if (masks !== undefined) {
        const mask = masks.subarray(s * L * T * H, (s + 1) * L * T * H);
        sequenceMasks(mask, { L, T, H }, { seed: setup.seed, step: stepIndex, stream: s, p: setup.dropout });
      }
    }
    const at = groupAt[group];
    cell.trainGroup({ ...at, losses: at.losses + row * B * 8 }, end - first);
  }
  arrive(ctl, Field.arrived, threads);
  awaitAll(ctl, Field.arrived, threads);
  const scale = clipNorm > 0 ? normScale(Math.ceil(B / 2)) : 1;
  for (let lo = Atomics.add(ctl, Field.nextChunk, UPDATE_CHUNK); lo < P; lo = Atomics.add(ctl, Field.nextChunk, UPDATE_CHUNK)) {
    const hi = Math.min(lo + UPDATE_CHUNK, P);
    update(lo, hi, scale, row);
    refreshCopies(kernels, plan.model, lo, hi);
  }
}

/**
 * The barrier after step `row`: the last thread to arrive resets the step's counters, ends the
 * window here if the coordinator asked or the step's mean loss is not finite (the coordinator's
 * own sum, which then reports the divergence), and releases the others.
 */
function endOfStep(row: number): void {
  if (Atomics.add(ctl, Field.stepArrived, 1) + 1 < threads) {
    waitWhileEqual(ctl, Field.completed, row);
    return;
  }
  stepEnds[row] = performance.timeOrigin + performance.now();
  for (const field of [Field.stepArrived, Field.arrived, Field.nextGroup, Field.nextChunk, Field.nextNormChunk, Field.normed]) Atomics.store(ctl, field, 0);
  if (Atomics.load(ctl, Field.stopRequested) !== 0 || !Number.isFinite(meanLoss(losses, row, B))) Atomics.store(ctl, Field.windowEnd, row + 1);
  Atomics.store(ctl, Field.completed, row + 1);
  Atomics.notify(ctl, Field.completed);
}

/**
 * The global-norm clip's factor: chunks' sums of squares claimed like the update's, each into its
 * own slot, then, once all are in, added up in chunk order by every thread alike.
 */
function normScale(pairs: number): number {
  for (let lo = Atomics.add(ctl, Field.nextNormChunk, UPDATE_CHUNK); lo < P; lo = Atomics.add(ctl, Field.nextNormChunk, UPDATE_CHUNK)) {
    normParts[lo / UPDATE_CHUNK] = kernels.sumSquaresRange(plan.gradSlots, P, pairs, B, lo, Math.min(lo + UPDATE_CHUNK, P));
  }
  arrive(ctl, Field.normed, threads);
  awaitAll(ctl, Field.normed, threads);
  let total = 0;
  for (let c = 0; c < normParts.length; c++) total += normParts[c];
  return clipScale(total, clipNorm);
}

/** Scores validation segments, claimed one at a time, until none is left or the run is stopped. */
function evaluate(worker: number): void {
  const at = scoreBuffers(plan, worker);
  const chunk = new Int32Array(buffer, at.ids, plan.sizes.scoreChunk + 1);
  const scoreState = new Float64Array(buffer, at.state, shape.S);
  const stopped = (): boolean => Atomics.load(ctl, Field.abort) !== 0;
  for (let e = Atomics.add(ctl, Field.nextSegment, 1); e < setup.evalSegments.length; e = Atomics.add(ctl, Field.nextSegment, 1)) {
    if (stopped()) return;
    const { start, count } = setup.evalSegments[e];
    scoreState.fill(0);
    evalLosses[e] = scoreStream(cell, plan.sizes, at, chunk, corpus, start, count, 0, stopped);
  }
}

export default function run(task: Task): void {
  if (task.kind !== 'serve') throw new Error(`unknown task ${String(task.kind)}`);
  const worker = Atomics.add(ctl, Field.ready, 1);
  Atomics.notify(ctl, Field.ready);
  // Every group's buffers as this thread would train it, found once rather than at each step.
  const groupAt = Array.from({ length: Math.ceil(B / groupStreams) }, (_, group) => groupBuffers(plan, shape, group, worker));
  for (let generation = 0; ; ) {
    waitWhileEqual(ctl, Field.generation, generation);
    generation = Atomics.load(ctl, Field.generation);
    const command = Atomics.load(ctl, Field.command);
    if (command === Command.stop) return;
    if (command === Command.train) train(Atomics.load(ctl, Field.step) >>> 0, groupAt);
    else evaluate(worker);
    arrive(ctl, Field.done, threads);
  }
}
