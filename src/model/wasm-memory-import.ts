/**
 * The kernels' WebAssembly module with its imported memory declared not shared. The kernels
 * are built to import a shared memory (the trainer's threads all work on one), but a browser
 * page gets shared memory only when cross-origin isolated, and never from file://. One thread
 * sampling or scoring needs none of it, and the code runs unchanged on an ordinary memory: only
 * the import's limits flag differs (0x03, shared with a maximum, becomes 0x01). Pure: bytes in,
 * bytes out; a module without a shared memory import is returned as it is.
 */
export function withUnsharedMemoryImport(module: Uint8Array): Uint8Array {
  const out = module.slice();
  let at = 8; // past the magic number and the version
  while (at < out.length) {
    const id = out[at++];
    const size = readLeb(out, at);
    at = size.next;
    if (id === IMPORT_SECTION) {
      markMemoryUnshared(out, at);
      return out;
    }
    at += size.value;
  }
  return out;
}

const IMPORT_SECTION = 2;
const enum ImportKind { Function = 0, Table = 1, Memory = 2, Global = 3, Tag = 4 }
const SHARED_WITH_MAXIMUM = 0x03;
const WITH_MAXIMUM = 0x01;

function markMemoryUnshared(bytes: Uint8Array, start: number): void {
  const count = readLeb(bytes, start);
  let at = count.next;
  for (let i = 0; i < count.value; i++) {
    for (const _name of [0, 1]) { // the module name, then the field name
      const length = readLeb(bytes, at);
      at = length.next + length.value;
    }
    const kind = bytes[at++];
    if (kind === ImportKind.Memory) {
      if (bytes[at] === SHARED_WITH_MAXIMUM) bytes[at] = WITH_MAXIMUM;
      return;
    }
    if (kind === ImportKind.Function || kind === ImportKind.Tag) {
      if (kind === ImportKind.Tag) at++; // the tag's attribute byte
      at = readLeb(bytes, at).next;
    } else if (kind === ImportKind.Table) {
      at = skipLimits(bytes, at + 1); // the element type, then the limits
    } else if (kind === ImportKind.Global) {
      at += 2; // the value type and the mutability
    } else {
      throw new RangeError(`import ${i} has unknown kind ${kind}`);
    }
  }
}

function skipLimits(bytes: Uint8Array, at: number): number {
  const flags = bytes[at];
  let next = readLeb(bytes, at + 1).next;
  if ((flags & 1) !== 0) next = readLeb(bytes, next).next;
  return next;
}

/** An unsigned LEB128 at `at`: its value and the offset just past it. */
function readLeb(bytes: Uint8Array, at: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return { value, next: at };
    shift += 7;
  }
}
