/**
 * Index of the first byte that breaks UTF-8 well-formedness (Unicode Table 3-7), or -1 when
 * none does. Up to 3 leading continuation bytes are skipped since they may finish a sequence
 * begun in the previous chunk, and a sequence cut off by the end of the chunk counts as fine.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < 3 && i < n && (bytes[i] & 0xc0) === 0x80) i++;
  while (i < n) {
    const b0 = bytes[i];
    if (b0 < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b0 >= 0xc2 && b0 <= 0xdf) need = 1;
    else if (b0 >= 0xe0 && b0 <= 0xef) {
      need = 2;
      if (b0 === 0xe0) lo = 0xa0;
      else if (b0 === 0xed) hi = 0x9f;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      need = 3;
      if (b0 === 0xf0) lo = 0x90;
      else if (b0 === 0xf4) hi = 0x8f;
    } else return i;
    for (let j = 1; j <= need; j++) {
      if (i + j >= n) return -1;
      const b = bytes[i + j];
      if (j === 1 ? b < lo || b > hi : (b & 0xc0) !== 0x80) return i;
    }
    i += need + 1;
  }
  return -1;
}
