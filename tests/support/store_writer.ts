/**
 * A process that opens the SQLite account store in a directory, as a
 * server would, for the tests that kill it or race it:
 *
 * `deno run --allow-read --allow-write tests/support/store_writer.ts DIR MODE`
 *
 * - MODE `write`: registers `user<i>`, keeps a message for it and bans it,
 *   printing `committed <i>` after the three changes returned, for
 *   i = 0, 1, ... (at most 100000 times, at most 60 s).
 * - MODE `hold`: prints `open` and keeps the store open until stdin ends.
 *
 * A store that cannot be opened prints its one line on stderr and exits
 * with status 2, as the server will.
 *
 * @module
 */

import { StoreError } from "../../lib/engine/accounts.ts";
import { Secret } from "../../lib/engine/secret.ts";
import { SqliteStore } from "../../lib/engine/sqlite_store.ts";

const [dir, mode] = Deno.args;
let store: SqliteStore;
try {
  store = await SqliteStore.open({ dir });
} catch (error) {
  if (!(error instanceof StoreError)) throw error;
  console.error(error.message);
  Deno.exit(2);
}
console.log("open");

if (mode === "hold") {
  for await (const _ of Deno.stdin.readable) {
    // Held open until stdin ends.
  }
} else {
  const deadline = performance.now() + 60_000;
  for (let i = 0; i < 100_000 && performance.now() < deadline; i++) {
    const name = `user${i}`;
    await store.register(name, new Secret(`$scrypt$hash-of-${i}`));
    await store.keepMessage(name, { from: "writer", time: i, text: `m${i}` });
    await store.ban({
      target: { kind: "name", name },
      until: null,
      reason: `reason ${i}`,
      by: "writer",
      at: i,
    });
    // console.log writes synchronously: a printed line was committed.
    console.log(`committed ${i}`);
  }
}
await store.close();
