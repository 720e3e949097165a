/**
 * The peers the load generator compares our server with, when Debian has
 * them installed: `ncat --chat` (a line relay, /usr/bin/ncat), ngIRCd
 * (/usr/sbin/ngircd) and InspIRCd (/usr/sbin/inspircd); and the Python
 * original (`server.py` of ShalevAtsis/Socket_Chat, a thread per client)
 * when `--original PATH` names a copy of it: it is copied into the peer's
 * temp dir at run time and started there by a small runner that binds it
 * to 127.0.0.1 and a free port instead of its hostname and port 2025 (its
 * source is left as it is; the bench never holds a copy). Each is started
 * on a free 127.0.0.1 port with its own config in a temp dir, its flood
 * and connection limits lifted, pinned like our server, and stopped with
 * SIGTERM (SIGKILL after 10 s).
 *
 * @module
 */

import { pumpLines, pushTail } from "./proc.ts";
import { raceTimeout } from "./stats.ts";

/** Peer names accepted by `--peers`. */
export type PeerName = "original" | "ncat" | "ngircd" | "inspircd";

/** Every peer, in the order they run. */
export const PEER_NAMES: readonly PeerName[] = [
  "original",
  "ncat",
  "ngircd",
  "inspircd",
];

/** The protocol a peer speaks, which decides the load client. */
export type PeerProtocol = "original" | "ncat" | "irc";

/** What the bench knows about a peer. */
export interface PeerInfo {
  name: PeerName;
  protocol: PeerProtocol;
  /** Absolute path of the binary. */
  binary: string;
  /** The original's server.py (`--original PATH`). */
  script?: string;
}

const PEERS: Record<PeerName, PeerInfo> = {
  original: {
    name: "original",
    protocol: "original",
    binary: "/usr/bin/python3",
  },
  ncat: { name: "ncat", protocol: "ncat", binary: "/usr/bin/ncat" },
  ngircd: { name: "ngircd", protocol: "irc", binary: "/usr/sbin/ngircd" },
  inspircd: {
    name: "inspircd",
    protocol: "irc",
    binary: "/usr/sbin/inspircd",
  },
};

/**
 * The peer's description, or null if its binary (for the original: python3
 * or the `script` given) is not there.
 */
export function findPeer(name: PeerName, script?: string): PeerInfo | null {
  const info = name === "original"
    ? { ...PEERS.original, script }
    : PEERS[name];
  if (name === "original" && script === undefined) return null;
  try {
    for (const f of [info.binary, info.script ?? info.binary]) {
      if (!Deno.statSync(f).isFile) return null;
    }
    return info;
  } catch {
    return null;
  }
}

/**
 * Runs the original's server.py (in the current directory) on the host and
 * port given as arguments: its `socket.gethostname()` and port 2025 are
 * swapped at bind time, its stdin stays open (it reads a console command).
 */
const ORIGINAL_RUNNER = `import runpy, socket, sys
host, port = sys.argv[1], int(sys.argv[2])
socket.gethostname = lambda: host
_bind = socket.socket.bind
def bind(self, addr):
    return _bind(self, (host, port) if addr[1] == 2025 else addr)
socket.socket.bind = bind
runpy.run_path("server.py", run_name="__main__")
`;

/** The peer's version line (first line of its `--version`), or null. */
export async function peerVersion(info: PeerInfo): Promise<string | null> {
  try {
    const out = await new Deno.Command(info.binary, {
      args: ["--version"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) +
      new TextDecoder().decode(out.stderr);
    const line = text.split("\n").map((l) => l.trim()).find((l) => l !== "");
    return line ?? null;
  } catch {
    return null;
  }
}

/** A free TCP port on `host` (bound, read and released). */
export function freePort(host: string): number {
  const l = Deno.listen({ hostname: host, port: 0, transport: "tcp" });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** ngIRCd's config: every limit off or huge, no DNS/ident/PAM lookups. */
export function ngircdConfig(
  opts: { host: string; port: number; dir: string },
): string {
  return `[Global]
	Name = bench.local
	AdminInfo1 = bench
	AdminInfo2 = bench
	AdminEMail = bench@localhost
	Info = chat bench peer
	Listen = ${opts.host}
	Ports = ${opts.port}
	PidFile = ${opts.dir}/ngircd.pid
	MotdPhrase = "bench"
[Limits]
	MaxConnections = 0
	MaxConnectionsIP = 0
	MaxJoins = 0
	MaxNickLength = 31
	MaxPenaltyTime = 0
	MaxListSize = 100000
	PingTimeout = 600
	PongTimeout = 600
	IdleTimeout = 0
[Options]
	DNS = no
	Ident = no
	PAM = no
	MorePrivacy = no
	NoticeBeforeRegistration = no
	RequireAuthPing = no
`;
}

/**
 * InspIRCd's config: one connect class with every threshold, queue and
 * count lifted, no fake lag, no DNS, a large socket limit.
 */
export function inspircdConfig(
  opts: { host: string; port: number; dir: string; maxClients: number },
): string {
  const big = 1_000_000_000;
  return `<server name="bench.local" description="chat bench peer" network="bench">
<admin name="bench" nick="bench" email="bench@localhost">
<bind address="${opts.host}" port="${opts.port}" type="clients">
<connect name="bench" allow="*" timeout="120" threshold="${big}"
  commandrate="${big}" fakelag="no" pingfreq="600" hardsendq="${big}"
  softsendq="${big}" recvq="${big}" localmax="${big}" globalmax="${big}"
  maxchans="1000" limit="${big}" resolvehostnames="no" useident="no">
<channels users="1000" opers="1000">
<limits maxnick="31" maxchan="64">
<pid file="${opts.dir}/inspircd.pid">
<performance softlimit="${opts.maxClients}" somaxconn="4096"
  netbuffersize="65536" quietbursts="yes">
<options prefixquit="Quit: " syntaxhints="no" announcets="no"
  hostintopic="yes" pingwarning="15">
<security maxtargets="20" userstats="Pu">
<files motd="${opts.dir}/motd">
<dns timeout="1">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default"
  target="${opts.dir}/inspircd.log">
`;
}

const TROUBLE =
  /error|exhaust|fail|kill|refus|limit|flood|excess|sendq|recvq|too many|warn/i;

/** Options for {@linkcode startPeer}. */
export interface StartPeerOptions {
  info: PeerInfo;
  host: string;
  /** Core to pin the peer to with taskset, or null. */
  pinCore: number | null;
  /** Most connections the run opens (sizes socket limits). */
  maxClients: number;
  startTimeoutMs: number;
}

/** A running peer. */
export interface PeerHandle {
  name: PeerName;
  host: string;
  port: number;
  pid: number;
  /** True once the process has exited. */
  readonly exited: boolean;
  /** Last lines of its output. */
  tail(): string[];
  /** First lines of its output that look like trouble (errors, limits). */
  notable(): string[];
  /** SIGTERM, then SIGKILL after 10 s; removes the temp dir. */
  stop(): Promise<{ code: number; signal: string | null; killed: boolean }>;
}

/** Starts a peer and waits (bounded) until it listens. */
export async function startPeer(opts: StartPeerOptions): Promise<PeerHandle> {
  const { info, host } = opts;
  const port = freePort(host);
  const dir = await Deno.makeTempDir({ prefix: `chat_bench_${info.name}_` });
  // ngIRCd drops root for `nobody` before it writes its pid file.
  await Deno.chmod(dir, 0o777);
  let args: string[];
  let ready: RegExp;
  if (info.name === "original") {
    await Deno.copyFile(info.script!, `${dir}/server.py`);
    args = ["-u", "-c", ORIGINAL_RUNNER, host, String(port)];
    ready = /listing on the port/;
  } else if (info.name === "ncat") {
    args = [
      "--chat",
      "--listen",
      "--verbose",
      "--max-conns",
      String(opts.maxClients + 16),
      host,
      String(port),
    ];
    ready = /Listening on /;
  } else if (info.name === "ngircd") {
    const conf = `${dir}/ngircd.conf`;
    await Deno.writeTextFile(conf, ngircdConfig({ host, port, dir }));
    args = ["--nodaemon", "--passive", "--config", conf];
    ready = /Now listening on /;
  } else {
    const conf = `${dir}/inspircd.conf`;
    await Deno.writeTextFile(`${dir}/motd`, "bench\n");
    await Deno.writeTextFile(
      conf,
      inspircdConfig({ host, port, dir, maxClients: opts.maxClients + 256 }),
    );
    args = ["--config", conf, "--nofork"];
    if (Deno.uid() === 0) args.push("--runasroot");
    ready = /is now running/;
  }
  const [cmd, cmdArgs] = opts.pinCore === null
    ? [info.binary, args]
    : ["taskset", ["-c", String(opts.pinCore), info.binary, ...args]];
  const child = new Deno.Command(cmd, {
    args: cmdArgs,
    cwd: dir,
    // The original reads console commands; EOF on stdin would end it.
    stdin: info.name === "original" ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const tail: string[] = [];
  const notable: string[] = [];
  let notableCount = 0;
  const listening = Promise.withResolvers<void>();
  const onLine = (line: string) => {
    pushTail(tail, line);
    if (TROUBLE.test(line) && !/Got QUIT command|Client exited/.test(line)) {
      if (++notableCount <= 20) pushTail(notable, line);
    }
    if (ready.test(line)) listening.resolve();
  };
  const pumps = Promise.all([
    pumpLines(child.stdout, onLine),
    pumpLines(child.stderr, onLine),
  ]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const removeDir = async () => {
    await raceTimeout(pumps, 2000);
    try {
      await Deno.remove(dir, { recursive: true });
    } catch {
      // best effort
    }
  };
  const first = await raceTimeout(
    Promise.race([
      listening.promise.then(() => "ready" as const),
      status.then(() => "exited" as const),
    ]),
    opts.startTimeoutMs,
  );
  if (first !== "ready") {
    if (first === undefined) {
      try {
        child.kill("SIGKILL");
      } catch {
        // gone
      }
    }
    await status;
    await removeDir();
    throw new Error(
      `${info.name} ${
        first === undefined ? "did not report listening" : "exited"
      }:\n  ${tail.slice(-10).join("\n  ")}`,
    );
  }
  return {
    name: info.name,
    host,
    port,
    pid: child.pid,
    get exited() {
      return exited;
    },
    tail: () => [...tail],
    notable: () =>
      notableCount > notable.length
        ? [...notable, `(${notableCount - notable.length} more such lines)`]
        : [...notable],
    async stop() {
      let killed = false;
      if (!exited) {
        try {
          child.kill("SIGTERM");
        } catch {
          // exited meanwhile
        }
        if (await raceTimeout(status, 10_000) === undefined) {
          killed = true;
          try {
            child.kill("SIGKILL");
          } catch {
            // exited meanwhile
          }
        }
      }
      const st = await status;
      if (info.name === "original") {
        try {
          await child.stdin.close();
        } catch {
          // closed with the process
        }
      }
      await removeDir();
      return { code: st.code, signal: st.signal, killed };
    },
  };
}
