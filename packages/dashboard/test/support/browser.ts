import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium, as `.ci/run` installs it. */
export const CHROMIUM = process.env.MESSAGEBOX_CHROMIUM ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}
