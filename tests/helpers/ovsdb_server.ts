/**
 * Test helper: a private ovsdb-server (standalone, or a 3-member RAFT cluster) in a
 * temporary directory, listening on a unix socket, a TCP port and an SSL port (mutual
 * TLS with certificates generated here with openssl), stopped by pidfile. Never touches
 * the system's default OVS/OVN paths.
 *
 * ```ts
 * await using srv = await startOvsdbServer({ schema: NB_SCHEMA });
 * srv.remotes("tcp"); // "tcp:127.0.0.1:PORT"
 * ```
 *
 * @module
 */

/** OVN Northbound schema shipped by Debian's ovn-common. */
export const NB_SCHEMA = "/usr/share/ovn/ovn-nb.ovsschema";

/** PEM texts for a client. */
export interface TestTls {
  caCert: string;
  cert: string;
  key: string;
}

/** One ovsdb-server process. */
export interface Member {
  /** 0-based index. */
  index: number;
  /** `unix:PATH`. */
  unix: string;
  /** `tcp:127.0.0.1:PORT`. */
  tcp: string;
  /** `ssl:127.0.0.1:PORT`. */
  ssl: string;
  /** Database file. */
  db: string;
  /** Pidfile. */
  pidfile: string;
  /** unixctl socket. */
  ctl: string;
  /** argv that (re)starts it. */
  argv: string[];
}

/** Options of {@linkcode startOvsdbServer}. */
export interface StartOptions {
  /** Path of the .ovsschema file. */
  schema: string;
  /** Members: 1 = standalone (default), 3 = RAFT cluster. */
  members?: 1 | 3;
}

async function run(argv: string[], opts: { env?: Record<string, string> } = {}): Promise<string> {
  const out = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
    ...(opts.env ? { env: opts.env } : {}),
  }).output();
  const dec = new TextDecoder();
  if (out.code !== 0) {
    throw new Error(
      `Command failed (exit ${out.code}): ${argv.join(" ")}: ${dec.decode(out.stderr)}`,
    );
  }
  return dec.decode(out.stdout);
}

/** Ports {@linkcode freePort} handed out in this process (none is handed out twice). */
const handedOut = new Set<number>();

/**
 * Picks a free TCP port on 127.0.0.1 below the kernel's ephemeral range, never one it
 * picked before in this process. The port is closed again before its daemon binds it (or
 * before a server binds it again after a restart). Ports of the ephemeral range are what
 * the kernel hands to every outgoing connection and every bind to port 0 on this machine,
 * a client's reconnect to that very port included, so in that gap one of them could take
 * it; below the range only an explicit bind can.
 *
 * @returns the port
 * @throws {Error} when the ephemeral range leaves no room below it, or no port is free
 */
export function freePort(): number {
  const low = Number(
    Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range").trim().split(/\s+/)[0],
  );
  if (!(low > 11_000)) {
    throw new Error(`Cannot pick a port below the ephemeral range: it starts at ${low}`);
  }
  for (let i = 0; i < 200; i++) {
    const port = 10_000 + Math.floor(Math.random() * (low - 10_000));
    if (handedOut.has(port)) continue;
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
    } catch (err) {
      if (err instanceof Deno.errors.AddrInUse) continue;
      throw err;
    }
    handedOut.add(port);
    return port;
  }
  throw new Error(`Cannot find a free port between 10000 and ${low} on 127.0.0.1`);
}

/**
 * Generates a CA, a server certificate (SAN 127.0.0.1) and a client certificate.
 *
 * @param dir where the files go
 * @returns file paths and the client's PEM texts
 */
export async function makeCerts(dir: string): Promise<{
  ca: string;
  serverCert: string;
  serverKey: string;
  client: TestTls;
}> {
  const p = (n: string) => `${dir}/${n}`;
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await run([
    "openssl",
    "req",
    "-x509",
    ...ec,
    "-keyout",
    p("ca.key"),
    "-out",
    p("ca.pem"),
    "-days",
    "2",
    "-subj",
    "/CN=ovn-k8s test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  for (const who of ["server", "client"]) {
    await run([
      "openssl",
      "req",
      ...ec,
      "-keyout",
      p(`${who}.key`),
      "-out",
      p(`${who}.csr`),
      "-subj",
      `/CN=ovn-k8s test ${who}`,
    ]);
    await Deno.writeTextFile(
      p(`${who}.ext`),
      "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n" +
        "extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    );
    await run([
      "openssl",
      "x509",
      "-req",
      "-in",
      p(`${who}.csr`),
      "-CA",
      p("ca.pem"),
      "-CAkey",
      p("ca.key"),
      "-CAcreateserial",
      "-days",
      "2",
      "-out",
      p(`${who}.pem`),
      "-extfile",
      p(`${who}.ext`),
    ]);
  }
  return {
    ca: p("ca.pem"),
    serverCert: p("server.pem"),
    serverKey: p("server.key"),
    client: {
      caCert: await Deno.readTextFile(p("ca.pem")),
      cert: await Deno.readTextFile(p("client.pem")),
      key: await Deno.readTextFile(p("client.key")),
    },
  };
}

/** A running private server or cluster. */
export class OvsdbServer implements AsyncDisposable {
  /** Temporary directory holding everything. */
  readonly dir: string;
  /** The members. */
  readonly members: Member[];
  /** Client certificates (PEM texts). */
  readonly tls: TestTls;
  /** Database name read from the schema. */
  readonly database: string;

  /** @internal */
  constructor(dir: string, members: Member[], tls: TestTls, database: string) {
    this.dir = dir;
    this.members = members;
    this.tls = tls;
    this.database = database;
  }

  /**
   * @param kind transport
   * @param which member indexes (default all)
   * @returns a comma-separated remote list
   */
  remotes(kind: "tcp" | "unix" | "ssl", which?: number[]): string {
    return (which ?? this.members.map((m) => m.index)).map((i) => this.members[i]![kind]).join(
      ",",
    );
  }

  /**
   * Kills a member (SIGKILL by default) and waits until its pidfile process is gone.
   *
   * @param index member index
   * @param signal signal to send
   */
  async kill(index = 0, signal: Deno.Signal = "SIGKILL"): Promise<void> {
    const m = this.members[index]!;
    const pid = await readPid(m.pidfile);
    if (pid === undefined) return;
    try {
      Deno.kill(pid, signal);
    } catch { /* already gone */ }
    // Wait until it stops answering on its unixctl socket (zombies are reaped late here).
    for (let i = 0; i < 200; i++) {
      try {
        const c = await Deno.connect({ transport: "unix", path: m.ctl });
        c.close();
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    await Deno.remove(m.pidfile).catch(() => {});
  }

  /**
   * Starts a (killed) member again with the same database, ports and sockets.
   *
   * @param index member index
   */
  async restart(index = 0): Promise<void> {
    await run(this.members[index]!.argv);
  }

  /**
   * Finds the member that is RAFT leader (clusters only).
   *
   * @param timeoutMs how long to wait for one
   * @returns its index
   */
  async leader(timeoutMs = 20_000): Promise<number> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      for (const m of this.members) {
        const out = await run(["ovs-appctl", "-t", m.ctl, "cluster/status", this.database])
          .catch(() => "");
        if (/^Role: leader$/m.test(out)) return m.index;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`No RAFT leader among ${this.members.length} members after ${timeoutMs} ms`);
  }

  /**
   * Waits until every running member is a full cluster member and one is leader (a
   * member still joining cannot finish if the leader dies).
   *
   * @param timeoutMs how long to wait
   */
  async waitFormed(timeoutMs = 20_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const outs = await Promise.all(
        this.members.map((m) =>
          run(["ovs-appctl", "-t", m.ctl, "cluster/status", this.database]).catch(() => "")
        ),
      );
      const members = outs.every((o) => /^Status: cluster member$/m.test(o));
      const leaders = outs.filter((o) => /^Role: leader$/m.test(o)).length;
      const committed = outs.every((o) => /^Entries not yet committed: 0$/m.test(o));
      if (members && leaders === 1 && committed) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`RAFT cluster in ${this.dir} did not form within ${timeoutMs} ms`);
  }

  /** Kills every member and removes the directory. */
  async stop(): Promise<void> {
    for (const m of this.members) await this.kill(m.index, "SIGTERM").catch(() => {});
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }

  /** Same as {@linkcode stop}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

async function readPid(path: string): Promise<number | undefined> {
  try {
    const n = Number((await Deno.readTextFile(path)).trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts a private ovsdb-server (or a 3-member RAFT cluster). Needs root-free
 * `ovsdb-server`, `ovsdb-tool`, `openssl` and `--allow-all`.
 *
 * @param opts schema and member count
 * @returns the running server; stop it with `await using` or `stop()`
 */
export async function startOvsdbServer(opts: StartOptions): Promise<OvsdbServer> {
  const dir = await Deno.makeTempDir({ prefix: "ovnk8s-ovsdb-" });
  try {
    const database = JSON.parse(await Deno.readTextFile(opts.schema)).name as string;
    const certs = await makeCerts(dir);
    const n = opts.members ?? 1;
    const raft = Array.from({ length: n }, () => `tcp:127.0.0.1:${freePort()}`);
    const members: Member[] = [];
    for (let i = 0; i < n; i++) {
      const db = `${dir}/db${i}.db`;
      if (n === 1) await run(["ovsdb-tool", "create", db, opts.schema]);
      else if (i === 0) await run(["ovsdb-tool", "create-cluster", db, opts.schema, raft[0]!]);
      else await run(["ovsdb-tool", "join-cluster", db, database, raft[i]!, raft[0]!]);
      const tcp = freePort(), ssl = freePort();
      const m: Member = {
        index: i,
        unix: `unix:${dir}/db${i}.sock`,
        tcp: `tcp:127.0.0.1:${tcp}`,
        ssl: `ssl:127.0.0.1:${ssl}`,
        db,
        pidfile: `${dir}/db${i}.pid`,
        ctl: `${dir}/db${i}.ctl`,
        argv: [
          "ovsdb-server",
          "--detach",
          "--no-chdir",
          "-vconsole:off",
          `--pidfile=${dir}/db${i}.pid`,
          `--log-file=${dir}/db${i}.log`,
          `--unixctl=${dir}/db${i}.ctl`,
          `--remote=punix:${dir}/db${i}.sock`,
          `--remote=ptcp:${tcp}:127.0.0.1`,
          `--remote=pssl:${ssl}:127.0.0.1`,
          `--private-key=${certs.serverKey}`,
          `--certificate=${certs.serverCert}`,
          `--ca-cert=${certs.ca}`,
          db,
        ],
      };
      members.push(m);
      await run(m.argv);
    }
    const srv = new OvsdbServer(dir, members, certs.client, database);
    if (n > 1) await srv.waitFormed();
    return srv;
  } catch (err) {
    // Stop whatever started before the failure.
    for (const f of await Array.fromAsync(Deno.readDir(dir)).catch(() => [])) {
      if (f.name.endsWith(".pid")) {
        const pid = await readPid(`${dir}/${f.name}`);
        if (pid) Deno.kill(pid, "SIGKILL");
      }
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw err;
  }
}
