/**
 * A small driver for headless Chromium over the Chrome DevTools Protocol,
 * for the page's tests: it launches Debian's `/usr/bin/chromium` with a fresh
 * profile, talks to it with Deno's own `WebSocket`, and opens pages, each in
 * a fresh browser context (its own cookies and storage). No npm package.
 *
 * Every wait has a named timeout; `Browser.close` stops Chromium, closes the
 * socket, ends the stderr stream and removes the profile, so tests keep the
 * op and resource sanitizers on.
 *
 * @module
 */

/** Where Debian installs Chromium. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** How long one DevTools command may take. */
const COMMAND_MS = 15_000;

/** The default time {@linkcode Page.waitFor} waits. */
const WAIT_MS = 5_000;

type Params = Record<string, unknown>;

interface CdpMessage {
  id?: number;
  method?: string;
  params?: Params;
  result?: Params;
  error?: { code: number; message: string };
  sessionId?: string;
}

interface Pending {
  method: string;
  resolve: (result: Params) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** One DevTools WebSocket: commands with ids, events to listeners. */
class Connection {
  readonly #socket: WebSocket;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Set<(message: CdpMessage) => void>();
  readonly #closed: Promise<void>;
  #nextId = 1;
  #open = true;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    this.#closed = new Promise((resolve) => {
      socket.addEventListener("close", () => {
        this.#open = false;
        for (const [id, pending] of this.#pending) {
          clearTimeout(pending.timer);
          pending.reject(new Error(`${pending.method}: the browser went away`));
          this.#pending.delete(id);
        }
        resolve();
      });
    });
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(String(event.data)) as CdpMessage;
      if (message.id !== undefined) {
        const pending = this.#pending.get(message.id);
        if (pending === undefined) return;
        this.#pending.delete(message.id);
        clearTimeout(pending.timer);
        if (message.error) {
          pending.reject(
            new Error(`${pending.method}: ${message.error.message}`),
          );
        } else {
          pending.resolve(message.result ?? {});
        }
        return;
      }
      for (const listener of [...this.#listeners]) listener(message);
    });
  }

  /** Connects to `url`, failing after `timeoutMs`. */
  static async open(url: string, timeoutMs: number): Promise<Connection> {
    const socket = new WebSocket(url);
    const connection = new Connection(socket);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(
          () =>
            reject(new Error(`DevTools socket not open in ${timeoutMs} ms`)),
          timeoutMs,
        );
        socket.addEventListener("open", () => resolve());
        socket.addEventListener(
          "close",
          () => reject(new Error("DevTools socket closed while opening")),
        );
      });
    } catch (error) {
      await connection.close();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return connection;
  }

  /** Sends a command (to a page's session if given) and awaits its result. */
  send(
    method: string,
    params: Params = {},
    sessionId?: string,
  ): Promise<Params> {
    if (!this.#open) {
      return Promise.reject(new Error(`${method}: the browser went away`));
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${method} took more than ${COMMAND_MS} ms`));
      }, COMMAND_MS);
      this.#pending.set(id, { method, resolve, reject, timer });
      this.#socket.send(JSON.stringify({ id, method, params, sessionId }));
    });
  }

  /** Calls `listener` with every event; returns a function that stops it. */
  listen(listener: (message: CdpMessage) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Closes the socket and waits until it is closed. */
  async close(): Promise<void> {
    if (this.#open) {
      try {
        this.#socket.close();
      } catch {
        // Closing already.
      }
    }
    await this.#closed;
  }
}

/** Options of {@linkcode Browser.launch}. */
export interface LaunchOptions {
  /** The Chromium binary; {@linkcode CHROMIUM_PATH} by default. */
  executable?: string;
  /** How long Chromium may take to start; 20 s by default. */
  startTimeoutMs?: number;
}

/** Options of {@linkcode Browser.newPage}. */
export interface PageOptions {
  /** Viewport width in CSS pixels; 1024 by default. */
  width?: number;
  /** Viewport height in CSS pixels; 768 by default. */
  height?: number;
  /** Emulate a phone (meta viewport, touch-sized scrollbars). */
  mobile?: boolean;
}

/** A headless Chromium with a fresh profile, driven over DevTools. */
export class Browser {
  /** Chromium's stderr so far, by lines (for failure messages). */
  readonly stderr: string[];
  readonly #child: Deno.ChildProcess;
  readonly #connection: Connection;
  readonly #profile: string;
  readonly #stderrDone: Promise<void>;
  readonly #stopReading: () => Promise<void>;
  readonly #pages = new Set<Page>();
  #closed = false;

  private constructor(parts: {
    child: Deno.ChildProcess;
    connection: Connection;
    profile: string;
    stderr: string[];
    stderrDone: Promise<void>;
    stopReading: () => Promise<void>;
  }) {
    this.#child = parts.child;
    this.#connection = parts.connection;
    this.#profile = parts.profile;
    this.stderr = parts.stderr;
    this.#stderrDone = parts.stderrDone;
    this.#stopReading = parts.stopReading;
  }

  /** Starts Chromium headless and connects to its DevTools socket. */
  static async launch(options: LaunchOptions = {}): Promise<Browser> {
    const startTimeoutMs = options.startTimeoutMs ?? 20_000;
    const profile = await Deno.makeTempDir({ prefix: "chat_chromium_" });
    const child = new Deno.Command(options.executable ?? CHROMIUM_PATH, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-dev-shm-usage",
        "--mute-audio",
        "--hide-scrollbars",
        "--remote-debugging-port=0",
        `--user-data-dir=${profile}`,
        "about:blank",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr: string[] = [];
    let announce: (url: string) => void = () => {};
    let ended: () => void = () => {};
    const devtoolsUrl = new Promise<string>((resolve, reject) => {
      announce = resolve;
      ended = () => reject(new Error("Chromium exited before DevTools"));
    });
    const reader = child.stderr.pipeThrough(new TextDecoderStream())
      .getReader();
    const stderrDone = (async () => {
      let partial = "";
      try {
        while (true) {
          const { value, done } = await reader.read();
          if (done) break;
          const lines = (partial + value).split("\n");
          partial = lines.pop()!;
          for (const line of lines) {
            stderr.push(line);
            const match = line.match(/^DevTools listening on (ws:\/\/\S+)/);
            if (match) announce(match[1]);
          }
        }
      } catch {
        // Cancelled by close.
      } finally {
        ended();
      }
    })();
    const stopReading = async () => {
      await reader.cancel().catch(() => {});
      await stderrDone;
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    let connection: Connection;
    try {
      const url = await Promise.race([
        devtoolsUrl,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new Error(
                  `Chromium did not start in ${startTimeoutMs} ms: ${
                    stderr.slice(-5).join(" | ")
                  }`,
                ),
              ),
            startTimeoutMs,
          );
        }),
      ]);
      connection = await Connection.open(url, startTimeoutMs);
    } catch (error) {
      clearTimeout(timer);
      await stopProcess(child);
      await stopReading();
      await removeProfile(profile);
      throw error;
    }
    clearTimeout(timer);
    return new Browser({
      child,
      connection,
      profile,
      stderr,
      stderrDone,
      stopReading,
    });
  }

  /** Opens a blank page in a fresh browser context. */
  async newPage(options: PageOptions = {}): Promise<Page> {
    const connection = this.#connection;
    const { browserContextId } = await connection.send(
      "Target.createBrowserContext",
    ) as { browserContextId: string };
    const { targetId } = await connection.send("Target.createTarget", {
      url: "about:blank",
      browserContextId,
    }) as { targetId: string };
    const { sessionId } = await connection.send("Target.attachToTarget", {
      targetId,
      flatten: true,
    }) as { sessionId: string };
    const page = new Page({
      connection,
      targetId,
      browserContextId,
      sessionId,
      onClose: () => this.#pages.delete(page),
    });
    this.#pages.add(page);
    try {
      await page.start(options);
    } catch (error) {
      await page.close();
      throw error;
    }
    return page;
  }

  /**
   * Closes every page, asks Chromium to quit (killing it if it does not
   * within 5 s), closes the socket, ends stderr and removes the profile.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const page of [...this.#pages]) {
      await page.close().catch(() => {});
    }
    await this.#connection.send("Browser.close").catch(() => {});
    await this.#connection.close();
    await stopProcess(this.#child);
    await this.#stopReading();
    await this.#stderrDone;
    await removeProfile(this.#profile);
  }
}

/** Waits up to 5 s for `child` to exit, then kills it and waits. */
async function stopProcess(child: Deno.ChildProcess): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = await Promise.race([
    child.status.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), 5_000);
    }),
  ]);
  clearTimeout(timer);
  if (!exited) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Gone already.
    }
  }
  await child.status;
}

/** Removes Chromium's profile, retrying while its helpers still write. */
async function removeProfile(profile: string): Promise<void> {
  for (let attempt = 0;; attempt++) {
    try {
      await Deno.remove(profile, { recursive: true });
      return;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      if (attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** The key presses {@linkcode Page.press} knows. */
export type Key = "Enter" | "Tab" | "Escape" | "Backspace" | "Space";

const KEYS: Record<
  Key,
  { key: string; code: string; keyCode: number; text?: string }
> = {
  Enter: { key: "Enter", code: "Enter", keyCode: 13, text: "\r" },
  Tab: { key: "Tab", code: "Tab", keyCode: 9 },
  Escape: { key: "Escape", code: "Escape", keyCode: 27 },
  Backspace: { key: "Backspace", code: "Backspace", keyCode: 8 },
  Space: { key: " ", code: "Space", keyCode: 32, text: " " },
};

/** Modifier keys held during {@linkcode Page.press}. */
export interface KeyModifiers {
  /** Shift held. */
  shift?: boolean;
}

/** One tab, attached over a flat session. */
export class Page {
  /** The messages of dialogs (`alert`, `confirm`...) that opened. */
  readonly dialogs: string[] = [];
  /**
   * Uncaught exceptions, `console.error` calls and the browser's own error
   * entries (CSP violations among them) but network ones, which a page that
   * reconnects to a server that is down makes on purpose.
   */
  readonly errors: string[] = [];
  /** The browser's network error entries (failed connections). */
  readonly networkErrors: string[] = [];
  readonly #connection: Connection;
  readonly #targetId: string;
  readonly #browserContextId: string;
  readonly #sessionId: string;
  readonly #onClose: () => void;
  readonly #unlisten: () => void;
  readonly #waiters = new Set<(method: string) => void>();
  #closed = false;

  /** Use {@linkcode Browser.newPage}. */
  constructor(parts: {
    connection: Connection;
    targetId: string;
    browserContextId: string;
    sessionId: string;
    onClose: () => void;
  }) {
    this.#connection = parts.connection;
    this.#targetId = parts.targetId;
    this.#browserContextId = parts.browserContextId;
    this.#sessionId = parts.sessionId;
    this.#onClose = parts.onClose;
    this.#unlisten = this.#connection.listen((message) => {
      if (message.sessionId !== this.#sessionId) return;
      this.#onEvent(message.method ?? "", message.params ?? {});
    });
  }

  #onEvent(method: string, params: Params): void {
    switch (method) {
      case "Page.javascriptDialogOpening":
        this.dialogs.push(String(params.message));
        this.#send("Page.handleJavaScriptDialog", { accept: false })
          .catch(() => {});
        break;
      case "Runtime.exceptionThrown": {
        const details = params.exceptionDetails as {
          text?: string;
          exception?: { description?: string };
        };
        this.errors.push(
          details.exception?.description ?? details.text ?? "exception",
        );
        break;
      }
      case "Runtime.consoleAPICalled":
        if (params.type === "error" || params.type === "assert") {
          const args = params.args as {
            value?: unknown;
            description?: string;
          }[];
          this.errors.push(
            args.map((a) => String(a.value ?? a.description)).join(" "),
          );
        }
        break;
      case "Log.entryAdded": {
        const entry = params.entry as {
          level: string;
          source: string;
          text: string;
          url?: string;
        };
        if (entry.level !== "error") break;
        const text = `${entry.source}: ${entry.text}`;
        if (entry.source === "network") this.networkErrors.push(text);
        else this.errors.push(text);
        break;
      }
    }
    for (const waiter of [...this.#waiters]) waiter(method);
  }

  #send(method: string, params: Params = {}): Promise<Params> {
    return this.#connection.send(method, params, this.#sessionId);
  }

  /** Enables the domains the page reports through and sets the viewport. */
  async start(options: PageOptions): Promise<void> {
    await this.#send("Page.enable");
    await this.#send("Runtime.enable");
    await this.#send("Log.enable");
    await this.setViewport(options);
  }

  /** Sets the viewport's size and whether it is a phone's. */
  async setViewport(options: PageOptions): Promise<void> {
    await this.#send("Emulation.setDeviceMetricsOverride", {
      width: options.width ?? 1024,
      height: options.height ?? 768,
      deviceScaleFactor: 1,
      mobile: options.mobile ?? false,
    });
  }

  /** Emulates a time zone (an IANA name such as `Asia/Kolkata`). */
  async setTimezone(timezoneId: string): Promise<void> {
    await this.#send("Emulation.setTimezoneOverride", { timezoneId });
  }

  /** Emulates `prefers-color-scheme`. */
  async setColorScheme(scheme: "light" | "dark"): Promise<void> {
    await this.#send("Emulation.setEmulatedMedia", {
      features: [{ name: "prefers-color-scheme", value: scheme }],
    });
  }

  /**
   * Takes the page off the network or puts it back, as a lost Wi-Fi would:
   * no new connection (a WebSocket's included) succeeds while off, and
   * the page gets `offline` and `online` events.
   */
  async setOffline(offline: boolean): Promise<void> {
    await this.#send("Network.enable");
    await this.#send("Network.emulateNetworkConditions", {
      offline,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
  }

  /** Waits for `method` on this page, failing after `timeoutMs`. */
  async #event(
    method: string,
    start: () => Promise<unknown>,
    timeoutMs: number,
  ): Promise<void> {
    let waiter: (name: string) => void = () => {};
    let timer: ReturnType<typeof setTimeout> | undefined;
    const seen = new Promise<void>((resolve, reject) => {
      waiter = (name) => {
        if (name === method) resolve();
      };
      timer = setTimeout(
        () => reject(new Error(`no ${method} within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    this.#waiters.add(waiter);
    try {
      await start();
      await seen;
    } finally {
      this.#waiters.delete(waiter);
      clearTimeout(timer);
    }
  }

  /** Loads `url` and waits for its `load` event. */
  async navigate(url: string, timeoutMs = 10_000): Promise<void> {
    await this.#event("Page.loadEventFired", async () => {
      const result = await this.#send("Page.navigate", { url });
      if (typeof result.errorText === "string" && result.errorText !== "") {
        throw new Error(`loading ${url}: ${result.errorText}`);
      }
    }, timeoutMs);
  }

  /**
   * Evaluates `expression` in the page (awaiting a promise it gives) and
   * returns its value as JSON; throws what the page threw.
   */
  async evaluate<T>(expression: string): Promise<T> {
    const result = await this.#send("Runtime.evaluate", {
      expression,
      awaitPromise: true,
      returnByValue: true,
      userGesture: true,
    }) as {
      result: { value?: T };
      exceptionDetails?: {
        text?: string;
        exception?: { description?: string };
      };
    };
    if (result.exceptionDetails) {
      const details = result.exceptionDetails;
      throw new Error(
        `in the page: ${details.exception?.description ?? details.text}`,
      );
    }
    return result.result.value as T;
  }

  /**
   * Evaluates `expression` every 25 ms until its value is truthy and
   * returns that value; fails after `timeoutMs` naming `what` and the last
   * value seen.
   */
  async waitFor<T>(
    expression: string,
    what: string,
    timeoutMs = WAIT_MS,
  ): Promise<T> {
    const deadline = performance.now() + timeoutMs;
    let last: unknown;
    while (true) {
      last = await this.evaluate<T>(expression);
      if (last) return last as T;
      if (performance.now() > deadline) {
        throw new Error(
          `Timed out after ${timeoutMs} ms waiting for ${what} (last: ${
            JSON.stringify(last)
          }; page errors: ${JSON.stringify(this.errors)})`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Types `text` into the focused element, as an IME or a paste would. */
  async insertText(text: string): Promise<void> {
    await this.#send("Input.insertText", { text });
  }

  /** Presses and releases `key` on the focused element. */
  async press(key: Key, modifiers: KeyModifiers = {}): Promise<void> {
    const { key: name, code, keyCode, text } = KEYS[key];
    const common = {
      key: name,
      code,
      windowsVirtualKeyCode: keyCode,
      nativeVirtualKeyCode: keyCode,
      modifiers: modifiers.shift ? 8 : 0,
    };
    await this.#send("Input.dispatchKeyEvent", {
      type: text === undefined ? "rawKeyDown" : "keyDown",
      text,
      unmodifiedText: text,
      ...common,
    });
    await this.#send("Input.dispatchKeyEvent", { type: "keyUp", ...common });
  }

  /**
   * Makes the page believe it is hidden or visible again: headless Chromium
   * keeps every tab visible, so this overrides `document.visibilityState`
   * and `document.hidden` and fires `visibilitychange`, as a tab switch
   * would.
   */
  async setHidden(hidden: boolean): Promise<void> {
    await this.evaluate(`(() => {
      const hidden = ${hidden};
      Object.defineProperty(document, "visibilityState", {
        value: hidden ? "hidden" : "visible",
        configurable: true,
      });
      Object.defineProperty(document, "hidden", {
        value: hidden,
        configurable: true,
      });
      document.dispatchEvent(new Event("visibilitychange"));
    })()`);
  }

  /** A PNG of the viewport. */
  async screenshot(): Promise<Uint8Array> {
    const { data } = await this.#send("Page.captureScreenshot", {
      format: "png",
    }) as { data: string };
    return Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  }

  /** Closes the tab and its browser context; safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unlisten();
    this.#onClose();
    await this.#connection.send("Target.closeTarget", {
      targetId: this.#targetId,
    }).catch(() => {});
    await this.#connection.send("Target.disposeBrowserContext", {
      browserContextId: this.#browserContextId,
    }).catch(() => {});
  }
}
