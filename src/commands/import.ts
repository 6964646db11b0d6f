import { readFile } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { saveCheckpoint } from '../checkpoint/index.js';
import { UserError } from '../errors.js';
import { parseConfig } from '../export/export-config.js';
import { importedCheckpoint } from '../export/imported-checkpoint.js';
import { decodeSafetensors } from '../export/safetensors.js';
import { fromTorchTensors } from '../export/torch-names.js';
import { errorCode, fileError } from '../file-errors.js';
import { optionsHelp, parseOptions, type OptionSpec } from '../options.js';
import { packageVersion } from '../version.js';
import { CONFIG_FILE, MODEL_FILE } from './export.js';

const IMPORTED_CHECKPOINT = 'model.ckpt';

const IMPORT_OPTIONS: readonly OptionSpec[] = [
  { name: 'from', kind: 'string', metavar: 'PATH', help: `folder holding ${MODEL_FILE} and ${CONFIG_FILE}, as 'char-rnn export' or examples/pytorch write them, or a .safetensors file with ${CONFIG_FILE} beside it (required)` },
  { name: 'out', kind: 'string', metavar: 'FILE', help: `checkpoint to write (default: DIR/${IMPORTED_CHECKPOINT}, or the .safetensors file's name ending in .ckpt)` },
  { name: 'force', kind: 'flag', help: 'replace the checkpoint if it exists' },
];

export function importHelp(): string {
  return [
    'usage: char-rnn import --from DIR|FILE [--out FILE]',
    '',
    `Builds a checkpoint from DIR/${MODEL_FILE} and DIR/${CONFIG_FILE}, for sample, eval, inspect and`,
    'train --init-from.',
    'It holds the model alone: fresh optimizer state, a zero carried state, no training history.',
    '',
    optionsHelp(IMPORT_OPTIONS),
  ].join('\n');
}

export async function runImport(argv: readonly string[]): Promise<number> {
  const v = parseOptions('import', IMPORT_OPTIONS, argv).values;
  const from = v.from as string | undefined;
  if (from === undefined) throw new UserError(`pass --from DIR, a folder written by 'char-rnn export'`);
  const { modelPath, configPath, checkpointPath } = importPaths(from);
  const out = (v.out as string | undefined) ?? checkpointPath;
  if (v.force !== true && existsSync(out)) throw new UserError(`${out} exists (pass --force to replace it, or choose another --out)`);

  const config = parseConfig((await readExported(configPath)).toString('utf8'), configPath);
  const { tensors } = decodeSafetensors(await readExported(modelPath), modelPath);
  const dims = { cell: config.cell, L: config.layers, H: config.hidden, K: config.vocab.length };
  const params = fromTorchTensors(dims, tensors, modelPath);
  const at = params.findIndex((x) => !Number.isFinite(x));
  if (at >= 0) throw new UserError(`${modelPath} holds ${params[at]} (parameter ${at}); a model to import has finite weights`);
  await saveCheckpoint(out, importedCheckpoint(config, params, `imported from ${from}`, new Date().toISOString(), packageVersion()));
  return 0;
}

/** The files --from names: a folder's model.safetensors and config.json, or a .safetensors file and the config.json beside it. */
function importPaths(from: string): { modelPath: string; configPath: string; checkpointPath: string } {
  if (!existsSync(from) || statSync(from).isDirectory()) {
    return { modelPath: join(from, MODEL_FILE), configPath: join(from, CONFIG_FILE), checkpointPath: join(from, IMPORTED_CHECKPOINT) };
  }
  if (extname(from) === '.onnx') throw new UserError(`${from} is an ONNX file; import reads ${MODEL_FILE} and ${CONFIG_FILE} (export --format safetensors writes them)`);
  const stem = extname(from) === '.safetensors' ? from.slice(0, -'.safetensors'.length) : from;
  return { modelPath: from, configPath: join(dirname(from), CONFIG_FILE), checkpointPath: `${stem}.ckpt` };
}

async function readExported(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new UserError(`${path} not found (pass --from a folder written by 'char-rnn export')`, { cause: error });
    if (code === 'EISDIR') throw new UserError(`${path} is a folder, not a file (pass --from a folder written by 'char-rnn export')`, { cause: error });
    throw fileError(error, `cannot read ${path}`, 'check its permissions');
  }
}
