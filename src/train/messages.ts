/**
 * Everything the coordinator and the workers exchange. Buffers travel once, in workerData;
 * each task is a few integers naming a range of streams or evaluation segments.
 */

/** Handed to every worker at start-up (Piscina's workerData). All buffers are shared, none copied. */
export interface WorkerSetup {
  readonly H: number;
  readonly K: number;
  readonly T: number;
  /** Training streams B. */
  readonly streams: number;
  /** Characters per stream: stream s reads ids[s * streamLength ...]. */
  readonly streamLength: number;
  readonly ids: SharedArrayBuffer; // the encoded corpus, (N) uint8/16/32 as K requires
  readonly idCount: number;
  readonly params: SharedArrayBuffer; // (P) float64, written only by the coordinator between steps
  readonly hidden: SharedArrayBuffer; // (B, H) float64, each stream's carried hidden state
  readonly gradSlots: SharedArrayBuffer; // (B, P) float64, one gradient per stream
  readonly losses: SharedArrayBuffer; // (B) float64, each stream's summed loss of the step
  readonly evalSegments: readonly EvalSegment[];
  readonly evalLosses: SharedArrayBuffer; // (segments) float64
}

/** One stretch of held-out text, read from a zero hidden state: `count` predictions from `start`. */
export interface EvalSegment {
  readonly start: number;
  readonly count: number;
}

/** BPTT for streams [first, end) over the sequence at `position` within each stream. */
export interface StepTask {
  readonly kind: 'step';
  readonly first: number;
  readonly end: number;
  readonly position: number;
}

/** Forward-only loss of evaluation segments [first, end). */
export interface EvalTask {
  readonly kind: 'eval';
  readonly first: number;
  readonly end: number;
}

export type Task = StepTask | EvalTask;
