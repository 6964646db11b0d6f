import { SAVED_OPTIONS, type NoFallbackField } from '../train-options.js';
import type { CheckpointOptions } from './data.js';

/**
 * The options of a checkpoint that no run wrote (an imported model, a benchmark's): those given,
 * and for the rest each flag's default, else what files from before the option read as. The
 * options with neither must be given.
 */
export function nominalOptions(given: Pick<CheckpointOptions, NoFallbackField> & Partial<CheckpointOptions>): CheckpointOptions {
  const fallbacks = SAVED_OPTIONS.map((option) => [option.field, option.kind !== 'flag' && option.default !== undefined ? option.default : option.oldFiles]);
  return { ...Object.fromEntries(fallbacks), lrHorizon: 0, ...given } as CheckpointOptions;
}
