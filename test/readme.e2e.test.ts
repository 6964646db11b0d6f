/** The README's printed blocks are the commands' real output, so that they cannot go stale. */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runCli } from './fixtures/harness.js';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));

/** The lines of the fenced block that starts with `$ command`, without that line. */
function printedBlock(readme: string, command: string): string {
  const start = readme.indexOf(`\`\`\`\n$ ${command}\n`);
  if (start < 0) throw new Error(`README.md has no block starting with '$ ${command}'`);
  const body = start + `\`\`\`\n$ ${command}\n`.length;
  return readme.slice(body, readme.indexOf('```', body));
}

test("the README's gradcheck block is what 'char-rnn gradcheck' prints", async (t) => {
  // A few seconds alone; minutes when the whole suite shares two cores.
  const result = await runCli(['gradcheck'], { timeoutMs: 240_000 });
  t.is(result.code, 0, result.stderr);
  t.is(printedBlock(readFileSync(README, 'utf8'), 'npx parallel-char-rnn gradcheck'), result.stdout);
});
