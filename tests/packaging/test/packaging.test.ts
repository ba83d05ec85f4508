import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import semver from 'semver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attwTarball, publintTarball } from '../src/lint.js';
import { buildPackages, filesOf, manifestOf, packAll, repackWithVersion, type Tarball } from '../src/pack.js';
import { createScratchApp, type ScratchApp } from '../src/scratch-app.js';
import { installedVersion, publicPackages } from '../src/workspace.js';

const packages = publicPackages();
const out = mkdtempSync(join(tmpdir(), 'messagebox-tarballs-'));
let tarballs: Tarball[] = [];
const tarballOf = (name: string) => {
  const found = tarballs.find((t) => t.pkg.name === name);
  if (!found) throw new Error(`no tarball for ${name} (was it packed?)`);
  return found.file;
};

beforeAll(async () => {
  await buildPackages(packages);
  tarballs = await packAll(packages, out);
}, 900_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('every public package packs cleanly', () => {
  it('finds the public packages under packages/*', () => {
    expect(packages.map((p) => p.name)).toEqual(expect.arrayContaining(['@messagebox/core', '@messagebox/transport-http', '@messagebox/cli']));
    expect(tarballs).toHaveLength(packages.length);
  });

  describe.each(packages.map((pkg) => [pkg.name, pkg] as const))('%s', (name, pkg) => {
    it('publishes a manifest without workspace leftovers, with caret ranges and its metadata', async () => {
      const manifest = await manifestOf(tarballOf(name));
      const entryPoints = JSON.stringify([manifest['exports'], manifest['main'], manifest['types'], manifest['bin'], manifest['publishConfig']]);
      expect(entryPoints).not.toContain('@messagebox/source');
      expect(entryPoints).not.toContain('src/');
      expect(JSON.stringify(manifest)).not.toContain('workspace:');
      const root = (manifest['exports'] as Record<string, Record<string, string>>)['.']!;
      expect(Object.keys(root)).toEqual(['types', 'default']);
      for (const field of ['description', 'repository', 'homepage', 'bugs', 'keywords']) expect(manifest[field], field).toBeTruthy();
      expect(manifest['license']).toBe('MIT');
      expect(manifest['sideEffects']).toBe(false);
      for (const [dependency, range] of Object.entries((manifest['dependencies'] ?? {}) as Record<string, string>)) {
        if (dependency.startsWith('@messagebox/')) expect(range, dependency).toMatch(/^\^\d+\.\d+\.\d+$/);
      }
    });

    it('ships its LICENSE, README, CHANGELOG and built files', async () => {
      const files = await filesOf(tarballOf(name));
      expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json', 'dist/index.js', 'dist/index.d.ts']));
      expect(files.filter((f) => f.startsWith('test/') || f.startsWith('node_modules/'))).toEqual([]);
    });

    it('has caret peer ranges that the versions CI tests with satisfy', () => {
      for (const [peer, range] of Object.entries(pkg.manifest.peerDependencies ?? {})) {
        for (const part of range.split('||')) expect(part.trim(), `${peer}: ${range}`).toMatch(/^\^\d+\.\d+\.\d+$/);
        const tested = installedVersion(pkg, peer);
        expect(tested, `${peer} is not installed for ${name}, so CI does not test it`).toBeDefined();
        expect(semver.satisfies(tested!, range), `${peer}@${tested} (tested) is outside ${range}`).toBe(true);
      }
    });

    it('passes publint', async () => {
      expect(await publintTarball(tarballOf(name))).toEqual([]);
    });

    it('passes arethetypeswrong (esm-only profile)', async () => {
      expect(await attwTarball(tarballOf(name))).toEqual([]);
    });
  });
});

describe('a scratch app outside the workspace, installed from the tarballs with core at another patch version', () => {
  const database = `messagebox_packaging_${process.pid}`;
  const admin = new pg.Client({ connectionString: process.env['PACKAGING_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test' });
  let app: ScratchApp;
  let coreVersion = '';
  const env = () => ({ DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${database}` });

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${database}`);
    await admin.query(`CREATE DATABASE ${database}`);
    const core = packages.find((p) => p.name === '@messagebox/core')!;
    coreVersion = semver.inc(core.version, 'patch')!;
    const otherCore = await repackWithVersion(tarballOf('@messagebox/core'), coreVersion, out);
    app = await createScratchApp({
      '@messagebox/core': `file:${otherCore}`,
      '@messagebox/kysely': `file:${tarballOf('@messagebox/kysely')}`,
      '@messagebox/postgres': `file:${tarballOf('@messagebox/postgres')}`,
      '@messagebox/transport-http': `file:${tarballOf('@messagebox/transport-http')}`,
      '@messagebox/cli': `file:${tarballOf('@messagebox/cli')}`,
      kysely: '^0.28.19',
      pg: '^8.16.0',
      '@types/pg': '^8.15.0',
      '@types/node': '^20.19.0',
    });
  }, 900_000);

  afterAll(async () => {
    app?.remove();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => {});
    await admin.end();
  });

  it('type-checks strictly with nodenext and with bundler resolution', async () => {
    expect(await app.typecheck('tsconfig.json')).toBe('');
    expect(await app.typecheck('tsconfig.bundler.json')).toBe('');
  });

  it('loads every installed package through require() (the default condition)', async () => {
    const names = ['@messagebox/core', '@messagebox/kysely', '@messagebox/postgres', '@messagebox/transport-http', '@messagebox/cli'];
    const result = await app.node(['require-check.cjs', ...names]);
    expect(result.stderr).toBe('');
    const loaded = JSON.parse(result.stdout) as Record<string, number>;
    for (const name of names) expect(loaded[name], name).toBeGreaterThan(0);
  });

  it('runs the installed messagebox bin from dist', async () => {
    const result = await app.node(['node_modules/@messagebox/cli/bin/messagebox.mjs', '--version']);
    expect(result.stdout.trim()).toBe(packages.find((p) => p.name === '@messagebox/cli')!.version);
  });

  it('shares one core (caret ranges) and dead-letters a permanent 400 at once', async () => {
    const result = await app.node(['dist/main.js'], env());
    expect(result.stderr).toMatch(/^\[messagebox\] message is dead .*answered 400.*\n$/);
    expect(JSON.parse(result.stdout)).toMatchObject({ coreCopies: 1, status: 'dead', attempts: 1, requests: 2, branded: true, retryable: false });
    expect(result.code).toBe(0);
  });

  it('with a second copy of core under the transport, still dead-letters a permanent 400 at once', async () => {
    await app.nest(tarballOf('@messagebox/core'), '@messagebox/transport-http', '@messagebox/core');
    const result = await app.node(['dist/main.js'], env());
    expect(result.stderr).toMatch(/^\[messagebox\] message is dead .*answered 400.*\n$/);
    const outcome = JSON.parse(result.stdout);
    expect(outcome).toMatchObject({ coreCopies: 2, status: 'dead', attempts: 1, requests: 2, instanceofAcrossCopies: false, branded: true, retryable: false });
    expect(outcome.lastError).toMatch(/400/);
    expect(result.code).toBe(0);
    expect(coreVersion).not.toBe(packages.find((p) => p.name === '@messagebox/core')!.version);
  });
});
