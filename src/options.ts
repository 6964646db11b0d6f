import { parseArgs } from 'node:util';
import { UserError } from './errors.js';
import { inBounds, type OptionSpec } from './option-spec.js';
import { closest } from './suggest.js';

export { boundsProblem, type OptionSpec } from './option-spec.js';

/** A heading of --help: the options whose `group` is `name` are listed under `title`. */
export interface OptionGroup {
  readonly name: string;
  readonly title: string;
}

export interface ParsedOptions {
  /** A `multiple` string option's values are a list, in the order given. */
  readonly values: Readonly<Record<string, number | string | readonly string[] | boolean | undefined>>;
  /** The flags the user actually typed, as opposed to defaults. */
  readonly given: ReadonlySet<string>;
}

/** Parses argv against the table; every problem is a UserError naming the flag. */
export function parseOptions(command: string, specs: readonly OptionSpec[], argv: readonly string[]): ParsedOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeNumbers(specs, argv),
      options: Object.fromEntries(specs.map((spec) => [spec.name, { type: spec.kind === 'flag' ? 'boolean' : 'string', multiple: spec.kind === 'string' && spec.multiple === true }] as const)),
      allowPositionals: false,
      strict: true,
    });
  } catch (error) {
    throw new UserError(parseProblem(command, specs, error as Error & { code?: string }));
  }
  const values: Record<string, number | string | readonly string[] | boolean | undefined> = {};
  for (const spec of specs) {
    const raw = parsed.values[spec.name];
    if (spec.kind === 'flag') values[spec.name] = raw === true;
    else if (raw === undefined) values[spec.name] = spec.default;
    else if (spec.kind === 'string') values[spec.name] = raw as string | string[];
    else values[spec.name] = parseNumber(spec, raw as string);
  }
  return { values, given: new Set(Object.keys(parsed.values)) };
}

/** parseArgs' complaint in one line; a mistyped flag gets the flag it was likely meant to be. */
function parseProblem(command: string, specs: readonly OptionSpec[], error: Error & { code?: string }): string {
  const help = `see 'char-rnn ${command} --help'`;
  const unknown = error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'(-[^'=]+)'/.exec(error.message)?.[1] : undefined;
  if (unknown === undefined) return `${error.message.split('\n').join(' ')} (${help})`;
  return unknownFlag(command, unknown, specs.map((spec) => spec.name));
}

/** 'unknown flag --minuts (did you mean --minutes?)', or the way to the command's help when no flag is close. */
export function unknownFlag(command: string, flag: string, names: readonly string[]): string {
  const meant = flag.startsWith('--') ? closest(flag.replace(/^--|=.*$/g, ''), names) : undefined;
  return `unknown flag ${flag.replace(/=.*$/, '')} (${meant === undefined ? `see 'char-rnn ${command} --help'` : `did you mean --${meant}?`})`;
}

/**
 * parseArgs takes '--steps -1' for two flags and calls it ambiguous; a number flag followed by
 * something that reads as a negative number gets it as its value, so that the range check names it.
 */
function joinNegativeNumbers(specs: readonly OptionSpec[], argv: readonly string[]): string[] {
  const numeric = new Set(specs.filter((spec) => spec.kind === 'int' || spec.kind === 'number').map((spec) => `--${spec.name}`));
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1];
    if (numeric.has(argv[i]) && next !== undefined && /^-(\d|\.\d|Infinity)/.test(next)) {
      args.push(`${argv[i]}=${next}`);
      i++;
    } else {
      args.push(argv[i]);
    }
  }
  return args;
}

const DECIMAL_INTEGER = /^[+-]?\d+$/;
const DECIMAL_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The number `text` writes in decimal, else NaN: Number() alone would read '0x10' as 16, and ' 5' and '' as numbers. */
export function decimalNumber(text: string, { integer = false } = {}): number {
  return (integer ? DECIMAL_INTEGER : DECIMAL_NUMBER).test(text) ? Number(text) : Number.NaN;
}

function parseNumber(spec: Extract<OptionSpec, { kind: 'int' | 'number' }>, raw: string): number {
  const integer = spec.kind === 'int';
  const value = decimalNumber(raw, { integer });
  const what = integer ? 'an integer' : 'a number';
  if (!Number.isFinite(value) || (integer && !Number.isSafeInteger(value))) {
    throw new UserError(`--${spec.name} must be ${what}, got '${raw}'`);
  }
  if (!inBounds(spec, value)) {
    const low = `${spec.kind === 'number' && spec.minExclusive === true ? 'greater than' : 'at least'} ${spec.min}`;
    throw new UserError(`--${spec.name} must be ${spec.max === undefined ? low : `${low} and at most ${spec.max}`}, got ${raw}`);
  }
  return value;
}

/** One line per option; with groups, under their headings in the groups' order, and any option of no listed group under 'other:'. */
export function optionsHelp(specs: readonly OptionSpec[], groups?: readonly OptionGroup[]): string {
  const lines = (list: readonly OptionSpec[]): string => list.map(optionLine).join('\n');
  if (groups === undefined) return lines(specs);
  const named = new Set(groups.map((group) => group.name));
  const sections = groups.map((group) => ({ title: group.title, members: specs.filter((spec) => spec.group === group.name) }));
  sections.push({ title: 'other', members: specs.filter((spec) => spec.group === undefined || !named.has(spec.group)) });
  return sections.filter((section) => section.members.length > 0).map((section) => `${section.title}:\n${lines(section.members)}`).join('\n\n');
}

function optionLine(spec: OptionSpec): string {
  const flag = spec.kind === 'flag' ? `--${spec.name}` : `--${spec.name} ${spec.kind === 'string' ? (spec.metavar ?? 'TEXT') : 'N'}`;
  const fallback = spec.kind !== 'flag' && spec.default !== undefined ? ` (default ${spec.default})` : '';
  return `  ${flag.padEnd(24)} ${spec.help}${fallback}`;
}
