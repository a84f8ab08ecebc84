/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The dashboard in a real browser (headless Chromium) against an in-process master and a real agent:
 * a bad token is refused; the admin logs in with the form; a Deployment applied meanwhile appears and
 * its pod turns Running without a reload; the pod's log lines arrive live; scaling to 3 from the page
 * gives 3 pods; exec runs a command in the in-browser terminal; a view token sees no write buttons.
 * With SKIFF_SCREENSHOTS=DIR it saves the main pages there (docs/screenshots/ comes from this).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, isRunningReady, startCluster, type TestCluster } from '../helpers/cluster.js';
import { haveChromium, launchChromium, until } from './chromium.js';

const shots = process.env.SKIFF_SCREENSHOTS;

async function shot(page: Page, name: string): Promise<void> {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, `${name}.png`) });
}

const hello = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: hello}
spec:
  replicas: 1
  selector: {matchLabels: {app: hello}}
  template:
    metadata: {labels: {app: hello}}
    spec:
      containers:
      - name: talker
        command: [sh, -c, 'i=0; while :; do echo "hello line $i"; i=$((i+1)); sleep 0.3; done']
---
apiVersion: v1
kind: Service
metadata: {name: hello}
spec:
  type: NodePort
  selector: {app: hello}
  ports: [{name: http, port: 80, targetPort: 8080}]
`;

/** Text of the element matching `sel`, or ''. */
const textOf = (sel: string) => document.querySelector(sel)?.textContent ?? '';

describe.skipIf(!haveChromium)('the dashboard in headless Chromium', () => {
  let c: TestCluster;
  let browser: Browser;
  let base = '';
  let viewer = '';

  beforeAll(async () => {
    c = await startCluster(['dash-a'], { httpPort: 0, httpHost: '127.0.0.1' }, { metricsIntervalMs: 500 });
    base = `https://127.0.0.1:${c.master.httpPort}/`;
    viewer = (await c.api.request<{ token: string }>('token', { action: 'create', name: 'wall', access: 'view' })).token;
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await c?.stop();
  });

  async function newPage(): Promise<Page> {
    const ctx = await browser.createBrowserContext();
    const page = await ctx.newPage();
    await page.setViewport({ width: 1400, height: 900 });
    page.on('pageerror', (e) => console.error('page error:', e));
    return page;
  }

  it('refuses a bad token', async () => {
    const page = await newPage();
    await page.goto(`${base}#user=admin&token=not-the-token`);
    const error = await until(page, 'the refusal', (sel) => document.querySelector(sel)?.textContent, ['#login-error']);
    expect(error).toMatch(/^Refused: the master does not accept this user and token\./);
    // The token left the address bar at once.
    expect(page.url()).toBe(base);
    await shot(page, 'login-refused');
    await page.close();
  });

  it('logs in, follows a Deployment, its pod and its log live, scales it to 3 and execs into a pod', async () => {
    const page = await newPage();
    await page.goto(base);
    await page.type('input[name=token]', c.master.adminToken);
    await page.click('button[type=submit]');
    await until(page, 'logged in as admin', (sel) => document.querySelector(sel)?.textContent === 'admin (admin)', ['#who']);
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    await page.click('#tab-workloads');
    await c.apply(hello);
    await until(page, 'the hello Deployment row', (sel) => !!document.querySelector(sel), ['.ready[data-deployment=hello]']);
    await until(page, 'hello 1/1 ready', (sel) => document.querySelector(sel)?.textContent === '1/1', ['.ready[data-deployment=hello]']);
    await page.click('#tab-pods');
    await until(page, 'a hello pod Running', () => [...document.querySelectorAll('.pod-status')].some((e) => (e as HTMLElement).dataset.pod?.startsWith('hello-') && e.textContent === 'Running'), []);
    await shot(page, 'pods');

    // The log panel follows the pod's output.
    const logs = await page.$$('xpath/.//tr[.//b[starts-with(text(), "hello-")]]//button[text()="logs"]');
    await logs[0].click();
    const first = await until(page, 'a log line', (sel) => /hello line (\d+)/.exec(document.querySelector(sel)?.textContent ?? '')?.[1] ?? '', ['#log']);
    await until(page, 'a later log line', (sel, n) => [...(document.querySelector(sel)?.textContent ?? '').matchAll(/hello line (\d+)/g)].some((m) => Number(m[1]) > Number(n) + 2), ['#log', first]);
    await shot(page, 'logs');

    // exec: a line typed into the terminal runs in the pod's container.
    await page.click('xpath/.//div[@class="panel-head"]//button[text()="close"]');
    const execs = await page.$$('xpath/.//tr[.//b[starts-with(text(), "hello-")]]//button[text()="exec"]');
    await execs[0].click();
    await until(page, 'the terminal', (sel) => !!document.querySelector(sel), ['#term .xterm-rows']);
    await page.focus('#term .xterm-helper-textarea');
    await page.keyboard.type('echo "exec says $((6*7))"');
    await page.keyboard.press('Enter');
    await until(page, 'the command output in the terminal', (sel) => /exec says 42/.test(document.querySelector(sel)?.textContent ?? ''), ['#term .xterm-rows']);
    await shot(page, 'exec');
    await page.click('xpath/.//div[@class="panel-head"]//button[text()="close"]');

    // Scale to 3 from the page, and see 3 pods.
    await page.click('#tab-workloads');
    const input = await page.waitForSelector('input.replicas[data-deployment=hello]');
    await input!.click({ count: 3 });
    await input!.type('3');
    await page.keyboard.press('Tab');
    await until(page, 'hello 3/3 ready', (sel) => document.querySelector(sel)?.textContent === '3/3', ['.ready[data-deployment=hello]'], 30_000);
    await shot(page, 'workloads');
    await page.click('#tab-pods');
    await until(page, '3 hello pods Running', () => [...document.querySelectorAll('.pod-status')].filter((e) => (e as HTMLElement).dataset.pod?.startsWith('hello-') && e.textContent === 'Running').length === 3, []);
    expect((await c.pods('app=hello')).filter(isRunningReady)).toHaveLength(3);

    // The other pages, for the screenshots and a look at what they show.
    await page.click('#tab-services');
    await until(page, 'the hello service with its LAN names', (sel) => /hello\.default\._http\._tcp\.local/.test(document.querySelector(sel)?.textContent ?? ''), ['#services']);
    await shot(page, 'services');
    await page.click('#tab-events');
    await until(page, 'a Scheduled event', (sel) => /Scheduled/.test(document.querySelector(sel)?.textContent ?? ''), ['#events']);
    await shot(page, 'events');
    await page.click('#tab-overview');
    await eventually(async () => (await c.master.metrics.history.series('dash-a')).length >= 2, 'two node samples', 15_000);
    await until(page, 'the node row', (sel) => /dash-a/.test(document.querySelector(sel)?.textContent ?? ''), ['#nodes']);
    // The charts of the last hour: uPlot draws once `top` (polled every 10 s) has two samples.
    await until(page, 'the cpu and memory charts', (sel) => [...document.querySelectorAll(sel)].filter((e) => Number((e as HTMLElement).dataset.points) >= 2 && e.querySelector('canvas')).length === 2, ['#nodes .spark'], 25_000);
    await shot(page, 'overview');
    // Everything above happened without a reload.
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
    await page.close();
  });

  it('a view token sees the cluster but no write buttons', async () => {
    const page = await newPage();
    await page.goto(`${base}#user=wall&token=${encodeURIComponent(viewer)}`);
    await until(page, 'logged in as wall', (sel) => document.querySelector(sel)?.textContent === 'wall (view)', ['#who']);
    await page.click('#tab-workloads');
    await until(page, 'the hello Deployment row', (sel) => !!document.querySelector(sel), ['.ready[data-deployment=hello]']);
    await page.click('#tab-pods');
    await until(page, 'the pods', () => document.querySelectorAll('.pod-status').length >= 3, []);
    const buttons = await page.evaluate(() => [...document.querySelectorAll('main button')].map((b) => b.textContent));
    expect(buttons.filter((b) => b !== 'logs')).toEqual([]);
    expect(buttons).toContain('logs');
    await page.click('#tab-workloads');
    await page.waitForSelector('#deployments');
    expect(await page.$$('input.replicas')).toHaveLength(0);
    expect(await page.evaluate(() => [...document.querySelectorAll('main button')].length)).toBe(0);
    await page.close();
  });
});
