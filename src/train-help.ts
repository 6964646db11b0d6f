import { TRAIN_OPTIONS } from './config.js';
import { optionsHelp, type OptionGroup } from './options.js';

/** The headings of 'char-rnn train --help', in the order a new run is thought through; each option's `group` names one. */
export const TRAIN_GROUPS: readonly OptionGroup[] = [
  { name: 'data', title: 'data and threads' },
  { name: 'model', title: 'model' },
  { name: 'optimizer', title: 'optimizer' },
  { name: 'schedule', title: 'learning-rate schedule' },
  { name: 'length', title: 'run length' },
  { name: 'progress', title: 'evaluations and samples during the run' },
  { name: 'output', title: 'output' },
  { name: 'start', title: 'starting point' },
];

/** A few whole command lines, each with what it does. */
export const TRAIN_EXAMPLES: readonly (readonly [command: string, what: string])[] = [
  ['char-rnn train --minutes 5', 'the default GRU on the bundled State of the Union corpus, for five minutes'],
  ['char-rnn train --corpus poems/ --steps 2000', 'every text file in poems/, in name order, for 2,000 steps'],
  ['char-rnn train --corpus a.txt --corpus b.txt --cell lstm --layers 3 --dropout 0.2', 'two texts joined, on a deeper LSTM with dropout'],
  ['char-rnn train --resume checkpoints/run-1 --minutes 10', 'ten more minutes of run 1, exactly where it stopped'],
  ['char-rnn train --preset seed --corpus input.txt', 'the original assignment: one RNN layer of 100 units, AdaGrad'],
];

export function trainHelp(): string {
  const examples = TRAIN_EXAMPLES.map(([command, what]) => `  ${command}\n      ${what}`).join('\n');
  return `usage: char-rnn train [options]\n\n${optionsHelp(TRAIN_OPTIONS, TRAIN_GROUPS)}\n\nexamples:\n${examples}`;
}
