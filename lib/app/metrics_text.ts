/**
 * The server's counters in the Prometheus text format, for `GET /metrics`.
 *
 * @module
 */

import type { ChatLog } from "../io/chat_log.ts";
import type { ChatRoom } from "../room/chat_room.ts";

const TRANSPORTS = ["tcp", "web", "irc"];

/** Renders the room's and the log's counters as Prometheus text. */
export function metricsText(room: ChatRoom, log: ChatLog): string {
  const out: string[] = [];
  const metric = (
    name: string,
    type: "gauge" | "counter",
    help: string,
    values: [string, number][],
  ) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of values) out.push(`${name}${labels} ${value}`);
  };
  const byTransport = room.connectionsByTransport();
  metric(
    "chat_connections",
    "gauge",
    "Open connections by transport.",
    TRANSPORTS.map((t) => [`{transport="${t}"}`, byTransport.get(t) ?? 0]),
  );
  const m = room.metrics;
  metric("chat_users", "gauge", "Registered users in the room.", [[
    "",
    room.memberCount,
  ]]);
  metric("chat_lines_in_total", "counter", "Lines received.", [[
    "",
    m.linesIn,
  ]]);
  metric("chat_events_out_total", "counter", "Events delivered.", [[
    "",
    m.eventsOut,
  ]]);
  metric("chat_bytes_out_total", "counter", "Bytes sent.", [["", m.bytesOut]]);
  metric(
    "chat_sendq_cuts_total",
    "counter",
    "Connections cut for their send queue.",
    [["", m.sendqCuts]],
  );
  metric(
    "chat_flood_delays_total",
    "counter",
    "Lines delayed by flood control.",
    [[
      "",
      m.floodDelays,
    ]],
  );
  metric("chat_log_pending_lines", "gauge", "Log lines not yet written.", [[
    "",
    log.pending,
  ]]);
  metric("chat_log_lost_lines_total", "counter", "Log lines lost.", [[
    "",
    log.lost,
  ]]);
  return out.join("\n") + "\n";
}
