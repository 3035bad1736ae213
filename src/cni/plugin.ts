/**
 * The CNI plugin: ADD, DEL, CHECK and VERSION over injected boundaries (veth
 * plumbing, the OVS port, the API server). {@linkcode runCni} takes the environment
 * and stdin and returns what goes to stdout (only the result or the error JSON) and
 * the exit code; logs go through the logger, never to stdout.
 *
 * ADD: read the bridge's datapath type and the API server settings from OVS (fails
 * before creating anything when the bridge is missing); send the GET of the pod (waiting
 * for its `ovn` annotation) and, while it is answered, create the veth pair with the pod
 * end in `CNI_NETNS`; as soon as the veth exists, turn tx checksum offload off on a userspace `netdev` bridge
 * (gotcha G1); once the annotation is there, side by side, set the pod end's MAC,
 * address and default route, and plug the host end into the integration bridge with
 * `iface-id=<namespace>_<pod>`; wait for `ovn-installed`;
 * print the result. Any failure undoes every step made so far. Steps run side by side
 * because each is a process spawn or a round trip (see bench/cni_startup.ts).
 *
 * @module
 */
import { CommandError } from "../exec/mod.ts";
import type { Logger } from "../log/mod.ts";
import { OVN_ANNOTATION, parseOvnAnnotation, type PodNetwork } from "./annotation.ts";
import { type NetConf, parseNetConf } from "./config.ts";
import { type CniEnv, readCniEnv } from "./env.ts";
import { CniCode, CniError, toErrorJson } from "./errors.ts";
import type { ApiAccess } from "./kubeconfig.ts";
import { hostVethMac, hostVethName, podIfaceId } from "./names.ts";
import type { PortOps } from "./ovs_port.ts";
import { accessFromExternalIds, type PodInfo, type PodReader } from "./pod_reader.ts";
import { type Attachment, parsePrevResult, renderResult } from "./result.ts";
import { Rollback } from "./rollback.ts";
import { abortableSleep } from "./sleep.ts";
import type { VethOps, VethSpec } from "./veth.ts";
import { compareVersions, LATEST_VERSION, SUPPORTED_VERSIONS, versionInfo } from "./version.ts";

/** The plugin's boundaries. */
export interface CniDeps {
  /** Veth plumbing. */
  veth: VethOps;
  /** The OVS port operations for a configuration (database, timeouts). */
  ports: (conf: NetConf) => PortOps;
  /** A pod reader for API access settings. */
  podReader: (access: ApiAccess) => PodReader;
  /** Reads a kubeconfig file. */
  loadKubeconfig: (path: string) => Promise<ApiAccess>;
  /** Tells whether the namespace path exists. */
  netnsExists: (path: string) => Promise<boolean>;
  /** Logger (never stdout). */
  log: Logger;
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
  /** Abortable sleep (injected for tests). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** What the plugin prints and returns. */
export interface CniOutcome {
  /** The result or error JSON ("" for a successful DEL or CHECK). */
  stdout: string;
  /** 0 on success, 1 on error. */
  exitCode: number;
}

/** Reads `cniVersion` from stdin without failing (VERSION and error reports). */
function lenientVersion(stdin: string): string | undefined {
  try {
    const v = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
    return typeof v === "string" && v ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs one CNI command.
 *
 * @param env environment lookup (`CNI_*`)
 * @param stdin the network configuration
 * @param deps boundaries
 * @returns stdout text and exit code
 */
export async function runCni(
  env: (name: string) => string | undefined,
  stdin: string,
  deps: CniDeps,
): Promise<CniOutcome> {
  let version = lenientVersion(stdin) ?? LATEST_VERSION;
  try {
    const cenv = readCniEnv(env);
    if (cenv.command === "VERSION") {
      return { stdout: JSON.stringify(versionInfo(version)), exitCode: 0 };
    }
    const conf = parseNetConf(stdin);
    version = conf.cniVersion;
    const t0 = performance.now();
    const phases: Record<string, number> = { t0 };
    let stdout = "";
    switch (cenv.command) {
      case "ADD":
        stdout = JSON.stringify(await cmdAdd(conf, cenv, deps, phases));
        phases.resultEnd = Math.round((performance.now() - t0) * 10) / 10;
        break;
      case "DEL":
        await cmdDel(conf, cenv, deps);
        break;
      case "CHECK":
        await cmdCheck(conf, cenv, deps);
        break;
      default: {
        const never: never = cenv.command;
        throw new Error(`unreachable ${never}`);
      }
    }
    delete phases.t0;
    deps.log.info(`${cenv.command} done`, {
      container: cenv.containerId,
      pod: cenv.podName ? `${cenv.podNamespace}/${cenv.podName}` : undefined,
      ms: Math.round(performance.now() - t0),
      sinceStart: Math.round(performance.now()),
      ...phases,
    });
    return { stdout, exitCode: 0 };
  } catch (err) {
    // Errors speak a version we support, even when the config's is the problem.
    const supported = (SUPPORTED_VERSIONS as readonly string[]).includes(version);
    const json = toErrorJson(err, supported ? version : LATEST_VERSION);
    deps.log.error("CNI command failed", {
      code: json.code,
      error: json.msg,
      details: json.details,
    });
    return { stdout: JSON.stringify(json), exitCode: 1 };
  }
}

/** Reads the host's OVS settings (and the kubeconfig, if any) before creating anything. */
async function readHost(conf: NetConf, ports: PortOps, deps: CniDeps, pod: string) {
  const [info, kube] = await Promise.all([
    ports.hostInfo(conf.bridge).catch((err) => {
      throw new CniError(
        CniCode.PlugFailure,
        `Cannot set up pod ${pod}: reading the local OVS database failed: ${
          (err as Error).message
        }`,
        { cause: err, details: 'is ovsdb-server running? check "ovsdb" in the network config' },
      );
    }),
    conf.kubeconfig
      ? deps.loadKubeconfig(conf.kubeconfig).catch((err) => {
        throw new CniError(CniCode.InvalidConfig, (err as Error).message, { cause: err });
      })
      : undefined,
  ]);
  if (info.datapathType === undefined) {
    throw new CniError(
      CniCode.PlugFailure,
      `Cannot set up pod ${pod}: bridge ${conf.bridge} does not exist in the local OVS database`,
      {
        details: `ovn-controller creates ${conf.bridge} once it is connected; check "bridge" ` +
          `and "ovsdb" in the network config`,
      },
    );
  }
  const access = kube ?? accessFromExternalIds(info.externalIds);
  if (!access) {
    throw new CniError(
      CniCode.ApiFailure,
      `Cannot find the Kubernetes API server for pod ${pod}: the network config has no ` +
        `"kubeconfig" and OVS external_ids:k8s-api-server is not set`,
      { details: "run ovn-k8s setup-host, or add a kubeconfig path to the network config" },
    );
  }
  return { access, datapathType: info.datapathType };
}

/**
 * Polls the pod until its `ovn` annotation is there (50 ms, growing to 500 ms, until
 * the deadline).
 */
async function waitForAnnotation(
  reader: PodReader,
  ns: string,
  name: string,
  conf: NetConf,
  deps: CniDeps,
): Promise<{ network: PodNetwork; info: PodInfo }> {
  const pod = `${ns}/${name}`;
  const sleep = deps.sleep ?? abortableSleep;
  const deadline = performance.now() + conf.annotationTimeoutMs;
  let delay = 50;
  let last = "not asked yet";
  let attempts = 0;
  for (;;) {
    deps.signal.throwIfAborted();
    attempts++;
    const remaining = Math.max(1, deadline - performance.now());
    try {
      const info = await reader.getPod(
        ns,
        name,
        AbortSignal.any([deps.signal, AbortSignal.timeout(Math.min(remaining, 10_000) + 1000)]),
      );
      if (!info) last = "the pod does not exist (HTTP 404)";
      else if (info.annotations[OVN_ANNOTATION] === undefined) {
        last = `the pod has no "${OVN_ANNOTATION}" annotation yet`;
      } else {
        return { network: parseOvnAnnotation(info.annotations[OVN_ANNOTATION], pod), info };
      }
    } catch (err) {
      if (err instanceof CniError || deps.signal.aborted) throw err;
      last = (err as Error).message;
      deps.log.warn("reading the pod failed; retrying", { pod, error: err });
    }
    if (performance.now() >= deadline) {
      throw new CniError(
        CniCode.TryAgainLater,
        `Cannot set up pod ${pod}: its "${OVN_ANNOTATION}" annotation did not appear within ` +
          `${conf.annotationTimeoutMs / 1000} s (${attempts} reads)`,
        {
          details: `last read: ${last}; the ovn-k8s watcher annotates pods: is it running ` +
            `and connected? (timeout: "annotationTimeoutSeconds" in the network config)`,
        },
      );
    }
    await sleep(Math.min(delay, Math.max(1, deadline - performance.now())), deps.signal);
    delay = Math.min(500, Math.round(delay * 1.5));
  }
}

/** Whether CNI_NETNS exists; other failures (permissions) are reported as code 3. */
async function netnsPresent(deps: CniDeps, netns: string): Promise<boolean> {
  try {
    return await deps.netnsExists(netns);
  } catch (err) {
    throw new CniError(
      CniCode.UnknownContainer,
      `Cannot use network namespace ${netns} (CNI_NETNS): ${(err as Error).message}`,
      { cause: err },
    );
  }
}

function commandText(err: unknown): string {
  return err instanceof CommandError ? err.stderr || err.message : (err as Error).message;
}

/**
 * Records how long a step took, in ms, under `name`, and when it ended under `...End`
 * (benchmarks read them from the log).
 */
async function timed<T>(phases: Record<string, number>, name: string, fn: () => Promise<T>) {
  const t = performance.now();
  try {
    return await fn();
  } finally {
    const end = performance.now();
    phases[name] = Math.round((end - t) * 10) / 10;
    // When the step ended, counted from the command's start (where the critical path is).
    phases[name.replace(/Ms$/, "End")] = Math.round((end - (phases.t0 ?? t)) * 10) / 10;
  }
}

async function cmdAdd(
  conf: NetConf,
  cenv: CniEnv,
  deps: CniDeps,
  phases: Record<string, number> = {},
) {
  const pod = `${cenv.podNamespace}/${cenv.podName}`;
  if (!(await netnsPresent(deps, cenv.netns))) {
    throw new CniError(
      CniCode.UnknownContainer,
      `Cannot set up pod ${pod}: network namespace ${cenv.netns} (CNI_NETNS) does not exist`,
    );
  }
  const ports = deps.ports(conf);
  try {
    return await addWith(ports, conf, cenv, deps, phases);
  } finally {
    ports.close();
  }
}

async function addWith(
  ports: PortOps,
  conf: NetConf,
  cenv: CniEnv,
  deps: CniDeps,
  phases: Record<string, number>,
) {
  const ns = cenv.podNamespace!;
  const name = cenv.podName!;
  const pod = `${ns}/${name}`;
  const log = deps.log.child("add");
  // Order matters more than it seems: spawning a process blocks this process's event loop
  // for a few ms (the first spawn most), so network requests are sent before a spawn,
  // not after. OVS first (one round trip, and a missing bridge fails before anything is
  // made), then the pod GET, then the veth spawn while the GET is answered.
  const { access, datapathType } = await timed(
    phases,
    "hostMs",
    () => readHost(conf, ports, deps, pod),
  );
  let reader: PodReader;
  try {
    reader = deps.podReader(access);
  } catch (err) {
    throw new CniError(CniCode.InvalidConfig, (err as Error).message, { cause: err });
  }
  const annotated = timed(
    phases,
    "annotationMs",
    () => waitForAnnotation(reader, ns, name, conf, deps),
  ).finally(() => reader.close());
  annotated.catch(() => {}); // awaited below
  const host = hostVethName(cenv.containerId);
  const hostMac = hostVethMac(cenv.containerId);
  const spec: VethSpec = {
    hostName: host,
    hostMac,
    podName: cenv.ifName,
    netns: cenv.netns,
    mtu: conf.mtu,
  };
  const rollback = new Rollback(log);
  rollback.push(`delete veth ${host}`, () => deps.veth.deleteHost(host));
  // The veth does not need the annotation: it is made while the pod is read. Its MAC and
  // address are set once the annotation is known.
  const made = timed(phases, "vethMs", async () => {
    try {
      await deps.veth.create(spec);
    } catch (err) {
      if (!(err instanceof CommandError && /File exists/.test(err.stderr))) throw err;
      // A previous ADD for this container left its veth: replace it (ADD is re-runnable).
      log.warn("host veth exists; replacing it", { veth: host, pod });
      await deps.veth.deleteHost(host);
      await deps.veth.create(spec);
    }
  }).catch((err) => {
    throw new CniError(
      CniCode.SetupFailure,
      `Cannot create veth ${host} <-> ${cenv.ifName} for pod ${pod}: ${commandText(err)}`,
      { cause: err, details: `is ${cenv.ifName} already present in ${cenv.netns}?` },
    );
  });
  // Tx offload off (a process of its own) needs only the veth: it runs alongside the pod
  // read and then alongside addressing and plugging.
  const offloaded = made.then(() =>
    datapathType === "netdev"
      ? timed(phases, "txOffMs", () => deps.veth.disableTxOffload(cenv.netns, cenv.ifName))
        .catch((err) => {
          throw new CniError(
            CniCode.SetupFailure,
            `Cannot turn tx checksum offload off on ${cenv.ifName} of pod ${pod} ` +
              `(needed on the userspace datapath): ${commandText(err)}`,
            { cause: err, details: "is ethtool installed?" },
          );
        })
      : undefined
  );
  offloaded.catch(() => {}); // awaited below
  const [veth, ann] = await Promise.allSettled([made, annotated]);
  if (ann.status === "rejected" || veth.status === "rejected") {
    await offloaded.catch(() => {});
    await rollback.undo();
    throw ann.status === "rejected" ? ann.reason : (veth as PromiseRejectedResult).reason;
  }
  const got = ann.value;
  const net = got.network;
  const externalIds: Record<string, string> = {
    "iface-id": podIfaceId(ns, name),
    "attached-mac": net.mac,
    "iface-status": "active",
    "ip_address": `${net.ip}/${net.prefixLength}`,
    "sandbox": cenv.containerId,
    "k8s-pod": pod,
    "owner": "ovn-k8s-cni",
  };
  const uid = got.info.uid ?? cenv.podUid;
  if (uid) externalIds["iface-id-ver"] = uid;
  try {
    rollback.push(`unplug ${host}`, () => ports.unplug(host));
    // Independent steps run together: each is a process or a round trip.
    const [addressed, plugged, txOff] = await Promise.allSettled([
      timed(phases, "addressMs", () =>
        deps.veth.configurePod(cenv.netns, cenv.ifName, {
          mac: net.mac,
          cidr: `${net.ip}/${net.prefixLength}`,
          gateway: net.gateway,
        })),
      timed(
        phases,
        "plugMs",
        () => ports.plug({ bridge: conf.bridge, name: host, externalIds }),
      ),
      offloaded,
    ]);
    if (txOff.status === "rejected") throw txOff.reason;
    if (addressed.status === "rejected") {
      throw new CniError(
        CniCode.SetupFailure,
        `Cannot configure ${cenv.ifName} of pod ${pod} (${net.ip}/${net.prefixLength} via ` +
          `${net.gateway}): ${commandText(addressed.reason)}`,
        { cause: addressed.reason },
      );
    }
    if (plugged.status === "rejected") {
      throw new CniError(
        CniCode.PlugFailure,
        `Cannot plug ${host} of pod ${pod} into bridge ${conf.bridge}: ` +
          commandText(plugged.reason),
        {
          cause: plugged.reason,
          details: `does ${conf.bridge} exist? ovn-controller creates it; check "ovsdb" and ` +
            `"bridge" in the network config`,
        },
      );
    }
    if (conf.ovnInstalledTimeoutMs > 0) {
      try {
        await timed(
          phases,
          "ovnInstalledMs",
          () => ports.waitInstalled(host, conf.ovnInstalledTimeoutMs, deps.signal),
        );
      } catch (err) {
        throw new CniError(
          CniCode.TryAgainLater,
          `Cannot finish pod ${pod}: ovn-controller did not mark ${host} ` +
            `(iface-id ${externalIds["iface-id"]}) ovn-installed within ` +
            `${conf.ovnInstalledTimeoutMs / 1000} s`,
          {
            cause: err,
            details: "is ovn-controller running and connected to the southbound database, " +
              'and does the logical port exist? (timeout: "ovnInstalledTimeoutSeconds")',
          },
        );
      }
    }
    log.debug("pod attached", { pod, veth: host, ip: net.ip, datapathType });
  } catch (err) {
    await rollback.undo();
    throw err;
  }
  const attachment: Attachment = {
    host: { name: host, mac: hostMac },
    pod: { name: cenv.ifName, mac: net.mac, sandbox: cenv.netns },
    network: net,
  };
  phases.attachedEnd = Math.round((performance.now() - phases.t0!) * 10) / 10;
  return renderResult(attachment, conf.cniVersion);
}

async function cmdDel(conf: NetConf, cenv: CniEnv, deps: CniDeps): Promise<void> {
  const host = hostVethName(cenv.containerId);
  const ports = deps.ports(conf);
  try {
    await ports.unplug(host);
  } catch (err) {
    throw new CniError(
      CniCode.PlugFailure,
      `Cannot remove port ${host} of container ${cenv.containerId} from OVS: ${commandText(err)}`,
      { cause: err, details: 'is ovsdb-server running? check "ovsdb" in the network config' },
    );
  } finally {
    ports.close();
  }
  try {
    const existed = await deps.veth.deleteHost(host);
    deps.log.debug("DEL", { veth: host, existed });
  } catch (err) {
    throw new CniError(
      CniCode.SetupFailure,
      `Cannot delete veth ${host} of container ${cenv.containerId}: ${commandText(err)}`,
      { cause: err },
    );
  }
}

async function cmdCheck(conf: NetConf, cenv: CniEnv, deps: CniDeps): Promise<void> {
  const pod = `${cenv.podNamespace}/${cenv.podName}`;
  if (compareVersions(conf.cniVersion, "0.4.0") < 0) {
    throw new CniError(
      CniCode.IncompatibleVersion,
      `Cannot CHECK pod ${pod}: cniVersion ${conf.cniVersion} does not allow CHECK (0.4.0 or newer)`,
    );
  }
  if (conf.prevResult === undefined) {
    throw new CniError(
      CniCode.InvalidConfig,
      `Cannot CHECK pod ${pod}: the network config has no prevResult`,
    );
  }
  const prev = parsePrevResult(conf.prevResult);
  if (!(await netnsPresent(deps, cenv.netns))) {
    throw new CniError(
      CniCode.UnknownContainer,
      `Cannot CHECK pod ${pod}: network namespace ${cenv.netns} (CNI_NETNS) does not exist`,
    );
  }
  const problems: string[] = [];
  const idx = prev.interfaces.findIndex((i) => i.name === cenv.ifName && i.sandbox !== undefined);
  const want = prev.interfaces[idx];
  const live = await deps.veth.podLink(cenv.netns, cenv.ifName);
  if (!want) problems.push(`prevResult has no interface ${cenv.ifName} with a sandbox`);
  if (!live) problems.push(`${cenv.ifName} is missing in ${cenv.netns}`);
  if (live) {
    if (want?.mac && want.mac.toLowerCase() !== live.mac) {
      problems.push(`${cenv.ifName} has MAC ${live.mac}, prevResult says ${want.mac}`);
    }
    // No MTU check: a plugin chained after us (tuning) may change it, and the result
    // (which tells us of MAC changes) has no MTU.
    if (!live.up) problems.push(`${cenv.ifName} is down`);
    for (const ip of prev.ips.filter((i) => i.interface === undefined || i.interface === idx)) {
      if (!live.addresses.includes(ip.address)) {
        problems.push(
          `${cenv.ifName} lacks address ${ip.address} (has ${live.addresses.join(", ") || "none"})`,
        );
      }
    }
    for (const family of [4, 6] as const) {
      const wanted = prev.routes.filter((r) => r.dst.includes(":") === (family === 6));
      if (wanted.length === 0) continue;
      const routes = await deps.veth.podRoutes(cenv.netns, cenv.ifName, family);
      for (const r of wanted) {
        if (!routes.some((x) => x.dst === r.dst && (r.gw === undefined || x.gw === r.gw))) {
          problems.push(`route ${r.dst}${r.gw ? ` via ${r.gw}` : ""} is missing in the pod`);
        }
      }
    }
  }
  const host = hostVethName(cenv.containerId);
  const hostLink = await deps.veth.hostLink(host);
  if (!hostLink) problems.push(`host veth ${host} is missing`);
  else if (!hostLink.up) problems.push(`host veth ${host} is down`);
  const ports = deps.ports(conf);
  const port = await ports.lookup(host).finally(() => ports.close());
  if (!port) problems.push(`OVS has no interface ${host}`);
  else {
    const ids = port.externalIds;
    if (port.bridge !== conf.bridge) {
      problems.push(`port ${host} is on bridge "${port.bridge}", not ${conf.bridge}`);
    }
    const ifaceId = podIfaceId(cenv.podNamespace!, cenv.podName!);
    if (ids["iface-id"] !== ifaceId) {
      problems.push(`port ${host} has iface-id "${ids["iface-id"] ?? ""}", not ${ifaceId}`);
    }
    if (live && ids["attached-mac"] !== live.mac) {
      problems.push(
        `port ${host} has attached-mac "${ids["attached-mac"] ?? ""}", pod has ${live.mac}`,
      );
    }
    if (conf.ovnInstalledTimeoutMs > 0 && ids["ovn-installed"] !== "true") {
      problems.push(`port ${host} is not ovn-installed`);
    }
  }
  if (problems.length) {
    throw new CniError(
      CniCode.CheckMismatch,
      `CHECK of pod ${pod} failed: ${problems.join("; ")}`,
      { details: "delete and re-create the pod's sandbox (CNI DEL, then ADD)" },
    );
  }
}
