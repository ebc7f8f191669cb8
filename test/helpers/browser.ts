/**
 * Debian's Chromium (apt-get install chromium; .ci/run installs it) driven by playwright-core,
 * which downloads nothing: without the binary these tests fail rather than pass vacuously.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';

export const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A browser with a fresh profile in `dir` (passed as --user-data-dir) and a 1,400 px wide window. */
export async function launchChromium(dir: string): Promise<BrowserContext> {
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`).toBe(true);
  return chromium.launchPersistentContext(join(dir, 'profile'), { executablePath: CHROMIUM, args: ARGS, headless: true, viewport: { width: 1400, height: 900 } });
}

/** Collects console errors and warnings, page errors, failed requests and requests outside `origin`. */
export function watchProblems(page: Page, isOwn: (url: string) => boolean): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  page.on('request', (r) => {
    if (!isOwn(r.url())) problems.push(`foreign request: ${r.url()}`);
  });
  return problems;
}

/** Every text of the charts on the page, with its computed font size. */
export function chartTexts(page: Page, selector: string): Promise<Array<{ text: string; px: number }>> {
  // A string expression: the project compiles without the DOM library.
  return page.evaluate(`[...document.querySelectorAll(${JSON.stringify(selector)})].map((e) => ({ text: e.textContent, px: parseFloat(getComputedStyle(e).fontSize) }))`) as Promise<
    Array<{ text: string; px: number }>
  >;
}
