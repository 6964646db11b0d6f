import { UserError } from '../errors.js';
import { ABS_TOLERANCE, gradcheck, gradcheckCell, REL_MIN_GRADIENT, REL_TOLERANCE, type ParamCheck } from '../gradcheck.js';
import { CELL_DEFAULTS, DEFAULT_CELL, defaultDtype, MAX_LAYERS } from '../config.js';
import { CELL_NAMES, cellList, findCell } from '../model/cells/registry.js';
import { optionsHelp, parseOptions, type OptionSpec } from '../options.js';
import { planTrainingMemory } from '../train/shared-memory.js';

/** Entries checked by default: in each of the RNN's W, U, V (b and c whole), and in each tensor of a gated stack. */
const RNN_SAMPLES = 2500;
const CELL_SAMPLES = 50;

/**
 * The width of a gated check unless told: the math is the same at any width, and at 32 the
 * default check (train's default cell and layers) takes seconds; the RNN keeps the seed's 100.
 */
const GATED_HIDDEN = 32;

const GRADCHECK_OPTIONS: readonly OptionSpec[] = [
  { name: 'cell', kind: 'string', default: DEFAULT_CELL, metavar: 'CELL', help: `${CELL_NAMES.join(', ')}, as train's --cell` },
  { name: 'layers', kind: 'int', min: 1, max: MAX_LAYERS, help: `layers L of a stack of ${cellList((c) => c.stacks, 'or')} layers (default: train's, ${CELL_NAMES.map((name) => `${name} ${CELL_DEFAULTS[name].layers}`).join(', ')})` },
  { name: 'dropout', kind: 'number', default: 0, min: 0, help: `dropout P in [0, 1) of a stack of ${cellList((c) => c.stacks, 'or')} layers, with masks fixed for the check` },
  { name: 'hidden', kind: 'int', min: 1, max: 4096, help: `hidden units H (default: rnn ${CELL_DEFAULTS.rnn.hidden}, the seed's check; ${cellList((c) => c.stacks, 'and')} ${GATED_HIDDEN})` },
  { name: 'vocab', kind: 'int', default: 98, min: 2, max: 100000, help: 'vocabulary size K (98: the default corpus)' },
  { name: 'seq-length', kind: 'int', default: 25, min: 1, max: 10000, help: 'sequence length T' },
  { name: 'seed', kind: 'int', default: 1, min: 0, max: 0xffffffff, help: 'seed of the random problem' },
  {
    name: 'samples',
    kind: 'int',
    min: 1,
    help: `random entries checked: in each of W, U, V for rnn (default ${RNN_SAMPLES}; b and c: all), in each tensor for ${cellList((c) => c.stacks, 'and')} (default ${CELL_SAMPLES})`,
  },
  { name: 'all', kind: 'flag', help: 'check every entry of every tensor' },
];

export function gradcheckHelp(): string {
  return `usage: char-rnn gradcheck [options]\n\n${optionsHelp(GRADCHECK_OPTIONS)}`;
}

export function runGradcheck(argv: readonly string[]): number {
  const v = parseOptions('gradcheck', GRADCHECK_OPTIONS, argv).values;
  const cell = v.cell as string;
  const descriptor = findCell(cell);
  if (descriptor === undefined) throw new UserError(`--cell must be one of ${CELL_NAMES.join(', ')}, got '${cell}'`);
  const L = (v.layers as number | undefined) ?? CELL_DEFAULTS[cell].layers;
  const dropout = v.dropout as number;
  if (dropout >= 1) throw new UserError(`--dropout must be at least 0 and below 1, got ${dropout}`);
  if (!descriptor.stacks && L !== 1) throw new UserError(`--cell ${cell} supports only --layers 1 (got ${L}): stack layers with --cell ${cellList((c) => c.stacks, 'or')}`);
  if (!descriptor.stacks && dropout > 0) throw new UserError(`--cell ${cell} has no dropout: use --cell ${cellList((c) => c.stacks, 'or')} with --dropout`);
  const dims = { H: (v.hidden as number | undefined) ?? (descriptor.stacks ? GATED_HIDDEN : CELL_DEFAULTS[cell].hidden), K: v.vocab as number, T: v['seq-length'] as number, seed: v.seed as number };
  // Refused before anything is allocated: a model that train refuses for its size, trained as train would train it with one stream.
  planTrainingMemory(
    { dims: { cell, L, H: dims.H, K: dims.K }, T: dims.T, B: 1, dropout: dropout > 0, optimizer: CELL_DEFAULTS[cell].optimizer, threads: 1, segments: 0, dtype: defaultDtype(cell) },
    `a smaller --hidden, ${descriptor.stacks ? 'fewer --layers, ' : ''}a smaller --vocab or a shorter --seq-length`,
  );
  const samples = (fallback: number): number => (v.all === true ? Infinity : ((v.samples as number | undefined) ?? fallback));
  const size = `H=${dims.H} K=${dims.K} T=${dims.T} seed=${dims.seed}, centered differences with step 1e-5`;

  let checks: ParamCheck[];
  if (cell === 'rnn') {
    // the seed's own check of the seed's model: W, U and V sampled, b and c whole
    process.stdout.write(`gradcheck: ${size}\n`);
    checks = gradcheck({ ...dims, samplesPerMatrix: samples(RNN_SAMPLES) });
  } else {
    const stack = `${cell}, ${L} ${L === 1 ? 'layer' : 'layers'}${dropout > 0 ? `, dropout ${dropout} (fixed masks)` : ''}`;
    process.stdout.write(`gradcheck: ${stack}, ${size}\n`);
    checks = gradcheckCell({ ...dims, cell, L, dropout, samplesPerTensor: samples(CELL_SAMPLES) });
  }
  const nameWidth = Math.max(...checks.map((c) => c.name.length)) + 1;
  for (const c of checks) {
    const rel = c.judgedRelative === 0 ? '     -   ' : c.maxRelError.toExponential(2);
    process.stdout.write(
      `  ${`${c.name}:`.padEnd(nameWidth)} ${String(c.checked).padStart(5)} entries  max |grad| ${c.maxGradient.toExponential(2)}  max abs err ${c.maxAbsError.toExponential(2)}  max rel err ${rel} (over ${c.judgedRelative} with |grad| > ${REL_MIN_GRADIENT})  ${c.passed ? 'ok' : 'FAIL'}\n`,
    );
  }
  const passed = checks.every((c) => c.passed);
  process.stdout.write(`${passed ? 'PASS' : 'FAIL'}: bounds are abs err < ${ABS_TOLERANCE} and rel err < ${REL_TOLERANCE}\n`);
  return passed ? 0 : 1;
}
