/**
 * CNI results: rendering what ADD made in the shape the configuration's `cniVersion`
 * asks for, and reading a `prevResult` back for CHECK.
 *
 * Shapes: 1.0.0 has `interfaces`, `ips` (`address`, `gateway`, `interface` = index
 * into `interfaces`), `routes`, `dns`; 0.3.x and 0.4.0 are the same plus
 * `ips[].version` ("4"/"6"); 0.1.0 and 0.2.0 have `ip4`/`ip6` objects.
 *
 * @module
 */
import type { PodNetwork } from "./annotation.ts";
import { CniCode, CniError } from "./errors.ts";
import { compareVersions } from "./version.ts";

/** One entry of `interfaces`. */
export interface CniInterface {
  name: string;
  mac?: string;
  /** The namespace path, for interfaces inside the container. */
  sandbox?: string;
}

/** One entry of `ips`. */
export interface CniIpConfig {
  /** CIDR: address and prefix length. */
  address: string;
  gateway?: string;
  /** Index into `interfaces`. */
  interface?: number;
  /** "4" or "6": 0.3.x and 0.4.0 only. */
  version?: "4" | "6";
}

/** One entry of `routes`. */
export interface CniRoute {
  dst: string;
  gw?: string;
}

/** A 0.3.0+ result. */
export interface CniResult {
  cniVersion: string;
  interfaces: CniInterface[];
  ips: CniIpConfig[];
  routes: CniRoute[];
  dns: Record<string, unknown>;
}

/** A 0.1.0/0.2.0 result. */
export interface LegacyCniResult {
  cniVersion: string;
  ip4?: { ip: string; gateway?: string; routes?: CniRoute[] };
  ip6?: { ip: string; gateway?: string; routes?: CniRoute[] };
  dns: Record<string, unknown>;
}

/** What ADD set up: the host end and the pod end of the veth, and the pod's network. */
export interface Attachment {
  /** Host end (in the node's namespace, on br-int). */
  host: { name: string; mac: string };
  /** Pod end: `CNI_IFNAME` inside `CNI_NETNS`. */
  pod: { name: string; mac: string; sandbox: string };
  /** Address, gateway. */
  network: PodNetwork;
}

/**
 * Renders the result of ADD for a configuration version.
 *
 * @param a what ADD set up
 * @param cniVersion the configuration's `cniVersion`
 * @returns the result object to print on stdout
 */
export function renderResult(a: Attachment, cniVersion: string): CniResult | LegacyCniResult {
  const n = a.network;
  const cidr = `${n.ip}/${n.prefixLength}`;
  const defaultRoute: CniRoute = { dst: n.family === 4 ? "0.0.0.0/0" : "::/0", gw: n.gateway };
  if (compareVersions(cniVersion, "0.3.0") < 0) {
    const ipConf = { ip: cidr, gateway: n.gateway, routes: [defaultRoute] };
    return n.family === 4
      ? { cniVersion, ip4: ipConf, dns: {} }
      : { cniVersion, ip6: ipConf, dns: {} };
  }
  const ip: CniIpConfig = { address: cidr, gateway: n.gateway, interface: 1 };
  if (compareVersions(cniVersion, "1.0.0") < 0) ip.version = n.family === 4 ? "4" : "6";
  return {
    cniVersion,
    interfaces: [
      { name: a.host.name, mac: a.host.mac },
      { name: a.pod.name, mac: a.pod.mac, sandbox: a.pod.sandbox },
    ],
    ips: [ip],
    routes: [defaultRoute],
    dns: {},
  };
}

function fail(why: string): CniError {
  return new CniError(CniCode.InvalidConfig, `Cannot read prevResult: ${why}`);
}

/**
 * Reads a 0.3.0+ `prevResult` (CHECK needs 0.4.0 or newer anyway).
 *
 * @param prev the `prevResult` field of the configuration
 * @returns interfaces, ips and routes
 * @throws {CniError} code 7 when it is not a result
 */
export function parsePrevResult(prev: unknown): Omit<CniResult, "cniVersion" | "dns"> {
  if (typeof prev !== "object" || prev === null) throw fail("not an object");
  const p = prev as Record<string, unknown>;
  const list = (k: string): Record<string, unknown>[] => {
    const v = p[k] ?? [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== "object" || x === null)) {
      throw fail(`"${k}" is not a list of objects`);
    }
    return v as Record<string, unknown>[];
  };
  const s = (o: Record<string, unknown>, k: string) => typeof o[k] === "string" ? o[k] : undefined;
  const interfaces = list("interfaces").map((o) => {
    const name = s(o, "name");
    if (!name) throw fail("an interface has no name");
    const i: CniInterface = { name };
    const mac = s(o, "mac");
    if (mac) i.mac = mac;
    const sandbox = s(o, "sandbox");
    if (sandbox) i.sandbox = sandbox;
    return i;
  });
  const ips = list("ips").map((o) => {
    const address = s(o, "address");
    if (!address) throw fail("an ips entry has no address");
    const c: CniIpConfig = { address };
    const gw = s(o, "gateway");
    if (gw) c.gateway = gw;
    if (typeof o.interface === "number") c.interface = o.interface;
    return c;
  });
  const routes = list("routes").map((o) => {
    const dst = s(o, "dst");
    if (!dst) throw fail("a route has no dst");
    const r: CniRoute = { dst };
    const gw = s(o, "gw");
    if (gw) r.gw = gw;
    return r;
  });
  return { interfaces, ips, routes };
}
