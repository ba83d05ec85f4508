/**
 * A Node built-in module where the runtime has one (Node ≥ 20.16, Bun, Deno),
 * else `undefined`. Looked up through `process.getBuiltinModule`, never an
 * `import`, so a bundle for a runtime without `node:` modules (Cloudflare
 * Workers without `nodejs_compat`, edge runtimes) contains no `node:`
 * specifier to resolve and core loads there unchanged.
 *
 * @example
 * const crypto = nodeBuiltin<typeof import('node:crypto')>('node:crypto'); // undefined on Workers
 */
export function nodeBuiltin<T>(id: 'node:crypto' | 'node:events'): T | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    return (proc?.getBuiltinModule?.(id) ?? undefined) as T | undefined;
  } catch {
    return undefined;
  }
}
