// Drives Debian's headless Chromium over the DevTools protocol (CDP, over a WebSocket on
// 127.0.0.1 with a port the browser picks) so tests can set a viewport, evaluate expressions in
// the page and take full-page screenshots. Every wait is bounded and names what it waited for.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
/** CI installs Debian's `chromium`; elsewhere a missing browser skips the browser tests. */
export const skipBrowser: string | false = !existsSync(CHROMIUM) && !process.env.CI ? `${CHROMIUM} not installed (apt-get install chromium)` : false;

interface Pending {
  resolve: (v: Record<string, unknown>) => void;
  reject: (e: Error) => void;
  method: string;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

export class Browser {
  private nextId = 1;
  /** request id -> its caller: CDP answers out of order. */
  private readonly pending = new Map<number, Pending>();
  /** "sessionId:method" -> waiters for the next such event. */
  private readonly waiters = new Map<string, Array<(params: Record<string, unknown>) => void>>();

  private constructor(
    private readonly proc: ChildProcess,
    private readonly ws: WebSocket,
    private readonly profile: string,
  ) {
    ws.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString('utf8')) as {
        id?: number;
        method?: string;
        params?: Record<string, unknown>;
        sessionId?: string;
        result?: Record<string, unknown>;
        error?: { message: string };
      };
      if (msg.id !== undefined) {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (!p) return;
        if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
        else p.resolve(msg.result ?? {});
      } else if (msg.method) {
        const key = `${msg.sessionId ?? ''}:${msg.method}`;
        const list = this.waiters.get(key);
        if (list && list.length > 0) {
          this.waiters.delete(key);
          for (const w of list) w(msg.params ?? {});
        }
      }
    });
  }

  static async launch(): Promise<Browser> {
    const profile = mkdtempSync(join(tmpdir(), 'wampgate-chromium-'));
    const proc = spawn(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--hide-scrollbars',
        '--remote-debugging-address=127.0.0.1',
        '--remote-debugging-port=0',
        `--user-data-dir=${profile}`,
        'about:blank',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    const url = await withTimeout(
      new Promise<string>((resolve, reject) => {
        proc.stderr?.setEncoding('utf8');
        proc.stderr?.on('data', (c: string) => {
          stderr += c;
          const m = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
          if (m?.[1]) resolve(m[1]);
        });
        proc.on('exit', (code) => reject(new Error(`chromium exited (${code}) before DevTools listened:\n${stderr}`)));
      }),
      30_000,
      'Chromium to print its DevTools address',
    );
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
    await withTimeout(new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject)), 10_000, 'the DevTools WebSocket');
    return new Browser(proc, ws, profile);
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const p = new Promise<Record<string, unknown>>((resolve, reject) => this.pending.set(id, { resolve, reject, method }));
    this.ws.send(JSON.stringify(sessionId ? { id, method, params, sessionId } : { id, method, params }));
    return withTimeout(p, 30_000, `CDP ${method}`);
  }

  once(method: string, sessionId: string, ms: number): Promise<Record<string, unknown>> {
    const key = `${sessionId}:${method}`;
    const p = new Promise<Record<string, unknown>>((resolve) => {
      const list = this.waiters.get(key) ?? [];
      list.push(resolve);
      this.waiters.set(key, list);
    });
    return withTimeout(p, ms, `CDP event ${method}`);
  }

  /** A new tab of the given viewport size, navigated to `url` and loaded. */
  async open(url: string, viewport: { width: number; height: number }): Promise<Page> {
    const { targetId } = (await this.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
    const { sessionId } = (await this.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    const page = new Page(this, sessionId, targetId);
    await page.send('Page.enable');
    await page.send('Runtime.enable');
    await page.send('Emulation.setDeviceMetricsOverride', {
      width: viewport.width,
      height: viewport.height,
      deviceScaleFactor: 1,
      // A phone-width viewport behaves like a phone (meta viewport honoured).
      mobile: viewport.width < 600,
    });
    await page.goto(url);
    return page;
  }

  async close(): Promise<void> {
    try {
      await this.send('Browser.close');
    } catch {
      // Already gone.
    }
    this.ws.close();
    if (this.proc.exitCode === null) {
      await withTimeout(new Promise((r) => this.proc.once('exit', r)), 10_000, 'Chromium to exit').catch(() => this.proc.kill('SIGKILL'));
    }
    rmSync(this.profile, { recursive: true, force: true });
  }
}

export class Page {
  constructor(
    private readonly browser: Browser,
    readonly sessionId: string,
    readonly targetId: string,
  ) {}

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.browser.send(method, params, this.sessionId);
  }

  async goto(url: string): Promise<void> {
    const loaded = this.browser.once('Page.loadEventFired', this.sessionId, 30_000);
    await this.send('Page.navigate', { url });
    await loaded;
  }

  /** Evaluates an expression in the page and returns its JSON value. */
  async evaluate<T>(expression: string): Promise<T> {
    const r = (await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true })) as {
      result: { value?: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (r.exceptionDetails) throw new Error(`page threw: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value as T;
  }

  /** Waits (bounded) until `expression` is truthy in the page. */
  async waitFor(expression: string, what: string, ms = 15_000): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (await this.evaluate<boolean>(`!!(${expression})`)) return;
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** A PNG of the whole page (not only the viewport), or of the part from `y` down `height` pixels. */
  async screenshot(path: string, part?: { y: number; height: number }): Promise<void> {
    const m = (await this.send('Page.getLayoutMetrics')) as { cssContentSize: { width: number; height: number } };
    const width = Math.ceil(m.cssContentSize.width);
    const height = Math.ceil(m.cssContentSize.height);
    const y = Math.min(part?.y ?? 0, height);
    const r = (await this.send('Page.captureScreenshot', {
      format: 'png',
      captureBeyondViewport: true,
      clip: { x: 0, y, width, height: Math.min(part?.height ?? height, height - y), scale: 1 },
    })) as { data: string };
    writeFileSync(path, Buffer.from(r.data, 'base64'));
  }

  async close(): Promise<void> {
    await this.browser.send('Target.closeTarget', { targetId: this.targetId }).catch(() => undefined);
  }
}
