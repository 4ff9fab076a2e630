// The package as a user installs it: what `npm pack` puts in the tarball (both module
// formats, their declarations, no tests or sources), that `require` and `import` both load
// it through the exports map, and that its declarations type-check a consumer of each kind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const ENTRY_POINTS = ['index', 'openai-agents', 'ai', 'langgraph'];

test('npm pack holds both module formats with declarations, and nothing else', () => {
  const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' }));
  const files = pack.files.map((f) => f.path).sort();
  for (const entry of ENTRY_POINTS) {
    for (const format of ['esm', 'cjs']) {
      assert.ok(files.includes(`dist/${format}/${entry}.js`), `dist/${format}/${entry}.js missing from ${files}`);
      assert.ok(files.includes(`dist/${format}/${entry}.d.ts`), `dist/${format}/${entry}.d.ts missing`);
    }
  }
  assert.ok(files.includes('dist/cjs/package.json'));
  assert.ok(files.includes('README.md'));
  assert.ok(files.includes('package.json'));
  const stray = files.filter((f) => !f.startsWith('dist/') && !['README.md', 'package.json'].includes(f));
  assert.deepEqual(stray, []);
  assert.deepEqual(files.filter((f) => /test|\.ts$/.test(f) && !f.endsWith('.d.ts')), []);
  const manifest = JSON.parse(execFileSync('node', ['-p', 'JSON.stringify(require("./package.json"))'], { cwd: root, encoding: 'utf8' }));
  assert.deepEqual(manifest.dependencies ?? {}, {}, 'the package has no runtime dependencies');
});

test('require and import both load every entry point through the exports map', async () => {
  for (const entry of ENTRY_POINTS) {
    const name = entry === 'index' ? 'countersign' : `countersign/${entry}`;
    const cjs = require(name);
    const esm = await import(name);
    assert.ok(Object.keys(cjs).length > 0, `${name} (require) exports nothing`);
    assert.deepEqual(Object.keys(cjs).filter((k) => k !== 'default').sort(), Object.keys(esm).filter((k) => k !== 'default').sort(), name);
  }
  const { Client } = require('countersign');
  assert.equal(typeof Client, 'function');
  assert.notEqual(Client, (await import('countersign')).Client, 'two builds, one per format');
});

test('the declarations type-check an ES module consumer and a CommonJS consumer', () => {
  const tsc = require.resolve('typescript/bin/tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', join(root, 'test', 'types', 'tsconfig.json')], { cwd: root, encoding: 'utf8' });
  } catch (error) {
    assert.fail(`tsc found errors:\n${error.stdout}${error.stderr}`);
  }
});
