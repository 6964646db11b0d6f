import { loadCheckpoint } from '../checkpoint/index.js';
import { UserError } from '../errors.js';
import { optionsHelp, parseOptions, type OptionSpec } from '../options.js';
import { formatPerChar } from '../progress/format.js';
import { BEST_CHECKPOINT } from '../run-folder.js';
import { checkpointIn, requireNewestRun } from '../run-lookup.js';
import { TextScorer, tooFew, type TextScore } from '../score-text.js';
import { describeUnknown } from '../symbols.js';
import { textChunks } from '../text-file.js';

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
  const chunks = textChunks(textFile, 'text file');
  let scored: { path: string; score: TextScore };
  try {
    scored = await scoreFile(chunks, textFile, v.checkpoint as string | undefined, v['skip-unknown'] === true);
  } finally {
    await chunks.return(undefined);
  }

  const { path, score: { natsPerChar, characters, predictions, skipped } } = scored;
  if (v.json === true) {
    const result = { checkpoint: path, textFile, characters, predictions, natsPerChar, bitsPerChar: natsPerChar / Math.LN2, skipped };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    process.stdout.write(`${path} on ${textFile}: ${characters.toLocaleString('en-US')} characters, ${formatPerChar(natsPerChar)}\n`);
  }
  return 0;
}

/** The text's score, chunk by chunk, by the checkpoint at `checkpoint` (default: the newest run's), and that checkpoint's path. */
async function scoreFile(
  chunks: AsyncGenerator<string>, textFile: string, checkpoint: string | undefined, skipUnknown: boolean,
): Promise<{ path: string; score: TextScore }> {
  // the text's first characters before the checkpoint, so that an unreadable or empty file is what the user hears of first
  const first = await firstText(chunks);
  if (first === undefined) throw new UserError(`text file ${textFile} is empty (${TEXT_HINT} of at least two characters)`);
  const path = checkpointIn(checkpoint ?? requireNewestRun(), BEST_CHECKPOINT);
  const scorer = new TextScorer(await loadCheckpoint(path), skipUnknown);
  scorer.add(first);
  for await (const chunk of chunks) scorer.add(chunk);

  const { skipped, characters } = scorer;
  if (skipped.length > 0) {
    const what = `text file ${textFile} has ${describeUnknown(skipped.map((s) => s.codePoint))}`;
    if (!skipUnknown) throw new UserError(`${what} (score a text in the characters the model was trained on, or pass --skip-unknown to remove them)`);
    const removed = skipped.reduce((sum, s) => sum + s.count, 0);
    process.stderr.write(`char-rnn: warning: ${what}; removed ${removed} of the text's ${characters + removed} characters (--skip-unknown)\n`);
  }
  if (characters < 2) throw new UserError(`text file ${textFile} has ${tooFew(characters, skipped)}`);
  return { path, score: scorer.score() };
}

/** The first chunk with some text in it, or undefined when the file has none. */
async function firstText(chunks: AsyncGenerator<string>): Promise<string | undefined> {
  for (let next = await chunks.next(); !next.done; next = await chunks.next()) if (next.value !== '') return next.value;
  return undefined;
}
