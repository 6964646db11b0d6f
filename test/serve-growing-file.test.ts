import test from 'ava';
import { appendFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GrowingFile } from '../src/serve/growing-file.js';
import { tempDir } from './fixtures/harness.js';

// The history and samples a trainer appends to, read again at the cost of what was added.

const dir = tempDir('char-rnn-growing-');
test.after.always(() => dir.remove());

/** Rows 'n' under a header line 'step'; records what text each parse was given. */
function rowsParser(parsed: string[]) {
  return (text: string): { step: number }[] => {
    parsed.push(text);
    const [header, ...lines] = text.split('\n').slice(0, -1);
    if (header !== 'step') throw new Error(`no header in ${JSON.stringify(text)}`);
    return lines.map((line) => ({ step: Number(line) }));
  };
}

test('appended whole lines are parsed alone, a line being written waits for its newline', (t) => {
  const path = join(dir.path, 'appended.csv');
  const parsed: string[] = [];
  const file = new GrowingFile<{ step: number }>(path, 1, (a, b) => b.step > a.step);
  t.is(file.read(rowsParser(parsed)), undefined);
  writeFileSync(path, 'step\n1\n2\n3');
  t.deepEqual(file.read(rowsParser(parsed))?.map((r) => r.step), [1, 2]);
  appendFileSync(path, '\n4\n');
  t.deepEqual(file.read(rowsParser(parsed))?.map((r) => r.step), [1, 2, 3, 4]);
  t.deepEqual(file.read(rowsParser(parsed))?.map((r) => r.step), [1, 2, 3, 4]);
  t.deepEqual(parsed, ['step\n1\n2\n', 'step\n3\n4\n']);
});

test('a file replaced, cut shorter, or whose new rows do not follow is parsed again whole', (t) => {
  const path = join(dir.path, 'replaced.csv');
  const parsed: string[] = [];
  const file = new GrowingFile<{ step: number }>(path, 1, (a, b) => b.step > a.step);
  writeFileSync(path, 'step\n1\n2\n3\n');
  file.read(rowsParser(parsed));
  writeFileSync(join(dir.path, 'new.csv'), 'step\n1\n2\n3\n9\n');
  renameSync(join(dir.path, 'new.csv'), path); // a resumed run rewrites it
  t.deepEqual(file.read(rowsParser(parsed))?.map((r) => r.step), [1, 2, 3, 9]);
  writeFileSync(path, 'step\n1\n'); // the same inode, shorter
  t.deepEqual(file.read(rowsParser(parsed))?.map((r) => r.step), [1]);
  appendFileSync(path, '1\n');
  t.deepEqual(file.read(rowsParser(parsed))?.map((r) => r.step), [1, 1]);
  t.is(parsed.at(-1), 'step\n1\n1\n');
});
