/**
 * The contract of an account store (lib/engine/accounts.ts), run against
 * the SQLite store and the Redis store alike.
 */
import assert from "node:assert/strict";
import {
  type AccountStore,
  type Ban,
  type ChangeKind,
  StoreError,
} from "../lib/engine/accounts.ts";
import { Secret } from "../lib/engine/secret.ts";
import {
  START,
  STORE_KINDS,
  type StoreKit,
  type StoreTestOptions,
} from "./support/account_stores.ts";

const MINUTE = 60_000;
const HASH =
  "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";

/** Registers one test per kind of store. */
function contract(
  name: string,
  body: (kit: StoreKit, store: AccountStore) => Promise<void>,
  options: StoreTestOptions = {},
): void {
  for (const kind of STORE_KINDS) {
    Deno.test(`${kind.name} store: ${name}`, async () => {
      await using kit = await kind.kit();
      const store = await kit.open(options);
      await body(kit, store);
    });
  }
}

/** Every change told to a listener of `store`, as `kind key`. */
function recordChanges(store: AccountStore): string[] {
  const changes: string[] = [];
  store.onChange((kind: ChangeKind, key: string) =>
    changes.push(`${kind} ${key}`)
  );
  return changes;
}

contract(
  "a name is registered once, in any case, and read back",
  async (kit, store) => {
    assert.equal(await store.account("ada"), undefined);
    assert.equal(await store.register("Ada", new Secret(HASH)), true);
    assert.equal(await store.register("ADA", new Secret("other")), false);
    const account = await store.account("aDA");
    assert.ok(account !== undefined);
    assert.equal(account.name, "Ada");
    assert.equal(account.hash.reveal(), HASH);
    assert.equal(account.created, START);
    assert.equal(account.operator, false);
    assert.equal(account.lastSeen, null);
    // The hash does not show when the account is printed.
    assert.ok(!Deno.inspect(account).includes("scrypt"));
    assert.ok(!JSON.stringify(account).includes("scrypt"));

    kit.clock.now += MINUTE;
    assert.equal(
      await store.register("grace", new Secret(HASH), {
        operator: true,
        created: 123,
      }),
      true,
    );
    const grace = await store.account("GRACE");
    assert.equal(grace?.created, 123);
    assert.equal(grace?.operator, true);
  },
);

contract(
  "names and texts in any script survive the round trip",
  async (_kit, store) => {
    const name = "たなか太郎";
    assert.equal(await store.register(name, new Secret(HASH)), true);
    assert.equal((await store.account(name))?.name, name);
    assert.equal(await store.register("bob|away", new Secret(HASH)), true);
    const text = 'héllo "quoted" \\ back/slash 😀 {"json":true}';
    assert.equal(
      await store.keepMessage(name, { from: "bob|away", time: 5, text }),
      "kept",
    );
    assert.deepEqual(await store.takeInbox(name), {
      messages: [{ from: "bob|away", time: 5, text }],
      dropped: 0,
    });
  },
);

contract(
  "the hash is replaced, operators granted and taken, last seen kept",
  async (_kit, store) => {
    assert.equal(await store.setHash("ada", new Secret("x")), false);
    assert.equal(await store.setOperator("ada", true), false);
    await store.register("ada", new Secret(HASH));
    await store.register("bob", new Secret(HASH));
    await store.register("Cy", new Secret(HASH), { operator: true });
    assert.equal(await store.setHash("ADA", new Secret("$scrypt$new")), true);
    assert.equal((await store.account("ada"))?.hash.reveal(), "$scrypt$new");

    assert.equal(await store.setOperator("bob", true), true);
    assert.deepEqual(
      (await store.operators()).map((a) => a.name),
      ["bob", "Cy"],
    );
    assert.equal(await store.setOperator("cy", false), true);
    assert.deepEqual((await store.operators()).map((a) => a.name), ["bob"]);

    await store.setLastSeen("ada", 777);
    await store.setLastSeen("nobody", 777);
    assert.equal((await store.account("ada"))?.lastSeen, 777);
    assert.equal(await store.account("nobody"), undefined);
  },
);

contract(
  "unregistering takes the account, its messages and its ignore list, not its bans",
  async (kit, store) => {
    await store.register("ada", new Secret(HASH), { operator: true });
    await store.keepMessage("ada", { from: "bob", time: 1, text: "hi" });
    await store.ignore("ada", "bob");
    await store.ban({
      target: { kind: "name", name: "ada" },
      until: null,
      reason: "",
      by: "console",
      at: kit.clock.now,
    });
    await store.mute({ name: "ada", until: null, by: "console", at: 1 });
    assert.equal(await store.unregister("ADA"), true);
    assert.equal(await store.unregister("ada"), false);
    assert.equal(await store.account("ada"), undefined);
    assert.deepEqual(await store.operators(), []);
    // Registered again, it starts with nothing kept.
    await store.register("ada", new Secret(HASH));
    assert.deepEqual(await store.takeInbox("ada"), {
      messages: [],
      dropped: 0,
    });
    assert.deepEqual(await store.ignored("ada"), []);
    assert.equal((await store.account("ada"))?.operator, false);
    assert.ok(await store.banOf({ kind: "name", name: "ada" }));
    assert.ok(await store.muteOf("ada"));
  },
);

contract(
  "bans by name and by network, until a time or lifted",
  async (kit, store) => {
    const now = kit.clock.now;
    const byName: Ban = {
      target: { kind: "name", name: "Mallory" },
      until: now + 10 * MINUTE,
      reason: "spamming",
      by: "grace",
      at: now,
    };
    const byNetwork: Ban = {
      target: { kind: "address", network: "10.0.0.0/24" },
      until: null,
      reason: "",
      by: "console",
      at: now + 1,
    };
    await store.ban(byName);
    await store.ban(byNetwork);
    assert.deepEqual(
      await store.banOf({ kind: "name", name: "MALLORY" }),
      byName,
    );
    assert.deepEqual(
      await store.banOf({ kind: "address", network: "10.0.0.0/24" }),
      byNetwork,
    );
    assert.equal(
      await store.banOf({ kind: "address", network: "10.0.1.0/24" }),
      undefined,
    );
    // A name and a network are never the same target.
    assert.equal(
      await store.banOf({ kind: "name", name: "10.0.0.0/24" }),
      undefined,
    );
    assert.deepEqual(await store.bans(), [byName, byNetwork]);

    // A new ban of the same target replaces the old.
    const longer = { ...byName, until: now + 60 * MINUTE, at: now + 2 };
    await store.ban(longer);
    assert.deepEqual(await store.bans(), [byNetwork, longer]);

    // It ends at its time, and is then gone from the list.
    kit.clock.now = now + 60 * MINUTE - 1;
    assert.ok(await store.banOf({ kind: "name", name: "mallory" }));
    kit.clock.now = now + 60 * MINUTE;
    assert.equal(
      await store.banOf({ kind: "name", name: "mallory" }),
      undefined,
    );
    assert.deepEqual(await store.bans(), [byNetwork]);

    // Lifting: the ban lifted, then nothing.
    assert.deepEqual(
      await store.unban({ kind: "address", network: "10.0.0.0/24" }),
      byNetwork,
    );
    assert.equal(
      await store.unban({ kind: "address", network: "10.0.0.0/24" }),
      undefined,
    );
    assert.deepEqual(await store.bans(), []);
  },
);

contract(
  "lifting a ban that has ended says there was none",
  async (kit, store) => {
    await store.ban({
      target: { kind: "name", name: "eve" },
      until: kit.clock.now + MINUTE,
      reason: "",
      by: "grace",
      at: kit.clock.now,
    });
    kit.clock.now += MINUTE;
    const changes = recordChanges(store);
    assert.equal(await store.unban({ kind: "name", name: "eve" }), undefined);
    assert.deepEqual(changes, []);
  },
);

contract("mutes: one per name, until a time or lifted", async (kit, store) => {
  const now = kit.clock.now;
  await store.mute({ name: "Bob", until: now + MINUTE, by: "grace", at: now });
  await store.mute({ name: "cy", until: null, by: "console", at: now + 1 });
  assert.deepEqual(await store.muteOf("BOB"), {
    name: "Bob",
    until: now + MINUTE,
    by: "grace",
    at: now,
  });
  assert.equal((await store.mutes()).length, 2);
  kit.clock.now = now + MINUTE;
  assert.equal(await store.muteOf("bob"), undefined);
  assert.deepEqual((await store.mutes()).map((m) => m.name), ["cy"]);
  assert.equal(await store.unmute("bob"), false);
  assert.equal(await store.unmute("CY"), true);
  assert.equal(await store.unmute("cy"), false);
  assert.deepEqual(await store.mutes(), []);
});

contract(
  "messages are kept only for registered names, at most the limit, oldest dropped and counted",
  async (_kit, store) => {
    assert.equal(
      await store.keepMessage("ada", { from: "bob", time: 1, text: "lost" }),
      "notRegistered",
    );
    await store.register("ada", new Secret(HASH));
    for (let i = 1; i <= 8; i++) {
      assert.equal(
        await store.keepMessage("ADA", { from: "bob", time: i, text: `m${i}` }),
        "kept",
      );
    }
    const inbox = await store.takeInbox("Ada");
    assert.deepEqual(inbox.messages.map((m) => m.text), [
      "m4",
      "m5",
      "m6",
      "m7",
      "m8",
    ]);
    assert.deepEqual(inbox.messages[0], { from: "bob", time: 4, text: "m4" });
    assert.equal(inbox.dropped, 3);
    // Taken means gone, the count too.
    assert.deepEqual(await store.takeInbox("ada"), {
      messages: [],
      dropped: 0,
    });
    await store.keepMessage("ada", { from: "cy", time: 9, text: "m9" });
    assert.deepEqual(await store.takeInbox("ada"), {
      messages: [{ from: "cy", time: 9, text: "m9" }],
      dropped: 0,
    });
  },
  { inboxLimit: 5 },
);

contract("the default inbox holds 100 messages", async (_kit, store) => {
  await store.register("ada", new Secret(HASH));
  for (let i = 1; i <= 103; i++) {
    await store.keepMessage("ada", { from: "bob", time: i, text: `m${i}` });
  }
  const inbox = await store.takeInbox("ada");
  assert.equal(inbox.messages.length, 100);
  assert.equal(inbox.messages[0].text, "m4");
  assert.equal(inbox.dropped, 3);
});

contract(
  "ignore lists belong to registered names and are bounded",
  async (_kit, store) => {
    assert.equal(await store.ignore("ada", "bob"), "notRegistered");
    await store.register("ada", new Secret(HASH));
    assert.equal(await store.ignore("ADA", "Bob"), "ok");
    assert.equal(await store.ignore("ada", "BOB"), "already");
    assert.equal(await store.ignore("ada", "Cy"), "ok");
    assert.equal(await store.ignore("ada", "dan"), "full");
    // Full, an ignored name is still "already".
    assert.equal(await store.ignore("ada", "cy"), "already");
    assert.deepEqual(await store.ignored("ada"), ["Bob", "Cy"]);
    assert.equal(await store.unignore("ada", "bob"), true);
    assert.equal(await store.unignore("ada", "bob"), false);
    assert.equal(await store.ignore("ada", "dan"), "ok");
    assert.deepEqual(await store.ignored("Ada"), ["Cy", "dan"]);
    assert.deepEqual(await store.ignored("nobody"), []);
  },
  { ignoreLimit: 2 },
);

contract(
  "every change is told to the listeners once, and no-ops are not",
  async (kit, store) => {
    const changes = recordChanges(store);
    // A listener that throws does not stop the change or the others.
    const stopBroken = store.onChange(() => {
      throw new Error("listener bug");
    });
    const reported: unknown[] = [];
    const onError = (event: ErrorEvent) => {
      event.preventDefault();
      reported.push(event.error);
    };
    globalThis.addEventListener("error", onError);
    try {
      await store.register("Ada", new Secret(HASH));
      stopBroken();
      await store.register("ada", new Secret(HASH));
      await store.setHash("ada", new Secret("$scrypt$2"));
      await store.setOperator("ada", true);
      await store.setLastSeen("ada", 5);
      await store.ban({
        target: { kind: "name", name: "Eve" },
        until: null,
        reason: "",
        by: "ada",
        at: kit.clock.now,
      });
      await store.ban({
        target: { kind: "address", network: "2001:db8::/32" },
        until: null,
        reason: "",
        by: "ada",
        at: kit.clock.now,
      });
      await store.unban({ kind: "name", name: "EVE" });
      await store.unban({ kind: "name", name: "eve" });
      await store.mute({ name: "Bob", until: null, by: "ada", at: 1 });
      await store.unmute("bob");
      await store.unmute("bob");
      await store.keepMessage("ada", { from: "bob", time: 1, text: "hi" });
      await store.keepMessage("nobody", { from: "bob", time: 1, text: "hi" });
      await store.takeInbox("ada");
      await store.ignore("ada", "Bob");
      await store.ignore("ada", "bob");
      await store.unignore("ada", "bob");
      await store.unignore("ada", "bob");
      await store.unregister("ada");
      await store.unregister("ada");
    } finally {
      globalThis.removeEventListener("error", onError);
    }
    assert.equal(reported.length, 1);
    assert.deepEqual(changes, [
      "account ada",
      "account ada",
      "account ada",
      "ban name:eve",
      "ban address:2001:db8::/32",
      "ban name:eve",
      "mute bob",
      "mute bob",
      "inbox ada",
      "ignore ada",
      "ignore ada",
      "account ada",
    ]);
  },
);

contract("a listener stops hearing when it asks to", async (_kit, store) => {
  const changes: string[] = [];
  const stop = store.onChange((kind, key) => changes.push(`${kind} ${key}`));
  await store.register("ada", new Secret(HASH));
  stop();
  await store.unregister("ada");
  assert.deepEqual(changes, ["account ada"]);
});

contract(
  "what was kept is there when the store is opened again",
  async (kit, store) => {
    await store.register("ada", new Secret(HASH), { operator: true });
    await store.keepMessage("ada", { from: "bob", time: 1, text: "hi" });
    await store.ignore("ada", "bob");
    await store.setLastSeen("ada", 42);
    const ban: Ban = {
      target: { kind: "address", network: "192.168.1.23" },
      until: kit.clock.now + MINUTE,
      reason: "flood",
      by: "ada",
      at: kit.clock.now,
    };
    await store.ban(ban);
    await store.mute({ name: "bob", until: null, by: "ada", at: 3 });
    await store.close();

    const again = await kit.open();
    const account = await again.account("ada");
    assert.equal(account?.operator, true);
    assert.equal(account?.lastSeen, 42);
    assert.equal(account?.hash.reveal(), HASH);
    assert.deepEqual(await again.bans(), [ban]);
    assert.deepEqual((await again.mutes()).map((m) => m.name), ["bob"]);
    assert.deepEqual(await again.ignored("ada"), ["bob"]);
    assert.deepEqual((await again.takeInbox("ada")).messages, [
      { from: "bob", time: 1, text: "hi" },
    ]);
  },
);

contract(
  "a closed store refuses with a StoreError and closing twice is harmless",
  async (_kit, store) => {
    await store.close();
    await store.close();
    await assert.rejects(store.account("ada"), StoreError);
    await assert.rejects(store.register("ada", new Secret(HASH)), StoreError);
  },
);
