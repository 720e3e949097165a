/**
 * IRC load client: registers with `NICK`/`USER` (waits for `001`), joins
 * `#chat` (waits for `366`, the end of its NAMES list), answers `PING`
 * with `PONG`, and translates between IRC and the TCP chat protocol the
 * scenarios speak:
 *
 * | IRC received                             | the scenario sees               |
 * | ---------------------------------------- | ------------------------------- |
 * | `:nick!user@host PRIVMSG #chat :text`    | `nick: text`                    |
 * | `:nick!user@host PRIVMSG me :text`       | `Private message from nick: text` |
 * | `:nick!user@host JOIN #chat` (not mine)  | `*** nick has joined the chat.` |
 * | `:nick!user@host QUIT`/`PART`            | `*** nick has left the chat.`   |
 *
 * and a line `text` to send becomes `PRIVMSG #chat :text`, `@nick text`
 * becomes `PRIVMSG nick :text`. Numerics, notices and mode changes after
 * registration are ignored; our own channel messages echoed back (some
 * servers do) are counted in {@linkcode IrcLoadClient.ownEchoes}.
 * Parsing works on bytes; no strings are made for chat lines.
 *
 * @module
 */

import { decoder, encoder } from "./codec.ts";
import { quoteLine, StreamClient } from "./client_base.ts";
import type { ClientOptions } from "./load_client.ts";

/** The channel every client joins. */
export const IRC_CHANNEL = "#chat";

const B_PRIVMSG = encoder.encode("PRIVMSG");
const B_JOIN = encoder.encode("JOIN");
const B_QUIT = encoder.encode("QUIT");
const B_PART = encoder.encode("PART");
const B_PING = encoder.encode("PING");
const B_ERROR = encoder.encode("ERROR");
const OUT_CHAN = encoder.encode(`PRIVMSG ${IRC_CHANNEL} :`);
const OUT_PRIV = encoder.encode("PRIVMSG ");
const PM_FROM = encoder.encode("Private message from ");
const JOINED = encoder.encode(" has joined the chat.");
const LEFT = encoder.encode(" has left the chat.");
const STARS = encoder.encode("*** ");

let scratch = new Uint8Array(1024);

function room(n: number): Uint8Array {
  if (scratch.length < n) scratch = new Uint8Array(n * 2);
  return scratch;
}

function equalAt(
  buf: Uint8Array,
  start: number,
  end: number,
  word: Uint8Array,
): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) {
    if (buf[start + i] !== word[i]) return false;
  }
  return true;
}

/** Numerics that end an attempt to register and join. */
const FATAL_BEFORE_REGISTRATION = new Set([
  403, // no such channel
  405, // too many channels
  421, // unknown command
  431, // no nickname given
  432, // erroneous nickname
  433, // nickname in use
  436, // nickname collision
  437, // nick/channel temporarily unavailable
  451, // not registered
  461, // need more parameters
  462, // already registered
  464, // password mismatch
  465, // banned
  471, // channel is full
  473, // invite only
  474, // banned from channel
  475, // bad channel key
  477, // channel needs registered nick
]);

/** Registration progress. */
const Phase = { AwaitWelcome: 0, AwaitNames: 1, Registered: 2 } as const;
type Phase = typeof Phase[keyof typeof Phase];

/** One simulated IRC user in `#chat`. */
export class IrcLoadClient extends StreamClient {
  /** Our own channel messages the server echoed back. */
  ownEchoes = 0;
  #phase: Phase = Phase.AwaitWelcome;
  readonly #nameBytes: Uint8Array;

  private constructor(
    conn: Deno.TcpConn,
    opts: ClientOptions,
    startedAt: number,
  ) {
    super(conn, opts, startedAt);
    this.#nameBytes = encoder.encode(opts.name);
  }

  /** Connects, starts reading and sends `NICK` and `USER`. */
  static async open(opts: ClientOptions): Promise<IrcLoadClient> {
    const { conn, startedAt } = await StreamClient.dialTcp(opts);
    const c = new IrcLoadClient(conn, opts, startedAt);
    c.start();
    c.queueText(`NICK ${opts.name}\r\nUSER ${opts.name} 0 * :bench\r\n`);
    return c;
  }

  /** Sends `text\n` to the channel or `@nick text\n` to one user. */
  send(line: Uint8Array): void {
    if (this.closing) return;
    let end = line.length;
    if (end > 0 && line[end - 1] === 10) end--;
    if (line[0] === 64 /* @ */) {
      let sp = line.indexOf(32);
      if (sp < 0 || sp > end) sp = end;
      const textStart = Math.min(sp + 1, end);
      const n = OUT_PRIV.length + (sp - 1) + 2 + (end - textStart) + 2;
      const { buf, offset } = this.reserve(n);
      let o = offset;
      buf.set(OUT_PRIV, o);
      o += OUT_PRIV.length;
      buf.set(line.subarray(1, sp), o);
      o += sp - 1;
      buf[o++] = 32;
      buf[o++] = 58;
      buf.set(line.subarray(textStart, end), o);
      o += end - textStart;
      buf[o++] = 13;
      buf[o++] = 10;
      this.commit(o);
      return;
    }
    const { buf, offset } = this.reserve(OUT_CHAN.length + end + 2);
    let o = offset;
    buf.set(OUT_CHAN, o);
    o += OUT_CHAN.length;
    buf.set(line.subarray(0, end), o);
    o += end;
    buf[o++] = 13;
    buf[o++] = 10;
    this.commit(o);
  }

  /** Sends `QUIT` and waits (bounded) for the server to close. */
  async quit(timeoutMs: number): Promise<void> {
    if (this.closing) return;
    this.quitting = true;
    this.queueText("QUIT :bench done\r\n");
    await this.awaitEnd(timeoutMs);
  }

  /** Reads IRC lines until EOF. */
  protected readLoop(): Promise<void> {
    return this.readLines((buf, start, end, now) =>
      this.#onIrcLine(buf, start, end, now)
    );
  }

  #onIrcLine(buf: Uint8Array, start: number, end: number, now: number): void {
    if (end === start) return;
    let p = start;
    let nickStart = -1;
    let nickEnd = -1;
    if (buf[p] === 58 /* : */) {
      let sp = buf.indexOf(32, p);
      if (sp < 0 || sp > end) sp = end;
      nickStart = p + 1;
      nickEnd = sp;
      for (let i = nickStart; i < sp; i++) {
        if (buf[i] === 33 /* ! */ || buf[i] === 64 /* @ */) {
          nickEnd = i;
          break;
        }
      }
      p = sp + 1;
    }
    let cmdEnd = buf.indexOf(32, p);
    if (cmdEnd < 0 || cmdEnd > end) cmdEnd = end;
    const cmdStart = p;
    const argStart = Math.min(cmdEnd + 1, end);

    if (equalAt(buf, cmdStart, cmdEnd, B_PRIVMSG) && nickStart >= 0) {
      let tEnd = buf.indexOf(32, argStart);
      if (tEnd < 0 || tEnd > end) tEnd = end;
      let textStart = Math.min(tEnd + 1, end);
      if (buf[textStart] === 58) textStart++;
      const toChannel = buf[argStart] === 35; /* # */
      const nickLen = nickEnd - nickStart;
      if (toChannel) {
        if (equalAt(buf, nickStart, nickEnd, this.#nameBytes)) {
          this.ownEchoes++;
          return;
        }
        const out = room(nickLen + 2 + end - textStart);
        out.set(buf.subarray(nickStart, nickEnd), 0);
        out[nickLen] = 58;
        out[nickLen + 1] = 32;
        out.set(buf.subarray(textStart, end), nickLen + 2);
        this.#deliver(out, nickLen + 2 + end - textStart, now);
      } else {
        const h = PM_FROM.length;
        const len = h + nickLen + 2 + end - textStart;
        const out = room(len);
        out.set(PM_FROM, 0);
        out.set(buf.subarray(nickStart, nickEnd), h);
        out[h + nickLen] = 58;
        out[h + nickLen + 1] = 32;
        out.set(buf.subarray(textStart, end), h + nickLen + 2);
        this.#deliver(out, len, now);
      }
      return;
    }
    if (equalAt(buf, cmdStart, cmdEnd, B_JOIN) && nickStart >= 0) {
      if (equalAt(buf, nickStart, nickEnd, this.#nameBytes)) {
        if (this.#phase === Phase.AwaitWelcome) this.#phase = Phase.AwaitNames;
        return;
      }
      this.#notice(buf, nickStart, nickEnd, JOINED, now);
      return;
    }
    if (
      (equalAt(buf, cmdStart, cmdEnd, B_QUIT) ||
        equalAt(buf, cmdStart, cmdEnd, B_PART)) && nickStart >= 0
    ) {
      if (!equalAt(buf, nickStart, nickEnd, this.#nameBytes)) {
        this.#notice(buf, nickStart, nickEnd, LEFT, now);
      }
      return;
    }
    if (equalAt(buf, cmdStart, cmdEnd, B_PING)) {
      const { buf: out, offset } = this.reserve(end - cmdStart + 2);
      out.set(encoder.encode("PONG"), offset);
      out.set(buf.subarray(cmdEnd, end), offset + 4);
      let o = offset + 4 + (end - cmdEnd);
      out[o++] = 13;
      out[o++] = 10;
      this.commit(o);
      return;
    }
    if (equalAt(buf, cmdStart, cmdEnd, B_ERROR)) {
      if (this.quitting) {
        this.saidGoodbye = true;
        return;
      }
      const text = decoder.decode(buf.subarray(start, end));
      if (!this.isRegistered) this.registrationFailed(quoteLine(text));
      else this.ctx.fail(`client ${this.name}: server said ${quoteLine(text)}`);
      return;
    }
    const isNumeric = cmdEnd - cmdStart === 3 && buf[cmdStart] >= 48 &&
      buf[cmdStart] <= 57;
    if (isNumeric) {
      const code = (buf[cmdStart] - 48) * 100 + (buf[cmdStart + 1] - 48) * 10 +
        (buf[cmdStart + 2] - 48);
      this.#numeric(code, buf, start, end, now);
      return;
    }
    // NOTICE, MODE, TOPIC, CAP...: nothing a chat scenario counts.
  }

  #numeric(
    code: number,
    buf: Uint8Array,
    start: number,
    end: number,
    now: number,
  ): void {
    if (code === 1 && this.#phase === Phase.AwaitWelcome) {
      this.queueText(`JOIN ${IRC_CHANNEL}\r\n`);
      return;
    }
    if (code === 366 && !this.isRegistered) {
      this.#phase = Phase.Registered;
      this.markRegistered(now);
      return;
    }
    // Refused nick, unknown command, channel full, banned... (not 422,
    // "MOTD File is missing", nor other harmless 4xx like 401 or 404).
    if (!this.isRegistered && FATAL_BEFORE_REGISTRATION.has(code)) {
      this.registrationFailed(
        quoteLine(decoder.decode(buf.subarray(start, end))),
      );
      return;
    }
    if (code >= 400 && code < 600 && code !== 422) {
      this.ctx.warn(
        `irc-${code}`,
        `irc: ${this.name} got error ${
          quoteLine(decoder.decode(buf.subarray(start, end)))
        }`,
      );
    }
  }

  #notice(
    buf: Uint8Array,
    nickStart: number,
    nickEnd: number,
    tail: Uint8Array,
    now: number,
  ): void {
    const nickLen = nickEnd - nickStart;
    const len = STARS.length + nickLen + tail.length;
    const out = room(len);
    out.set(STARS, 0);
    out.set(buf.subarray(nickStart, nickEnd), STARS.length);
    out.set(tail, STARS.length + nickLen);
    this.#deliver(out, len, now);
  }

  #deliver(out: Uint8Array, len: number, now: number): void {
    this.handler.onLine(this, out, 0, len, now);
  }
}
