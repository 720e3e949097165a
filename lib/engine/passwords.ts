/**
 * Password hashes: scrypt from the runtime (`node:crypto`), salted,
 * compared in constant time, written with their parameters so that they
 * can be raised later, and run a few at a time so that a burst of logins
 * cannot take every core or all memory.
 *
 * The hash is a PHC string: `$scrypt$ln=15,r=8,p=3$SALT$HASH` (salt and
 * hash in unpadded base64). The default parameters are OWASP's third
 * scrypt choice (N=2^15, r=8, p=3): 32 MiB and about a quarter of a
 * second per hash on one core, off the event loop.
 *
 * @module
 */

import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { Buffer } from "node:buffer";
import type { Secret } from "./secret.ts";

/** The scrypt parameters of a hash. */
export interface ScryptParams {
  /** log2 of N, the cost (memory and time). */
  logN: number;
  /** The block size. */
  r: number;
  /** The parallelism (run one after another here). */
  p: number;
}

/** The parameters new hashes get: OWASP's N=2^15, r=8, p=3. */
export const DEFAULT_SCRYPT: Readonly<ScryptParams> = { logN: 15, r: 8, p: 3 };

/** Fewest characters (code points) of a password. */
export const MIN_PASSWORD_LENGTH = 8;

/** Most bytes (UTF-8) of a password: more is not stronger, only slower. */
export const MAX_PASSWORD_BYTES = 512;

const SALT_BYTES = 16;
const KEY_BYTES = 32;
// What a stored hash may ask for: a hash from a damaged or hostile store
// must not make the server allocate gigabytes.
const MAX_LOG_N = 20;
const MAX_R = 32;
const MAX_P = 16;
const MAX_MEMORY = 256 * 1024 * 1024;

const encoder = new TextEncoder();

/** Why a new password is refused, or null if it will do. */
export function passwordProblem(
  password: Secret,
): "tooShort" | "tooLong" | null {
  const text = password.reveal();
  if (encoder.encode(text).length > MAX_PASSWORD_BYTES) return "tooLong";
  let count = 0;
  for (const _ of text) count++;
  return count < MIN_PASSWORD_LENGTH ? "tooShort" : null;
}

/**
 * Every hash slot is taken and the queue is full: the caller answers
 * "busy, try again" instead of waiting without bound.
 */
export class PasswordsBusyError extends Error {
  /** Says that the server is busy hashing. */
  constructor() {
    super("Too many password checks at once");
    this.name = "PasswordsBusyError";
  }
}

/** A hash read back from its PHC string. */
export interface ParsedHash {
  /** Its parameters. */
  params: ScryptParams;
  /** The salt. */
  salt: Uint8Array;
  /** The derived key. */
  key: Uint8Array;
}

const PHC =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]{11,88})\$([A-Za-z0-9+/]{22,88})$/;

/** Reads a hash written by {@linkcode PasswordHasher.hash}; null if it is not one. */
export function parseHash(encoded: string): ParsedHash | null {
  const match = PHC.exec(encoded);
  if (match === null) return null;
  const params = {
    logN: Number(match[1]),
    r: Number(match[2]),
    p: Number(match[3]),
  };
  if (
    params.logN < 1 || params.logN > MAX_LOG_N || params.r < 1 ||
    params.r > MAX_R || params.p < 1 || params.p > MAX_P ||
    memoryOf(params) > MAX_MEMORY
  ) return null;
  return {
    params,
    salt: Buffer.from(match[4], "base64"),
    key: Buffer.from(match[5], "base64"),
  };
}

function memoryOf(params: ScryptParams): number {
  return 128 * 2 ** params.logN * params.r;
}

function unpadded(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64").replace(/=+$/, "");
}

function derive(
  password: Secret,
  salt: Uint8Array,
  params: ScryptParams,
  length: number,
): Promise<Uint8Array> {
  // NFC: the same password typed on two systems is the same bytes.
  const bytes = encoder.encode(password.reveal().normalize("NFC"));
  return new Promise((resolve, reject) => {
    scrypt(bytes, salt, length, {
      N: 2 ** params.logN,
      r: params.r,
      p: params.p,
      maxmem: memoryOf(params) * 2,
    }, (error, key) => error ? reject(error) : resolve(key));
  });
}

/** Options of {@linkcode PasswordHasher}. */
export interface PasswordHasherOptions {
  /** Parameters of new hashes. Default {@linkcode DEFAULT_SCRYPT}. */
  params?: ScryptParams;
  /** Hashes computed at once. Default 2. */
  maxRunning?: number;
  /** Hashes waiting for a slot; more are refused as busy. Default 32. */
  maxWaiting?: number;
}

/**
 * Hashes and checks passwords, at most `maxRunning` at once; up to
 * `maxWaiting` more wait in order, and beyond that a call rejects with
 * {@linkcode PasswordsBusyError}. A hash runs on the runtime's thread pool,
 * so the event loop goes on meanwhile.
 *
 * @example
 * ```ts
 * const hasher = new PasswordHasher();
 * const hash = await hasher.hash(new Secret("correct horse"));
 * await hasher.verify(new Secret("correct horse"), hash); // true
 * ```
 */
export class PasswordHasher {
  #params: ScryptParams;
  #maxRunning: number;
  #maxWaiting: number;
  #running = 0;
  #waiting: (() => void)[] = [];

  /** Creates a hasher; see {@linkcode PasswordHasherOptions}. */
  constructor(options: PasswordHasherOptions = {}) {
    this.#params = { ...(options.params ?? DEFAULT_SCRYPT) };
    if (memoryOf(this.#params) > MAX_MEMORY) {
      throw new RangeError("scrypt parameters over 256 MiB");
    }
    this.#maxRunning = Math.max(1, options.maxRunning ?? 2);
    this.#maxWaiting = Math.max(0, options.maxWaiting ?? 32);
  }

  /** Hashes computed now (for metrics and tests). */
  get running(): number {
    return this.#running;
  }

  /** Hashes waiting for a slot (for metrics and tests). */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** A new salted hash of `password`, as a PHC string. */
  async hash(password: Secret): Promise<string> {
    const params = this.#params;
    const salt = randomBytes(SALT_BYTES);
    const key = await this.#slot(() =>
      derive(password, salt, params, KEY_BYTES)
    );
    return `$scrypt$ln=${params.logN},r=${params.r},p=${params.p}$${
      unpadded(salt)
    }$${unpadded(key)}`;
  }

  /**
   * Whether `password` is the one `encoded` was made from, compared in
   * constant time, with the parameters written in the hash. False for a
   * hash that cannot be read.
   */
  async verify(password: Secret, encoded: string): Promise<boolean> {
    const parsed = parseHash(encoded);
    if (parsed === null) return false;
    const key = await this.#slot(() =>
      derive(password, parsed.salt, parsed.params, parsed.key.length)
    );
    return key.length === parsed.key.length &&
      timingSafeEqual(key, parsed.key);
  }

  /**
   * Whether a stored hash is weaker than new ones would be (or unreadable):
   * after a successful login, hash the password again and store that.
   */
  needsRehash(encoded: string): boolean {
    const parsed = parseHash(encoded);
    if (parsed === null) return true;
    const { logN, r, p } = parsed.params;
    return logN < this.#params.logN || r < this.#params.r ||
      p < this.#params.p || parsed.key.length < KEY_BYTES;
  }

  // Runs `work` in a slot: at once if one is free, else after those ahead.
  async #slot<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#maxRunning) {
      if (this.#waiting.length >= this.#maxWaiting) {
        throw new PasswordsBusyError();
      }
      // The slot is handed over by the one that finishes: #running stays.
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next === undefined) this.#running--;
      else next();
    }
  }
}
