/**
 * A secret string (a password, a password hash) that does not show itself:
 * printed, logged, put in a template, turned into JSON or inspected, it is
 * `[secret]`. Only {@linkcode Secret.reveal} gives the text, so that every
 * place that needs it is one a reader can find.
 *
 * @module
 */

const HIDDEN = "[secret]";

/**
 * A string that prints as `[secret]`.
 *
 * @example
 * ```ts
 * const password = new Secret("hunter2!");
 * `${password}`; // "[secret]"
 * password.reveal(); // "hunter2!"
 * ```
 */
export class Secret {
  #value: string;

  /** Wraps `value`. */
  constructor(value: string) {
    this.#value = value;
  }

  /** The text itself: for hashing and storing, never for showing. */
  reveal(): string {
    return this.#value;
  }

  /** `[secret]`. */
  toString(): string {
    return HIDDEN;
  }

  /** `[secret]`, for `JSON.stringify`. */
  toJSON(): string {
    return HIDDEN;
  }

  /** `[secret]`, for string conversion in any form. */
  [Symbol.toPrimitive](): string {
    return HIDDEN;
  }

  /** `[secret]`, for `console.log` and `Deno.inspect`. */
  [Symbol.for("Deno.customInspect")](): string {
    return HIDDEN;
  }

  /** `[secret]`, for `node:util`'s `inspect`. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return HIDDEN;
  }
}
