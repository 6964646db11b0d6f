import { checkpointJson, describeCheckpoint, loadCheckpointFile } from '../checkpoint/index.js';
import { UserError } from '../errors.js';

export function inspectHelp(): string {
  return 'usage: char-rnn inspect FILE [--json]\n\n  --json                   print the checkpoint\'s contents as JSON (tensors summarized)';
}

export async function runInspect(argv: readonly string[]): Promise<number> {
  const json = argv.includes('--json');
  const rest = argv.filter((arg) => arg !== '--json');
  const unknown = rest.find((arg) => arg.startsWith('-'));
  if (unknown !== undefined) throw new UserError(`unknown option '${unknown}' (see 'char-rnn inspect --help')`);
  if (rest.length !== 1) throw new UserError(`give one checkpoint file: char-rnn inspect FILE [--json]`);
  const [path] = rest;
  const { data, fileBytes } = await loadCheckpointFile(path);
  process.stdout.write(json ? `${JSON.stringify(checkpointJson(data, fileBytes), null, 2)}\n` : `${describeCheckpoint(data, path, fileBytes)}\n`);
  return 0;
}
