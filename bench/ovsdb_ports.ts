// deno-lint-ignore-file no-console
/**
 * `deno task bench ovsdb_ports`: creates N logical switch ports with addresses on a
 * fresh OVN_Northbound ovsdb-server (private temp dir, unix socket), five ways, and
 * prints the time of each and its ratio to (b):
 *
 * - (a) one `ovn-nbctl lsp-add ... -- lsp-set-addresses ...` process per port (for
 *   N = 10,000: 100 calls measured at each of 10 database sizes 0, 1,000, ... 9,000 ports,
 *   pre-filled by one raw transaction, and extrapolated: the per-call cost grows with the
 *   database because every ovn-nbctl downloads it first);
 * - (b) one raw JSON-RPC `transact` of all rows, written by hand on the socket (baseline);
 * - (c) our client, one transaction of all rows;
 * - (d) our client, one transaction per port, all in flight at once (pipelined);
 * - (e) our client, one transaction per port, one after the other.
 *
 * Each case starts from a fresh database holding only switch `sw0`, timed from a connected
 * socket/client to the last commit acknowledged; every case checks that N ports exist
 * afterwards. Targets (issue #2): (c) <= 1.5x (b); (d) >= 100x faster than (a).
 * Needs ovsdb-tool, ovsdb-server and ovn-nbctl; `--allow-all`.
 *
 * @module
 */
import { op, type Operation, OvsdbClient } from "../src/ovsdb/mod.ts";
import { killPidfile, NB_SCHEMA, run, startOvsdbServer } from "./_common.ts";

const DB = "OVN_Northbound";
const SIZES = (Deno.env.get("BENCH_PORTS") ?? "1000,10000").split(",").map(Number);
/** Rounds of each client/raw case (the median is reported; (a) runs once). */
const REPEAT = Number(Deno.env.get("BENCH_REPEAT") ?? "5");
/** Cases to run (default all; e.g. BENCH_CASES=b,c for a quick look). */
const CASES = (Deno.env.get("BENCH_CASES") ?? "b,c,d,e,a").split(",") as Case[];

interface Server {
  dir: string;
  sock: string;
  stop(): Promise<void>;
}

async function freshNb(): Promise<Server> {
  const dir = await Deno.makeTempDir({ prefix: "ovnk8s-bench-" });
  const sock = await startOvsdbServer(dir, "nb", NB_SCHEMA);
  await run(["ovn-nbctl", `--db=unix:${sock}`, "ls-add", "sw0"]);
  return {
    dir,
    sock,
    async stop() {
      await killPidfile(`${dir}/nb.pid`);
      await new Promise((r) => setTimeout(r, 50));
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function mac(i: number): string {
  const h = (n: number) => n.toString(16).padStart(2, "0");
  return `0a:58:0a:${h((i >> 16) & 255)}:${h((i >> 8) & 255)}:${h(i & 255)}`;
}
function ip(i: number): string {
  return `10.${128 + ((i >> 16) & 127)}.${(i >> 8) & 255}.${i & 255}`;
}
function addr(i: number): string {
  return `${mac(i)} ${ip(i)}`;
}

/** (b) and the pre-fill of (a): one hand-written JSON-RPC transact on a raw socket. */
async function rawTransact(sock: string, from: number, n: number, prefix: string) {
  const conn = await Deno.connect({ transport: "unix", path: sock });
  try {
    const t0 = performance.now();
    const ops: unknown[] = [];
    const names: unknown[] = [];
    for (let i = from; i < from + n; i++) {
      names.push(["named-uuid", `p${i}`]);
      ops.push({
        op: "insert",
        table: "Logical_Switch_Port",
        "uuid-name": `p${i}`,
        row: { name: `${prefix}-${i}`, addresses: addr(i) },
      });
    }
    ops.push({
      op: "mutate",
      table: "Logical_Switch",
      where: [["name", "==", "sw0"]],
      mutations: [["ports", "insert", ["set", names]]],
    });
    const req = new TextEncoder().encode(
      JSON.stringify({ method: "transact", params: [DB, ...ops], id: 1 }),
    );
    let off = 0;
    while (off < req.length) off += await conn.write(req.subarray(off));
    const dec = new TextDecoder();
    const buf = new Uint8Array(1 << 20);
    let text = "";
    for (;;) {
      const r = await conn.read(buf);
      if (r === null) throw new Error("raw transact: connection closed");
      text += dec.decode(buf.subarray(0, r), { stream: true });
      if (!text.trimEnd().endsWith("}")) continue;
      let msg: { id?: unknown; result?: { error?: string; count?: number }[] };
      try {
        msg = JSON.parse(text);
      } catch {
        continue; // more to come
      }
      if (msg.id !== 1) throw new Error(`raw transact: unexpected ${text.slice(0, 100)}`);
      const last = msg.result?.[n];
      if (!last || last.count !== 1 || msg.result!.some((x) => x.error)) {
        throw new Error(`raw transact failed: ${text.slice(0, 300)}`);
      }
      return performance.now() - t0;
    }
  } finally {
    conn.close();
  }
}

async function nbctlPorts(sock: string, from: number, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = from; i < from + n; i++) {
    await run([
      "ovn-nbctl",
      `--db=unix:${sock}`,
      "lsp-add",
      "sw0",
      `a-${i}`,
      "--",
      "lsp-set-addresses",
      `a-${i}`,
      addr(i),
    ]);
  }
  return performance.now() - t0;
}

function portOps(i: number, prefix: string): Operation[] {
  return [
    op.insert("Logical_Switch_Port", { name: `${prefix}-${i}`, addresses: [addr(i)] }, {
      uuidName: `p${i}`,
    }),
    op.mutate("Logical_Switch", [["name", "==", "sw0"]], [["ports", "insert", [`p${i}`]]]),
  ];
}

async function countPorts(sock: string): Promise<number> {
  await using db = await OvsdbClient.connect({ remotes: `unix:${sock}`, database: DB });
  const [sel] = await db.transact([
    op.select("Logical_Switch", [["name", "==", "sw0"]], ["ports"]),
  ]);
  return (sel!.rows![0]!.ports as string[]).length;
}

async function withClient(sock: string, f: (db: OvsdbClient) => Promise<void>): Promise<number> {
  await using db = await OvsdbClient.connect({
    remotes: `unix:${sock}`,
    database: DB,
    requestTimeoutMs: 600_000,
  });
  const t0 = performance.now();
  await f(db);
  return performance.now() - t0;
}

type Case = "a" | "b" | "c" | "d" | "e";
const LABEL: Record<Case, string> = {
  a: "(a) one ovn-nbctl process per port",
  b: "(b) one raw JSON-RPC transaction (baseline)",
  c: "(c) client, one transaction",
  d: "(d) client, one transaction per port, pipelined",
  e: "(e) client, one transaction per port, sequential",
};

async function measure(c: Case, n: number): Promise<{ ms: number; note: string }> {
  const srv = await freshNb();
  try {
    let ms: number;
    let note = "";
    const expected = n;
    switch (c) {
      case "a":
        if (n <= 1000) {
          ms = await nbctlPorts(srv.sock, 0, n);
        } else {
          // Sample 100 calls at each tenth of the way, pre-filling the rest raw.
          const step = n / 10, sample = 100;
          ms = 0;
          for (let k = 0; k < 10; k++) {
            if (k > 0) await rawTransact(srv.sock, (k - 1) * step + sample, step - sample, "fill");
            ms += (await nbctlPorts(srv.sock, k * step, sample)) * (step / sample);
          }
          await rawTransact(srv.sock, 9 * step + sample, step - sample, "fill"); // untimed

          note = `extrapolated from 1,000 calls (100 at each of 10 database sizes)`;
        }
        break;
      case "b":
        ms = await rawTransact(srv.sock, 0, n, "b");
        break;
      case "c":
        ms = await withClient(srv.sock, async (db) => {
          const ops: Operation[] = [];
          const names: string[] = [];
          for (let i = 0; i < n; i++) {
            ops.push(op.insert("Logical_Switch_Port", { name: `c-${i}`, addresses: [addr(i)] }, {
              uuidName: `p${i}`,
            }));
            names.push(`p${i}`);
          }
          ops.push(
            op.mutate("Logical_Switch", [["name", "==", "sw0"]], [["ports", "insert", names]]),
          );
          await db.transact(ops);
        });
        break;
      case "d":
        ms = await withClient(srv.sock, async (db) => {
          await Promise.all(Array.from({ length: n }, (_, i) => db.transact(portOps(i, "d"))));
        });
        break;
      case "e":
        ms = await withClient(srv.sock, async (db) => {
          for (let i = 0; i < n; i++) await db.transact(portOps(i, "e"));
        });
        break;
    }
    const got = await countPorts(srv.sock);
    if (got !== expected) throw new Error(`case ${c}: expected ${expected} ports, found ${got}`);
    return { ms, note };
  } finally {
    await srv.stop();
  }
}

if (import.meta.main) {
  const fmt = (ms: number) => ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
  console.log(
    `ovsdb_ports: ${new Date().toISOString()}, Deno ${Deno.version.deno}, ` +
      `ovsdb-server ${(await run(["ovsdb-server", "--version"])).split("\n")[0]}`,
  );
  // Warm-up (JIT) of the raw and client paths, not reported.
  for (const c of CASES) if (c !== "a") await measure(c, 200);
  for (const n of SIZES) {
    // Rounds interleave the cases so that load from other processes hits them alike.
    const runs: Partial<Record<Case, { ms: number; note: string }[]>> = {};
    for (let r = 0; r < REPEAT; r++) {
      for (const c of CASES) {
        if (c === "a" && r > 0) continue;
        (runs[c] ??= []).push(await measure(c, n));
      }
    }
    const res: Partial<Record<Case, { ms: number; note: string }>> = {};
    for (const [c, list] of Object.entries(runs) as [Case, { ms: number; note: string }[]][]) {
      list.sort((x, y) => x.ms - y.ms);
      const mid = list[Math.floor(list.length / 2)]!;
      const spread = list.length > 1
        ? `median of ${list.length}: ${list.map((x) => x.ms.toFixed(1)).join(", ")} ms`
        : "";
      res[c] = { ms: mid.ms, note: [mid.note, spread].filter((x) => x).join("; ") };
    }
    const base = res.b?.ms ?? NaN;
    console.log(`\n${n.toLocaleString("en")} logical switch ports:`);
    console.log(
      `${"case".padEnd(52)} ${"time".padStart(10)} ${"per port".padStart(10)} ${
        "vs (b)".padStart(8)
      }`,
    );
    for (const c of ["a", "b", "c", "d", "e"] as Case[]) {
      const r = res[c];
      if (!r) continue;
      console.log(
        `${LABEL[c].padEnd(52)} ${fmt(r.ms).padStart(10)} ${
          `${((r.ms * 1000) / n).toFixed(0)} µs`.padStart(10)
        } ${(r.ms / base).toFixed(2).padStart(7)}x${r.note ? `  [${r.note}]` : ""}`,
      );
    }
    const cb = (res.c?.ms ?? NaN) / base, ad = (res.a?.ms ?? NaN) / (res.d?.ms ?? NaN);
    console.log(`target (c) <= 1.5x (b): ${cb.toFixed(2)}x ${cb <= 1.5 ? "MET" : "MISSED"}`);
    console.log(
      `target (d) >= 100x faster than (a): ${ad.toFixed(0)}x ${ad >= 100 ? "MET" : "MISSED"}`,
    );
  }
}
