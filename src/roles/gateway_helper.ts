/**
 * `ovn-k8s gateway-helper` (also `ovn-k8s-gateway-helper`): demultiplexes a NIC shared by
 * the host and the OVN gateway router (bridge mode, reference §9). It keeps the shared
 * bridge's complete OpenFlow table set equal to {@linkcode helperFlows} of the current
 * NodePort services, replaced atomically with `ovs-ofctl --bundle replace-flows`.
 *
 * Quirks of the original fixed: a changed nodePort is applied (the table set is rebuilt
 * from the informer's cache, not from a per-service "seen" set); deletions are applied;
 * after a reconnect the informer re-lists and the cache (not a stale process-wide one)
 * decides; the patch port's ofport is re-read on every sync (ovn-controller may recreate
 * it), and the flows are re-applied every `--resync-seconds` to repair drift.
 *
 * @module
 */
import { parseCommand, renderUsage, ValidationError } from "../cli/mod.ts";
import { ProcessRunner, type Runner } from "../exec/mod.ts";
import {
  DEFAULT_CONNTRACK_ZONE,
  helperFlows,
  nodePortsOf,
  type ServiceLike,
} from "../gateway/mod.ts";
import { resolveConnection } from "../k8s/connection.ts";
import { KubeHttp } from "../k8s/http.ts";
import { httpListWatcher, Informer } from "../k8s/informer.ts";
import { findResource, type KubeObject } from "../k8s/resources.ts";
import type { Logger } from "../log/mod.ts";
import { type Flow, renderFlows, replaceFlows } from "../ovs/flows.ts";
import { parseIntFlag } from "./_init_cli.ts";
import { connectLocal, connectOvsdb, type DbHandle, resolveOvsDb } from "./_local_ovs.ts";
import type { EnvReader, RoleContext } from "./context.ts";

const OPTIONS = {
  "physical-bridge": { type: "string", arg: "BRIDGE", help: "the shared OVS bridge (breth0)" },
  "physical-interface": { type: "string", arg: "NIC", help: "the NIC on that bridge (eth0)" },
  "conntrack-zone": {
    type: "string",
    arg: "N",
    help: `conntrack zone of the demux (default ${DEFAULT_CONNTRACK_ZONE})`,
  },
  "ovs-db": {
    type: "string",
    arg: "REMOTE",
    help: "local OVSDB (default $OVS_RUNDIR/db.sock, else /var/run/openvswitch/db.sock)",
  },
  "ovs-rundir": {
    type: "string",
    arg: "DIR",
    help: "where <bridge>.mgmt is (default $OVS_RUNDIR, else ovs-ofctl's default)",
  },
  "resync-seconds": { type: "string", arg: "N", help: "re-apply the flows this often (300)" },
  kubeconfig: { type: "string", arg: "FILE", help: "kubeconfig for the API server" },
  "k8s-api-server": { type: "string", arg: "URL", help: "API server (default external_ids)" },
  "k8s-token": { type: "string", arg: "TOKEN", help: "bearer token" },
  "k8s-cacert": { type: "string", arg: "FILE", help: "API server CA" },
  "insecure-skip-tls-verify": { type: "boolean", help: "do not verify the API server" },
  help: { type: "boolean", short: "h", help: "show this help" },
} as const;

const USAGE = renderUsage(
  "ovn-k8s gateway-helper --physical-bridge BRIDGE --physical-interface NIC [options]",
  "Split a NIC shared by the host and OVN: OpenFlow on the shared bridge, kept in step with NodePort services.",
  OPTIONS,
) + "\nAccepted as in the original's unit files: --pidfile[=FILE] (written, removed on exit); " +
  "--detach --monitor --no-chdir --overwrite-pidfile --log-file[=FILE] -v... --verbose[=...] " +
  "(ignored: we stay in the foreground and log to stderr).";

/**
 * Takes the original's daemon flags out of the arguments (reference §3.5).
 *
 * @param args arguments
 * @returns the pidfile (`true` for the default path) and the other arguments
 */
export function takeDaemonFlags(args: string[]): { pidfile?: string | true; rest: string[] } {
  let pidfile: string | true | undefined;
  const rest: string[] = [];
  for (const a of args) {
    const m = /^--pidfile(?:=(.*))?$/.exec(a);
    if (m) pidfile = m[1] || true;
    else if (
      /^--(detach|monitor|no-chdir|overwrite-pidfile)$/.test(a) || /^--log-file(=.*)?$/.test(a) ||
      /^-v/.test(a) || /^--verbose(=.*)?$/.test(a)
    ) continue;
    else rest.push(a);
  }
  return { ...(pidfile ? { pidfile } : {}), rest };
}

/** The ofports the flows need. */
export interface HelperPorts {
  nic: number;
  patch: number;
  /** The patch port's name. */
  patchName: string;
}

/**
 * Reads the NIC's and the patch port's ofports on the shared bridge: the patch port is
 * ovn-controller's `patch-<localnet>-to-br-int` (gateway-init's localnet attachment) or
 * the original's `k8s-patch-<bridge>-br-int`.
 *
 * @param db local database
 * @param bridge the shared bridge
 * @param nic the NIC
 * @returns the ports, `undefined` for a port not there yet
 * @throws {ValidationError} when the bridge does not exist or the NIC is not its port
 */
export async function readHelperPorts(
  db: DbHandle,
  bridge: string,
  nic: string,
): Promise<{ nic: number; patch: number | undefined; patchName: string | undefined }> {
  const r = await db.transact([
    { op: "select", table: "Bridge", where: [["name", "==", bridge]], columns: ["ports"] },
    { op: "select", table: "Port", where: [], columns: ["_uuid", "name", "interfaces"] },
    { op: "select", table: "Interface", where: [], columns: ["_uuid", "name", "type", "ofport"] },
  ]);
  const br = r[0]?.rows?.[0] as { ports: string[] } | undefined;
  if (!br) {
    throw new ValidationError(
      `Cannot run the gateway helper: --physical-bridge ${bridge} is not an OVS bridge; ` +
        "make it with ovn-k8s nics-to-bridge <nic>",
    );
  }
  const ports = (r[1]?.rows ?? []) as unknown as Array<
    { _uuid: string; name: string; interfaces: string[] }
  >;
  const ifaces = new Map(
    ((r[2]?.rows ?? []) as unknown as Array<
      { _uuid: string; name: string; type: string; ofport: number[] }
    >).map((i) => [i._uuid, i]),
  );
  const onBridge = ports.filter((p) => br.ports.includes(p._uuid)).flatMap((p) =>
    p.interfaces.map((u) => ifaces.get(u)).filter((i) => i !== undefined)
  );
  const nicRow = onBridge.find((i) => i.name === nic);
  const nicPort = nicRow?.ofport[0] ?? -1;
  if (!nicRow || nicPort <= 0) {
    throw new ValidationError(
      `Cannot run the gateway helper: --physical-interface ${nic} is not a working port of ` +
        `${bridge}${nicRow ? ` (ofport ${nicPort})` : ""}; pass the NIC that nics-to-bridge moved`,
    );
  }
  const patch = onBridge.find((i) =>
    i.type === "patch" && (i.name.endsWith("-to-br-int") || i.name === `k8s-patch-${bridge}-br-int`)
  );
  const patchPort = patch?.ofport[0] ?? -1;
  return {
    nic: nicPort,
    patch: patchPort > 0 ? patchPort : undefined,
    patchName: patch?.name,
  };
}

/** Injected boundaries of {@linkcode runHelper}. */
export interface HelperDeps {
  runner: Runner;
  log: Logger;
}

/** Inputs of {@linkcode runHelper}. */
export interface HelperOptions {
  bridge: string;
  nic: string;
  zone: number;
  /** `ovs-ofctl` target: the bridge, or `unix:<rundir>/<bridge>.mgmt`. */
  target: string;
  resyncMs: number;
  /** Local database. */
  db: DbHandle;
  /** The services, current (the informer's cache). */
  services: () => Iterable<ServiceLike>;
  /** Resolves when something changed (replaced by each call). */
  changed: (signal: AbortSignal) => Promise<void>;
  signal: AbortSignal;
  /** Called after each successful apply with the flows applied (tests, status). */
  onApplied?: (flows: Flow[]) => void;
}

/**
 * The sync loop: on each change (and every resync period) build the table set and apply
 * it when it differs from the last one applied (or the period elapsed).
 *
 * @param o inputs
 * @param deps boundaries
 */
export async function runHelper(o: HelperOptions, deps: HelperDeps): Promise<void> {
  let last = "";
  let lastAt = 0;
  let waitingLogged = false;
  while (!o.signal.aborted) {
    let retryMs = o.resyncMs;
    try {
      const ports = await readHelperPorts(o.db, o.bridge, o.nic);
      if (ports.patch === undefined) {
        if (!waitingLogged) {
          deps.log.info("waiting for the patch port to br-int (ovn-controller makes it)", {
            bridge: o.bridge,
          });
          waitingLogged = true;
        }
        retryMs = 1000;
      } else {
        const flows = helperFlows({
          patch: ports.patch,
          nic: ports.nic,
          zone: o.zone,
          nodePorts: nodePortsOf(o.services()),
        });
        const text = renderFlows(flows);
        if (text !== last || Date.now() - lastAt >= o.resyncMs) {
          await replaceFlows(deps.runner, o.target, flows);
          if (text !== last) {
            deps.log.info("flows applied", { bridge: o.bridge, flows: flows.length });
          }
          last = text;
          lastAt = Date.now();
          o.onApplied?.(flows);
        }
      }
    } catch (err) {
      if (err instanceof ValidationError) throw err;
      deps.log.warn("cannot apply the flows; retrying", { error: (err as Error).message });
      last = "";
      retryMs = 2000;
    }
    const ac = new AbortController();
    const stop = () => ac.abort();
    o.signal.addEventListener("abort", stop, { once: true });
    const timer = setTimeout(stop, retryMs);
    try {
      await Promise.race([
        o.changed(ac.signal),
        new Promise((r) => ac.signal.addEventListener("abort", r)),
      ]);
    } finally {
      clearTimeout(timer);
      o.signal.removeEventListener("abort", stop);
      ac.abort();
    }
  }
}

/**
 * A change signal: `kick()` wakes the current waiter (or the next one).
 *
 * @returns kick and wait
 */
export function changeSignal(): { kick: () => void; wait: (signal: AbortSignal) => Promise<void> } {
  let pending = false;
  let wake: (() => void) | undefined;
  return {
    kick: () => {
      pending = true;
      wake?.();
    },
    wait: (signal) => {
      if (pending) {
        pending = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const done = () => {
          wake = undefined;
          pending = false;
          signal.removeEventListener("abort", done);
          resolve();
        };
        wake = done;
        signal.addEventListener("abort", done, { once: true });
      });
    },
  };
}

function ofctlTarget(bridge: string, flag: string | undefined, env: EnvReader): string {
  const dir = flag ?? env("OVS_RUNDIR");
  return dir ? `unix:${dir.replace(/\/+$/, "")}/${bridge}.mgmt` : bridge;
}

/**
 * Runs the gateway helper until the signal aborts.
 *
 * @param args arguments after the subcommand
 * @param ctx role context
 * @param deps boundaries
 * @returns exit code
 */
export async function runGatewayHelper(
  args: string[],
  ctx: RoleContext,
  deps: HelperDeps = { runner: new ProcessRunner(), log: ctx.log },
): Promise<number> {
  const daemon = takeDaemonFlags(args);
  const p = parseCommand(daemon.rest, OPTIONS, USAGE);
  if (p.flag("help")) {
    ctx.stdout(USAGE);
    return 0;
  }
  const bridge = p.string("physical-bridge");
  const nic = p.string("physical-interface");
  if (!bridge || !nic) {
    throw new ValidationError(
      `Cannot run the gateway helper: ${
        !bridge ? "--physical-bridge" : "--physical-interface"
      } is missing; pass the shared bridge and its NIC (e.g. --physical-bridge breth0 --physical-interface eth0)`,
    );
  }
  const zone = p.string("conntrack-zone")
    ? parseIntFlag("--conntrack-zone", p.string("conntrack-zone")!, 1, 65535)
    : DEFAULT_CONNTRACK_ZONE;
  const resyncMs = 1000 *
    (p.string("resync-seconds")
      ? parseIntFlag("--resync-seconds", p.string("resync-seconds")!, 5, 86400)
      : 300);
  const remote = resolveOvsDb(p.string("ovs-db"), ctx.env);
  const db = await connectLocal(connectOvsdb, remote, 10_000);
  try {
    await readHelperPorts(db, bridge, nic); // bad bridge/NIC: exit 2 before anything else
    const readIds = async () => {
      const r = await db.transact([
        { op: "select", table: "Open_vSwitch", where: [], columns: ["external_ids"] },
      ]);
      return (r[0]?.rows?.[0]?.["external_ids"] ?? {}) as Record<string, string>;
    };
    let conn;
    try {
      conn = await resolveConnection({
        flags: {
          ...(p.string("kubeconfig") ? { kubeconfig: p.string("kubeconfig")! } : {}),
          ...(p.string("k8s-api-server") ? { apiServer: p.string("k8s-api-server")! } : {}),
          ...(p.string("k8s-token") ? { token: p.string("k8s-token")! } : {}),
          ...(p.string("k8s-cacert") ? { caCert: p.string("k8s-cacert")! } : {}),
          ...(p.flag("insecure-skip-tls-verify") ? { insecureSkipTlsVerify: true } : {}),
        },
        ovsExternalIds: readIds,
        env: ctx.env,
        log: ctx.log,
      });
    } catch (err) {
      throw new ValidationError(
        `Cannot find the Kubernetes API server: ${(err as Error).message}`,
        { cause: err },
      );
    }
    const pidfile = daemon.pidfile === true
      ? `${
        (ctx.env("OVN_RUNDIR") ?? ctx.env("OVS_RUNDIR") ?? "/var/run/openvswitch").replace(
          /\/+$/,
          "",
        )
      }/ovn-k8s-gateway-helper.pid`
      : daemon.pidfile;
    if (pidfile) await Deno.writeTextFile(pidfile, `${Deno.pid}\n`);
    const http = new KubeHttp(conn);
    const change = changeSignal();
    const informer = new Informer<KubeObject>(
      httpListWatcher<KubeObject>(http, findResource("services")!),
      {
        name: "services",
        handlers: { add: change.kick, update: change.kick, delete: change.kick },
        log: ctx.log,
      },
    );
    const running = informer.run(ctx.signal);
    try {
      await Promise.race([
        informer.synced,
        new Promise((r) => ctx.signal.addEventListener("abort", r, { once: true })),
      ]);
      await runHelper({
        bridge,
        nic,
        zone,
        target: ofctlTarget(bridge, p.string("ovs-rundir"), ctx.env),
        resyncMs,
        db,
        services: () => informer.cache.list() as ServiceLike[],
        changed: change.wait,
        signal: ctx.signal,
      }, deps);
    } finally {
      await running.catch(() => {});
      http[Symbol.dispose]();
      if (pidfile) await Deno.remove(pidfile).catch(() => {});
    }
  } finally {
    db.close();
  }
  return 0;
}

/**
 * @param args arguments after the subcommand
 * @param ctx role context
 * @returns exit code
 */
export function main(args: string[], ctx: RoleContext): Promise<number> {
  return runGatewayHelper(args, ctx);
}
