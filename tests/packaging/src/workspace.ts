import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The monorepo root. */
export const ROOT = new URL('../../../', import.meta.url).pathname;

export interface WorkspacePackage {
  name: string;
  version: string;
  dir: string;
  manifest: Record<string, unknown> & { peerDependencies?: Record<string, string>; devDependencies?: Record<string, string> };
}

/** Every public package under packages/*, found on disk (a package added later is covered without editing this check). */
export function publicPackages(): WorkspacePackage[] {
  const base = join(ROOT, 'packages');
  return readdirSync(base)
    .map((name) => join(base, name))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => manifest.private !== true)
    .map(({ dir, manifest }) => ({ name: manifest.name, version: manifest.version, dir, manifest }));
}

/** The version of `dependency` the workspace installed for `pkg` (what CI tests it with), if any. */
export function installedVersion(pkg: WorkspacePackage, dependency: string): string | undefined {
  for (const dir of [pkg.dir, ROOT]) {
    const file = join(dir, 'node_modules', dependency, 'package.json');
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')).version;
  }
  return undefined;
}
