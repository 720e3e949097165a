/**
 * The chat log's line for each room-wide event (README "The chat log"):
 * the one place that decides what the log keeps of the room.
 *
 * @module
 */

import type { RoomEvent } from "./events.ts";
import { endReasonText, logText } from "./texts.ts";

/** The log's line for a room-wide event; null for events it does not keep. */
export function logLineOf(event: RoomEvent): string | null {
  switch (event.type) {
    case "join":
      return logText.joined(event.name, event.address);
    case "leave":
      return event.reason === "exit"
        ? logText.left(event.name)
        : logText.disconnected(event.name, endReasonText(event.reason));
    case "removed":
      return logText.removed(event.name, event.reason);
    case "rename":
      return logText.renamed(event.from, event.to);
    case "message":
      return logText.message(event.from, event.text);
    case "action":
      return logText.action(event.from, event.text);
    case "announcement":
      return logText.announcement(event.text);
    default:
      return null;
  }
}
