import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from '../src/workspace.js';

// scripts/package-metadata.mjs normalises packages/*/package.json: run on a copy of them (never on the
// workspace itself), it must leave the committed manifests exactly as they are, subpaths and extra files included.
const script = join(ROOT, 'scripts', 'package-metadata.mjs');
const scratch: string[] = [];
afterEach(() => {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A directory with `packages/<name>/package.json` for each manifest; runs the script there and returns the manifests after. */
function runScript(manifests: Record<string, string>): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'messagebox-package-metadata-'));
  scratch.push(dir);
  for (const [name, text] of Object.entries(manifests)) {
    mkdirSync(join(dir, 'packages', name), { recursive: true });
    writeFileSync(join(dir, 'packages', name, 'package.json'), text);
  }
  execFileSync(process.execPath, [script], { cwd: dir });
  return Object.fromEntries(Object.keys(manifests).map((name) => [name, readFileSync(join(dir, 'packages', name, 'package.json'), 'utf8')]));
}

describe('scripts/package-metadata.mjs', () => {
  it('leaves every committed package.json unchanged (subpath exports, extra files, bin included)', () => {
    const committed = Object.fromEntries(readdirSync(join(ROOT, 'packages')).map((name) => [name, readFileSync(join(ROOT, 'packages', name, 'package.json'), 'utf8')]));
    const after = runScript(committed);
    for (const name of Object.keys(committed)) expect(after[name], name).toBe(committed[name]);
    // The cases the script once dropped are still there.
    expect(JSON.parse(after['transport-http']!).publishConfig.exports['./fetch']).toEqual({ types: './dist/fetch.d.ts', default: './dist/fetch.js' });
    expect(Object.keys(JSON.parse(after['testkit']!).exports)).toEqual(['.', './app']);
    expect(JSON.parse(after['dashboard']!).files).toContain('page');
    for (const dialect of ['postgres', 'mysql', 'sqlite']) expect(JSON.parse(after[dialect]!).files, dialect).toContain('migrations');
  });

  it('fills a new package in, keeping its subpath export (published without the source condition) and its extra files', () => {
    const fresh = {
      name: '@messagebox/fresh',
      version: '0.1.0',
      description: 'new',
      exports: { '.': './dist/index.js', './extra': { '@messagebox/source': './src/extra.ts', types: './dist/extra.d.ts', default: './dist/extra.js' } },
      files: ['dist', 'assets'],
      dependencies: { '@messagebox/core': 'workspace:*' },
      peerDependencies: { kysely: '*' },
    };
    const after = JSON.parse(runScript({ fresh: JSON.stringify(fresh) }).fresh!);
    expect(after.exports).toEqual({ '.': { '@messagebox/source': './src/index.ts', types: './dist/index.d.ts', default: './dist/index.js' }, './extra': fresh.exports['./extra'] });
    expect(after.publishConfig).toEqual({ access: 'public', exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' }, './extra': { types: './dist/extra.d.ts', default: './dist/extra.js' } } });
    expect(after.files).toEqual(['dist', 'src', 'assets', 'README.md', 'CHANGELOG.md', 'LICENSE']);
    expect(after).toMatchObject({ license: 'MIT', sideEffects: false, type: 'module', dependencies: { '@messagebox/core': 'workspace:^' }, peerDependencies: { kysely: '^0.28.19' } });
  });

  it('leaves private packages alone', () => {
    const text = JSON.stringify({ name: 'private-one', private: true, files: ['x'] });
    expect(runScript({ mine: text }).mine).toBe(text);
  });
});
