import type { LossPoint } from '../checkpoint/index.js';

/** --patience's count: the lowest validation loss of the scheduled evaluations, and how many came since without a lower one. */
export interface PatienceStanding {
  readonly best: number;
  readonly since: number;
}

export const NO_PATIENCE_YET: PatienceStanding = { best: Infinity, since: 0 };

/**
 * The standing after an evaluation. Only those of the --eval-every schedule count: the extra one
 * where --steps or --minutes stopped a run would count again in a resumed run, which an
 * uninterrupted run never makes.
 */
export function patienceAfter(standing: PatienceStanding, { step, loss }: LossPoint, evalEvery: number): PatienceStanding {
  if (!(evalEvery > 0 && step % evalEvery === 0)) return standing;
  return loss < standing.best ? { best: loss, since: 0 } : { best: standing.best, since: standing.since + 1 };
}
