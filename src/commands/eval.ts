import { loadCheckpoint } from '../checkpoint/index.js';
import { UserError } from '../errors.js';
import { optionsHelp, parseOptions, type OptionSpec } from '../options.js';
import { formatPerChar } from '../progress/format.js';
import { BEST_CHECKPOINT, checkpointIn, requireNewestRun } from '../run-folder.js';
import { knownIds, meanLoss, tooFew } from '../score-text.js';
import { describeUnknown } from '../symbols.js';
import { readTextFile } from '../text-file.js';

const EVAL_OPTIONS: readonly OptionSpec[] = [
  { name: 'checkpoint', kind: 'string', metavar: 'FILE', help: 'checkpoint file, or run folder (its best.ckpt), to score with (default: the newest run under checkpoints/)' },
  { name: 'text-file', kind: 'string', metavar: 'FILE', help: 'the UTF-8 text to score (required)' },
  { name: 'json', kind: 'flag', help: 'print the result as JSON: checkpoint, textFile, characters, predictions, natsPerChar, bitsPerChar, skipped' },
  { name: 'skip-unknown', kind: 'flag', help: 'remove characters the checkpoint does not know from the text (with a warning) instead of stopping' },
];

const TEXT_HINT = 'pass --text-file with a UTF-8 text file';

export function evalHelp(): string {
  return [
    'usage: char-rnn eval [--checkpoint FILE] --text-file FILE [--json] [--skip-unknown]',
    '',
    "Prints the model's loss on a text, in nats and bits per character. The text is read as one",
    'stream from a zero hidden state: the first character is only read, every later one is',
    'predicted, so N characters give N - 1 predictions and the loss is their mean.',
    '',
    optionsHelp(EVAL_OPTIONS),
  ].join('\n');
}

export async function runEval(argv: readonly string[]): Promise<number> {
  const v = parseOptions('eval', EVAL_OPTIONS, argv).values;
  const textFile = v['text-file'] as string | undefined;
  if (textFile === undefined) throw new UserError(`name the text to score with --text-file FILE (see 'char-rnn eval --help')`);
  const text = await readText(textFile);
  const path = checkpointIn((v.checkpoint as string | undefined) ?? requireNewestRun(), BEST_CHECKPOINT);
  const checkpoint = await loadCheckpoint(path);

  const { ids, skipped } = knownIds(text, checkpoint.model.vocab);
  if (skipped.length > 0) {
    const what = `text file ${textFile} has ${describeUnknown(skipped.map((s) => s.codePoint))}`;
    if (v['skip-unknown'] !== true) throw new UserError(`${what} (score a text in the characters the model was trained on, or pass --skip-unknown to remove them)`);
    const removed = skipped.reduce((sum, s) => sum + s.count, 0);
    process.stderr.write(`char-rnn: warning: ${what}; removed ${removed} of the text's ${ids.length + removed} characters (--skip-unknown)\n`);
  }
  if (ids.length < 2) throw new UserError(`text file ${textFile} has ${tooFew(ids.length, skipped)}`);
  const natsPerChar = meanLoss(checkpoint, ids);

  if (v.json === true) {
    const result = {
      checkpoint: path, textFile, characters: ids.length, predictions: ids.length - 1, natsPerChar, bitsPerChar: natsPerChar / Math.LN2, skipped,
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    process.stdout.write(`${path} on ${textFile}: ${ids.length.toLocaleString('en-US')} characters, ${formatPerChar(natsPerChar)}\n`);
  }
  return 0;
}

/** The text to score: at least one byte (two characters are checked once unknown ones are gone). */
async function readText(path: string): Promise<string> {
  const text = await readTextFile(path, 'text file');
  if (text.length === 0) throw new UserError(`text file ${path} is empty (${TEXT_HINT} of at least two characters)`);
  return text;
}
