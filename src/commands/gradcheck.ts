import { ABS_TOLERANCE, gradcheck, REL_MIN_GRADIENT, REL_TOLERANCE } from '../gradcheck.js';
import { optionsHelp, parseOptions, type OptionSpec } from '../options.js';

const GRADCHECK_OPTIONS: readonly OptionSpec[] = [
  { name: 'hidden', kind: 'int', default: 100, min: 1, max: 4096, help: 'hidden units H' },
  { name: 'vocab', kind: 'int', default: 98, min: 2, max: 100000, help: 'vocabulary size K (98: the default corpus)' },
  { name: 'seq-length', kind: 'int', default: 25, min: 1, max: 10000, help: 'sequence length T' },
  { name: 'seed', kind: 'int', default: 1, min: 0, max: 0xffffffff, help: 'seed of the random problem' },
  { name: 'samples', kind: 'int', default: 2500, min: 1, help: 'random entries checked in each of W, U, V (b and c: all)' },
  { name: 'all', kind: 'flag', help: 'check every entry of every matrix' },
];

export function gradcheckHelp(): string {
  return `usage: char-rnn gradcheck [options]\n\n${optionsHelp(GRADCHECK_OPTIONS)}`;
}

export function runGradcheck(argv: readonly string[]): number {
  const v = parseOptions('gradcheck', GRADCHECK_OPTIONS, argv).values;
  const options = {
    H: v.hidden as number,
    K: v.vocab as number,
    T: v['seq-length'] as number,
    seed: v.seed as number,
    samplesPerMatrix: v.all === true ? Infinity : (v.samples as number),
  };
  process.stdout.write(`gradcheck: H=${options.H} K=${options.K} T=${options.T} seed=${options.seed}, centered differences with step 1e-5\n`);
  const checks = gradcheck(options);
  for (const c of checks) {
    const rel = c.judgedRelative === 0 ? '     -   ' : c.maxRelError.toExponential(2);
    process.stdout.write(
      `  ${c.name}: ${String(c.checked).padStart(5)} entries  max |grad| ${c.maxGradient.toExponential(2)}  max abs err ${c.maxAbsError.toExponential(2)}  max rel err ${rel} (over ${c.judgedRelative} with |grad| > ${REL_MIN_GRADIENT})  ${c.passed ? 'ok' : 'FAIL'}\n`,
    );
  }
  const passed = checks.every((c) => c.passed);
  process.stdout.write(`${passed ? 'PASS' : 'FAIL'}: bounds are abs err < ${ABS_TOLERANCE} and rel err < ${REL_TOLERANCE}\n`);
  return passed ? 0 : 1;
}
