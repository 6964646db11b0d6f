import type { OptimizerSettings } from '../model/optimizers.js';
import type { MemoryPlan, MemoryShape } from './shared-memory.js';

/**
 * What the coordinator hands each worker once, at start-up (Piscina's workerData). Nothing is
 * copied: the memory, the corpus ids and the control block are shared, the module is compiled once.
 * Afterwards the threads talk only through the control block (control.ts).
 */
export interface WorkerSetup {
  readonly shape: MemoryShape;
  /** Characters per stream: stream s reads ids[s * streamLength ...]. */
  readonly streamLength: number;
  readonly ids: SharedArrayBuffer; // the encoded corpus, (N) uint8/16/32 as K requires
  readonly idCount: number;
  readonly memory: WebAssembly.Memory; // shared; laid out by `plan`
  readonly module: WebAssembly.Module;
  readonly plan: MemoryPlan;
  readonly control: SharedArrayBuffer;
  readonly evalSegments: readonly EvalSegment[];
  readonly optimizer: OptimizerSettings;
  /** The run's seed and dropout probability, which key and shape the dropout masks. */
  readonly seed: number;
  readonly dropout: number;
}

/** One stretch of held-out text, read from a zero hidden state: `count` predictions from `start`. */
export interface EvalSegment {
  readonly start: number;
  readonly count: number;
}

/** The one Piscina task: serve the control block's commands until told to stop. */
export interface ServeTask {
  readonly kind: 'serve';
}

export type Task = ServeTask;
