import { readFileSync } from 'node:fs';
import { checkPackage, createPackageFromTarballData } from '@arethetypeswrong/core';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

/** publint's messages for a tarball, formatted; suggestions included (the packages aim at none). */
export async function publintTarball(tarball: string): Promise<string[]> {
  const data = readFileSync(tarball);
  const buffer = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  const { messages, pkg } = await publint({ pack: { tarball: buffer }, strict: true, level: 'suggestion' });
  return messages.map((message) => `${message.type}: ${formatMessage(message, pkg) ?? message.code}`);
}

/**
 * arethetypeswrong's problems for a tarball, with the "esm-only" profile: the
 * packages are ESM only on purpose (Node >= 20.19 `require()`s them), so
 * node10 resolution and "CJS resolves to ESM" are not problems.
 */
export async function attwTarball(tarball: string): Promise<string[]> {
  const pkg = createPackageFromTarballData(new Uint8Array(readFileSync(tarball)));
  const analysis = await checkPackage(pkg);
  if (!('problems' in analysis)) return [`arethetypeswrong could not analyse the package: ${JSON.stringify(analysis).slice(0, 300)}`];
  const ignoredKinds = new Set(['CJSResolvesToESM']);
  const ignoredResolutions = new Set(['node10', 'node16-cjs']);
  return analysis.problems
    .filter((problem) => !ignoredKinds.has(problem.kind))
    .filter((problem) => !('resolutionKind' in problem) || !ignoredResolutions.has(problem.resolutionKind as string))
    .map((problem) => JSON.stringify(problem));
}
