import { workerData } from 'node:worker_threads';
import { instantiateKernels } from '../src/model/kernels.js';
import { idsArrayFor } from '../src/symbols.js';
import { arrive, awaitAll, Command, Field, waitWhileEqual } from '../src/train/control.js';
import { EVAL_CHUNK } from '../src/train/shared-memory.js';
import type { Task, WorkerSetup } from '../src/train/messages.js';

// Attach once: the shared memory, the corpus and this thread's kernel instance.
const setup = workerData as WorkerSetup;
const { shape, plan } = setup;
const { H, K, T, B, P, threads } = shape;
const kernels = instantiateKernels(setup.memory, setup.module);
const corpus = idsArrayFor(K, setup.ids, setup.idCount);
const ctl = new Int32Array(setup.control);
const buffer = setup.memory.buffer;
const streamIds = new Int32Array(buffer, plan.streamIds, B * (T + 1));
const evalLosses = new Float64Array(buffer, plan.evalLosses, setup.evalSegments.length);
const scratchBytes = kernels.trainScratchBytes(H, K, T);

/** Parameters per claim of the update: small enough to even out the threads, large enough to cost nothing. */
const CHUNK = 2048;

/**
 * One step: BPTT on pairs of streams claimed one at a time, then, once every thread is done, the
 * update of chunks of parameters claimed the same way. Claiming balances the threads when one is
 * slowed; which thread computes what never changes the numbers, since each pair has its own slot.
 */
function step(position: number): void {
  const pairs = Math.ceil(B / 2);
  for (let pair = Atomics.add(ctl, Field.nextPair, 1); pair < pairs; pair = Atomics.add(ctl, Field.nextPair, 1)) {
    const first = 2 * pair;
    const end = Math.min(first + 2, B);
    for (let s = first; s < end; s++) {
      const from = s * setup.streamLength + position;
      for (let t = 0; t <= T; t++) streamIds[s * (T + 1) + t] = corpus[from + t];
    }
    kernels.trainStreams(
      H, K, T, plan.params, plan.WT, plan.UT, plan.VT,
      plan.streamIds + first * (T + 1) * 4, plan.hidden + first * H * 8, plan.gradSlots + pair * P * 8,
      plan.losses + first * 8, plan.streamScratch + first * scratchBytes, end - first,
    );
  }
  arrive(ctl, Field.arrived, threads);
  awaitAll(ctl, Field.arrived, threads);
  for (let lo = Atomics.add(ctl, Field.nextChunk, CHUNK); lo < P; lo = Atomics.add(ctl, Field.nextChunk, CHUNK)) {
    const hi = Math.min(lo + CHUNK, P);
    kernels.adagradRange(plan.params, plan.adagradMemory, plan.gradSlots, P, pairs, B, lo, hi, setup.eta, setup.eps, setup.clip);
    kernels.transposeRange(H, K, plan.params, plan.WT, plan.UT, plan.VT, lo, hi);
  }
}

/** Scores validation segments, claimed one at a time, until none is left or the run is stopped. */
function evaluate(scratch: number): void {
  const h = scratch + plan.evalState;
  const ids = scratch + plan.evalIds;
  const chunk = new Int32Array(buffer, ids, EVAL_CHUNK + 1);
  const state = new Float64Array(buffer, h, H);
  for (let e = Atomics.add(ctl, Field.nextSegment, 1); e < setup.evalSegments.length; e = Atomics.add(ctl, Field.nextSegment, 1)) {
    if (Atomics.load(ctl, Field.abort)) return;
    const { start, count } = setup.evalSegments[e];
    state.fill(0);
    let loss = 0;
    for (let done = 0; done < count; done += EVAL_CHUNK) {
      const n = Math.min(EVAL_CHUNK, count - done);
      for (let t = 0; t <= n; t++) chunk[t] = corpus[start + done + t];
      loss = kernels.evalSequence(H, K, plan.params, plan.WT, plan.UT, plan.VT, ids, n, h, scratch, loss);
    }
    evalLosses[e] = loss;
  }
}

export default function run(task: Task): void {
  if (task.kind !== 'serve') throw new Error(`unknown task ${String(task.kind)}`);
  const index = Atomics.add(ctl, Field.ready, 1);
  Atomics.notify(ctl, Field.ready);
  const scratch = plan.workerScratch + index * plan.workerScratchBytes;
  for (let generation = 0; ; ) {
    waitWhileEqual(ctl, Field.generation, generation);
    generation = Atomics.load(ctl, Field.generation);
    const command = Atomics.load(ctl, Field.command);
    if (command === Command.stop) return;
    if (command === Command.step) step(Atomics.load(ctl, Field.position));
    else evaluate(scratch);
    arrive(ctl, Field.done, threads);
  }
}
