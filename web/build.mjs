// Bundles the page (web/*.ts) into dist/web/ with esbuild, offline from node_modules: app.js for
// the page 'char-rnn serve' serves, static.js for 'char-rnn export --format web' (the model runs in
// the page), which imports the library's browser entry as built by tsc
// (parallel-char-rnn/browser, the package's own export). Classic scripts (IIFE), not modules: a browser loads a module script from file:// not at all.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';

const OUT = 'dist/web';
mkdirSync(OUT, { recursive: true });
const common = { bundle: true, format: 'iife', target: 'es2022', minify: true, sourcemap: false, legalComments: 'none', logLevel: 'warning' };
await build({ ...common, entryPoints: ['web/served.ts'], outfile: `${OUT}/app.js` });
await build({ ...common, entryPoints: ['web/static.ts'], outfile: `${OUT}/static.js` });
for (const file of ['index.html', 'static.html', 'app.css']) copyFileSync(`web/${file}`, `${OUT}/${file}`);
