import assert from "node:assert/strict";
import {
  formatAddress,
  formatNetwork,
  looksLikeAddress,
  networkHolds,
  NetworkMap,
  parseAddress,
  parseNetwork,
  parsePeerIp,
  sourceKey,
} from "../lib/room/addresses.ts";

// The canonical form of a network text, or null.
function canonical(text: string): string | null {
  const network = parseNetwork(text);
  return network === null ? null : formatNetwork(network);
}

Deno.test("parseAddress reads IPv4 and IPv6 and refuses what is neither", () => {
  assert.deepEqual(parseAddress("192.168.1.23"), {
    version: 4,
    value: 0xc0a80117n,
  });
  assert.deepEqual(parseAddress("0.0.0.0"), { version: 4, value: 0n });
  assert.deepEqual(parseAddress("::1"), { version: 6, value: 1n });
  assert.deepEqual(parseAddress("::"), { version: 6, value: 0n });
  assert.deepEqual(parseAddress("2001:DB8::1"), {
    version: 6,
    value: (0x20010db8n << 96n) | 1n,
  });
  assert.deepEqual(parseAddress("1:2:3:4:5:6:7:8"), {
    version: 6,
    value: 0x00010002000300040005000600070008n,
  });
  // IPv4-mapped IPv6 is the IPv4 address: a dual-stack socket gives those.
  assert.deepEqual(parseAddress("::ffff:10.0.0.1"), {
    version: 4,
    value: 0x0a000001n,
  });
  assert.deepEqual(parseAddress("::ffff:a00:1"), {
    version: 4,
    value: 0x0a000001n,
  });
  assert.equal(parseAddress("64:ff9b::192.0.2.33")?.version, 6);
  for (
    const bad of [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "256.1.1.1",
      "01.2.3.4",
      "1.2.3.-4",
      " 1.2.3.4",
      "1.2.3.4 ",
      "ada",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7::8",
      "1::2::3",
      "12345::",
      "::g",
      ":1::",
      "1:",
      "[::1]",
      "fe80::1%eth0",
      "::1.2.3",
      "1.2.3.4::",
      "1::2:3:4:5:6:7:8",
    ]
  ) {
    assert.equal(parseAddress(bad), null, bad);
  }
});

Deno.test("parsePeerIp drops brackets and zones, as sockets give addresses", () => {
  assert.deepEqual(parsePeerIp("[::1]"), { version: 6, value: 1n });
  assert.deepEqual(parsePeerIp("fe80::1%eth0"), {
    version: 6,
    value: (0xfe80n << 112n) | 1n,
  });
  assert.deepEqual(parsePeerIp("::ffff:127.0.0.1"), {
    version: 4,
    value: 0x7f000001n,
  });
  assert.equal(parsePeerIp("localhost"), null);
});

Deno.test("formatAddress writes IPv6 as RFC 5952 does", () => {
  const cases: [string, string][] = [
    ["2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["0:0:0:0:0:0:0:0", "::"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["1:0:0:0:0:0:0:0", "1::"],
    ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
    ["fe80::1%eth0", "fe80::1"],
    ["::ffff:192.0.2.1", "192.0.2.1"],
    ["10.0.0.255", "10.0.0.255"],
  ];
  for (const [input, output] of cases) {
    const address = parsePeerIp(input);
    assert.ok(address !== null, input);
    assert.equal(formatAddress(address), output, input);
  }
});

Deno.test("parseNetwork reads ADDRESS[/PREFIX], clearing host bits", () => {
  assert.equal(canonical("192.168.1.23"), "192.168.1.23");
  assert.equal(canonical("192.168.1.23/32"), "192.168.1.23");
  assert.equal(canonical("10.0.0.0/24"), "10.0.0.0/24");
  assert.equal(canonical("10.0.0.77/24"), "10.0.0.0/24");
  assert.equal(canonical("10.1.2.3/8"), "10.0.0.0/8");
  assert.equal(canonical("0.0.0.0/0"), "0.0.0.0/0");
  assert.equal(canonical("2001:db8::/32"), "2001:db8::/32");
  assert.equal(canonical("2001:db8:1:2:3:4:5:6/48"), "2001:db8:1::/48");
  assert.equal(canonical("::/0"), "::/0");
  assert.equal(canonical("::1/128"), "::1");
  // A mapped network is the IPv4 network it maps.
  assert.equal(canonical("::ffff:10.0.0.0/120"), "10.0.0.0/24");
  assert.equal(canonical("::ffff:10.0.0.9"), "10.0.0.9");
  assert.equal(canonical("::ffff:0.0.0.0/80"), "::/80");
  for (
    const bad of [
      "10.0.0.0/33",
      "::/129",
      "10.0.0.0/",
      "10.0.0.0/-1",
      "10.0.0.0/2a",
      "10.0.0.0/24/1",
      "10.0.0.0/0024",
      "ada/24",
      "/24",
    ]
  ) {
    assert.equal(parseNetwork(bad), null, bad);
  }
});

Deno.test("networkHolds: a network holds its addresses and no others", () => {
  const net = parseNetwork("10.0.0.0/24")!;
  assert.ok(networkHolds(net, parseAddress("10.0.0.0")!));
  assert.ok(networkHolds(net, parseAddress("10.0.0.255")!));
  assert.ok(!networkHolds(net, parseAddress("10.0.1.0")!));
  assert.ok(!networkHolds(net, parseAddress("9.255.255.255")!));
  // The same bits in the other family are another address.
  assert.ok(!networkHolds(net, parseAddress("::a00:1")!));
  assert.ok(networkHolds(net, parsePeerIp("::ffff:10.0.0.9")!));
  const v6 = parseNetwork("2001:db8::/32")!;
  assert.ok(networkHolds(v6, parseAddress("2001:db8:ffff::1")!));
  assert.ok(!networkHolds(v6, parseAddress("2001:db9::1")!));
  assert.ok(networkHolds(parseNetwork("::/0")!, parseAddress("::1")!));
  assert.ok(networkHolds(parseNetwork("0.0.0.0/0")!, parseAddress("1.2.3.4")!));
});

Deno.test("looksLikeAddress: names that would read as an address in /ban", () => {
  for (const text of ["10.0.0.1", "10.0.0.0/24", "::1", "2001:db8::/32"]) {
    assert.ok(looksLikeAddress(text), text);
  }
  for (const text of ["ada", "1.2.3", "bob|away", "10.0.0.256", "v1.2.3.4"]) {
    assert.ok(!looksLikeAddress(text), text);
  }
});

Deno.test("sourceKey: one IPv4 address, or an IPv6 /64, is one source", () => {
  assert.equal(sourceKey("192.0.2.7"), "192.0.2.7");
  assert.equal(sourceKey("::ffff:192.0.2.7"), "192.0.2.7");
  assert.equal(sourceKey("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  assert.equal(
    sourceKey("2001:db8:1:2:bbbb::9"),
    sourceKey("[2001:db8:1:2::5]"),
  );
  assert.notEqual(sourceKey("2001:db8:1:3::1"), sourceKey("2001:db8:1:2::1"));
  assert.equal(sourceKey("unknown"), "unknown");
});

Deno.test("NetworkMap finds the most specific network holding an address", () => {
  const bans = new NetworkMap<string>();
  bans.set(parseNetwork("10.0.0.0/8")!, "wide");
  bans.set(parseNetwork("10.1.0.0/16")!, "narrow");
  bans.set(parseNetwork("10.1.2.3")!, "one");
  bans.set(parseNetwork("2001:db8::/32")!, "v6");
  assert.equal(bans.size, 4);
  const at = (ip: string) => bans.match(parsePeerIp(ip)!);
  assert.equal(at("10.9.9.9"), "wide");
  assert.equal(at("10.1.9.9"), "narrow");
  assert.equal(at("10.1.2.3"), "one");
  assert.equal(at("::ffff:10.1.2.3"), "one");
  assert.equal(at("11.0.0.1"), undefined);
  assert.equal(at("2001:db8:5::1"), "v6");
  assert.equal(at("2001:db9::1"), undefined);
  // The IPv4 bits of 10.x inside IPv6 are not 10.x.
  assert.equal(at("::a01:203"), undefined);

  // Setting the same network again replaces its value.
  bans.set(parseNetwork("10.1.2.3/32")!, "again");
  assert.equal(bans.size, 4);
  assert.equal(at("10.1.2.3"), "again");

  assert.ok(bans.delete(parseNetwork("10.1.0.0/16")!));
  assert.ok(!bans.delete(parseNetwork("10.1.0.0/16")!));
  assert.equal(at("10.1.9.9"), "wide");
  assert.ok(bans.delete(parseNetwork("10.0.0.0/8")!));
  assert.equal(at("10.1.9.9"), undefined);
  assert.equal(at("10.1.2.3"), "again");
  assert.equal(bans.size, 2);

  bans.clear();
  assert.equal(bans.size, 0);
  assert.equal(at("2001:db8:5::1"), undefined);
});

Deno.test("NetworkMap agrees with networkHolds on many random networks", () => {
  // A seeded generator: the same cases every run.
  let seed = 20;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed;
  };
  const map = new NetworkMap<number>();
  const networks: { prefix: number; network: bigint }[] = [];
  for (let i = 0; i < 300; i++) {
    const prefix = 8 + (next() % 25);
    const value = BigInt(next() % 2 ** 16) << 16n | BigInt(next() % 2 ** 16);
    const network = parseNetwork(
      `${formatAddress({ version: 4, value })}/${prefix}`,
    )!;
    map.set(network, i);
    networks[i] = network;
  }
  let matched = 0;
  for (let i = 0; i < 2000; i++) {
    const address = {
      version: 4 as const,
      value: i % 2 === 0
        ? networks[next() % networks.length].network | BigInt(next() % 256)
        : BigInt(next() % 2 ** 16) << 16n | BigInt(next() % 2 ** 16),
    };
    // The expected answer, the slow way: the holder with the longest prefix
    // (the last one set when the same network was set twice).
    let best: number | undefined;
    for (let j = 0; j < networks.length; j++) {
      const network = { version: 4 as const, ...networks[j] };
      if (!networkHolds(network, address)) continue;
      if (
        best === undefined || networks[j].prefix > networks[best].prefix ||
        (networks[j].prefix === networks[best].prefix)
      ) best = j;
    }
    assert.equal(map.match(address), best, formatAddress(address));
    if (best !== undefined) matched++;
  }
  // Both answers were asked many times.
  assert.ok(matched > 500 && matched < 2000, `${matched} matched`);
});
