/*
 * A flag's declaration and its bounds, as plain data and pure checks with no Node module behind
 * them: the checkpoint decoder holds a file's options to the same bounds in a browser.
 */

/** One command-line flag: its type, default, bounds, help text and heading in --help, declared once. */
export type OptionSpec = { readonly name: string; readonly help: string; readonly group?: string } & (
  | { readonly kind: 'int'; readonly default?: number; readonly min: number; readonly max?: number }
  | { readonly kind: 'number'; readonly default?: number; readonly min: number; readonly minExclusive?: boolean; readonly max?: number }
  | { readonly kind: 'string'; readonly default?: string; readonly metavar?: string; readonly multiple?: boolean }
  | { readonly kind: 'flag' }
);

/**
 * What keeps `value` out of a numeric option's bounds, as a phrase ('not in 1..16'); undefined
 * when it is within them. A checkpoint's options are held to the flags' own bounds by it.
 */
export function boundsProblem(spec: Extract<OptionSpec, { kind: 'int' | 'number' }>, value: number): string | undefined {
  const integer = spec.kind === 'int';
  const exclusive = spec.kind === 'number' && spec.minExclusive === true;
  if ((integer ? Number.isSafeInteger(value) : Number.isFinite(value)) && inBounds(spec, value)) return undefined;
  if (integer) return spec.max === undefined ? `not ${spec.min} or more` : `not in ${spec.min}..${spec.max}`;
  if (spec.max !== undefined) return `not in ${exclusive ? '(' : '['}${spec.min}, ${spec.max}]`;
  return `not a finite number ${exclusive ? 'above' : '>='} ${spec.min}`;
}

/** Whether a number lies within the option's min (inclusive unless minExclusive) and max. */
export function inBounds(spec: Extract<OptionSpec, { kind: 'int' | 'number' }>, value: number): boolean {
  const aboveMin = spec.kind === 'number' && spec.minExclusive === true ? value > spec.min : value >= spec.min;
  return aboveMin && (spec.max === undefined || value <= spec.max);
}
