/** The README's training script, run as a user runs it: against the packed package installed into a new project. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { pseudoEnglish, runCommand, tempDir } from './fixtures/harness.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT_START = '```js\n// train.mjs';

/** The fenced block of README.md that starts with '// train.mjs', without its fences. */
function readmeScript(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(SCRIPT_START);
  if (start < 0) throw new Error("README.md has no ```js block starting with '// train.mjs'");
  const body = start + '```js\n'.length;
  return readme.slice(body, readme.indexOf('```', body));
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

test("the README's training script runs against the packed package: validation lines, a summary and a sample", async (t) => {
  t.timeout(600_000); // packing, installing and training, on cores shared with the rest of the suite
  const dir = tempDir('readme-train-');
  t.teardown(() => dir.remove());
  const pack = await runCommand(npm, ['pack', '--ignore-scripts', '--pack-destination', dir.path], { cwd: ROOT });
  t.is(pack.code, 0, pack.stderr);
  const tarball = join(dir.path, pack.stdout.trim().split('\n').at(-1) as string);
  t.true(existsSync(tarball), `npm pack wrote ${tarball}`);

  const project = join(dir.path, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'readme-script', private: true, type: 'module' }));
  const install = await runCommand(npm, ['install', '--prefer-offline', '--omit=optional', '--no-audit', '--no-fund', tarball], { cwd: project, timeoutMs: 300_000 });
  t.is(install.code, 0, install.stderr);

  writeFileSync(join(project, 'train.mjs'), readmeScript());
  writeFileSync(join(project, 'speeches.txt'), pseudoEnglish(40_000));
  // 0.05 minutes: a few seconds of training, then the final evaluation.
  const run = await runCommand(process.execPath, ['train.mjs', 'speeches.txt', '0.05'], { cwd: project, timeoutMs: 180_000 });
  t.is(run.code, 0, run.stderr);
  t.is(run.stderr, '', 'the library writes nothing to the terminal by itself');
  const lines = run.stdout.trimEnd().split('\n');
  t.regex(lines[0], /^step \d+: validation \d+\.\d{3} nats\/char$/);
  const summary = lines.findIndex((line) => /^\d+ steps \(minutes\), \d+ chars\/s; saved runs\/speeches\/last\.ckpt$/.test(line));
  t.true(summary > 0, run.stdout);
  t.true(lines.slice(summary + 1).join('\n').length > 0, 'a sample follows');
  t.true(existsSync(join(project, 'runs/speeches/last.ckpt')));
});
