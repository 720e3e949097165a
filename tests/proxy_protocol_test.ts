import assert from "node:assert/strict";
import type { ByteReader } from "../lib/io/line_reader.ts";
import {
  looksLikeProxyHeader,
  MAX_V2_PAYLOAD_BYTES,
  parseProxyHeader,
  type ProxyParse,
  readProxyHeader,
} from "../lib/io/proxy_protocol.ts";
import { concat } from "./helpers.ts";

const encoder = new TextEncoder();
const text = (s: string) => encoder.encode(s);

// The 12 bytes every v2 header starts with.
const SIGNATURE = [...text("\r\n\r\n\0\r\nQUIT\n")];

/** A port as the two bytes of network order. */
function port(value: number): number[] {
  return [value >> 8, value & 0xff];
}

/** A v2 header: signature, ver/cmd, family, length, then `payload`. */
function v2(
  versionCommand: number,
  family: number,
  payload: readonly number[],
  length = payload.length,
): Uint8Array {
  return new Uint8Array([
    ...SIGNATURE,
    versionCommand,
    family,
    length >> 8,
    length & 0xff,
    ...payload,
  ]);
}

// 192.0.2.10 -> 198.51.100.1, ports 56324 -> 2025.
const IPV4_BLOCK = [
  ...[192, 0, 2, 10],
  ...[198, 51, 100, 1],
  ...port(56324),
  ...port(2025),
];

// 2001:db8::1 -> 2001:db8::2, ports 443 -> 2025.
const IPV6_BLOCK = [
  ...[0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 0x01],
  ...[0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 0x02],
  ...port(443),
  ...port(2025),
];

// A NOOP TLV and a CRC32C TLV (value not checked), as HAProxy may add.
const TLVS = [0x04, 0x00, 0x02, 0xaa, 0xbb, 0x03, 0x00, 0x04, 1, 2, 3, 4];

function header(length: number, ip: string, port: number): ProxyParse {
  return { kind: "header", length, source: { ip, port } };
}

function assertInvalid(bytes: Uint8Array, reason: RegExp): void {
  const parsed = parseProxyHeader(bytes);
  assert.equal(parsed.kind, "invalid", JSON.stringify(parsed));
  if (parsed.kind === "invalid") assert.match(parsed.reason, reason);
}

/** A reader handing out `chunks` one per read (split further to fit), then EOF. */
class ChunkReader implements ByteReader {
  reads = 0;
  #chunks: Uint8Array[];
  #end: "eof" | "hang";

  constructor(chunks: Uint8Array[], end: "eof" | "hang" = "eof") {
    this.#chunks = [...chunks];
    this.#end = end;
  }

  /** The bytes not read yet. */
  get left(): Uint8Array {
    return concat(this.#chunks);
  }

  read(buffer: Uint8Array): Promise<number | null> {
    this.reads++;
    const chunk = this.#chunks.shift();
    if (chunk === undefined) {
      // A silent peer: a read that never settles (no op, no timer).
      return this.#end === "eof"
        ? Promise.resolve(null)
        : new Promise<number | null>(() => {});
    }
    const count = Math.min(chunk.length, buffer.length);
    buffer.set(chunk.subarray(0, count));
    if (count < chunk.length) this.#chunks.unshift(chunk.subarray(count));
    return Promise.resolve(count);
  }
}

function bytewise(bytes: Uint8Array): Uint8Array[] {
  return [...bytes].map((byte) => new Uint8Array([byte]));
}

// ---- v1 ----

Deno.test("v1 TCP4 gives the source address and port", () => {
  const line = "PROXY TCP4 192.0.2.10 198.51.100.1 56324 2025\r\n";
  assert.deepEqual(
    parseProxyHeader(text(line + "ada\n")),
    header(line.length, "192.0.2.10", 56324),
  );
});

Deno.test("v1 TCP6 gives the source in compressed form", () => {
  const line = "PROXY TCP6 2001:DB8:0:0:0:0:0:1 2001:db8::2 443 2025\r\n";
  assert.deepEqual(
    parseProxyHeader(text(line)),
    header(line.length, "2001:db8::1", 443),
  );
  const cases: [string, string][] = [
    ["::1", "::1"],
    ["::", "::"],
    ["fe80:0:0:1:0:0:0:1", "fe80:0:0:1::1"],
    ["1:0:0:2:0:0:3:4", "1::2:0:0:3:4"],
    ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
    ["1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"],
    ["::ffff:192.0.2.1", "::ffff:192.0.2.1"],
    ["64:ff9b::192.0.2.1", "64:ff9b::c000:201"],
  ];
  for (const [given, shown] of cases) {
    const l = `PROXY TCP6 ${given} ::1 0 65535\r\n`;
    assert.deepEqual(parseProxyHeader(text(l)), header(l.length, shown, 0));
  }
});

Deno.test("IPv6 addresses are shown as the URL standard shows them", () => {
  // WHATWG URL serialises IPv6 by the same rule (RFC 5952): an independent
  // formatter to compare with, on random addresses rich in zero groups.
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let n = 0; n < 2000; n++) {
    const groups = Array.from(
      { length: 8 },
      () => random() < 0.5 ? 0 : Math.floor(random() * 0x10000),
    );
    // The URL standard does not write IPv4-mapped addresses dotted.
    if (groups.slice(0, 6).join() === "0,0,0,0,0,65535") continue;
    const given = groups.map((g) => g.toString(16).toUpperCase()).join(":");
    const line = `PROXY TCP6 ${given} ::1 1 2\r\n`;
    const expected = new URL(`http://[${given}]/`).hostname.slice(1, -1);
    assert.deepEqual(
      parseProxyHeader(text(line)),
      header(line.length, expected, 1),
      given,
    );
  }
});

Deno.test("v1 UNKNOWN has no source, whatever follows it", () => {
  for (
    const line of [
      "PROXY UNKNOWN\r\n",
      "PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n",
    ]
  ) {
    assert.deepEqual(parseProxyHeader(text(line + "x")), {
      kind: "header",
      length: line.length,
      source: null,
    });
  }
});

Deno.test("v1 refuses bad addresses, ports and fields", () => {
  const bad: [string, RegExp][] = [
    ["PROXY TCP4 1.2.3.256 5.6.7.8 1 2", /source address "1\.2\.3\.256"/],
    ["PROXY TCP4 1.2.3 5.6.7.8 1 2", /source address "1\.2\.3"/],
    ["PROXY TCP4 01.2.3.4 5.6.7.8 1 2", /source address "01\.2\.3\.4"/],
    ["PROXY TCP4 ::1 5.6.7.8 1 2", /not an IPv4 address/],
    ["PROXY TCP4 1.2.3.4 5.6.7 1 2", /destination address "5\.6\.7"/],
    ["PROXY TCP6 1.2.3.4 ::1 1 2", /source address "1\.2\.3\.4".*IPv6/],
    ["PROXY TCP6 1::2::3 ::1 1 2", /source address "1::2::3"/],
    ["PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2", /source address/],
    ["PROXY TCP6 1:2:3:4:5:6:7 ::1 1 2", /source address/],
    ["PROXY TCP6 1:2:3:4::5:6:7:8 ::1 1 2", /source address/],
    ["PROXY TCP6 fe80::1%eth0 ::1 1 2", /source address/],
    ["PROXY TCP6 12345:: ::1 1 2", /source address/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 70000 2", /source port "70000"/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1 65536", /destination port "65536"/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 080 2", /source port "080"/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 -1 2", /source port "-1"/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1", /not "PROXY TCP4 SRC DST SPORT DPORT"/],
    ["PROXY TCP4 1.2.3.4  5.6.7.8 1 2", /single spaces/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1 2 ", /single spaces/],
    ["PROXY UDP4 1.2.3.4 5.6.7.8 1 2", /unknown protocol "UDP4"/],
    ["PROXY tcp4 1.2.3.4 5.6.7.8 1 2", /unknown protocol "tcp4"/],
    ["PROXY UNKNOWNX", /unknown protocol "UNKNOWNX"/],
  ];
  for (const [line, reason] of bad) assertInvalid(text(line + "\r\n"), reason);
});

Deno.test("v1 refuses a header without CRLF or too long", () => {
  assertInvalid(
    text("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\nada\n"),
    /ends in LF, not CRLF/,
  );
  assertInvalid(
    text("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rada\n"),
    /CR not followed by LF/,
  );
  assertInvalid(
    text("PROXY TCP4 1.2.3.4\x005.6.7.8 1 2\r\n"),
    /holds the byte "\\x00"/,
  );
  // 107 bytes without a line end: too long, not waiting for more.
  const long = "PROXY UNKNOWN " + "x".repeat(107 - 14);
  assert.equal(long.length, 107);
  assertInvalid(text(long), /longer than 107 bytes/);
  // The longest header allowed is exactly 107 bytes with its CRLF...
  const longest = "PROXY UNKNOWN " + "x".repeat(107 - 16) + "\r\n";
  assert.equal(longest.length, 107);
  assert.deepEqual(parseProxyHeader(text(longest)), {
    kind: "header",
    length: 107,
    source: null,
  });
  // ...and one more byte before it is refused, even once the CR is there.
  const over = "PROXY UNKNOWN " + "x".repeat(107 - 15);
  assertInvalid(text(over + "\r"), /longer than 107 bytes/);
  assertInvalid(text(over + "\r\n"), /longer than 107 bytes/);
  // The longest real header, TCP6 with full addresses, fits.
  const full = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  const tcp6 = `PROXY TCP6 ${full} ${full} 65535 65535\r\n`;
  assert.equal(tcp6.length, 104);
  assert.deepEqual(
    parseProxyHeader(text(tcp6)),
    header(104, full, 65535),
  );
});

// ---- v2 ----

Deno.test("v2 PROXY over IPv4 and IPv6 gives the source", () => {
  assert.deepEqual(
    parseProxyHeader(concat([v2(0x21, 0x11, IPV4_BLOCK), text("ada\n")])),
    header(28, "192.0.2.10", 56324),
  );
  assert.deepEqual(
    parseProxyHeader(v2(0x21, 0x21, IPV6_BLOCK)),
    header(52, "2001:db8::1", 443),
  );
  const mapped = [...IPV6_BLOCK];
  mapped.splice(0, 16, ...new Array(10).fill(0), 0xff, 0xff, 10, 0, 0, 7);
  assert.deepEqual(
    parseProxyHeader(v2(0x21, 0x21, mapped)),
    header(52, "::ffff:10.0.0.7", 443),
  );
});

Deno.test("v2 skips TLVs after the addresses", () => {
  const bytes = concat([v2(0x21, 0x11, [...IPV4_BLOCK, ...TLVS]), text("x")]);
  assert.deepEqual(
    parseProxyHeader(bytes),
    header(16 + 12 + TLVS.length, "192.0.2.10", 56324),
  );
});

Deno.test("v2 LOCAL and UNSPEC have no source, addresses or not", () => {
  for (
    const bytes of [
      v2(0x20, 0x00, []),
      v2(0x20, 0x11, IPV4_BLOCK),
      v2(0x20, 0x99, [1, 2, 3]),
      v2(0x21, 0x00, []),
      v2(0x21, 0x00, TLVS),
      v2(0x21, 0x31, new Array(216).fill(0)),
    ]
  ) {
    assert.deepEqual(parseProxyHeader(bytes), {
      kind: "header",
      length: bytes.length,
      source: null,
    });
  }
});

Deno.test("v2 refuses a bad version, command, family or length", () => {
  assertInvalid(v2(0x11, 0x11, IPV4_BLOCK), /version "1" is not 2/);
  assertInvalid(v2(0x31, 0x11, IPV4_BLOCK), /version "3" is not 2/);
  assertInvalid(v2(0x22, 0x11, IPV4_BLOCK), /command "0x02" is unknown/);
  assertInvalid(v2(0x21, 0x12, IPV4_BLOCK), /"0x12" are not TCP/);
  assertInvalid(v2(0x21, 0x22, IPV6_BLOCK), /"0x22" are not TCP/);
  assertInvalid(v2(0x21, 0x10, IPV4_BLOCK), /"0x10" are not TCP/);
  assertInvalid(v2(0x21, 0x41, IPV4_BLOCK), /"0x41" are not TCP/);
  assertInvalid(
    v2(0x21, 0x11, IPV4_BLOCK.slice(0, 11)),
    /length "11" is too short for the 12 address bytes/,
  );
  assertInvalid(v2(0x21, 0x21, IPV4_BLOCK), /length "12" is too short/);
  const big = MAX_V2_PAYLOAD_BYTES + 1;
  // Refused from the 16 fixed bytes alone, before the block arrives.
  assertInvalid(
    v2(0x21, 0x11, [], big),
    new RegExp(`length "${big}" is over the limit of 4096 bytes`),
  );
  assert.equal(
    parseProxyHeader(v2(0x21, 0x11, [], MAX_V2_PAYLOAD_BYTES)).kind,
    "need-more",
  );
});

Deno.test("a truncated v2 header needs more", () => {
  const whole = v2(0x21, 0x11, [...IPV4_BLOCK, ...TLVS]);
  for (let n = 0; n < whole.length; n++) {
    assert.deepEqual(parseProxyHeader(whole.subarray(0, n)), {
      kind: "need-more",
    }, `after ${n} bytes`);
  }
});

// ---- signatures ----

Deno.test("bytes without a signature are none, prefixes need more", () => {
  for (const s of ["ada\n", "PROXZ", "PROXY\r\n", "proxy ", "\r\nada\n"]) {
    assert.deepEqual(parseProxyHeader(text(s)), { kind: "none" }, s);
  }
  assert.deepEqual(
    parseProxyHeader(new Uint8Array([...SIGNATURE.slice(0, 11), 0x0b])),
    { kind: "none" },
  );
  for (const s of ["", "P", "PROXY", "\r\n\r\n"]) {
    assert.deepEqual(parseProxyHeader(text(s)), { kind: "need-more" }, s);
  }
});

Deno.test("looksLikeProxyHeader wants a whole signature", () => {
  assert.equal(looksLikeProxyHeader(text("PROXY TCP4 1.2.3.4")), true);
  assert.equal(looksLikeProxyHeader(text("PROXY ")), true);
  assert.equal(looksLikeProxyHeader(new Uint8Array(SIGNATURE)), true);
  assert.equal(looksLikeProxyHeader(v2(0x21, 0x11, IPV4_BLOCK)), true);
  for (const s of ["", "P", "PROXY", "Proxy ", "ada\n", "\r\n\r\n"]) {
    assert.equal(looksLikeProxyHeader(text(s)), false, s);
  }
  assert.equal(
    looksLikeProxyHeader(new Uint8Array(SIGNATURE.slice(0, 11))),
    false,
  );
});

// ---- readProxyHeader ----

const HEADERS: [string, Uint8Array, string | null, number][] = [
  [
    "v1 TCP4",
    text("PROXY TCP4 192.0.2.10 198.51.100.1 56324 2025\r\n"),
    "192.0.2.10",
    56324,
  ],
  [
    "v1 TCP6",
    text("PROXY TCP6 2001:db8::1 2001:db8::2 443 2025\r\n"),
    "2001:db8::1",
    443,
  ],
  ["v1 UNKNOWN", text("PROXY UNKNOWN\r\n"), null, 0],
  ["v2 IPv4", v2(0x21, 0x11, IPV4_BLOCK), "192.0.2.10", 56324],
  ["v2 IPv6", v2(0x21, 0x21, IPV6_BLOCK), "2001:db8::1", 443],
  [
    "v2 IPv4 TLVs",
    v2(0x21, 0x11, [...IPV4_BLOCK, ...TLVS]),
    "192.0.2.10",
    56324,
  ],
  ["v2 LOCAL", v2(0x20, 0x00, []), null, 0],
  [
    "v2 big TLV",
    v2(0x21, 0x11, [
      ...IPV4_BLOCK,
      0x04,
      0x01,
      0x00,
      ...new Array(256).fill(7),
    ]),
    "192.0.2.10",
    56324,
  ],
];

Deno.test("readProxyHeader reads every header one byte a read", async () => {
  const client = text("ada\r\nhello\n");
  for (const [name, bytes, ip, port] of HEADERS) {
    const reader = new ChunkReader(bytewise(concat([bytes, client])));
    const { source, rest } = await readProxyHeader(reader, { timeoutMs: 1000 });
    assert.deepEqual(source, ip === null ? null : { ip, port }, name);
    // Byte by byte, nothing is read past the header.
    assert.deepEqual(rest, new Uint8Array(), name);
    assert.equal(reader.reads, bytes.length, name);
    assert.deepEqual(reader.left, client, name);
  }
});

Deno.test("readProxyHeader copes with every split into two reads", async () => {
  const client = text("ada\n");
  for (const [name, bytes, ip, port] of HEADERS) {
    const whole = concat([bytes, client]);
    for (let cut = 1; cut < whole.length; cut++) {
      const reader = new ChunkReader([
        whole.subarray(0, cut),
        whole.subarray(cut),
      ]);
      const { source, rest } = await readProxyHeader(reader, {
        timeoutMs: 1000,
      });
      const what = `${name}, cut at ${cut}`;
      assert.deepEqual(source, ip === null ? null : { ip, port }, what);
      // What was read past the header comes back in rest, the remainder
      // is still unread: together they are the client's bytes.
      assert.deepEqual(concat([rest, reader.left]), client, what);
    }
  }
});

Deno.test("readProxyHeader gives back the bytes read past the header", async () => {
  const whole = concat([
    text("PROXY TCP4 192.0.2.10 198.51.100.1 56324 2025\r\nada\nhello\n"),
  ]);
  const reader = new ChunkReader([whole]);
  const { source, rest } = await readProxyHeader(reader, { timeoutMs: 1000 });
  assert.deepEqual(source, { ip: "192.0.2.10", port: 56324 });
  assert.equal(new TextDecoder().decode(rest), "ada\nhello\n");
  assert.equal(reader.reads, 1);
});

Deno.test("readProxyHeader refuses a bad header at its first bad byte", async () => {
  const reader = new ChunkReader(
    bytewise(text("PROXY TCP4 1.2.3.4 5.6.7.8 70000 2025\r\nada\n")),
  );
  await assert.rejects(
    readProxyHeader(reader, { timeoutMs: 1000 }),
    {
      name: "ProxyHeaderError",
      message:
        'Invalid PROXY header: source port "70000" is not a number in 0-65535',
    },
  );
  const v2reader = new ChunkReader(bytewise(v2(0x11, 0x11, IPV4_BLOCK)));
  await assert.rejects(
    readProxyHeader(v2reader, { timeoutMs: 1000 }),
    { message: 'Invalid PROXY header: binary header version "1" is not 2' },
  );
  assert.equal(v2reader.reads, 13);
});

Deno.test("readProxyHeader refuses a connection without a header", async () => {
  await assert.rejects(
    readProxyHeader(new ChunkReader([text("ada\n")]), { timeoutMs: 1000 }),
    {
      message:
        'Invalid PROXY header: the connection starts with "ada\\x0a", not a PROXY signature',
    },
  );
});

Deno.test("readProxyHeader refuses the end of input inside a header", async () => {
  await assert.rejects(
    readProxyHeader(
      new ChunkReader(bytewise(text("PROXY TCP4 1.2.3.4"))),
      { timeoutMs: 1000 },
    ),
    {
      message:
        "Invalid PROXY header: the connection closed after 18 bytes, before the header ended",
    },
  );
  await assert.rejects(
    readProxyHeader(new ChunkReader([]), { timeoutMs: 1000 }),
    { message: /closed after 0 bytes/ },
  );
});

Deno.test("readProxyHeader times out on a peer that stops sending", async () => {
  const reader = new ChunkReader([text("PROXY TCP4 1.2")], "hang");
  const started = performance.now();
  await assert.rejects(
    readProxyHeader(reader, { timeoutMs: 50 }),
    { name: "ProxyHeaderError", message: "No PROXY header within 50 ms" },
  );
  const took = performance.now() - started;
  assert.ok(took >= 45 && took < 1000, `took ${took} ms`);
});

Deno.test("readProxyHeader stops when its signal aborts", async () => {
  const abort = new AbortController();
  const reading = readProxyHeader(new ChunkReader([], "hang"), {
    timeoutMs: 10_000,
    signal: abort.signal,
  });
  abort.abort();
  await assert.rejects(reading, { message: "PROXY header wait aborted" });
});

Deno.test("readProxyHeader over a real socket, header and data in one write", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const client = await Deno.connect({ hostname: "127.0.0.1", port });
  const server = await listener.accept();
  try {
    await client.write(concat([v2(0x21, 0x21, IPV6_BLOCK), text("ada\n")]));
    const { source, rest } = await readProxyHeader(server, { timeoutMs: 2000 });
    assert.deepEqual(source, { ip: "2001:db8::1", port: 443 });
    let got = new TextDecoder().decode(rest);
    const buffer = new Uint8Array(16);
    while (!got.endsWith("\n")) {
      const n = await server.read(buffer);
      if (n === null) break;
      got += new TextDecoder().decode(buffer.subarray(0, n));
    }
    assert.equal(got, "ada\n");
  } finally {
    client.close();
    server.close();
    listener.close();
  }
});

Deno.test("a timed-out read on a real socket is settled by the caller's close", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const client = await Deno.connect({ hostname: "127.0.0.1", port });
  const server = await listener.accept();
  try {
    await client.write(text("PROXY "));
    await assert.rejects(
      readProxyHeader(server, { timeoutMs: 50 }),
      { message: "No PROXY header within 50 ms" },
    );
  } finally {
    // The read left pending ends here; the sanitizers check that it does.
    server.close();
    client.close();
    listener.close();
  }
});
