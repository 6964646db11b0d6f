import { readFileSync } from 'node:fs';
import test from 'ava';
import { checkpointFromBytes } from '../src/checkpoint/browser.js';
import { CHECKPOINT_PROTO } from '../src/checkpoint/checkpoint-proto.js';
import { encodeCheckpoint, loadCheckpoint, PROTO_PATH, saveCheckpoint } from '../src/checkpoint/index.js';
import { UserError } from '../src/errors.js';
import { tempDir } from './fixtures/harness.js';
import { tinyCheckpoint } from './fixtures/tiny-model.js';


test('bytes decode to the checkpoint the file holds, in the browser-safe module and through loadCheckpoint', async (t) => {
  const dir = tempDir('browser-checkpoint-');
  t.teardown(() => dir.remove());
  const data = tinyCheckpoint(['a', 'b', 'c'], {
    W: [[0.5, -0.25], [0.125, 1]], U: [[1, 2, 3], [4, 5, 6]], V: [[1, 0], [0, 1], [1, 1]], b: [0.5, -0.5], c: [1, 2, 3],
  });
  const path = dir.file('tiny.ckpt', '');
  await saveCheckpoint(path, data);
  const bytes = new Uint8Array(readFileSync(path));
  // Node's hash and the portable one write the same file.
  t.deepEqual(encodeCheckpoint(data), bytes);
  const fromFile = await loadCheckpoint(path);
  for (const decoded of [checkpointFromBytes(bytes), await loadCheckpoint(bytes)]) {
    t.deepEqual(Array.from(decoded.state.params), Array.from(fromFile.state.params));
    t.deepEqual(Array.from(decoded.model.vocab), Array.from(fromFile.model.vocab));
  }
  bytes[bytes.length - 40] ^= 1;
  t.throws(() => checkpointFromBytes(bytes), { instanceOf: UserError, message: /^the checkpoint given as bytes is damaged/ });
  await t.throwsAsync(loadCheckpoint(new ArrayBuffer(8) as unknown as Uint8Array), { instanceOf: UserError, message: /takes a path or a Uint8Array/ });
});

test('the schema the codec parses is proto/checkpoint.proto as it is now', (t) => {
  t.is(CHECKPOINT_PROTO, readFileSync(PROTO_PATH, 'utf8'));
});
