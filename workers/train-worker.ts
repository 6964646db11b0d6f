import { workerData } from 'node:worker_threads';
import { paramLayout, viewsOf } from '../src/model/layout.js';
import { createEvalWorkspace, createWorkspace, evaluate, sequenceLossAndGrad } from '../src/model/rnn.js';
import { idsArrayFor } from '../src/symbols.js';
import type { Task, WorkerSetup } from '../src/train/messages.js';

// Attach once: views over the shared buffers and this thread's scratch space.
const setup = workerData as WorkerSetup;
const dims = { H: setup.H, K: setup.K };
const layout = paramLayout(dims);
const P = layout.size;
const ids = idsArrayFor(setup.K, setup.ids, setup.idCount);
const params = viewsOf(new Float64Array(setup.params), layout);
const hidden = new Float64Array(setup.hidden);
const gradSlots = new Float64Array(setup.gradSlots);
const slotViews = Array.from({ length: setup.streams }, (_, s) => viewsOf(gradSlots.subarray(s * P, (s + 1) * P), layout));
const losses = new Float64Array(setup.losses);
const evalLosses = new Float64Array(setup.evalLosses);
const ws = createWorkspace(dims, setup.T);
const evalWs = createEvalWorkspace(dims);
const evalHidden = new Float64Array(setup.H);

// The coordinator wrote params before posting the task and reads our results after the reply:
// the message round trip orders those accesses, so no Atomics are needed here.
export default function run(task: Task): void {
  const { H, T } = setup;
  if (task.kind === 'step') {
    for (let s = task.first; s < task.end; s++) {
      gradSlots.fill(0, s * P, (s + 1) * P);
      const h = hidden.subarray(s * H, (s + 1) * H);
      losses[s] = sequenceLossAndGrad(params, dims, ids, s * setup.streamLength + task.position, h, slotViews[s], ws);
      h.set(ws.hs.subarray(T * H, (T + 1) * H));
    }
  } else {
    for (let e = task.first; e < task.end; e++) {
      const { start, count } = setup.evalSegments[e];
      evalHidden.fill(0);
      evalLosses[e] = evaluate(params, dims, ids, start, count, evalHidden, evalWs);
    }
  }
}
