/**
 * The learning rate of each update, a pure function of where the run stands, so that a resumed
 * run and any thread count follow the same schedule:
 *   constant  eta
 *   step      eta * decay^k, k = the completed decay periods: every `every` steps, or (every = 0)
 *             the epochs before this one, as char-rnn decays after each epoch
 *   cosine    floor + (eta - floor) (1 + cos(pi s / horizon)) / 2, s = updates done, flat at the
 *             floor after the horizon (the run's length in steps, fixed when it starts)
 * then, during the first `warmup` updates, scaled by (s + 1) / warmup.
 */
export const LR_SCHEDULES = ['constant', 'step', 'cosine'] as const;
export type LrSchedule = (typeof LR_SCHEDULES)[number];

export interface ScheduleSettings {
  readonly eta: number;
  readonly lrSchedule: LrSchedule;
  readonly lrDecay: number;
  readonly lrDecayEvery: number; // steps; 0: each epoch
  readonly lrMin: number;
  readonly lrHorizon: number; // steps of the cosine
  readonly warmupSteps: number;
}

/** The learning rate of update number step + 1, taken in epoch `epoch` (1-based). */
export function learningRate(s: ScheduleSettings, step: number, epoch: number): number {
  let lr = s.eta;
  if (s.lrSchedule === 'step') {
    const periods = s.lrDecayEvery > 0 ? Math.floor(step / s.lrDecayEvery) : epoch - 1;
    lr = s.eta * s.lrDecay ** periods;
  } else if (s.lrSchedule === 'cosine') {
    const progress = Math.min(1, step / Math.max(1, s.lrHorizon));
    lr = s.lrMin + ((s.eta - s.lrMin) * (1 + Math.cos(Math.PI * progress))) / 2;
  }
  if (step < s.warmupSteps) lr *= (step + 1) / s.warmupSteps;
  return lr;
}

/** The options each schedule reads besides eta and the warm-up: a flag for another's is refused (config.ts). */
export const SCHEDULE_OWN_OPTIONS: Readonly<Record<LrSchedule, readonly ('lrDecay' | 'lrDecayEvery' | 'lrMin')[]>> = { constant: [], step: ['lrDecay', 'lrDecayEvery'], cosine: ['lrMin'] };

export function isLrSchedule(name: string): name is LrSchedule {
  return (LR_SCHEDULES as readonly string[]).includes(name);
}
