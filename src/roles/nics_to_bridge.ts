/**
 * `ovn-k8s nics-to-bridge NIC...` (also `ovn-k8s-util nics-to-bridge`): for each NIC,
 * make the OVS bridge `br<nic>` holding it (MAC pinned to the NIC's) and move the NIC's
 * static addresses and routes onto the bridge, so the host keeps its IP while the NIC
 * becomes shareable with an OVN gateway (`gateway-init --bridge-interface br<nic>`).
 *
 * Idempotent: a second run finds the bridge and moves only what is still on the NIC
 * (nothing). Dynamic (DHCP) addresses are not moved, and each is reported on stdout and
 * in the log, with the fix (run the DHCP client on `br<nic>`). Nothing persistent is
 * written (the host's network configuration files are the operator's, docs/gateway.md).
 *
 * @module
 */
import { parseCommand, renderUsage, ValidationError } from "../cli/mod.ts";
import { ProcessRunner, type Runner } from "../exec/mod.ts";
import {
  addressArgs,
  makeNicBridgeName,
  nicBridgeOps,
  type NicBridgeState,
  parseNicAddresses,
  parseNicRoutes,
  planMove,
  routeArgs,
} from "../gateway/mod.ts";
import { HostNet } from "../host/mod.ts";
import type { Logger } from "../log/mod.ts";
import { interfaceNameProblem, parseMac } from "../net/mod.ts";
import { HOST_KEYS } from "../ovs/mod.ts";
import { connectLocal, connectOvsdb, type DbConnector, resolveOvsDb } from "./_local_ovs.ts";
import type { RoleContext } from "./context.ts";

const OPTIONS = {
  "ovs-db": {
    type: "string",
    arg: "REMOTE",
    help: "local OVSDB (default $OVS_RUNDIR/db.sock, else /var/run/openvswitch/db.sock)",
  },
  help: { type: "boolean", short: "h", help: "show this help" },
} as const;

const USAGE = renderUsage(
  "ovn-k8s nics-to-bridge [--ovs-db REMOTE] NIC [NIC...]",
  "Put each NIC on a new OVS bridge br<nic> and move its static addresses and routes there.",
  OPTIONS,
);

/** Boundaries of {@linkcode nicsToBridge}. */
export interface NicsToBridgeDeps {
  runner: Runner;
  connect: DbConnector;
  log: Logger;
  /** Time to wait for the bridge's interface to appear (default 10 s). */
  linkTimeoutMs?: number;
}

/** What happened to one NIC. */
export interface NicResult {
  nic: string;
  bridge: string;
  /** Whether the bridge or its NIC port was created in this run. */
  bridged: boolean;
  moved: string[];
  routes: string[];
  /** Dynamic addresses left on the NIC. */
  dynamic: string[];
}

/**
 * Moves NICs onto bridges.
 *
 * @param nics the NICs
 * @param ovsDb local database remote
 * @param deps boundaries
 * @returns one result per NIC
 * @throws {ValidationError} for a missing NIC, a too-long bridge name, a NIC on another bridge
 */
export async function nicsToBridge(
  nics: readonly string[],
  ovsDb: string,
  deps: NicsToBridgeDeps,
): Promise<NicResult[]> {
  const host = new HostNet(deps.runner);
  const db = await connectLocal(deps.connect, ovsDb, 10_000);
  const out: NicResult[] = [];
  try {
    // Validate every NIC before changing anything.
    const macs = new Map<string, string>();
    for (const nic of nics) {
      const bridge = makeNicBridgeName(nic);
      const problem = interfaceNameProblem(bridge);
      if (problem) {
        throw new ValidationError(
          `Cannot move ${nic}: its bridge name "${bridge}" is unusable (${problem}); rename the NIC`,
        );
      }
      const r = await host.ip(["-j", "link", "show", "dev", nic], { check: false });
      const mac = r.code === 0
        ? parseMac((JSON.parse(r.stdout || "[]") as Array<{ address?: string }>)[0]?.address ?? "")
        : undefined;
      if (!mac) {
        throw new ValidationError(
          `Cannot move ${nic}: no such network interface on this host; pass an existing NIC`,
        );
      }
      macs.set(nic, mac);
    }
    for (const nic of nics) {
      const bridge = makeNicBridgeName(nic);
      const res = await db.transact([
        { op: "select", table: "Open_vSwitch", where: [], columns: ["_uuid", "external_ids"] },
        { op: "select", table: "Bridge", where: [], columns: ["_uuid", "name", "ports"] },
        { op: "select", table: "Port", where: [["name", "==", nic]], columns: ["_uuid", "name"] },
      ]);
      const state = {
        root: res[0]?.rows?.[0],
        bridges: res[1]?.rows ?? [],
        ports: res[2]?.rows ?? [],
      } as unknown as NicBridgeState;
      let ops;
      try {
        ops = nicBridgeOps(
          state,
          nic,
          macs.get(nic)!,
          state.root?.external_ids[HOST_KEYS.bridgeDatapathType] ?? "",
        );
      } catch (err) {
        throw new ValidationError((err as Error).message);
      }
      const result: NicResult = {
        nic,
        bridge,
        bridged: ops.length > 0,
        moved: [],
        routes: [],
        dynamic: [],
      };
      if (ops.length) {
        await db.transact(ops);
        deps.log.info("bridge made", { bridge, nic, mac: macs.get(nic) });
      }
      const deadline = Date.now() + (deps.linkTimeoutMs ?? 10_000);
      while (!(await host.linkExists(bridge))) {
        if (Date.now() > deadline) {
          throw new Error(
            `Cannot move ${nic}'s addresses: interface ${bridge} did not appear; is ovs-vswitchd running?`,
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      const addrs = parseNicAddresses((await host.ip(["-j", "addr", "show", "dev", nic])).stdout);
      const routes = parseNicRoutes(
        (await host.ip(["-j", "route", "show", "dev", nic, "table", "main"])).stdout,
      );
      const plan = planMove(addrs, routes);
      await host.ip(["link", "set", bridge, "up"]);
      if (plan.move.length && plan.dynamic.some((a) => a.family === "inet")) {
        // Deleting a primary IPv4 address deletes the secondaries of its subnet too,
        // which would silently drop a DHCP lease we leave on the NIC: promote them instead.
        await host.sysctl({ [`net.ipv4.conf.${nic}.promote_secondaries`]: 1 });
      }
      for (const a of plan.move) {
        await host.ip(addressArgs(a, bridge), { check: false }).then((r) => {
          if (r.code !== 0 && !/File exists/.test(r.stderr)) {
            throw new Error(
              `Cannot add ${a.local}/${a.prefixlen} to ${bridge}: ${r.stderr.trim()}`,
            );
          }
        });
        await host.ip([
          ...(a.family === "inet6" ? ["-6"] : []),
          "addr",
          "del",
          `${a.local}/${a.prefixlen}`,
          "dev",
          nic,
        ]);
        result.moved.push(`${a.local}/${a.prefixlen}`);
      }
      for (const r of plan.routes) {
        await host.ip(routeArgs(r, bridge));
        await host.ip(
          ["route", "del", r.dst, ...(r.gateway ? ["via", r.gateway] : []), "dev", nic],
          {
            check: false,
          },
        );
        result.routes.push(r.dst);
      }
      for (const a of plan.dynamic) {
        result.dynamic.push(`${a.local}/${a.prefixlen}`);
        deps.log.warn("dynamic address NOT moved: run the DHCP client on the bridge", {
          nic,
          bridge,
          address: `${a.local}/${a.prefixlen}`,
        });
      }
      if (result.moved.length || result.routes.length) {
        deps.log.info("addresses and routes moved", {
          nic,
          bridge,
          addresses: result.moved.join(","),
          routes: result.routes.join(","),
        });
      }
      out.push(result);
    }
  } finally {
    db.close();
  }
  return out;
}

/**
 * Runs nics-to-bridge with injectable boundaries.
 *
 * @param args arguments after the subcommand
 * @param ctx role context
 * @param deps boundaries
 * @returns exit code
 */
export async function runNicsToBridge(
  args: string[],
  ctx: RoleContext,
  deps: NicsToBridgeDeps = { runner: new ProcessRunner(), connect: connectOvsdb, log: ctx.log },
): Promise<number> {
  const p = parseCommand(args, OPTIONS, USAGE, true);
  if (p.flag("help")) {
    ctx.stdout(USAGE);
    return 0;
  }
  const nics = p.positionals;
  if (nics.length === 0) {
    throw new ValidationError("Cannot run nics-to-bridge: no NIC given; pass one or more NICs");
  }
  const results = await nicsToBridge(nics, resolveOvsDb(p.string("ovs-db"), ctx.env), deps);
  for (const r of results) {
    const what = r.bridged || r.moved.length || r.routes.length
      ? `moved addresses=${r.moved.join(",") || "-"} routes=${r.routes.join(",") || "-"}`
      : "already done, nothing changed";
    ctx.stdout(`${r.nic} -> ${r.bridge}: ${what}`);
    for (const d of r.dynamic) {
      ctx.stdout(
        `${r.nic}: dynamic address ${d} NOT moved; run your DHCP client on ${r.bridge} ` +
          `(e.g. dhclient ${r.bridge}) and stop it on ${r.nic}`,
      );
    }
  }
  return 0;
}

/**
 * @param args arguments after the subcommand
 * @param ctx role context
 * @returns exit code
 */
export function main(args: string[], ctx: RoleContext): Promise<number> {
  return runNicsToBridge(args, ctx);
}
