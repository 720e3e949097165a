import assert from "node:assert/strict";
import { runConsoleLine } from "../lib/app/server_console.ts";
import { startTestServer, TestClient } from "./helpers.ts";
import { IrcLineClient } from "./support/irc_line_client.ts";
import { displayWidth } from "../lib/io/display_width.ts";
import { Nodes } from "./support/nodes.ts";
import { RedisServer } from "./support/redis_server.ts";

// `YYYY-MM-DD HH:MM:SS`, local time.
const LOCAL_TIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/;

/**
 * The terminal column each cell of `row` starts at (cells are apart by two
 * spaces or more; a wide letter takes two columns).
 */
function columnStarts(row: string): number[] {
  const starts: number[] = [];
  const cell = /\S+(?: \S+)*/g;
  for (let m; (m = cell.exec(row)) !== null;) {
    starts.push(displayWidth(row.slice(0, m.index)));
  }
  return starts;
}

Deno.test("console who: aligned columns of name, address, door and connected since", async () => {
  await using test = await startTestServer({ irc: { port: 0 } });
  // Second-rounded, as the column shows it.
  const before = Math.floor(Date.now() / 1000) * 1000;
  const al = await test.join("al");
  const longer = await test.join("a_much_longer_name");
  const irc = test.track(
    await IrcLineClient.joined(test.server.ircAddr!.port, "zed"),
  );
  // Two letters, four columns.
  const wide = await test.join("名前");
  const after = Date.now();

  const printed: string[] = [];
  runConsoleLine("who", {
    room: test.server.room,
    print: printed.push.bind(printed),
  });
  assert.equal(printed[0], "Online (4):");
  const [heading, ...rows] = printed.slice(1);
  assert.deepEqual(
    heading.trim().split(/ {2,}/),
    ["NAME", "ADDRESS", "DOOR", "CONNECTED SINCE"],
  );
  assert.equal(rows.length, 4);
  const starts = columnStarts(heading);
  assert.equal(starts.length, 4, heading);
  const cells = rows.map((row) => {
    // Every row's cells start where the heading's do.
    assert.deepEqual(columnStarts(row), starts, `${heading}\n${row}`);
    return row.trim().split(/ {2,}/);
  });
  const ports = [al, longer, wide].map((c) =>
    (c.conn.localAddr as Deno.NetAddr).port
  );
  assert.deepEqual(cells.map((c) => c.slice(0, 3)), [
    ["a_much_longer_name", `127.0.0.1:${ports[1]}`, "tcp"],
    ["al", `127.0.0.1:${ports[0]}`, "tcp"],
    [
      "zed",
      `127.0.0.1:${(irc.conn.localAddr as Deno.NetAddr).port}`,
      "irc",
    ],
    ["名前", `127.0.0.1:${ports[2]}`, "tcp"],
  ]);
  for (const [, , , since] of cells) {
    assert.match(since, LOCAL_TIME);
    // A local time read back as one.
    const at = new Date(since.replace(" ", "T")).getTime();
    assert.ok(at >= before && at <= after, `${since} not in the test`);
  }
});

Deno.test("console who with no one online prints only its header", async () => {
  await using test = await startTestServer();
  const printed: string[] = [];
  runConsoleLine("who", {
    room: test.server.room,
    print: printed.push.bind(printed),
  });
  assert.deepEqual(printed, ["Online (0):"]);
});

Deno.test("console who on one node lists a member of another with when it connected", async () => {
  await using redis = await RedisServer.start();
  await using nodes = await Nodes.start({ redisUrl: redis.url, count: 2 });
  const [a, b] = [nodes.at(0), nodes.at(1)];
  const before = Math.floor(Date.now() / 1000) * 1000;
  await using ivan = await TestClient.join(b.port, "ivan");
  const after = Date.now();
  await using ann = await TestClient.join(a.port, "ann");
  // ann is in once the room's order brought her join back to her.
  await ann.send("/who");
  await ann.next("Online (2): ann, ivan");
  await a.process.write("who\n");
  await a.process.stdout.next("Online (2):");
  await a.process.stdout.next(/^ {2}NAME {2,}ADDRESS/);
  const row = await a.process.stdout.next(/^ {2}ivan /);
  const cells = row.trim().split(/ {2,}/);
  const port = (ivan.conn.localAddr as Deno.NetAddr).port;
  assert.deepEqual(cells.slice(0, 3), ["ivan", `127.0.0.1:${port}`, "tcp"]);
  assert.match(cells[3], LOCAL_TIME);
  const at = new Date(cells[3].replace(" ", "T")).getTime();
  assert.ok(at >= before && at <= after, `${cells[3]} not in the test`);
});
