// Headless Chromium driven over the Chrome DevTools Protocol (a WebSocket to --remote-debugging-port), for tests
// that load a page in a real browser: evaluate JS in it, wait for a condition, take a screenshot.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Announcing, awaitAnnouncement } from "./child-stderr.ts";

/** Debian's `chromium` (setup.sh installs it), or $CHROMIUM. */
export function chromiumPath(): string {
  const found = process.env.CHROMIUM ?? Bun.which("chromium") ?? Bun.which("chromium-browser") ?? Bun.which("google-chrome");
  if (!found) throw new Error("no chromium on PATH: run ./setup.sh (it installs Debian's chromium) or set CHROMIUM=/path/to/chrome");
  return found;
}

interface Pending {
  resolve: (v: Record<string, unknown>) => void;
  reject: (e: Error) => void;
}

export class Browser {
  private nextId = 1;
  private pending = new Map<number, Pending>();

  private constructor(
    private readonly proc: ReturnType<typeof Bun.spawn>,
    private readonly ws: WebSocket,
    private readonly profile: string,
    readonly stderr: () => string,
  ) {
    ws.addEventListener("message", (ev) => {
      const msg = JSON.parse(String(ev.data)) as { id?: number; result?: Record<string, unknown>; error?: { message: string } };
      const p = msg.id !== undefined ? this.pending.get(msg.id) : undefined;
      if (!p) return;
      this.pending.delete(msg.id as number);
      if (msg.error) p.reject(new Error(`CDP: ${msg.error.message}`));
      else p.resolve(msg.result ?? {});
    });
  }

  /** Starts Chromium with a blank page of the given viewport and connects to that page. */
  static async launch(viewport: { width: number; height: number }, deadlineMs = 60_000): Promise<Browser> {
    const profile = mkdtempSync(join(tmpdir(), "azr-chromium-"));
    const proc = Bun.spawn(
      [
        chromiumPath(),
        "--headless",
        "--no-sandbox", // root in CI containers
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--remote-debugging-port=0",
        `--user-data-dir=${profile}`,
        `--window-size=${viewport.width},${viewport.height}`,
        "about:blank",
      ],
      { stdout: "ignore", stderr: "pipe", stdin: "ignore" },
    );
    const until = Date.now() + deadlineMs;
    const devtools = await awaitAnnouncement(proc as Announcing, /DevTools listening on ws:\/\/[^:]+:(\d+)\//, "chromium", deadlineMs);
    const port = Number(devtools.match[1]);
    let pageUrl: string | null = null;
    while (pageUrl === null) {
      if (Date.now() > until) throw new Error(`chromium listed no page target within ${deadlineMs} ms`);
      const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ type: string; webSocketDebuggerUrl: string }>;
      pageUrl = targets.find((t) => t.type === "page")?.webSocketDebuggerUrl ?? null;
      if (pageUrl === null) await Bun.sleep(200);
    }
    const ws = new WebSocket(pageUrl);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error(`cannot connect to ${pageUrl}`)), { once: true });
    });
    const browser = new Browser(proc, ws, profile, devtools.log);
    await browser.send("Page.enable");
    await browser.send("Runtime.enable");
    await browser.send("Emulation.setDeviceMetricsOverride", { width: viewport.width, height: viewport.height, deviceScaleFactor: 1, mobile: false });
    return browser;
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  async navigate(url: string): Promise<void> {
    await this.send("Page.navigate", { url });
  }

  /** The value of a JS expression in the page (promises awaited); a thrown exception is an error with its text. */
  async evaluate<T>(expression: string): Promise<T> {
    const r = (await this.send("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true })) as {
      result: { value?: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (r.exceptionDetails) throw new Error(`page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value as T;
  }

  /** Polls `expression` until it is truthy; returns its value. On timeout the error shows `describe`'s value. */
  async waitFor<T>(expression: string, timeoutMs: number, describe = "JSON.stringify(window.__dashboard ?? null)"): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const v = await this.evaluate<T>(expression).catch(() => null);
      if (v) return v;
      if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${expression}; page state: ${await this.evaluate<string>(describe).catch((e) => String(e))}`);
      await Bun.sleep(250);
    }
  }

  /** A PNG of the whole page (beyond the viewport). */
  async screenshot(): Promise<Uint8Array> {
    const r = (await this.send("Page.captureScreenshot", { format: "png", captureBeyondViewport: true })) as { data: string };
    return Buffer.from(r.data, "base64");
  }

  async close(): Promise<void> {
    try {
      this.ws.close();
    } catch {
      // already closed
    }
    this.proc.kill();
    await this.proc.exited;
    rmSync(this.profile, { recursive: true, force: true });
  }
}
