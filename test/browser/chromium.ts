/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Headless Chromium for browser tests: Debian's chromium-headless-shell driven by puppeteer-core
 * (no browser download: .ci/run installs the package). `haveChromium` is false on a developer machine
 * without it (the tests are then skipped); on CI a missing binary is an error, as for etcd.
 */
import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/** Where Debian puts the headless shell. */
export const chromiumBin = process.env.SKIFF_CHROMIUM ?? '/usr/bin/chromium-headless-shell';

/** True when the browser binary is installed. */
export const haveChromium = existsSync(chromiumBin);
if (!haveChromium && process.env.CI) throw new Error(`${chromiumBin} is missing on CI: .ci/run must install chromium-headless-shell`);

/** Launches the headless shell with the flags that work as root in a container. */
export function launchChromium(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: chromiumBin,
    headless: 'shell',
    // The master serves HTTPS with the cluster's own CA, which this throwaway browser profile does not know.
    acceptInsecureCerts: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage'],
  });
}

/** Waits until `fn(...args)` (run in the page) returns a truthy value: the page's state, not a sleep. */
export async function until<A extends unknown[], T>(page: Page, what: string, fn: (...args: A) => T, args: A, timeoutMs = 20_000): Promise<T> {
  try {
    const handle = await page.waitForFunction(fn as (...a: unknown[]) => T, { timeout: timeoutMs, polling: 100 }, ...args);
    return (await handle.jsonValue()) as T;
  } catch (err) {
    const text = await page.evaluate(() => document.body.innerText.slice(0, 1500)).catch(() => '');
    throw new Error(`${what}: not seen within ${timeoutMs} ms (${(err as Error).message.split('\n')[0]}); the page shows:\n${text}`);
  }
}
