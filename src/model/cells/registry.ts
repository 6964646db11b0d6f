import type { CellDescriptor, CellName } from './cell.js';
import type { GatedDescriptor } from './stacked-cell.js';
import { gruCell } from './gru-cell.js';
import { lstmCell } from './lstm-cell.js';
import { mguCell } from './mgu-cell.js';
import { rnnCell } from './rnn-cell.js';

/** Every cell the engine trains, by name; adding one is a descriptor file and a line here. */
const CELLS = [rnnCell, lstmCell, gruCell, mguCell] as const satisfies readonly CellDescriptor[];

/** The names of the gated cells (those built by stacked-cell.ts gatedCell), as a type: the Kernels type has each one's kernels. */
export type GatedCellName = Extract<(typeof CELLS)[number], GatedDescriptor>['name'];

export const CELL_NAMES: readonly CellName[] = CELLS.map((cell) => cell.name);

/** The cell called `name`, or undefined when there is none. */
export function findCell(name: string): CellDescriptor | undefined {
  return CELLS.find((cell: CellDescriptor) => cell.name === name);
}

/** The cell called `name`; a name that is not registered is a bug of the caller (users' names are checked at the edge). */
export function cellNamed(name: CellName): CellDescriptor {
  const cell = findCell(name);
  if (cell === undefined) throw new RangeError(`no cell is called '${name}' (there are ${CELL_NAMES.join(', ')})`);
  return cell;
}

/** The names of the cells for which `has` holds, as a sentence lists them: 'lstm, gru and mgu'. */
export function cellList(has: (cell: CellDescriptor) => boolean, conjunction: 'and' | 'or'): string {
  const names = CELLS.filter((cell: CellDescriptor) => has(cell)).map((cell) => cell.name);
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} ${conjunction} ${names.at(-1)}`;
}

/** The gated cell called `name` (built by stacked-cell.ts gatedCell); any other name is a bug of the caller. */
export function gatedCellNamed(name: CellName): GatedDescriptor {
  const cell = cellNamed(name);
  if (!('shape' in cell)) throw new RangeError(`'${name}' is not a gated cell`);
  return cell as GatedDescriptor;
}
