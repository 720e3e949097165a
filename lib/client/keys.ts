/**
 * Key decoding: the bytes a terminal in raw mode sends, turned into keys
 * (text, Enter, arrows, Ctrl+letters). Escape sequences split over two
 * reads are put together.
 *
 * @module
 */

/** The editing keys the line editor knows. */
export type KeyName =
  | "enter"
  | "backspace"
  | "delete"
  | "left"
  | "right"
  | "word-left"
  | "word-right"
  | "home"
  | "end"
  | "up"
  | "down"
  | "tab"
  | "ctrl-a"
  | "ctrl-c"
  | "ctrl-d"
  | "ctrl-e"
  | "ctrl-k"
  | "ctrl-l"
  | "ctrl-u"
  | "ctrl-w";

/** One key press: typed (or pasted) text, or an editing key. */
export type Key = { kind: "text"; text: string } | {
  kind: "key";
  name: KeyName;
};

const CONTROL_KEYS: Record<string, KeyName> = {
  "\r": "enter",
  "\n": "enter",
  "\x7f": "backspace",
  "\x08": "backspace",
  "\t": "tab",
  "\x01": "ctrl-a",
  "\x02": "left",
  "\x03": "ctrl-c",
  "\x04": "ctrl-d",
  "\x05": "ctrl-e",
  "\x06": "right",
  "\x0b": "ctrl-k",
  "\x0c": "ctrl-l",
  "\x0e": "down",
  "\x10": "up",
  "\x15": "ctrl-u",
  "\x17": "ctrl-w",
};

// CSI and SS3 sequences, by their text after ESC.
const SEQUENCES: Record<string, KeyName> = {
  "[A": "up",
  "[B": "down",
  "[C": "right",
  "[D": "left",
  "[H": "home",
  "[F": "end",
  "OA": "up",
  "OB": "down",
  "OC": "right",
  "OD": "left",
  "OH": "home",
  "OF": "end",
  "[1~": "home",
  "[7~": "home",
  "[4~": "end",
  "[8~": "end",
  "[3~": "delete",
  "[1;5C": "word-right",
  "[1;5D": "word-left",
  "[1;3C": "word-right",
  "[1;3D": "word-left",
  "f": "word-right",
  "b": "word-left",
  "\x7f": "ctrl-w",
};

/** Turns raw terminal input into keys; keeps an unfinished sequence. */
export class KeyDecoder {
  #decoder = new TextDecoder();
  #pending = "";

  /** Decodes one chunk of input into the keys it completes. */
  push(bytes: Uint8Array): Key[] {
    const text = this.#pending + this.#decoder.decode(bytes, { stream: true });
    this.#pending = "";
    const keys: Key[] = [];
    let plain = "";
    const flush = () => {
      if (plain !== "") keys.push({ kind: "text", text: plain });
      plain = "";
    };
    let i = 0;
    while (i < text.length) {
      const ch = text[i];
      if (ch === "\x1b") {
        const end = sequenceEnd(text, i);
        if (end === -1) {
          // Unfinished: wait for the rest in the next chunk.
          this.#pending = text.slice(i);
          break;
        }
        flush();
        const name = SEQUENCES[text.slice(i + 1, end)];
        if (name !== undefined) keys.push({ kind: "key", name });
        i = end;
        continue;
      }
      const name = CONTROL_KEYS[ch];
      if (name !== undefined) {
        flush();
        keys.push({ kind: "key", name });
        // CRLF (a paste from Windows, say) is one Enter.
        i += ch === "\r" && text[i + 1] === "\n" ? 2 : 1;
        continue;
      }
      const code = ch.charCodeAt(0);
      if (code >= 0x20 && !(code >= 0x80 && code < 0xa0)) plain += ch;
      i++;
    }
    flush();
    return keys;
  }
}

/**
 * Where the escape sequence at `start` ends (exclusive), or -1 if `text`
 * stops before its end.
 */
function sequenceEnd(text: string, start: number): number {
  const next = text[start + 1];
  if (next === undefined) return -1;
  if (next === "[") {
    for (let j = start + 2; j < text.length; j++) {
      const code = text.charCodeAt(j);
      if (code >= 0x40 && code <= 0x7e) return j + 1;
    }
    return -1;
  }
  if (next === "O") return start + 2 < text.length ? start + 3 : -1;
  // Alt+key: ESC and one character.
  return start + 2;
}
