/**
 * Test environment of the watcher tests: a private NB ovsdb-server with the cluster
 * router and node switches made by the project's own init builders, the API emulator
 * in-process, and the watcher run in-process (`runWatcher` with the real parts) so a
 * test can count its NB transactions. Everything is torn down by `await using`.
 *
 * @module
 */
import { type Emulator, startEmulator } from "../../src/k8s/emulator/mod.ts";
import { findResource, type KubeObject } from "../../src/k8s/resources.ts";
import { KubeHttp } from "../../src/k8s/http.ts";
import { makeConnection } from "../../src/k8s/connection_info.ts";
import { createLogger, type Logger } from "../../src/log/mod.ts";
import { Ipv4Cidr } from "../../src/net/mod.ts";
import {
  findClusterRouter,
  nbStateReadOps,
  parseNbState,
  planCluster,
  planNode,
} from "../../src/ovn/mod.ts";
import { macFromIpv4 } from "../../src/net/mod.ts";
import { NB_DATABASE, type NbTables } from "../../src/ovn/nb_models.ts";
import { OvsdbClient } from "../../src/ovsdb/mod.ts";
import {
  type EventRecorder,
  type EventTarget,
  MetricsRegistry,
  type NbClient,
  NbWriter,
  NO_EVENTS,
  runWatcher,
} from "../../src/controllers/mod.ts";
import { servicesPart } from "../../src/controllers/service_controller.ts";
import { silentLogger } from "../../src/log/mod.ts";
import { httpEventRecorder } from "../../src/controllers/events.ts";
import { watcherParts } from "../../src/controllers/parts.ts";
import { NB_SCHEMA, type OvsdbServer, startOvsdbServer } from "../helpers/ovsdb_server.ts";

export const PODS = findResource("pods")!;

/**
 * Runs the watcher in-process with only its services part (services and endpoints into
 * load balancers), silent and without events: the gateway and service packet tests.
 *
 * @param nb connected NB client
 * @param http the API server
 * @param signal stops it
 * @param onReady called when it starts working
 * @returns the watcher's run
 */
export function runServicesWatcher(
  nb: NbClient,
  http: KubeHttp,
  signal: AbortSignal,
  onReady?: () => void,
): Promise<void> {
  const metrics = new MetricsRegistry();
  return runWatcher({
    nb,
    writer: new NbWriter(nb, metrics),
    http,
    events: NO_EVENTS,
    metrics,
    parts: [servicesPart()],
    log: silentLogger,
    ...(onReady ? { onReady } : {}),
    signal,
  });
}
export const NODES = findResource("nodes")!;

/** A node of the test cluster. */
export interface TestNode {
  name: string;
  subnet: string;
}

/** A running in-process watcher. */
export interface TestWatcher extends AsyncDisposable {
  writer: NbWriter;
  metrics: MetricsRegistry;
  /** Resolves once repair finished and workers run. */
  ready: Promise<void>;
  /** Resolves (or rejects) when runWatcher ends. */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** Where log lines go: `OVN_K8S_TEST_LOG=1` prints them. */
export function testLogger(name: string): Logger {
  return Deno.env.get("OVN_K8S_TEST_LOG")
    ? createLogger(name, { level: "debug" })
    : createLogger(name, { sink: () => {} });
}

/** The test environment. */
export class WatcherEnv implements AsyncDisposable {
  constructor(
    readonly nbServer: OvsdbServer,
    readonly emu: Emulator,
    readonly nb: OvsdbClient<NbTables>,
  ) {}

  /** NB remote of the server. */
  get nbRemote(): string {
    return this.nbServer.remotes("unix");
  }

  /**
   * Starts a watcher in-process (no leader election).
   *
   * @param opts batch size, events recorder
   * @returns the watcher
   */
  async startWatcher(opts: { batchSize?: number; events?: EventRecorder } = {}): Promise<
    TestWatcher
  > {
    const log = testLogger("watcher");
    const nb = await OvsdbClient.connect<NbTables>({
      remotes: this.nbRemote,
      database: NB_DATABASE,
      timeoutMs: 10_000,
      logger: log.child("nb"),
    });
    const http = new KubeHttp(makeConnection({ server: this.emu.url, source: "test" }));
    const metrics = new MetricsRegistry();
    const writer = new NbWriter(nb, metrics);
    const ac = new AbortController();
    const ready = Promise.withResolvers<void>();
    const done = runWatcher({
      nb,
      writer,
      http,
      events: opts.events ?? httpEventRecorder(http, "ovn-k8s-watcher", log),
      metrics,
      parts: watcherParts({
        ...(opts.batchSize ? { batchSize: opts.batchSize } : {}),
        maxRetries: 50,
      }),
      log,
      watchIdleTimeoutMs: 10_000,
      onReady: () => ready.resolve(),
      signal: ac.signal,
    });
    done.catch((err) => ready.reject(err));
    const stop = async () => {
      ac.abort();
      await done.catch(() => {});
      nb.close();
      http.close();
    };
    await ready.promise;
    return { writer, metrics, ready: ready.promise, done, stop, [Symbol.asyncDispose]: stop };
  }

  /** Creates a pod (scheduled when `node` is given). */
  createPod(ns: string, name: string, node?: string, extra: Record<string, unknown> = {}) {
    return this.emu.store.create(PODS, ns, {
      metadata: { name, namespace: ns },
      spec: {
        containers: [{ name: "c", image: "busybox" }],
        ...(node ? { nodeName: node } : {}),
        ...extra,
      },
    });
  }

  /** Deletes a pod. */
  deletePod(ns: string, name: string) {
    return this.emu.store.delete(PODS, ns, name);
  }

  /** Reads a pod, or undefined. */
  pod(ns: string, name: string): KubeObject | undefined {
    try {
      return this.emu.store.get(PODS, ns, name);
    } catch {
      return undefined;
    }
  }

  /** The pod ports in NB (from the test's own monitor). */
  podPorts(): NbTables["Logical_Switch_Port"][] {
    return this.nb.cache.table("Logical_Switch_Port").filter((p) =>
      p.external_ids["pod"] === "true"
    );
  }

  /** A port by name. */
  port(name: string): NbTables["Logical_Switch_Port"] | undefined {
    return this.nb.cache.table("Logical_Switch_Port").find((p) => p.name === name);
  }

  /** The switch that lists a port. */
  switchOf(portUuid: string): string | undefined {
    return this.nb.cache.table("Logical_Switch").find((s) => s.ports.includes(portUuid))?.name;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.nb.close();
    await this.emu.close();
    await this.nbServer.stop();
  }
}

/**
 * Adds node switches (cluster router first when absent), as master-/minion-init do.
 *
 * @param nb NB client
 * @param nodes the nodes
 */
export async function addNodes(nb: OvsdbClient<NbTables>, nodes: readonly TestNode[]) {
  for (const n of nodes) {
    let state = parseNbState(await nb.transact(nbStateReadOps(n.name)));
    if (!findClusterRouter(state)) {
      await nb.transact(planCluster(state, Ipv4Cidr.parse("10.244.0.0/16")).ops);
      state = parseNbState(await nb.transact(nbStateReadOps(n.name)));
    }
    const subnet = Ipv4Cidr.parse(n.subnet);
    const router = findClusterRouter(state)!;
    await nb.transact(planNode(state, {
      node: n.name,
      subnet,
      managementMac: macFromIpv4(subnet.host(2)),
      router: { ref: router._uuid, name: router.name },
      loadBalancers: [...state.tcpLoadBalancers, ...state.udpLoadBalancers].map((l) => l._uuid),
    }));
  }
}

/**
 * Starts NB + emulator and creates the nodes' switches.
 *
 * @param nodes the nodes
 * @param opts NB members: 1 (default) or a 3-member RAFT cluster
 * @returns the environment
 */
export async function startWatcherEnv(
  nodes: readonly TestNode[],
  opts: { members?: 1 | 3 } = {},
): Promise<WatcherEnv> {
  const nbServer = await startOvsdbServer({ schema: NB_SCHEMA, members: opts.members ?? 1 });
  if ((opts.members ?? 1) > 1) await nbServer.waitFormed();
  const emu = await startEmulator({ historySize: 50_000, bookmarkIntervalMs: 1000 });
  const nb = await OvsdbClient.connect<NbTables>({
    remotes: nbServer.remotes("unix"),
    database: NB_DATABASE,
    timeoutMs: 10_000,
  });
  await nb.monitor({
    Logical_Switch: ["name", "ports", "other_config", "external_ids"],
    Logical_Switch_Port: ["name", "addresses", "port_security", "external_ids"],
  });
  await addNodes(nb, nodes);
  return new WatcherEnv(nbServer, emu, nb);
}

/** Records Events in memory. */
export function memoryEvents(): EventRecorder & {
  list: { target: EventTarget; reason: string; message: string }[];
} {
  const list: { target: EventTarget; reason: string; message: string }[] = [];
  return {
    list,
    warn(target, reason, message) {
      list.push({ target, reason, message });
      return Promise.resolve();
    },
  };
}

/**
 * Polls until `fn` returns a truthy value.
 *
 * @param what what is awaited (for the error)
 * @param fn the check
 * @param timeoutMs how long (default 30 s)
 * @returns the value
 */
export async function until<T>(
  what: string,
  fn: () => T | undefined | false,
  timeoutMs = 30_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Whether a controller's queue took at least `minAdds` keys and has none left.
 *
 * @param metrics the watcher's registry
 * @param queue queue name
 * @param minAdds keys it must have taken
 * @returns true when drained
 */
export function queueIdle(metrics: MetricsRegistry, queue: string, minAdds: number): boolean {
  const text = metrics.render();
  const val = (m: string) =>
    Number(new RegExp(`^${m}\\{queue="${queue}"\\} (\\d+)$`, "m").exec(text)?.[1] ?? NaN);
  return val("ovnk8s_workqueue_adds") >= minAdds && val("ovnk8s_workqueue_depth") === 0 &&
    val("ovnk8s_workqueue_in_flight") === 0 && val("ovnk8s_workqueue_delayed") === 0;
}

/** The pod's `ovn` annotation parsed, or undefined. */
export function annotationOf(pod: KubeObject | undefined): Record<string, string> | undefined {
  const v = pod?.metadata.annotations?.["ovn"];
  return v ? JSON.parse(v) : undefined;
}
