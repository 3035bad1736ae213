/**
 * The "hosts in namespaces" simulator: a central OVN in its own namespace, an underlay
 * Linux bridge in another, and N node namespaces, each with its own ovsdb-server,
 * ovs-vswitchd (userspace datapath) and ovn-controller, joined by geneve over the
 * underlay. The root namespace gets an underlay address too, so tools run on the machine
 * reach central (and, later, the API emulator) over TCP like any host would.
 *
 * Design note (reference/ovn-lab.md §3 and §8): the underlay IP of a node sits on the OVS
 * bridge `br-phy` whose port is the node's veth `eth1`; every veth we create has tx
 * checksum offload off (G1); node namespaces run with `rp_filter=1` and `arp_ignore=1`
 * (G2); every node pings every tunnel peer once before use (G3); nothing waits without a
 * deadline (G4); every tool gets explicit paths (G7).
 *
 * Everything is named from one prefix, so several labs coexist; `down()` (or `await
 * using`) kills every process in our namespaces, deletes them and removes the directory.
 *
 * @module
 */
import { ProcessRunner, type Runner, type RunOptions, type RunResult } from "../exec/mod.ts";
import { createLogger, type Logger } from "../log/mod.ts";
import { Ipv4Cidr } from "../net/mod.ts";
import { addNetns, deleteNetns, HostNet, inNetns, listNetns, netnsPath } from "../host/mod.ts";
import {
  Central,
  Daemon,
  hostOvsdbSpec,
  ovnControllerSpec,
  ovsHostPaths,
  pollUntil,
  type Processes,
  rundirEnv,
  sleep,
  systemProcesses,
  vswitchdSpec,
} from "../daemons/mod.ts";
import {
  addNetdevBridge,
  bridgeDatapathType,
  type ChassisInfo,
  type DatabaseInfo,
  databaseInfo,
  initOpenVswitch,
  listChassis,
  tunnelRemotes,
} from "./_ovsdb_io.ts";
import {
  lockUnderlay,
  MAX_NODES,
  pickUnderlay,
  planUnderlay,
  underlayCollisions,
  type UnderlayPlan,
} from "./underlay.ts";

/** Options of {@linkcode startLab}. */
export interface LabOptions {
  /** Number of node namespaces (default 0: central only). */
  nodes?: number;
  /** Name prefix of namespaces and links: 1-12 of `[a-z0-9-]`, starting with a letter. */
  prefix?: string;
  /** State directory (default: a new temporary directory). Removed by `down()`. */
  dir?: string;
  /** Underlay /24 (default: a free /24 of 172.31.0.0/16). */
  underlay?: string;
  /**
   * Write each node's OVN settings (system-id, hostname, ovn-remote, ovn-nb, ovn-encap-*) into its
   * `external_ids` (default true). With false only `ovn-bridge-datapath-type=netdev` is
   * set, and `ovn-k8s setup-host` is expected to do the rest.
   */
  configureOvn?: boolean;
  /** Command runner (default: real processes). */
  runner?: Runner;
  /** Logger. */
  log?: Logger;
  /** Deadline of each waiting step (default 30 s). */
  timeoutMs?: number;
  /** Called with a one-line message at each step. */
  onProgress?: (message: string) => void;
  /** What is `flock`ed to serialise the underlay choice (default: the `/run` directory). */
  underlayLock?: string;
}

/** What `lab.json` in the state directory records. */
export interface LabState {
  version: 1;
  prefix: string;
  underlay: string;
  nodes: string[];
  configureOvn: boolean;
}

/** The central OVN of a lab. */
export interface LabCentral {
  /** Its namespace. */
  netns: string;
  /** Its underlay address. */
  ip: string;
  /** `tcp:IP:6641` on the underlay (reachable from every node and the root namespace). */
  nbRemote: string;
  /** `tcp:IP:6642` on the underlay. */
  sbRemote: string;
  /** Unix sockets (usable from any namespace of this machine). */
  nbSock: string;
  sbSock: string;
  /** The daemons. */
  central: Central;
}

/** One simulated host. */
export interface LabNode {
  /** Node name (`node1`), also its chassis name when the lab configures OVN. */
  name: string;
  /** Its network namespace and that namespace's path (for nsenter / CNI_NETNS). */
  netns: string;
  netnsPath: string;
  /** Directory with conf.db, db.sock, pidfiles, control sockets and logs. */
  ovsRunDir: string;
  /** The Open_vSwitch database socket, and as an OVSDB remote. */
  ovsDbSock: string;
  ovsDbRemote: string;
  /** Underlay address (on br-phy) and its prefix length. */
  underlayIp: string;
  underlayPrefix: number;
  /** OVS_RUNDIR, OVN_RUNDIR, ... pointing at `ovsRunDir`. */
  env: Record<string, string>;
  /** Its daemons. */
  daemons: { ovsdb: Daemon; vswitchd: Daemon; controller: Daemon };
  /**
   * Runs a command inside the node namespace with the node's OVS/OVN environment, as a
   * systemd unit on that host would run it.
   *
   * @param argv program and arguments
   * @param opts runner options; `env` is merged over the node's
   * @returns the result (throws CommandError on non-zero exit unless `check: false`)
   */
  exec(argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
}

/** A node as the status shows it. */
export interface NodeStatus {
  name: string;
  netns: string;
  underlayIp: string;
  pids: Record<"ovsdb" | "vswitchd" | "controller", number | undefined>;
  /** datapath_type of br-int, or `undefined` when ovn-controller has not created it. */
  brInt: string | undefined;
}

/** What {@linkcode Lab.status} reports. */
export interface LabStatus {
  prefix: string;
  dir: string;
  underlay: string;
  rootIp: string;
  central: Awaited<ReturnType<Central["status"]>>;
  /** NB and SB as a node sees them: over TCP on the underlay, through the OVSDB client. */
  databases: { nb: DatabaseInfo; sb: DatabaseInfo };
  chassis: ChassisInfo[];
  nodes: NodeStatus[];
}

const STATE_FILE = "lab.json";
const PREFIX_RE = /^[a-z][a-z0-9-]{0,11}$/;

/**
 * Checks a lab prefix.
 *
 * @param prefix candidate
 * @throws {RangeError} naming the rule
 */
export function checkPrefix(prefix: string): void {
  if (!PREFIX_RE.test(prefix)) {
    throw new RangeError(
      `Cannot use sandbox prefix "${prefix}": use 1-12 characters of a-z, 0-9 and '-', ` +
        "starting with a letter (it names namespaces and links)",
    );
  }
}

/** A running lab. Dispose it (or call `down()`) to remove everything. */
export class Lab implements AsyncDisposable {
  /** Central OVN. */
  readonly central: LabCentral;
  /** The nodes, in order. */
  readonly nodes: LabNode[];
  /** The underlay plan. */
  readonly underlay: UnderlayPlan;
  /** Namespace of the underlay bridge. */
  readonly ulNetns: string;
  /** Root namespace's link onto the underlay. */
  readonly rootLink: string;
  readonly #runner: Runner;
  readonly #procs: Processes;
  readonly #log: Logger;

  /**
   * Builds the handle from a state record (starts nothing). Use {@linkcode startLab} or
   * {@linkcode openLab}.
   *
   * @param dir state directory
   * @param state what lab.json records
   * @param deps runner, process table, logger
   */
  constructor(
    readonly dir: string,
    readonly state: LabState,
    deps: { runner: Runner; procs: Processes; log: Logger },
  ) {
    this.#runner = deps.runner;
    this.#procs = deps.procs;
    this.#log = deps.log;
    const { prefix } = state;
    this.underlay = planUnderlay(Ipv4Cidr.parse(state.underlay));
    this.ulNetns = `${prefix}-ul`;
    this.rootLink = `${prefix}-ul`;
    const cdir = `${dir}/central`;
    const central = new Central({
      dataDir: cdir,
      runDir: cdir,
      logDir: cdir,
      listenAddress: this.underlay.centralIp,
      nbPort: 6641,
      sbPort: 6642,
      netns: `${prefix}-central`,
    }, { runner: deps.runner, log: deps.log.child("central"), procs: deps.procs });
    this.central = {
      netns: `${prefix}-central`,
      ip: this.underlay.centralIp,
      nbRemote: `tcp:${this.underlay.centralIp}:6641`,
      sbRemote: `tcp:${this.underlay.centralIp}:6642`,
      nbSock: central.paths.nb.sock,
      sbSock: central.paths.sb.sock,
      central,
    };
    this.nodes = state.nodes.map((name, i) => this.#node(name, i + 1));
  }

  /** The name prefix. */
  get prefix(): string {
    return this.state.prefix;
  }

  /**
   * A node by name.
   *
   * @param name node name
   * @returns the node
   * @throws {RangeError} when there is no such node
   */
  node(name: string): LabNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) {
      throw new RangeError(
        `Cannot find sandbox node "${name}": the nodes are ${
          this.nodes.map((x) => x.name).join(", ")
        }`,
      );
    }
    return n;
  }

  /** Every namespace of this lab. */
  get namespaces(): string[] {
    return [...this.nodes.map((n) => n.netns), this.central.netns, this.ulNetns];
  }

  #node(name: string, index: number): LabNode {
    const netns = `${this.prefix}-${name}`;
    const runDir = `${this.dir}/nodes/${name}`;
    const p = ovsHostPaths(runDir);
    const env = rundirEnv(runDir);
    const deps = { runner: this.#runner, procs: this.#procs, log: this.#log.child(name) };
    const runner = this.#runner;
    return {
      name,
      netns,
      netnsPath: netnsPath(netns),
      ovsRunDir: runDir,
      ovsDbSock: p.dbSock,
      ovsDbRemote: `unix:${p.dbSock}`,
      underlayIp: this.underlay.nodeIp(index),
      underlayPrefix: this.underlay.prefix,
      env,
      daemons: {
        ovsdb: new Daemon(hostOvsdbSpec({ runDir, netns }, this.#runner), deps),
        vswitchd: new Daemon(vswitchdSpec({ runDir, netns }), deps),
        controller: new Daemon(ovnControllerSpec({ runDir, netns }), deps),
      },
      exec: (argv, opts = {}) =>
        runner.run(inNetns(netns, argv), { ...opts, env: { ...env, ...opts.env } }),
    };
  }

  /**
   * Pings every tunnel peer and central from each node once (gotcha G3: OVS learns the
   * underlay neighbour from the kernel's ARP; the first tunnelled packet to an unknown
   * peer is lost).
   */
  async prePing(): Promise<void> {
    await Promise.all(this.nodes.map(async (n) => {
      const peers = [
        this.central.ip,
        ...this.nodes.filter((m) => m !== n).map((m) => m.underlayIp),
      ];
      for (const ip of peers) {
        await pollUntil(
          `node ${n.name} to ping ${ip} over the underlay`,
          async () => (await n.exec(["ping", "-c1", "-W1", "-q", ip], { check: false })).code === 0,
          { timeoutMs: 10_000 },
        );
      }
    }));
  }

  /**
   * Reads the lab's state: central daemons and remotes, registered chassis, node daemons
   * and br-int.
   *
   * @returns the status
   */
  async status(): Promise<LabStatus> {
    const central = await this.central.central.status();
    const [nb, sb] = await Promise.all([
      databaseInfo(this.central.nbRemote, "OVN_Northbound"),
      databaseInfo(this.central.sbRemote, "OVN_Southbound"),
    ]);
    const chassis = central.sb.healthy
      ? await listChassis(`unix:${this.central.sbSock}`).catch(() => [])
      : [];
    const nodes = await Promise.all(this.nodes.map(async (n): Promise<NodeStatus> => {
      const pids = {
        ovsdb: await n.daemons.ovsdb.pid(),
        vswitchd: await n.daemons.vswitchd.pid(),
        controller: await n.daemons.controller.pid(),
      };
      const brInt = pids.ovsdb === undefined
        ? undefined
        : await bridgeDatapathType(n.ovsDbSock, "br-int").catch(() => undefined);
      return { name: n.name, netns: n.netns, underlayIp: n.underlayIp, pids, brInt };
    }));
    return {
      prefix: this.prefix,
      dir: this.dir,
      underlay: this.underlay.cidr,
      rootIp: this.underlay.rootIp,
      central,
      databases: { nb, sb },
      chassis,
      nodes,
    };
  }

  /**
   * Removes everything: stops the daemons by pidfile, kills any other process left in
   * our namespaces, deletes the namespaces (their links go with them) and the root link,
   * and removes the state directory. Idempotent.
   */
  async down(): Promise<void> {
    const errors: unknown[] = [];
    const attempt = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (err) {
        this.#log.warn(`cleanup step failed: ${what}`, { err });
        errors.push(err);
      }
    };
    await Promise.all(this.nodes.map((n) =>
      attempt(`stop ${n.name}`, async () => {
        for (const d of [n.daemons.controller, n.daemons.vswitchd, n.daemons.ovsdb]) {
          await d.stop({ timeoutMs: 5000 });
        }
      })
    ));
    await attempt("stop central", () => this.central.central.stop({ timeoutMs: 5000 }));
    const present = new Set(await listNetns(this.#runner).catch(() => []));
    for (const ns of this.namespaces.filter((x) => present.has(x))) {
      await attempt(`kill processes in ${ns}`, () => this.#killNetnsProcesses(ns));
      await attempt(`delete ${ns}`, () => deleteNetns(this.#runner, ns));
    }
    await attempt("delete root link", () => new HostNet(this.#runner).deleteLink(this.rootLink));
    await attempt("remove state directory", async () => {
      await Deno.remove(this.dir, { recursive: true }).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
    });
    if (errors.length) {
      throw new AggregateError(errors, `Cannot remove sandbox "${this.prefix}" completely`);
    }
  }

  async #killNetnsProcesses(netns: string): Promise<void> {
    const pidsOf = async () => {
      const r = await this.#runner.run(["ip", "netns", "pids", netns], { check: false });
      const pids: number[] = [];
      for (const t of r.stdout.split(/\s+/)) {
        const pid = Number(t);
        if (t !== "" && await this.#procs.alive(pid)) pids.push(pid);
      }
      return pids;
    };
    let pids = await pidsOf();
    if (pids.length === 0) return;
    this.#log.info("killing leftover processes", { netns, pids: pids.join(",") });
    for (const p of pids) this.#procs.kill(p, "SIGTERM");
    for (let i = 0; i < 50 && pids.length; i++) {
      await sleep(100);
      pids = await pidsOf();
    }
    for (const p of pids) this.#procs.kill(p, "SIGKILL");
  }

  /** Same as {@linkcode Lab.down}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.down();
  }
}

/**
 * Brings a lab up: underlay, central OVN, N nodes with OVS and ovn-controller; when the
 * lab configures OVN, waits until every node's chassis is registered in SB, its br-int
 * exists and it has a geneve tunnel to every peer. On failure removes what it made and rethrows.
 *
 * Needs root, `ip`, `ethtool`, `ping`, OVS and OVN. Permissions: all (`--allow-all`).
 *
 * @param opts nodes, prefix, directory, underlay, runner, logger
 * @returns the running lab (dispose it)
 * @throws {RangeError} on a bad prefix, node count or underlay; {Error} when a step fails
 */
export async function startLab(opts: LabOptions = {}): Promise<Lab> {
  const runner = opts.runner ?? new ProcessRunner();
  const log = opts.log ?? createLogger("sandbox");
  const progress = opts.onProgress ?? ((m: string) => log.info(m));
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const prefix = opts.prefix ?? `ovk${crypto.randomUUID().slice(0, 6)}`;
  checkPrefix(prefix);
  const count = opts.nodes ?? 0;
  if (!Number.isInteger(count) || count < 0 || count > MAX_NODES) {
    throw new RangeError(`Cannot start ${count} sandbox nodes: give 0..${MAX_NODES}`);
  }
  const existing = (await listNetns(runner)).filter((n) => n.startsWith(`${prefix}-`));
  if (existing.length) {
    throw new Error(
      `Cannot start sandbox "${prefix}": namespaces ${existing.join(", ")} exist; ` +
        "run `ovn-k8s sandbox down` or choose another prefix",
    );
  }
  // Held until this lab's root address is on the underlay (see bringUp), so that labs
  // starting at the same time never pick the same free /24.
  const releaseUnderlay = await lockUnderlay(opts.underlayLock);
  try {
    return await startLocked(
      opts,
      { runner, log, progress, timeoutMs, prefix, count },
      releaseUnderlay,
    );
  } finally {
    releaseUnderlay();
  }
}

async function startLocked(
  opts: LabOptions,
  o: {
    runner: Runner;
    log: Logger;
    progress: (m: string) => void;
    timeoutMs: number;
    prefix: string;
    count: number;
  },
  releaseUnderlay: () => void,
): Promise<Lab> {
  const { runner, log, progress, timeoutMs, prefix, count } = o;
  const root = new HostNet(runner);
  const routes = await root.routes();
  const addrs = (await root.addresses()).map((a) => a.cidr);
  let underlay: Ipv4Cidr;
  if (opts.underlay !== undefined) {
    underlay = Ipv4Cidr.parse(opts.underlay);
    if (underlay.prefix > 24) {
      throw new RangeError(`Cannot use --underlay ${underlay}: give a /24 or larger block`);
    }
    const hits = underlayCollisions(underlay, routes, addrs);
    if (hits.length) {
      throw new RangeError(
        `Cannot use --underlay ${underlay}: it collides with this machine's ${hits.join(", ")}; ` +
          "choose a free private block",
      );
    }
  } else {
    underlay = pickUnderlay(routes, addrs, prefix);
  }
  const dir = opts.dir ?? await Deno.makeTempDir({ prefix: "ovn-k8s-lab-" });
  await Deno.mkdir(dir, { recursive: true });
  if ([...Deno.readDirSync(dir)].length) {
    throw new Error(
      `Cannot start a sandbox in ${dir}: the directory is not empty (a sandbox may be up there; ` +
        "run `ovn-k8s sandbox down`, or choose another --dir)",
    );
  }
  const state: LabState = {
    version: 1,
    prefix,
    underlay: underlay.toString(),
    nodes: Array.from({ length: count }, (_, i) => `node${i + 1}`),
    configureOvn: opts.configureOvn ?? true,
  };
  await writeAtomic(`${dir}/${STATE_FILE}`, JSON.stringify(state, null, 2) + "\n");
  const lab = new Lab(dir, state, { runner, procs: systemProcesses(runner), log });
  try {
    await bringUp(lab, runner, { timeoutMs, progress, underlayClaimed: releaseUnderlay });
  } catch (err) {
    await lab.down().catch((e) => log.error("cleanup after failed start failed", { err: e }));
    throw err;
  }
  return lab;
}

/**
 * Opens a lab that another process started, from its state directory.
 *
 * @param dir state directory
 * @param deps runner and logger
 * @returns the lab handle, or `undefined` when there is no lab.json
 */
export async function openLab(
  dir: string,
  deps: { runner?: Runner; log?: Logger } = {},
): Promise<Lab | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${dir}/${STATE_FILE}`);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  const state = JSON.parse(text) as LabState;
  const runner = deps.runner ?? new ProcessRunner();
  if (state.version !== 1) throw new Error(`Cannot read ${dir}/${STATE_FILE}: unknown version`);
  return new Lab(dir, state, {
    runner: deps.runner ?? new ProcessRunner(),
    procs: systemProcesses(runner),
    log: deps.log ?? createLogger("sandbox"),
  });
}

async function bringUp(
  lab: Lab,
  runner: Runner,
  o: { timeoutMs: number; progress: (m: string) => void; underlayClaimed: () => void },
): Promise<void> {
  const t0 = performance.now();
  const u = lab.underlay;
  const root = new HostNet(runner);
  const ul = new HostNet(runner, lab.ulNetns);
  o.progress(`underlay ${u.cidr}: bridge in ${lab.ulNetns}, root namespace at ${u.rootIp}`);
  await addNetns(runner, lab.ulNetns);
  await ul.addBridge("br-ul");
  await ul.linkUp("br-ul");
  await root.addVeth(lab.rootLink, "root", { peerNetns: lab.ulNetns });
  await ul.linkUp("root", { master: "br-ul" });
  await ul.txOffloadOff("root");
  await root.addAddress(lab.rootLink, `${u.rootIp}/${u.prefix}`);
  o.underlayClaimed(); // the /24 is now among this machine's addresses: others skip it
  await root.linkUp(lab.rootLink);
  await root.txOffloadOff(lab.rootLink);

  const c = lab.central;
  o.progress(`central OVN in ${c.netns} at ${c.ip}: NB ${c.nbRemote}, SB ${c.sbRemote}`);
  await addNetns(runner, c.netns);
  const cn = new HostNet(runner, c.netns);
  await ul.addVeth("central", "eth0", { peerNetns: c.netns });
  await ul.linkUp("central", { master: "br-ul" });
  await ul.txOffloadOff("central");
  await cn.addAddress("eth0", `${c.ip}/${u.prefix}`);
  await cn.linkUp("eth0");
  await cn.txOffloadOff("eth0");
  await c.central.ensure({ timeoutMs: o.timeoutMs });

  await Promise.all(lab.nodes.map((n) => nodeUp(lab, n, runner, o)));
  if (lab.nodes.length) {
    o.progress("pre-pinging tunnel peers");
    await lab.prePing();
  }
  if (lab.state.configureOvn && lab.nodes.length) {
    o.progress("waiting for every chassis to register and create br-int");
    await pollUntil("every node's chassis in SB", async () => {
      const names = new Set((await listChassis(`unix:${c.sbSock}`)).map((x) => x.name));
      return lab.nodes.every((n) => names.has(n.name));
    }, { timeoutMs: o.timeoutMs });
    for (const n of lab.nodes) {
      await pollUntil(
        `br-int on ${n.name}`,
        async () => (await bridgeDatapathType(n.ovsDbSock, "br-int")) === "netdev",
        { timeoutMs: o.timeoutMs },
      );
      const peers = lab.nodes.filter((m) => m !== n).map((m) => m.underlayIp).sort().join(",");
      await pollUntil(
        `geneve tunnels from ${n.name} to ${peers || "no peer"}`,
        async () => (await tunnelRemotes(n.ovsDbSock)).join(",") === peers,
        { timeoutMs: o.timeoutMs },
      );
    }
  }
  o.progress(`hosts and OVN up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

async function nodeUp(
  lab: Lab,
  n: LabNode,
  runner: Runner,
  o: { timeoutMs: number; progress: (m: string) => void },
): Promise<void> {
  o.progress(`node ${n.name} in ${n.netns} at ${n.underlayIp}`);
  await Deno.mkdir(n.ovsRunDir, { recursive: true });
  await addNetns(runner, n.netns);
  const h = new HostNet(runner, n.netns);
  const ul = new HostNet(runner, lab.ulNetns);
  // G2: the node kernel sees every frame of AF_PACKET ports; keep it from answering.
  await h.sysctl({ "net.ipv4.conf.all.rp_filter": 1, "net.ipv4.conf.all.arp_ignore": 1 });
  await ul.addVeth(n.name, "eth1", { peerNetns: n.netns });
  await ul.linkUp(n.name, { master: "br-ul" });
  await ul.txOffloadOff(n.name);
  await h.linkUp("eth1");
  await h.txOffloadOff("eth1");
  const d = n.daemons;
  await d.ovsdb.start({ timeoutMs: o.timeoutMs });
  const ids: Record<string, string> = { "ovn-bridge-datapath-type": "netdev" };
  if (lab.state.configureOvn) {
    Object.assign(ids, {
      "system-id": n.name,
      hostname: n.name,
      "ovn-remote": lab.central.sbRemote,
      "ovn-nb": lab.central.nbRemote,
      "ovn-encap-type": "geneve",
      "ovn-encap-ip": n.underlayIp,
    });
  }
  await initOpenVswitch(n.ovsDbSock, ids);
  await d.vswitchd.start({ timeoutMs: o.timeoutMs });
  await addNetdevBridge(n.ovsDbSock, "br-phy", "eth1");
  await pollUntil(`ovs-vswitchd to create br-phy in ${n.netns}`, () => h.linkExists("br-phy"), {
    timeoutMs: o.timeoutMs,
  });
  await h.addAddress("br-phy", `${n.underlayIp}/${n.underlayPrefix}`);
  await h.linkUp("br-phy");
  await d.controller.start({ timeoutMs: o.timeoutMs });
}

async function writeAtomic(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(`${path}.tmp`, text);
  await Deno.rename(`${path}.tmp`, path);
}
