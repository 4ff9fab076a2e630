// Builds the package: the TypeScript compiler from the lockfile, twice, into dist/esm (ES
// modules) and dist/cjs (CommonJS), each with its .d.ts files. dist/cjs gets a package.json
// saying "commonjs", so Node reads its .js files as CommonJS although the package is "module".
//
// The build goes to a fresh directory that then replaces dist/ in two renames, so tests
// running meanwhile never import half-written files.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const staging = join(root, `.dist-${process.pid}`);

rmSync(staging, { recursive: true, force: true });
try {
  for (const [project, format] of [['tsconfig.esm.json', 'esm'], ['tsconfig.cjs.json', 'cjs']]) {
    execFileSync(process.execPath, [tsc, '-p', join(root, project), '--outDir', join(staging, format)],
      { cwd: root, stdio: 'inherit' });
  }
  mkdirSync(join(staging, 'cjs'), { recursive: true });
  writeFileSync(join(staging, 'cjs', 'package.json'), '{"type":"commonjs"}\n');
  const old = join(root, `.dist-old-${process.pid}`);
  if (existsSync(join(root, 'dist'))) renameSync(join(root, 'dist'), old);
  renameSync(staging, join(root, 'dist'));
  rmSync(old, { recursive: true, force: true });
} catch (error) {
  rmSync(staging, { recursive: true, force: true });
  console.error(`build failed: ${error.message}`);
  process.exit(1);
}
