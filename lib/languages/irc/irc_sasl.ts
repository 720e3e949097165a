/**
 * Logging in to a registered name from IRC: IRCv3 `sasl` with the PLAIN
 * mechanism (RFC 4616), offered in `CAP LS` only where names can be
 * registered. `AUTHENTICATE PLAIN`, then the base64 of
 * `authzid NUL authcid NUL password` in chunks of 400 (`+` for an empty
 * one); 900 and 903 on success, 904 on failure (the login limiter's delay
 * or lock told in a NOTICE first), 905 for too long, 906 when the client
 * aborts (`AUTHENTICATE *`), 907 once logged in. The name is claimed, or
 * taken over from an older connection, when registration completes
 * (`irc_registration.ts`). `PASS` stays the server's password.
 *
 * @module
 */

import { formatUntil } from "../../room/durations.ts";
import type { AccountNotice } from "../../room/events.ts";
import { checkName, nameKey } from "../../room/registry.ts";
import { accountNoticeText, serverText } from "../../room/texts.ts";
import type { IrcClient } from "./irc_client.ts";
import { IRC_TRANSPORT, memberMask } from "./irc_format.ts";
import { IRC_CAPABILITIES } from "./irc_history.ts";
import { ircLine } from "./irc_message.ts";
import { ircText } from "./irc_texts.ts";

/** The one mechanism offered. */
export const SASL_MECHANISM = "PLAIN";

/** The most base64 one AUTHENTICATE line carries (IRCv3 `sasl`). */
export const SASL_CHUNK = 400;

// The base64 one login may not reach: two names and the longest password
// (512 bytes) take less; as much gets 905.
const SASL_MAX = 4 * SASL_CHUNK;

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * The capabilities `CAP LS` offers this client: `sasl` where names can be
 * registered, with its mechanism from version 302 on.
 */
export function offeredCaps(client: IrcClient, version: string): string[] {
  if (!client.session.accountsKept) return [...IRC_CAPABILITIES];
  const v302 = Number.parseInt(version, 10) >= 302;
  return [...IRC_CAPABILITIES, v302 ? `sasl=${SASL_MECHANISM}` : "sasl"];
}

/** Whether `CAP REQ` may ask for capability `name`. */
export function knownCap(client: IrcClient, name: string): boolean {
  return IRC_CAPABILITIES.includes(name) ||
    (name === "sasl" && client.session.accountsKept);
}

/** `AUTHENTICATE mechanism|data|*`. */
export function authenticate(
  client: IrcClient,
  params: string[],
): void | Promise<void> {
  const session = client.session;
  const arg = params[0];
  if (!session.accountsKept) {
    client.reply("saslFail");
    return;
  }
  if (client.account !== null) {
    client.reply("saslAlready");
    return;
  }
  if (client.registered) {
    // Logging in comes before registration; afterwards the nick is held.
    client.reply("alreadyRegistered");
    return;
  }
  if (arg === "*") {
    client.sasl = null;
    client.reply("saslAborted");
    return;
  }
  if (client.sasl === null) {
    if (arg.toUpperCase() !== SASL_MECHANISM) {
      client.reply("saslMechs", SASL_MECHANISM);
      return fail(client);
    }
    client.sasl = "";
    client.send(ircLine(null, "AUTHENTICATE", "+"));
    return;
  }
  if (arg.length > SASL_CHUNK || client.sasl.length + arg.length >= SASL_MAX) {
    client.sasl = null;
    client.reply("saslTooLong");
    return;
  }
  if (arg !== "+") client.sasl += arg;
  // A full chunk: more follows (a last full one is followed by `+`).
  if (arg.length === SASL_CHUNK) return;
  const data = client.sasl;
  client.sasl = null;
  return plain(client, data);
}

// The PLAIN message: who (authzid, empty or the same name) and password.
async function plain(client: IrcClient, data: string): Promise<void> {
  const session = client.session;
  const parts = decodePlain(data);
  if (parts === null) return fail(client);
  const [authzid, authcid, password] = parts;
  const { name, refusal } = checkName(authcid);
  if (
    refusal !== null || (authzid !== "" && nameKey(authzid) !== nameKey(name))
  ) {
    return fail(client);
  }
  if (session.needsPassword && !client.passwordOk) {
    client.send(client.serverNotice(ircText.saslNeedsPass));
    return fail(client);
  }
  const outcome = await session.login(name, password);
  if (outcome.kind === "ok") {
    client.account = name;
    client.reply(
      "loggedIn",
      [memberMask(name, IRC_TRANSPORT), name],
      name,
    );
    client.reply("saslSuccess");
    return;
  }
  const notice: AccountNotice | null = outcome.kind === "wait"
    ? { kind: "loginDelayed", name, seconds: Math.ceil(outcome.ms / 1000) }
    : outcome.kind === "locked"
    ? {
      kind: "loginLocked",
      name,
      until: formatUntil(outcome.until, Date.now()),
    }
    : outcome.kind === "unavailable"
    ? { kind: "unavailable" }
    : null;
  if (notice !== null) {
    client.send(client.serverNotice(accountNoticeText(notice)));
  }
  return fail(client);
}

// 904; a connection that keeps failing is closed, as a line client is.
function fail(client: IrcClient): void {
  client.reply("saslFail");
  if (++client.saslFailures > client.session.limits.maxNameAttempts) {
    client.closeLink(serverText.tooManyAttempts, "tooManyAttempts");
  }
}

// `authzid NUL authcid NUL password` from base64; null if it is not.
function decodePlain(data: string): [string, string, string] | null {
  let text: string;
  try {
    const binary = atob(data);
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    text = decoder.decode(bytes);
  } catch {
    return null;
  }
  const parts = text.split("\0");
  if (parts.length !== 3 || parts[1] === "" || parts[2] === "") return null;
  return [parts[0], parts[1], parts[2]];
}
