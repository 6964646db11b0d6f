import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { replaceFilesAtomically } from '../atomic-file.js';
import { loadCheckpointFile } from '../checkpoint/index.js';
import { UserError } from '../errors.js';
import { configText, CONFIG_FORMAT, type ExportConfig } from '../export/export-config.js';
import { encodeSafetensors, type SafetensorsDtype } from '../export/safetensors.js';
import { toTorchTensors } from '../export/torch-names.js';
import { fileError } from '../file-errors.js';
import { optionsHelp, parseOptions, type OptionSpec } from '../options.js';
import { BEST_CHECKPOINT } from '../run-folder.js';
import { checkpointIn, requireNewestRun } from '../run-lookup.js';
import { packageVersion } from '../version.js';

export const MODEL_FILE = 'model.safetensors';
export const CONFIG_FILE = 'config.json';

/** Formats 'char-rnn export' writes, and ones planned but not built, to say so. */
const FORMATS = ['safetensors'] as const;
const PLANNED_FORMATS = ['onnx'];
const FILE_DTYPES: Readonly<Record<string, SafetensorsDtype>> = { float64: 'F64', float32: 'F32' };

const EXPORT_OPTIONS: readonly OptionSpec[] = [
  { name: 'checkpoint', kind: 'string', metavar: 'FILE', help: 'checkpoint file, or run folder (its best.ckpt), to export (default: the newest run under checkpoints/)' },
  { name: 'format', kind: 'string', default: 'safetensors', help: `what to write: ${FORMATS.join(', ')} (model.safetensors with PyTorch's tensor names, and config.json)` },
  { name: 'out', kind: 'string', metavar: 'DIR', help: 'folder to write into (required); created if missing' },
  { name: 'dtype', kind: 'string', default: 'float64', help: 'element type of the tensors written: float64 (exact) or float32 (rounded, half the size)' },
  { name: 'force', kind: 'flag', help: `replace ${MODEL_FILE} and ${CONFIG_FILE} where DIR already holds them` },
];

export function exportHelp(): string {
  return [
    'usage: char-rnn export [--checkpoint FILE|RUN] --out DIR [options]',
    '',
    `Writes a trained model as DIR/${MODEL_FILE} and DIR/${CONFIG_FILE}, for PyTorch and other tools.`,
    "Tensors carry the names of nn.LSTM / nn.GRU / nn.RNN(K, H, L) as 'rnn' fed one-hot characters,",
    "and nn.Linear(H, K) as 'decoder' (see src/export/torch-names.ts). 'char-rnn import' reads them back.",
    '',
    optionsHelp(EXPORT_OPTIONS),
  ].join('\n');
}

export async function runExport(argv: readonly string[]): Promise<number> {
  const v = parseOptions('export', EXPORT_OPTIONS, argv).values;
  const format = v.format as string;
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw new UserError(`unknown --format '${format}' (${PLANNED_FORMATS.includes(format) ? `${format} is not built yet; ` : ''}formats: ${FORMATS.join(', ')})`);
  }
  const dtype = FILE_DTYPES[v.dtype as string];
  if (dtype === undefined || !Object.hasOwn(FILE_DTYPES, v.dtype as string)) throw new UserError(`--dtype is '${String(v.dtype)}', not float64 or float32`);
  const out = v.out as string | undefined;
  if (out === undefined) throw new UserError(`pass --out DIR, the folder to write ${MODEL_FILE} and ${CONFIG_FILE} into`);
  if (existsSync(out) && !statSync(out).isDirectory()) throw new UserError(`--out ${out} is a file, not a folder`);
  const modelPath = join(out, MODEL_FILE);
  const configPath = join(out, CONFIG_FILE);
  if (v.force !== true) {
    const present = [modelPath, configPath].find((path) => existsSync(path));
    if (present !== undefined) throw new UserError(`${present} exists (pass --force to replace it, or choose another --out)`);
  }

  const path = checkpointIn((v.checkpoint as string | undefined) ?? requireNewestRun(), BEST_CHECKPOINT);
  const { data, bytes } = await loadCheckpointFile(path);
  const { cell, L, H, K, vocab } = data.model;
  const config: ExportConfig = {
    format: CONFIG_FORMAT, cell, layers: L, hidden: H, dropout: data.options.dropout, dtype: data.options.dtype, vocab: [...vocab],
    package_version: packageVersion(), source_checkpoint_sha256: createHash('sha256').update(bytes).digest('hex'),
  };
  const tensors = toTorchTensors({ cell, L, H, K }, data.state.params).map((t) => ({ ...t, dtype }));
  const model = encodeSafetensors({ tensors, metadata: { format: 'pt' } });
  try {
    await replaceFilesAtomically([[modelPath, model], [configPath, configText(config)]]);
  } catch (error) {
    throw fileError(error, `cannot write the export into ${out}`, 'free some space, fix the folder\'s permissions, or choose another --out');
  }
  if (v.checkpoint === undefined) process.stderr.write(`exported ${path}\n`);
  return 0;
}
