import { RECENT_STEPS } from '../history/recent-loss.js';
import { formatMinutes, formatPerChar } from './format.js';

/** What a run's losses stand at when it ends, as its last checkpoint and history hold them. */
export interface EndLosses {
  /** Nats per character; undefined without validation text. */
  readonly valLoss: number | undefined;
  /** The mean training loss per character of the last RECENT_STEPS steps (of all while fewer), and over how many. */
  readonly recentLoss: number;
  readonly recentSteps: number;
  /** The seed's smooth loss, per sequence of seqLength characters as the checkpoint keeps it. */
  readonly smoothLoss: number;
  readonly seqLength: number;
}

/**
 * The seed's smooth loss is 0.999 of itself and 0.001 of each step's loss: after 1,600 steps it
 * still holds a fifth of the first step's loss, so it lags far behind what the model does.
 */
export const SMOOTH_LOSS_LABEL = "the seed's smooth loss (a 0.999 moving average)";

/**
 * The loss that says how good the model is: the validation loss, or without validation text the
 * mean training loss of the last steps, which follows the model (the smooth loss lags).
 */
export function headlineLoss(losses: Pick<EndLosses, 'valLoss' | 'recentLoss' | 'recentSteps'>): { readonly label: string; readonly nats: number } {
  if (losses.valLoss !== undefined) return { label: 'validation loss', nats: losses.valLoss };
  return { label: `training loss, ${recentLabel(losses.recentSteps)}`, nats: losses.recentLoss };
}

/** 'mean of the last 100 steps', or of all of them while fewer were done. */
export function recentLabel(steps: number): string {
  return steps < RECENT_STEPS ? `mean of all ${steps} step${steps === 1 ? '' : 's'}` : `mean of the last ${RECENT_STEPS} steps`;
}

/** The end of a run's loss lines: the headline first, then the seed's smooth loss, labelled as such. */
export function endOfRunLines(losses: EndLosses): string[] {
  const headline = headlineLoss(losses);
  const noValidation = losses.valLoss === undefined ? '; no validation text (--val-frac 0)' : '';
  return [
    `${headline.label}: ${formatPerChar(headline.nats)}${noValidation}`,
    `${SMOOTH_LOSS_LABEL}: ${formatPerChar(losses.smoothLoss / losses.seqLength)}, ${losses.smoothLoss.toFixed(3)} per ${losses.seqLength} characters`,
  ];
}

/** 'stopped at the time budget of 1 minute (--minutes)'; of 0.5 minutes, plural. */
export function budgetStopLine(minutes: number): string {
  return `stopped at the time budget of ${formatMinutes(minutes)} (--minutes)`;
}
