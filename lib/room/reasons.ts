/**
 * Why a session ended, as codes: what the room decides on and what the
 * engines carry between nodes. Their English is `reasonText` in
 * `texts.ts`, for the console and the log only.
 *
 * @module
 */

/** A reason the server itself gives for the end of a session. */
export type EndCode =
  | "closedByPeer"
  | "reset"
  | "sendQueue"
  | "registrationTimeout"
  | "tooManyAttempts"
  | "wrongPassword"
  | "shutdown"
  | "exit"
  | "removed"
  | "frameTooLarge"
  | "lostPlace"
  | "wrongDoor"
  | "serverLost"
  | "crashed"
  | "pingTimeout"
  | "protocolError"
  | "unmaskedFrame"
  | "invalidUtf8"
  | "ghosted"
  | "banned";

/**
 * Why a session ended: a code, or what broke as the system described it
 * (`connection reset`, `broken pipe`), shown as it is and never compared.
 */
export type EndReason = EndCode | { error: string };

/** Ends after which a member is said to have left rather than been cut. */
export function isOrdinaryEnd(reason: EndReason): boolean {
  return reason === "exit" || reason === "closedByPeer";
}
