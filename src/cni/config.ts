/**
 * The network configuration on stdin: the spec's fields plus ours, with defaults.
 * The original plugin ignored stdin; its minion-init wrote `{"name":"net",
 * "type":"ovn_cni","bridge":"br-int",...}` without `cniVersion`, which the spec
 * reads as 0.1.0, so that file still works.
 *
 * @module
 */
import { CniCode, CniError } from "./errors.ts";
import { assertSupportedVersion } from "./version.ts";

/** The parsed network configuration. */
export interface NetConf {
  /** `cniVersion`; "0.1.0" when absent, as libcni reads it. */
  cniVersion: string;
  /** `name` of the network. */
  name: string;
  /** `type`: the plugin's name. */
  type: string;
  /** `bridge`: the OVN integration bridge (default `br-int`). */
  bridge: string;
  /** `mtu` of the pod interface and its host end (default 1400). */
  mtu: number;
  /**
   * `ovsdb`: the local Open_vSwitch database (`unix:PATH`); default
   * `unix:$OVS_RUNDIR/db.sock` (`/var/run/openvswitch/db.sock`).
   */
  ovsdb?: string;
  /** `ovsDriver`: `native` (our OVSDB client, default) or `ovs-vsctl`. */
  ovsDriver: "native" | "ovs-vsctl";
  /** `kubeconfig`: path of a kubeconfig; default: the API settings in OVS external_ids. */
  kubeconfig?: string;
  /** `annotationTimeoutSeconds` in ms: how long ADD waits for the pod's `ovn` annotation. */
  annotationTimeoutMs: number;
  /**
   * `ovnInstalledTimeoutSeconds` in ms: how long ADD waits for ovn-controller to set
   * `external_ids:ovn-installed=true` on the interface; 0 skips the wait.
   */
  ovnInstalledTimeoutMs: number;
  /** `ovsTimeoutSeconds` in ms: limit of each ovs-vsctl call (default 10). */
  ovsTimeoutMs: number;
  /** `logFile`: where log lines go (appended); default stderr. */
  logFile?: string;
  /** `logLevel`: debug, info, warn or error. */
  logLevel?: "debug" | "info" | "warn" | "error";
  /** `prevResult`, as given (CHECK and chained use). */
  prevResult?: unknown;
}

/** Defaults of the fields we add. */
export const CONFIG_DEFAULTS = {
  bridge: "br-int",
  mtu: 1400,
  annotationTimeoutSeconds: 30,
  ovnInstalledTimeoutSeconds: 30,
  ovsTimeoutSeconds: 10,
} as const;

function invalid(field: string, value: unknown, want: string): CniError {
  return new CniError(
    CniCode.InvalidConfig,
    `Cannot use network config field "${field}" = ${JSON.stringify(value)}: ${want}`,
  );
}

function str(o: Record<string, unknown>, field: string): string | undefined {
  const v = o[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw invalid(field, v, "expected a string");
  return v;
}

function seconds(o: Record<string, unknown>, field: string, dflt: number): number {
  const v = o[field] ?? dflt;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw invalid(field, v, "expected a number of seconds >= 0");
  }
  return Math.round(v * 1000);
}

/**
 * Parses the network configuration read from stdin.
 *
 * @param text stdin
 * @returns the configuration with defaults applied
 * @throws {CniError} code 6 when it is not a JSON object, 7 for a bad field, 1 for an
 *   unsupported `cniVersion`
 */
export function parseNetConf(text: string): NetConf {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CniError(
      CniCode.DecodingFailure,
      `Cannot decode the network config on stdin: ${(err as Error).message}`,
      { details: "the container runtime must pass the network config as JSON on stdin" },
    );
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new CniError(
      CniCode.DecodingFailure,
      "Cannot decode the network config on stdin: not a JSON object",
    );
  }
  const o = raw as Record<string, unknown>;
  const cniVersion = str(o, "cniVersion") || "0.1.0";
  assertSupportedVersion(cniVersion);
  const mtu = o.mtu ?? CONFIG_DEFAULTS.mtu;
  if (typeof mtu !== "number" || !Number.isInteger(mtu) || mtu < 576 || mtu > 65535) {
    throw invalid("mtu", mtu, "expected an integer from 576 to 65535");
  }
  const bridge = str(o, "bridge") || CONFIG_DEFAULTS.bridge;
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(bridge)) {
    throw invalid("bridge", bridge, "expected an OVS bridge name");
  }
  const logLevel = str(o, "logLevel");
  if (logLevel !== undefined && !["debug", "info", "warn", "error"].includes(logLevel)) {
    throw invalid("logLevel", logLevel, "expected debug, info, warn or error");
  }
  const ovsDriver = str(o, "ovsDriver") ?? "native";
  if (ovsDriver !== "native" && ovsDriver !== "ovs-vsctl") {
    throw invalid("ovsDriver", ovsDriver, 'expected "native" or "ovs-vsctl"');
  }
  const conf: NetConf = {
    cniVersion,
    ovsDriver,
    name: str(o, "name") ?? "",
    type: str(o, "type") ?? "",
    bridge,
    mtu,
    annotationTimeoutMs: seconds(
      o,
      "annotationTimeoutSeconds",
      CONFIG_DEFAULTS.annotationTimeoutSeconds,
    ),
    ovnInstalledTimeoutMs: seconds(
      o,
      "ovnInstalledTimeoutSeconds",
      CONFIG_DEFAULTS.ovnInstalledTimeoutSeconds,
    ),
    ovsTimeoutMs: seconds(o, "ovsTimeoutSeconds", CONFIG_DEFAULTS.ovsTimeoutSeconds),
  };
  const ovsdb = str(o, "ovsdb");
  if (ovsdb) conf.ovsdb = ovsdb;
  const kubeconfig = str(o, "kubeconfig");
  if (kubeconfig) conf.kubeconfig = kubeconfig;
  const logFile = str(o, "logFile");
  if (logFile) conf.logFile = logFile;
  if (logLevel) conf.logLevel = logLevel as NonNullable<NetConf["logLevel"]>;
  if (o.prevResult !== undefined && o.prevResult !== null) conf.prevResult = o.prevResult;
  return conf;
}
