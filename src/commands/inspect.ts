import { checkpointJson, describeCheckpoint, loadCheckpointFile } from '../checkpoint/index.js';
import { UserError } from '../errors.js';
import { unknownFlag } from '../options.js';
import { LAST_CHECKPOINT } from '../run-folder.js';
import { checkpointIn, requireNewestRun } from '../run-lookup.js';

export function inspectHelp(): string {
  return [
    'usage: char-rnn inspect [FILE | RUN-FOLDER] [--json]',
    '',
    'Shows what a checkpoint holds. A run folder means its last.ckpt; no path, the newest run\'s under checkpoints/.',
    '',
    '  --json                   print the checkpoint\'s contents as JSON (tensors summarized)',
  ].join('\n');
}

export async function runInspect(argv: readonly string[]): Promise<number> {
  const json = argv.includes('--json');
  const rest = argv.filter((arg) => arg !== '--json');
  const unknown = rest.find((arg) => arg.startsWith('-'));
  if (unknown !== undefined) throw new UserError(unknownFlag('inspect', unknown, ['json']));
  if (rest.length > 1) throw new UserError(`give one checkpoint file or run folder: char-rnn inspect [FILE] [--json]`);
  const path = checkpointIn(rest[0] ?? requireNewestRun(), LAST_CHECKPOINT);
  const { data, fileBytes } = await loadCheckpointFile(path);
  process.stdout.write(json ? `${JSON.stringify(checkpointJson(data, fileBytes), null, 2)}\n` : `${describeCheckpoint(data, path, fileBytes)}\n`);
  return 0;
}
