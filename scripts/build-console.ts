/**
 * Bundles the console (console/src, Preact + graphql-ws + uPlot) with esbuild
 * into dist/console: index.html and content-hashed assets, all served by the
 * hub itself (no CDN). Run by `npm run build`; `--out <dir>` writes elsewhere.
 */
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const ROOT = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { out: { type: 'string', default: path.join(ROOT, 'dist', 'console') } } });
const outDir = path.resolve(values.out);
const assetsDir = path.join(outDir, 'assets');

/** a file appears whole or not at all: a hub serving this folder (or a test building it at the same time) never reads half of one */
async function writeAtomically(file: string, contents: Uint8Array | string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, contents);
  await rename(temporary, file);
}

await mkdir(assetsDir, { recursive: true });
const result = await build({
  entryPoints: { console: path.join(ROOT, 'console', 'src', 'main.tsx') },
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: assetsDir,
  entryNames: '[name]-[hash]',
  write: false,
  legalComments: 'eof',
  logLevel: 'warning',
});

for (const file of result.outputFiles) await writeAtomically(file.path, file.contents);
const outputs = result.outputFiles.map((file) => path.basename(file.path));
const script = outputs.find((file) => file.endsWith('.js'));
const style = outputs.find((file) => file.endsWith('.css'));
if (!script || !style) throw new Error(`esbuild wrote no script or style sheet: ${outputs.join(', ')}`);

// <!--fl-dev-token--> is replaced by the hub (src/console/console-page.ts) in development without auth settings
const html = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>fl-scheduler · console</title>
  <link rel="icon" href="data:,">
  <!--fl-dev-token-->
  <link rel="stylesheet" href="/console/assets/${style}">
  <script type="module" src="/console/assets/${script}"></script>
</head>
<body>
  <div id="app"><p class="loading">Loading the console…</p></div>
</body>
</html>
`;
await writeAtomically(path.join(outDir, 'index.html'), html);

// older builds' assets go once they are an hour old: a page loaded before this build can still fetch them
for (const name of await readdir(assetsDir)) {
  const file = path.join(assetsDir, name);
  if (!outputs.includes(name) && Date.now() - (await stat(file)).mtimeMs > 3_600_000) await rm(file, { force: true });
}
console.log(`console: ${path.relative(ROOT, outDir)}/index.html, assets ${outputs.join(', ')}`);
