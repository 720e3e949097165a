/**
 * The server's counters, shown at `GET /metrics`: plain numbers that the
 * room and the transports add to, cheap enough for the hot paths.
 *
 * @module
 */

/** Counters since the server started. */
export class Metrics {
  /** Lines received from registered and unregistered clients. */
  linesIn = 0;
  /** Events delivered to connections (a broadcast counts once a recipient). */
  eventsOut = 0;
  /** Bytes handed to connections' writers. */
  bytesOut = 0;
  /** Connections cut because their send queue overflowed. */
  sendqCuts = 0;
  /** Lines that flood control delayed. */
  floodDelays = 0;
}
