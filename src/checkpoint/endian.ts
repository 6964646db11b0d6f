/**
 * Tensors and corpus ids are stored little-endian. On a little-endian host (every platform Node
 * ships for but s390x and AIX ppc64) the bytes are the typed array's own memory, so encoding is
 * a view and decoding one copy; a big-endian host takes a DataView path that is slower but
 * correct, rather than being refused.
 */
export const HOST_IS_LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

type Numbers = Float64Array | Uint32Array | Uint16Array | Uint8Array;

/** The array's elements as little-endian bytes: a view of its memory where the host allows. */
export function littleEndianBytes(array: Numbers, hostIsLittleEndian = HOST_IS_LITTLE_ENDIAN): Uint8Array {
  if (hostIsLittleEndian || array.BYTES_PER_ELEMENT === 1) {
    return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  }
  const bytes = new Uint8Array(array.byteLength);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < array.length; i++) {
    if (array instanceof Float64Array) view.setFloat64(i * 8, array[i], true);
    else if (array instanceof Uint32Array) view.setUint32(i * 4, array[i], true);
    else view.setUint16(i * 2, array[i], true);
  }
  return bytes;
}

/**
 * A fresh, 8-byte-aligned Float64Array from little-endian bytes. The bytes may sit at any
 * offset (a protobuf bytes field is a view into the file), so they are copied, never viewed.
 */
export function float64FromLittleEndian(bytes: Uint8Array, hostIsLittleEndian = HOST_IS_LITTLE_ENDIAN): Float64Array {
  if (bytes.length % 8 !== 0) throw new RangeError(`${bytes.length} bytes are not a whole number of float64s`);
  const out = new Float64Array(bytes.length / 8);
  if (hostIsLittleEndian) {
    new Uint8Array(out.buffer).set(bytes);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
  }
  return out;
}
