/**
 * The sandbox underlay: one private /24 per sandbox instance, chosen so that it collides
 * with no route or address of the machine (other sandboxes included, since each gives
 * the root namespace an address on its own underlay), and the addresses inside it.
 *
 * @module
 */
import { formatIpv4, Ipv4Cidr, parseIpv4 } from "../net/mod.ts";
import type { RouteEntry } from "../host/mod.ts";

/** Where underlays are taken from: 172.31.0.0/16, one /24 each. */
export const UNDERLAY_POOL = Ipv4Cidr.parse("172.31.0.0/16");

/** Address plan of one underlay /24. */
export interface UnderlayPlan {
  /** The /24. */
  cidr: string;
  /** Prefix length (24). */
  prefix: number;
  /** The root namespace's address (`.1`). */
  rootIp: string;
  /** The central namespace's address (`.2`). */
  centralIp: string;
  /** Node i (1-based) gets `.10+i`. */
  nodeIp: (i: number) => string;
}

/** Most nodes an underlay plan has addresses for. */
export const MAX_NODES = 200;

/**
 * The address plan of an underlay.
 *
 * @param cidr the block (at least a /24's worth of hosts)
 * @returns the plan
 */
export function planUnderlay(cidr: Ipv4Cidr): UnderlayPlan {
  return {
    cidr: cidr.toString(),
    prefix: cidr.prefix,
    rootIp: formatIpv4(cidr.host(1)),
    centralIp: formatIpv4(cidr.host(2)),
    nodeIp: (i) => formatIpv4(cidr.host(10 + i)),
  };
}

/**
 * The routes and addresses that a candidate underlay collides with.
 *
 * @param cidr candidate
 * @param routes the machine's routes (all tables)
 * @param addresses the machine's addresses (`10.0.0.1/24`)
 * @returns human-readable collisions; empty when the candidate is free
 */
export function underlayCollisions(
  cidr: Ipv4Cidr,
  routes: readonly RouteEntry[],
  addresses: readonly string[],
): string[] {
  const out: string[] = [];
  for (const r of routes) {
    if (r.dst === "default") continue;
    const block = toCidr(r.dst);
    if (block && block.prefix > 0 && block.overlaps(cidr)) {
      out.push(`route ${r.dst}${r.dev ? ` dev ${r.dev}` : ""}`);
    }
  }
  for (const a of addresses) {
    const block = toCidr(a);
    if (block && block.overlaps(cidr)) out.push(`address ${a}`);
  }
  return out;
}

/**
 * Picks a free /24 from {@linkcode UNDERLAY_POOL}, starting at a position derived from
 * `seed` so that concurrent sandboxes with different prefixes try different blocks first.
 *
 * @param routes the machine's routes
 * @param addresses the machine's addresses
 * @param seed any string (the sandbox prefix)
 * @returns a free /24
 * @throws {Error} when every /24 of the pool is taken
 */
export function pickUnderlay(
  routes: readonly RouteEntry[],
  addresses: readonly string[],
  seed: string,
): Ipv4Cidr {
  const count = UNDERLAY_POOL.size / 256;
  let h = 0;
  for (const c of seed) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  for (let i = 0; i < count; i++) {
    const cand = new Ipv4Cidr(UNDERLAY_POOL.network + ((h + i) % count) * 256, 24);
    if (underlayCollisions(cand, routes, addresses).length === 0) return cand;
  }
  throw new Error(
    `Cannot pick a sandbox underlay: every /24 of ${UNDERLAY_POOL} collides with this ` +
      "machine's routes; pass --underlay with a free private /24",
  );
}

function toCidr(text: string): Ipv4Cidr | undefined {
  const [addr, len] = text.split("/");
  const ip = parseIpv4(addr ?? "");
  if (ip === undefined) return undefined;
  const prefix = len === undefined ? 32 : Number(len);
  if (!(prefix >= 0 && prefix <= 32)) return undefined;
  try {
    return Ipv4Cidr.parseInterface(`${addr}/${prefix}`).cidr;
  } catch {
    return undefined;
  }
}

/**
 * The machine-wide lock that concurrent sandboxes hold from reading the routes until
 * their root-namespace address is on the chosen underlay (without it two sandboxes
 * starting at once could both find the same /24 free). It is a `flock` on the `/run`
 * directory itself, so no lock file is left behind when the sandbox goes down.
 */
export const UNDERLAY_LOCK = "/run";

/**
 * Takes an exclusive `flock` on `path` (an existing directory or file), waiting for the
 * holder. The kernel releases it when the process exits, so a crashed holder blocks nobody.
 *
 * Permissions: read on `path`.
 *
 * @param path what to lock
 * @returns a function that releases the lock (idempotent)
 * @throws {Deno.errors.NotFound} when `path` does not exist
 */
export async function lockUnderlay(path: string = UNDERLAY_LOCK): Promise<() => void> {
  const file = await Deno.open(path, { read: true });
  try {
    await file.lock(true);
  } catch (err) {
    file.close();
    throw err;
  }
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    file.close(); // closing the last descriptor releases the flock
  };
}
