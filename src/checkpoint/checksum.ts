import { createHash } from 'node:crypto';

/**
 * The whole-file checksum (proto/checkpoint.proto, Checkpoint.sha256): the file ends with field
 * 11 as its last 34 bytes, tag 0x5a (field 11, length-delimited), length 0x20, then the SHA-256
 * of every byte before the tag.
 */
const TAG = 0x5a;
const DIGEST_BYTES = 32;
const TRAILER_BYTES = 2 + DIGEST_BYTES;

/** The message followed by its checksum field: a protobuf message whose sha256 field covers all the rest. */
export function appendChecksum(message: Uint8Array): Uint8Array {
  const file = new Uint8Array(message.length + TRAILER_BYTES);
  file.set(message);
  file[message.length] = TAG;
  file[message.length + 1] = DIGEST_BYTES;
  file.set(sha256(message), message.length + 2);
  return file;
}

/**
 * Why the file's checksum does not hold, given the sha256 field as parsed (the last one in the
 * file, as protobuf keeps); undefined when the file ends with that field and it matches.
 */
export function checksumProblem(file: Uint8Array, parsed: Uint8Array): string | undefined {
  const at = file.length - TRAILER_BYTES;
  const endsWithIt = at >= 0 && file[at] === TAG && file[at + 1] === DIGEST_BYTES && Buffer.compare(file.subarray(at + 2), parsed) === 0;
  if (!endsWithIt) return 'its checksum is not its last 34 bytes';
  if (Buffer.compare(sha256(file.subarray(0, at)), parsed) !== 0) return 'its bytes do not match the checksum they end with';
  return undefined;
}

/** SHA-256 over the stored tensor bytes, in field order (Tensors.sha256). */
export function tensorsSha256(...tensors: Uint8Array[]): Uint8Array {
  const hash = createHash('sha256');
  for (const bytes of tensors) hash.update(bytes);
  return new Uint8Array(hash.digest());
}

function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}
