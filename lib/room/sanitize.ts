/**
 * What no relayed text, name or log line may carry.
 *
 * @module
 */

// C0 controls except TAB, DEL and C1 controls (so ESC and CSI too), the
// line and paragraph separators (which readers that split lines take for a
// line break, so a relayed text could forge a log line), and the
// bidirectional embeddings, overrides and isolates (which show a text
// reversed): matching control characters is the point here.
// deno-lint-ignore no-control-regex
const CONTROL_TEST = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028-\u202e\u2066-\u2069]/;
const CONTROL_ALL =
  // deno-lint-ignore no-control-regex
  /[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028-\u202e\u2066-\u2069]/g;

/**
 * Removes control characters, so that nobody can send terminal escape
 * sequences to other people's screens, break a line of the log in two, or
 * reverse what others read. TAB is kept.
 */
export function stripControls(text: string): string {
  return CONTROL_TEST.test(text) ? text.replace(CONTROL_ALL, "") : text;
}
