/**
 * `ovn-k8s run`: what one systemd unit per host `ExecStart`s. Reads this host's roles
 * and settings from the local `Open_vSwitch` row's `external_ids` (written by
 * setup-host), infers what it can when a key is absent (rules in docs/run.md and
 * {@linkcode planRun}), runs the inits of its roles, then the long-running parts:
 * the central daemons (supervised by the central role) and, on a master, the watcher
 * (when the registry has it), each restarted with a growing delay when it ends on its
 * own; on a gateway, gateway-init (settings in docs/gateway.md) and, on a shared bridge,
 * the gateway helper. `run` keeps running what exists, until SIGTERM.
 *
 * @module
 */
import { exitCodeOf, parseCommand, renderUsage, ValidationError } from "../cli/mod.ts";
import { HOST_KEYS } from "../ovs/mod.ts";
import {
  connectLocal,
  type DbConnector,
  DEFAULT_DB_TIMEOUT_S,
  readOvsState,
  resolveOvsDb,
} from "./_local_ovs.ts";
import { buildInitOptions, type InitInputs, parseIntFlag, realInitDeps } from "./_init_cli.ts";
import { initNode, type NodeInitDeps } from "./_node_init.ts";
import type { Logger } from "../log/mod.ts";
import type { RoleContext, RoleMain } from "./context.ts";
import { findRole } from "./mod.ts";

const OPTIONS = {
  "ovs-db": { type: "string", arg: "REMOTE", help: "local OVSDB (default $OVS_RUNDIR/db.sock)" },
  once: { type: "boolean", help: "run the inits (central: start or adopt) and exit" },
  timeout: {
    type: "string",
    arg: "SECONDS",
    help: `connect timeout for OVS and NB (default ${DEFAULT_DB_TIMEOUT_S})`,
  },
  "cni-bin-dir": { type: "string", arg: "DIR", help: "minion: ovn_cni link directory" },
  "cni-conf-dir": { type: "string", arg: "DIR", help: "minion: CNI config directory" },
  help: { type: "boolean", short: "h", help: "show this help" },
} as const;
const USAGE = renderUsage(
  "ovn-k8s run [--once] [--ovs-db REMOTE]",
  "Run this host's roles as configured in the local Open_vSwitch external_ids (see setup-host).",
  OPTIONS,
);

/** What `run` will do, decided from `external_ids` alone. */
export interface RunPlan {
  /** Roles in execution order (central, master, minion, gateway). */
  roles: string[];
  /** One line per inferred setting, for the log. */
  inferred: string[];
  /** Inputs of the node inits. */
  init: InitInputs;
  /** Arguments of the central role. */
  centralArgs: string[];
  /** Arguments of the watcher (master). */
  watcherArgs: string[];
}

const ORDER = ["central", "master", "minion", "gateway"];

const words = (text: string | undefined) => (text ?? "").split(/\s+/).filter((a) => a !== "");

function isLocalRemote(remote: string): boolean {
  return remote.split(",").every((r) => {
    const t = r.trim();
    return t.startsWith("unix:") || /^(tcp|ssl):(127\.\d+\.\d+\.\d+|localhost|\[::1\]):/.test(t);
  });
}

/**
 * Decides roles and settings from `external_ids`. Pure.
 *
 * Rules when a key is absent:
 * - `ovn-k8s-roles`: `minion` when `ovn-nb` is set, plus `master` when `ovn-nb` only
 *   names this host (unix socket or loopback); no `ovn-nb` either: no role (error).
 * - `ovn-k8s-node-name`: `external_ids:hostname`, else the host name; lowercased.
 * - `ovn-k8s-node-subnet`: `auto` (size `ovn-k8s-node-subnet-size`, default 24).
 * - `ovn-k8s-cluster-subnet`: a minion reads it from the cluster router in NB.
 *
 * @param ids the `Open_vSwitch` row's external_ids
 * @param hostname this host's name
 * @returns the plan
 * @throws {ValidationError} when no role is configured nor inferable (names the keys)
 */
export function planRun(ids: Record<string, string>, hostname: string): RunPlan {
  const inferred: string[] = [];
  let roles = (ids[HOST_KEYS.roles] ?? "").split(",").map((r) => r.trim().toLowerCase()).filter(
    (r) => r !== "",
  );
  const unknown = roles.filter((r) => !ORDER.includes(r));
  if (unknown.length) {
    throw new ValidationError(
      `Cannot run: external_ids:${HOST_KEYS.roles} names unknown role ${unknown.join(", ")}; ` +
        `use ${ORDER.join(", ")} (ovn-k8s setup-host --roles)`,
    );
  }
  if (!roles.length) {
    const nb = ids[HOST_KEYS.ovnNb];
    if (!nb) {
      throw new ValidationError(
        `Cannot run: no role found; set external_ids:${HOST_KEYS.roles} (a comma-separated list ` +
          `of ${ORDER.join(", ")}) or at least external_ids:${HOST_KEYS.ovnNb}, e.g. ` +
          "`ovn-k8s setup-host --roles minion --ovn-nb tcp:CENTRAL_IP:6641 --ovn-remote " +
          "tcp:CENTRAL_IP:6642 --encap-ip THIS_HOST_IP`",
      );
    }
    roles = isLocalRemote(nb) ? ["master", "minion"] : ["minion"];
    inferred.push(`roles=${roles.join(",")} (from ${HOST_KEYS.ovnNb}=${nb})`);
  }
  roles = ORDER.filter((r) => roles.includes(r));
  let nodeName = ids[HOST_KEYS.nodeName];
  if (!nodeName) {
    nodeName = (ids[HOST_KEYS.hostname] || hostname).toLowerCase();
    inferred.push(
      `node name=${nodeName} (from ${
        ids[HOST_KEYS.hostname] ? "external_ids:hostname" : "the host name"
      })`,
    );
  }
  let nodeSubnet = ids[HOST_KEYS.nodeSubnet];
  if (!nodeSubnet && (roles.includes("master") || roles.includes("minion"))) {
    nodeSubnet = "auto";
    inferred.push("node subnet=auto");
  }
  if (!ids[HOST_KEYS.clusterSubnet] && roles.includes("minion") && !roles.includes("master")) {
    inferred.push("cluster subnet: read from the cluster router in NB");
  }
  return {
    roles,
    inferred,
    init: {
      clusterSubnet: ids[HOST_KEYS.clusterSubnet],
      nodeSubnet,
      nodeSubnetSize: ids[HOST_KEYS.nodeSubnetSize],
      nodeName,
      serviceCidr: ids[HOST_KEYS.serviceCidr],
      mtu: ids[HOST_KEYS.mtu],
    },
    centralArgs: words(ids[HOST_KEYS.centralOptions]),
    watcherArgs: words(ids[HOST_KEYS.watcherOptions]),
  };
}

/** Injected boundaries of {@linkcode runRun}. */
export interface RunDeps {
  /** Boundaries of the inits. */
  init: NodeInitDeps;
  /** Local OVSDB connector. */
  connect: DbConnector;
  /** Loads a role's entry point from the registry; `undefined` while it is not built. */
  loadRole: (name: string) => (() => Promise<RoleMain>) | undefined;
  /** This host's name. */
  hostname: () => string;
  /** First delay before restarting a long-running part that ended (default 1 s). */
  restartDelayMs?: number;
}

/** Longest delay between restarts of a failing long-running part. */
const MAX_RESTART_DELAY_MS = 30_000;

/**
 * Runs a long-running role until `signal`, restarting it when it ends on its own (with
 * a doubling delay, reset after a minute of good running), so one failing part (a
 * watcher whose API server is not up yet) never takes the others (the central
 * databases) down.
 *
 * @param name role name for the log
 * @param roleMain its entry point
 * @param args its arguments
 * @param o context, stop signal, first delay, logger
 */
export async function supervise(
  name: string,
  roleMain: RoleMain,
  args: string[],
  o: { ctx: RoleContext; signal: AbortSignal; minDelayMs: number; log: Logger },
): Promise<void> {
  let delay = o.minDelayMs;
  while (!o.signal.aborted) {
    const t0 = Date.now();
    let outcome: string;
    try {
      outcome = `exit ${await roleMain(args, { ...o.ctx, signal: o.signal })}`;
    } catch (err) {
      outcome = `exit ${exitCodeOf(err)}: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (o.signal.aborted) break;
    if (Date.now() - t0 > 60_000) delay = o.minDelayMs;
    o.log.warn(`${name} ended (${outcome}); restarting`, { inMs: delay });
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, delay);
      function done() {
        clearTimeout(t);
        o.signal.removeEventListener("abort", done);
        resolve();
      }
      o.signal.addEventListener("abort", done, { once: true });
    });
    delay = Math.min(delay * 2, MAX_RESTART_DELAY_MS);
  }
}

/**
 * Loads a role through the registry of src/roles/mod.ts.
 *
 * @param name subcommand name
 * @returns a loader, or `undefined` when the role is not built yet
 */
export function registryRole(name: string): (() => Promise<RoleMain>) | undefined {
  const load = findRole(name)?.load;
  return load ? async () => (await load()).main : undefined;
}

function realRunDeps(ctx: RoleContext): RunDeps {
  const init = realInitDeps(ctx.log);
  return { init, connect: init.connect, loadRole: registryRole, hostname: () => Deno.hostname() };
}

const NAMES = {
  clusterSubnet: `external_ids:${HOST_KEYS.clusterSubnet}`,
  nodeSubnet: `external_ids:${HOST_KEYS.nodeSubnet}`,
  nodeName: `external_ids:${HOST_KEYS.nodeName}`,
};

/**
 * Runs `ovn-k8s run` with injectable boundaries.
 *
 * @param args arguments after the subcommand
 * @param ctx role context (its signal ends the long-running part)
 * @param deps boundaries
 * @returns exit code
 */
export async function runRun(
  args: string[],
  ctx: RoleContext,
  deps: RunDeps = realRunDeps(ctx),
): Promise<number> {
  const p = parseCommand(args, OPTIONS, USAGE);
  if (p.flag("help")) {
    ctx.stdout(USAGE);
    return 0;
  }
  const log = ctx.log;
  const timeout = p.string("timeout");
  const timeoutS = timeout ? parseIntFlag("--timeout", timeout, 1, 3600) : DEFAULT_DB_TIMEOUT_S;
  const ovsDb = resolveOvsDb(p.string("ovs-db"), ctx.env);
  const local = await connectLocal(deps.connect, ovsDb, timeoutS * 1000);
  let ids: Record<string, string>;
  try {
    ids = (await readOvsState(local)).root?.external_ids ?? {};
  } finally {
    local.close();
  }
  const plan = planRun(ids, deps.hostname());
  log.info("roles", { roles: plan.roles.join(","), ovsDb });
  for (const line of plan.inferred) log.info(`inferred ${line}`);

  const init: InitInputs = {
    ...plan.init,
    ovsDb,
    timeout: String(timeoutS),
    cniBinDir: p.string("cni-bin-dir"),
    cniConfDir: p.string("cni-conf-dir"),
  };
  // Validate every role's input before starting anything.
  const inits = (["master", "minion"] as const).filter((r) => plan.roles.includes(r)).map((r) =>
    buildInitOptions(r, init, NAMES, ctx.env)
  );
  const gateway = plan.roles.includes("gateway")
    ? (await import("./gateway_init.ts")).gatewayFromExternalIds(
      ids,
      plan.init.nodeName ?? "",
      ovsDb,
      timeoutS,
      ctx.env,
    )
    : undefined;

  const once = p.flag("once");
  // Long-running parts share one signal: SIGTERM, or another part ending, stops them all.
  const stop = new AbortController();
  const onAbort = () => stop.abort(ctx.signal.reason);
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  if (ctx.signal.aborted) onAbort();
  const running: Promise<void>[] = [];
  const start = (name: string, roleMain: RoleMain, roleArgs: string[]) => {
    log.info(`starting the ${name} role`, { args: roleArgs.join(" ") });
    running.push(supervise(name, roleMain, roleArgs, {
      ctx: { ...ctx, log: log.child(name) },
      signal: stop.signal,
      minDelayMs: deps.restartDelayMs ?? 1000,
      log,
    }));
  };
  try {
    if (plan.roles.includes("central")) {
      const centralMain = await deps.loadRole("central")!();
      if (once) {
        const code = await centralMain([...plan.centralArgs, "--one-shot"], {
          ...ctx,
          log: log.child("central"),
        });
        if (code !== 0) return code;
      } else start("central", centralMain, plan.centralArgs);
    }
    for (const o of inits) {
      const r = await initNode(o, deps.init);
      log.info(`${o.role}-init done`, {
        node: o.node,
        subnet: r.subnet.toString(),
        nbWrites: r.nbWrites,
      });
    }
    if (gateway) {
      // Gateway: gateway-init, then (shared bridge) the helper, supervised.
      const gw = await import("./gateway_init.ts");
      const r = await gw.initGateway(gateway.options, { ...deps.init, log: log.child("gateway") });
      log.info("gateway-init done", { router: r.router, mode: r.mode, nbWrites: r.nbWrites });
      const helper = deps.loadRole("gateway-helper");
      if (r.mode === "bridge" && !once && helper && gateway.helperNic) {
        start("gateway-helper", await helper(), [
          "--physical-bridge",
          gateway.options.iface,
          "--physical-interface",
          gateway.helperNic,
          "--ovs-db",
          ovsDb,
        ]);
      } else if (r.mode === "bridge" && !gateway.helperNic) {
        log.warn("gateway helper not started: set external_ids:ovn-k8s-gateway-nic");
      }
    }
    if (plan.roles.includes("master")) {
      const watcher = deps.loadRole("watcher");
      if (!watcher) log.warn("master role: the watcher is not built yet; not started");
      else if (!once) start("watcher", await watcher(), plan.watcherArgs);
    }
    ctx.stdout(`run: roles ${plan.roles.join(",")} initialised`);
    if (once) return 0;
    if (!running.length) {
      log.info("nothing long-running is built for these roles yet; waiting for SIGTERM");
      if (!stop.signal.aborted) {
        await new Promise<void>((resolve) =>
          stop.signal.addEventListener("abort", () => resolve(), { once: true })
        );
      }
      return 0;
    }
    await Promise.all(running);
    return 0;
  } catch (err) {
    // An init failed: stop what was started before reporting it.
    stop.abort(err);
    await Promise.all(running);
    throw err;
  } finally {
    ctx.signal.removeEventListener("abort", onAbort);
  }
}

/**
 * @param args arguments after the subcommand
 * @param ctx role context
 * @returns exit code
 */
export function main(args: string[], ctx: RoleContext): Promise<number> {
  return runRun(args, ctx);
}
