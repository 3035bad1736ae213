// deno-lint-ignore-file no-console
/**
 * `deno task bench ovsdb_monitor_load`: how long our OVSDB client takes to load a large
 * monitor initial reply, the watcher's restart case (issue 5 §5). A fresh OVN_Northbound
 * ovsdb-server (private temp dir, unix socket) gets N = 50,000 Logical_Switch_Ports
 * (pod-port columns and external ids like the watcher writes, on 10 switches) in one
 * transaction; then, per round, with the watcher's NB columns of Logical_Switch and
 * Logical_Switch_Port:
 *
 * - (raw) the floor: a hand-written `monitor_cond_since` on a raw socket, read in 256 KiB
 *   reads until the reply's byte count, then one join + TextDecoder + `JSON.parse`.
 *   Split into server (request to first byte: ovsdb-server builds the whole reply
 *   first), transfer (first to last byte) and parse;
 * - (client) `OvsdbClient.monitor()` on a connected client with a change listener (as
 *   the watcher has), from the request to the cache loaded and the events emitted;
 * - the client's own work on the reply bytes the raw case read, each step alone:
 *   framing + parse (`JsonFramer` fed the same chunks) and cache load (`OvsdbCache.resync`
 *   of the parsed reply into an empty cache, with a listener);
 * - (dump) `ovsdb-client --format=json dump` of the same columns, process included
 *   (reference only: it also formats the output).
 *
 * Prints the median of BENCH_REPEAT rounds (default 5) and the ratios client/raw and
 * (client - raw)/raw. BENCH_MONITOR_PORTS sets N. BENCH_OVSDB_COMPARE=<path of another
 * src/ovsdb/mod.ts> (e.g. an older commit's, extracted with `git archive`) runs the
 * client case with that module too, alternating, in the same run.
 * Needs ovsdb-tool, ovsdb-server, ovsdb-client; `--allow-all`.
 *
 * @module
 */
import * as current from "../src/ovsdb/mod.ts";
import { POD_NB_COLUMNS } from "../src/controllers/pod_controller.ts";

type OvsdbModule = typeof current;

const SCHEMA = "/usr/share/ovn/ovn-nb.ovsschema";
const DB = "OVN_Northbound";
const N = Number(Deno.env.get("BENCH_MONITOR_PORTS") ?? "50000");
const REPEAT = Number(Deno.env.get("BENCH_REPEAT") ?? "5");
const COMPARE = Deno.env.get("BENCH_OVSDB_COMPARE");
const SWITCHES = 10;

/** The watcher's NB columns. */
const COLUMNS: Record<string, string[]> = POD_NB_COLUMNS;

async function run(argv: string[]): Promise<string> {
  const out = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) {
    throw new Error(`${argv.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

interface Server {
  sock: string;
  stop(): Promise<void>;
}

async function startNb(): Promise<Server> {
  const dir = await Deno.makeTempDir({ prefix: "ovnk8s-bench-monload-" });
  await run(["ovsdb-tool", "create", `${dir}/nb.db`, SCHEMA]);
  await run([
    "ovsdb-server",
    "--detach",
    "--no-chdir",
    "-vconsole:off",
    `--pidfile=${dir}/nb.pid`,
    `--log-file=${dir}/nb.log`,
    `--unixctl=${dir}/nb.ctl`,
    `--remote=punix:${dir}/nb.sock`,
    `${dir}/nb.db`,
  ]);
  return {
    sock: `${dir}/nb.sock`,
    async stop() {
      try {
        Deno.kill(Number((await Deno.readTextFile(`${dir}/nb.pid`)).trim()), "SIGTERM");
      } catch { /* gone */ }
      await new Promise((r) => setTimeout(r, 100));
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

function hex(n: number): string {
  return n.toString(16).padStart(2, "0");
}

/** N pod ports on SWITCHES switches, in one transaction. */
async function fill(sock: string): Promise<void> {
  await using db = await current.OvsdbClient.connect({ remotes: `unix:${sock}`, database: DB });
  const ops: current.Operation[] = [];
  const ports: string[][] = Array.from({ length: SWITCHES }, () => []);
  for (let i = 0; i < N; i++) {
    const sw = i % SWITCHES, host = 3 + Math.floor(i / SWITCHES);
    const ip = `10.244.${sw}.${host & 255}`;
    const addr = `0a:58:0a:f4:${hex(sw)}:${hex(host & 255)} ${ip}`;
    ops.push({
      op: "insert",
      table: "Logical_Switch_Port",
      row: {
        name: `bench_p${i}`,
        addresses: [addr],
        port_security: [addr],
        external_ids: {
          namespace: "bench",
          pod: "true",
          "k8s.ovn.org/owner-type": "Pod",
          "k8s.ovn.org/owner-controller": "ovn-k8s-watcher",
          "k8s.ovn.org/id": `ovn-k8s-watcher:Pod:bench/p${i}`,
          "k8s.ovn.org/uid": `uid-${i}`,
        },
      },
      uuidName: `p${i}`,
    });
    ports[sw]!.push(`p${i}`);
  }
  for (let s = 0; s < SWITCHES; s++) {
    ops.push({
      op: "insert",
      table: "Logical_Switch",
      row: { name: `node${s + 1}`, ports: ports[s]!, other_config: { subnet: `10.244.${s}.0/24` } },
    });
  }
  await db.transact(ops, { timeoutMs: 300_000 });
}

interface RawRead {
  chunks: Uint8Array[];
  server: number;
  transfer: number;
  parse: number;
  total: number;
  reply: unknown;
}

const REQUEST_ID = 7;

function monitorRequest(): Uint8Array {
  const reqs: Record<string, unknown> = {};
  for (const [t, columns] of Object.entries(COLUMNS)) reqs[t] = [{ columns }];
  return new TextEncoder().encode(JSON.stringify({
    id: REQUEST_ID,
    method: "monitor_cond_since",
    params: [DB, "bench", reqs, current.ZERO_UUID],
  }));
}

/**
 * The floor. With `bytes` unknown (the first, unmeasured read) the end is found with
 * our framer; the reply's size does not change between rounds (same rows, same id).
 */
async function rawRead(
  sock: string,
  bytes: number | undefined,
): Promise<RawRead & { bytes: number }> {
  const conn = await Deno.connect({ transport: "unix", path: sock });
  try {
    const req = monitorRequest();
    const buf = new Uint8Array(256 * 1024);
    const chunks: Uint8Array[] = [];
    let got = 0, first = 0;
    const framer = bytes === undefined ? new current.JsonFramer() : undefined;
    const t0 = performance.now();
    await conn.write(req);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) throw new Error("raw monitor: connection closed before the reply ended");
      if (got === 0) first = performance.now();
      const chunk = buf.slice(0, n);
      chunks.push(chunk);
      got += n;
      if (framer ? framer.push(chunk).length > 0 : got >= bytes!) break;
    }
    const last = performance.now();
    const all = new Uint8Array(got);
    let off = 0;
    for (const c of chunks) {
      all.set(c, off);
      off += c.length;
    }
    const reply = JSON.parse(new TextDecoder().decode(all));
    const end = performance.now();
    return {
      chunks,
      bytes: got,
      server: first - t0,
      transfer: last - first,
      parse: end - last,
      total: end - t0,
      reply,
    };
  } finally {
    conn.close();
  }
}

/** Request to cache loaded through a connected client (with a listener, as the watcher). */
async function clientLoad(mod: OvsdbModule, sock: string): Promise<number> {
  await using db = await mod.OvsdbClient.connect({ remotes: `unix:${sock}`, database: DB });
  let events = 0;
  db.cache.on("change", () => events++);
  const t0 = performance.now();
  await db.monitor(COLUMNS, { timeoutMs: 120_000 });
  const ms = performance.now() - t0;
  if (db.cache.table("Logical_Switch_Port").size !== N || events !== N + SWITCHES) {
    throw new Error(`client monitor: ${events} events, expected ${N + SWITCHES}`);
  }
  return ms;
}

/** Framing + parse of the raw case's chunks, then the cache load of the parsed reply. */
function clientSteps(raw: RawRead, schema: current.DatabaseSchema): [number, number] {
  const t0 = performance.now();
  const framer = new current.JsonFramer();
  let msgs: unknown[] = [];
  for (const c of raw.chunks) msgs = msgs.concat(framer.push(c));
  const t1 = performance.now();
  const msg = msgs[0] as { result: [boolean, string, unknown] };
  const cache = new current.OvsdbCache();
  let events = 0;
  cache.on("change", () => events++);
  const columns = new Map(Object.entries(COLUMNS));
  cache.resync(
    Object.keys(COLUMNS),
    (c) => c.applyUpdates2(schema, msg.result[2], columns),
  );
  const t2 = performance.now();
  if (events !== N + SWITCHES) throw new Error(`cache load: ${events} events`);
  return [t1 - t0, t2 - t1];
}

async function dump(sock: string): Promise<number> {
  const t0 = performance.now();
  const out = await run([
    "ovsdb-client",
    "--format=json",
    "dump",
    `unix:${sock}`,
    DB,
    "Logical_Switch_Port",
    ...COLUMNS.Logical_Switch_Port!,
  ]);
  const ms = performance.now() - t0;
  if (out.length < N * 10) throw new Error("ovsdb-client dump: output too short");
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

function ms(x: number): string {
  return `${x.toFixed(0)} ms`;
}

if (import.meta.main) {
  const compare = COMPARE ? await import(COMPARE) as OvsdbModule : undefined;
  const server = await startNb();
  try {
    const tf = performance.now();
    await fill(server.sock);
    console.log(`filled NB with ${N} ports in one transaction: ${ms(performance.now() - tf)}`);
    const schema = current.parseSchema(JSON.parse(await Deno.readTextFile(SCHEMA)));
    const warm = await rawRead(server.sock, undefined);
    const bytes = warm.bytes;
    console.log(`monitor reply: ${(bytes / 1048576).toFixed(1)} MiB, ${warm.chunks.length} reads`);
    const r = {
      server: [] as number[],
      transfer: [] as number[],
      parse: [] as number[],
      raw: [] as number[],
      client: [] as number[],
      compare: [] as number[],
      framing: [] as number[],
      load: [] as number[],
      dump: [] as number[],
    };
    for (let i = 0; i < REPEAT; i++) {
      const raw = await rawRead(server.sock, bytes);
      r.server.push(raw.server);
      r.transfer.push(raw.transfer);
      r.parse.push(raw.parse);
      r.raw.push(raw.total);
      const [framing, load] = clientSteps(raw, schema);
      r.framing.push(framing);
      r.load.push(load);
      r.client.push(await clientLoad(current, server.sock));
      if (compare) r.compare.push(await clientLoad(compare, server.sock));
      r.dump.push(await dump(server.sock));
    }
    const raw = median(r.raw), client = median(r.client);
    console.log(`medians of ${REPEAT} rounds, ${N} ports:`);
    console.log(
      `  (raw) floor: ${ms(raw)} = server ${ms(median(r.server))} + transfer ` +
        `${ms(median(r.transfer))} + join/decode/JSON.parse ${ms(median(r.parse))}`,
    );
    console.log(
      `  (client) monitor() to cache loaded: ${ms(client)} (${(client / raw).toFixed(2)}x raw, ` +
        `+${ms(client - raw)})`,
    );
    console.log(
      `    client steps on the same bytes: framing+parse ${ms(median(r.framing))}, ` +
        `cache load ${ms(median(r.load))}`,
    );
    if (compare) {
      const c = median(r.compare);
      console.log(
        `  (compare) ${COMPARE}: ${ms(c)} (${(c / raw).toFixed(2)}x raw, +${ms(c - raw)})`,
      );
    }
    console.log(`  (dump) ovsdb-client --format=json dump: ${ms(median(r.dump))}`);
    console.log(
      `  all rounds: ${JSON.stringify(r, (_, v) => typeof v === "number" ? +v.toFixed(0) : v)}`,
    );
  } finally {
    await server.stop();
  }
}
