/**
 * What every program's flags share: `node:util`'s `parseArgs`, checked
 * numbers, one readable line for a bad flag, and the password variable.
 *
 * @module
 */

import { parseArgs } from "node:util";

/** The outcome of parsing: flags, a request for help, or an error line. */
export type Parsed<T> =
  | { kind: "run"; flags: T }
  | { kind: "help" }
  | { kind: "error"; message: string };

const WHOLE = /^\d+$/;
const DECIMAL = /^\d+(\.\d+)?$/;

/** Parses a number flag, throwing the one line a person sees for a bad value. */
export function number(
  flag: string,
  value: string | undefined,
  rule: { whole: boolean; max?: number; min?: number },
): number | undefined {
  if (value === undefined) return undefined;
  const parsed = (rule.whole ? WHOLE : DECIMAL).test(value)
    ? Number(value)
    : NaN;
  const min = rule.min ?? 0;
  if (
    !Number.isFinite(parsed) || parsed < min ||
    (rule.max !== undefined && parsed > rule.max)
  ) {
    const range = rule.max !== undefined
      ? `from ${min} to ${rule.max}`
      : `of ${min} or more`;
    throw new Error(
      `Invalid value for --${flag}: "${value}" (expected a ${
        rule.whole ? "whole number" : "number"
      } ${range}).`,
    );
  }
  return parsed;
}

/** Parses a duration flag given in seconds, into ms. */
export function seconds(
  flag: string,
  value: string | undefined,
): number | undefined {
  const s = number(flag, value, { whole: false });
  return s === undefined ? undefined : Math.round(s * 1000);
}

/** Parses `args` with `options` (and `--help`) and builds the flags from the values. */
export function parse<T>(
  args: string[],
  options: Record<string, { type: "string" | "boolean"; multiple?: boolean }>,
  build: (
    values: Record<string, string | boolean | string[] | undefined>,
  ) => T,
): Parsed<T> {
  try {
    const { values, positionals } = parseArgs({
      args: negativesJoined(args, options),
      options: { ...options, help: { type: "boolean" } },
      strict: true,
      allowPositionals: true,
    });
    if (values.help) return { kind: "help" };
    if (positionals.length > 0) {
      throw new Error(`Unexpected argument: "${positionals[0]}".`);
    }
    return { kind: "run", flags: build(values) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const fromParseArgs = (error as { code?: string }).code?.startsWith(
      "ERR_PARSE_ARGS",
    );
    // parseArgs' own messages go on with advice for scripts; the first
    // sentence is the part a person needs.
    return {
      kind: "error",
      message: fromParseArgs
        ? message.split(/\n|\. /)[0].replace(/\.$/, "") + "."
        : message,
    };
  }
}

// A value that looks like a negative number ("-1", "-0.5", "-2e3").
const NEGATIVE = /^-\.?\d/;

// parseArgs takes `--history -1` for two options and answers "argument is
// ambiguous"; a negative number after a flag that takes a value is that
// value, as with `--history=-1`, so that it gets the flag's own message.
function negativesJoined(
  args: string[],
  options: Record<string, { type: "string" | "boolean" }>,
): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      joined.push(...args.slice(i));
      break;
    }
    const next = args[i + 1];
    const name = arg.startsWith("--") ? arg.slice(2) : "";
    if (
      next !== undefined && NEGATIVE.test(next) &&
      Object.hasOwn(options, name) && options[name].type === "string"
    ) {
      joined.push(`${arg}=${next}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

/**
 * The password in the environment variable `CHAT_PASSWORD` (preferred to
 * `--password`, which shows in the process list), or undefined if it is unset
 * or the program may not read it.
 */
export function passwordFromEnv(): string | undefined {
  const permission = { name: "env", variable: "CHAT_PASSWORD" } as const;
  if (Deno.permissions.querySync(permission).state !== "granted") {
    return undefined;
  }
  return Deno.env.get("CHAT_PASSWORD") || undefined;
}
