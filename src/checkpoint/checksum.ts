import { sha256 } from '@noble/hashes/sha2.js';

/** SHA-256 over chunks in order. The codec takes one: @noble/hashes' anywhere, Node's native one (25 times faster) from node-sha256.ts. */
export type Sha256 = (chunks: readonly Uint8Array[]) => Uint8Array;

/** SHA-256 in plain JavaScript (@noble/hashes: audited, without dependencies), for the browser and any other host. */
export const portableSha256: Sha256 = (chunks) => {
  const hash = sha256.create();
  for (const bytes of chunks) hash.update(bytes);
  return hash.digest();
};

/**
 * The whole-file checksum (proto/checkpoint.proto, Checkpoint.sha256): the file ends with field
 * 11 as its last 34 bytes, tag 0x5a (field 11, length-delimited), length 0x20, then the SHA-256
 * of every byte before the tag.
 */
const TAG = 0x5a;
const DIGEST_BYTES = 32;
const TRAILER_BYTES = 2 + DIGEST_BYTES;

/** The message followed by its checksum field: a protobuf message whose sha256 field covers all the rest. */
export function appendChecksum(message: Uint8Array, hash: Sha256): Uint8Array {
  const file = new Uint8Array(message.length + TRAILER_BYTES);
  file.set(message);
  file[message.length] = TAG;
  file[message.length + 1] = DIGEST_BYTES;
  file.set(hash([message]), message.length + 2);
  return file;
}

/**
 * Why the file's checksum does not hold, given the sha256 field as parsed (the last one in the
 * file, as protobuf keeps); undefined when the file ends with that field and it matches.
 */
export function checksumProblem(file: Uint8Array, parsed: Uint8Array, hash: Sha256): string | undefined {
  const at = file.length - TRAILER_BYTES;
  const endsWithIt = at >= 0 && file[at] === TAG && file[at + 1] === DIGEST_BYTES && sameBytes(file.subarray(at + 2), parsed);
  if (!endsWithIt) return 'its checksum is not its last 34 bytes';
  if (!sameBytes(hash([file.subarray(0, at)]), parsed)) return 'its bytes do not match the checksum they end with';
  return undefined;
}

/** SHA-256 over the stored tensor bytes, in field order (Tensors.sha256). */
export function tensorsSha256(tensors: readonly Uint8Array[], hash: Sha256): Uint8Array {
  return hash(tensors);
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
