import { CELL_NAMES, findCell } from './cells/registry.js';
import { GATED_KERNEL_PARAMS } from './cells/stacked-cell.js';
import { COMMON_KERNEL_EXPORTS, type Kernels } from './kernels.js';

/**
 * Every kernel's parameter count and whether the float32 module has it (the float64 module has
 * them all): the common kernels (kernels.ts), and the five of each registered gated cell, which
 * both modules export (assembly/cells/index.ts). test/kernels.test.ts holds this table to both
 * modules' exports, so a cell registered without its kernels, or a kernel with another parameter
 * count, fails a test.
 */
export const KERNEL_EXPORTS: { readonly [K in keyof Kernels]: { readonly params: number; readonly float32: boolean } } = {
  ...COMMON_KERNEL_EXPORTS,
  ...(Object.fromEntries(
    CELL_NAMES.filter((name) => 'shape' in findCell(name)!).flatMap((name) =>
      Object.entries(GATED_KERNEL_PARAMS).map(([suffix, params]) => [`${name}${suffix}`, { params, float32: true }]),
    ),
  ) as { readonly [K in Exclude<keyof Kernels, keyof typeof COMMON_KERNEL_EXPORTS>]: { readonly params: number; readonly float32: boolean } }),
};
