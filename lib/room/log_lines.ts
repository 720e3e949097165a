/**
 * The chat log's line for each room-wide event (README "The chat log"):
 * the one place that decides what the log keeps of the room. The main
 * room's lines are as they always were; another room's start `[#room] `.
 *
 * @module
 */

import { isRoomScoped, type RoomEvent } from "./events.ts";
import { roomKey } from "./room_names.ts";
import { endReasonText, logText } from "./texts.ts";

/**
 * The log's line for a room-wide event (`mainRoom` is the main room's
 * name); null for events it does not keep.
 */
export function logLineOf(event: RoomEvent, mainRoom: string): string | null {
  const line = lineOf(event);
  if (line === null || !isRoomScoped(event)) return line;
  return roomKey(event.room) === roomKey(mainRoom)
    ? line
    : logText.inRoom(event.room, line);
}

function lineOf(event: RoomEvent): string | null {
  switch (event.type) {
    case "join":
      return event.main
        ? logText.joined(event.name, event.address)
        : logText.joinedRoom(event.name, event.room, event.address);
    case "leave":
      if (event.message !== undefined) {
        return logText.leftSaying(event.name, event.message);
      }
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
    case "part":
      return logText.partedRoom(event.name, event.room, event.reason);
    case "topic":
      return logText.topicSet(event.name, event.room, event.topic);
    case "roomKick":
      return logText.roomKick(event.name, event.room, event.by, event.reason);
    case "roomOp":
      return logText.roomOp(event.by, event.name, event.room, event.op);
    case "topicLock":
      return logText.topicLock(event.by, event.room, event.locked);
    default:
      return null;
  }
}
