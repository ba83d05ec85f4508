import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The prebuilt page: one HTML document with its script and style inlined, and the CSP that allows exactly them. */
export interface PageAssets {
  html: string;
  contentSecurityPolicy: string;
  /** Bytes of the HTML as served (script and style included). */
  bytes: number;
}

const read = (name: string) => readFileSync(new URL(`../page/${name}`, import.meta.url), 'utf8');
const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

let cached: PageAssets | undefined;

/**
 * Reads `page/index.html`, `page/app.js` and `page/app.css` (shipped in the
 * package, no build step) once and inlines the script and style, so the page
 * works under any mount path with a CSP that allows only those two by hash.
 */
export function pageAssets(): PageAssets {
  if (cached) return cached;
  const script = read('app.js');
  const style = read('app.css');
  const html = read('index.html').replace('<style></style>', () => `<style>${style}</style>`).replace('<script></script>', () => `<script>${script}</script>`);
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src ${sha256(script)}`,
    `style-src ${sha256(style)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  cached = { html, contentSecurityPolicy, bytes: Buffer.byteLength(html) };
  return cached;
}
