/**
 * A pod's logical switch port (reference §10.3, Appendix A): `<namespace>_<pod>` on the
 * switch of its node, with static addresses `"MAC IP"` (no wait for northd's dynamic
 * addresses) and the same port security, tagged with the original's
 * `namespace=<ns>`, `pod=true` and our owner ids (plus the pod uid, so a pod recreated
 * under the same name is recognised). Pure builders: rows in, operations out; an
 * unchanged port yields no operation.
 *
 * @module
 */
import type { Operation } from "../ovsdb/mod.ts";
import { mapMutations } from "../ovsdb/mod.ts";
import { OWNER_IDS, ownerIds, WATCHER_CONTROLLER } from "./external_ids.ts";

/** External-id keys of pod ports. */
export const POD_PORT_IDS = {
  /** The original's: the pod's namespace. */
  namespace: "namespace",
  /** The original's: `true` on every pod port. */
  pod: "pod",
  /** Ours: the pod's uid. */
  uid: "ovn-k8s-pod-uid",
} as const;

/** The owner kind of pod ports. */
export const POD_PORT_KIND = "pod";

/**
 * @param namespace pod namespace
 * @param pod pod name
 * @returns the logical port name (and OVS iface-id): `<namespace>_<pod>`
 */
export function makePodPortName(namespace: string, pod: string): string {
  return `${namespace}_${pod}`;
}

/** The pod port columns the watcher reads. */
export interface PodPortRow {
  _uuid: string;
  name: string;
  addresses: string[];
  dynamic_addresses?: string[];
  port_security: string[];
  external_ids: Record<string, string>;
}

/** The desired pod port. */
export interface PodPortSpec {
  namespace: string;
  pod: string;
  /** Pod uid (empty when unknown). */
  uid: string;
  /** MAC, lowercase. */
  mac: string;
  /** IPv4 address, dotted. */
  ip: string;
}

/**
 * The external ids of a pod port.
 *
 * @param spec the pod
 * @returns the ids (the original's and ours)
 */
export function podPortIds(spec: PodPortSpec): Record<string, string> {
  return {
    [POD_PORT_IDS.namespace]: spec.namespace,
    [POD_PORT_IDS.pod]: "true",
    ...ownerIds(POD_PORT_KIND, `${spec.namespace}/${spec.pod}`, WATCHER_CONTROLLER),
    ...(spec.uid ? { [POD_PORT_IDS.uid]: spec.uid } : {}),
  };
}

/**
 * Whether a port is a pod port (ours, or the original's `pod=true`).
 *
 * @param ids the port's external ids
 * @returns true for pod ports
 */
export function isPodPort(ids: Record<string, string>): boolean {
  return ids[POD_PORT_IDS.pod] === "true" ||
    (ids[OWNER_IDS.controller] === WATCHER_CONTROLLER && ids[OWNER_IDS.kind] === POD_PORT_KIND);
}

/**
 * The `namespace/name` key of the pod a port belongs to: our owner key, else the
 * original's `namespace` id and the port name.
 *
 * @param port the port
 * @returns the key, or `undefined` when the port is not a pod port
 */
export function podKeyOfPort(port: Pick<PodPortRow, "name" | "external_ids">): string | undefined {
  const ids = port.external_ids;
  if (!isPodPort(ids)) return undefined;
  const key = ids[OWNER_IDS.key];
  if (key && key.includes("/")) return key;
  const ns = ids[POD_PORT_IDS.namespace];
  if (ns && port.name.startsWith(`${ns}_`)) return `${ns}/${port.name.slice(ns.length + 1)}`;
  return undefined;
}

/**
 * The MAC and IP of a port: its static `"MAC IP"` address, else northd's dynamic one
 * (ports made by the original).
 *
 * @param port the port
 * @returns MAC and IP, or `undefined`
 */
export function portMacIp(
  port: Pick<PodPortRow, "addresses" | "dynamic_addresses">,
): { mac: string; ip: string } | undefined {
  for (const a of [...port.addresses, ...(port.dynamic_addresses ?? [])]) {
    const [mac, ip] = a.trim().split(/\s+/);
    if (
      mac && ip && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac) && /^\d+\.\d+\.\d+\.\d+$/.test(ip)
    ) {
      return { mac: mac.toLowerCase(), ip };
    }
  }
  return undefined;
}

/** Where a pod port is now. */
export interface CurrentPodPort {
  /** The row. */
  port: PodPortRow;
  /** The uuid of the switch that holds it (undefined: held by none). */
  switchUuid: string | undefined;
}

/**
 * Operations that make a pod's port match `spec` on switch `switchUuid`: insert it;
 * or update its addresses and ids in place; or, when it sits on another switch (the
 * pod moved), delete it there and insert it here, in the same transaction.
 *
 * @param current the port as read, or `undefined`
 * @param switchUuid the node switch's uuid
 * @param spec the desired port
 * @param uuidName uuid-name of an inserted port (unique in the transaction)
 * @returns the operations (empty when the port already matches)
 */
export function planPodPort(
  current: CurrentPodPort | undefined,
  switchUuid: string,
  spec: PodPortSpec,
  uuidName: string,
): Operation[] {
  const address = `${spec.mac} ${spec.ip}`;
  const ids = podPortIds(spec);
  const ops: Operation[] = [];
  if (current && current.switchUuid === switchUuid) {
    const where = [["_uuid", "==", current.port._uuid] as const];
    const row: Record<string, unknown> = {};
    const same = (a: string[]) => a.length === 1 && a[0] === address;
    if (!same(current.port.addresses)) row.addresses = [address];
    if (!same(current.port.port_security)) row.port_security = [address];
    if (Object.keys(row).length) {
      ops.push({ op: "update", table: "Logical_Switch_Port", where, row });
    }
    const muts = mapMutations("external_ids", current.port.external_ids, ids);
    if (muts.length) {
      ops.push({ op: "mutate", table: "Logical_Switch_Port", where, mutations: muts });
    }
    return ops;
  }
  if (current) ops.push(...deletePodPortOps(current));
  ops.push(
    {
      op: "insert",
      table: "Logical_Switch_Port",
      row: {
        name: makePodPortName(spec.namespace, spec.pod),
        addresses: [address],
        port_security: [address],
        external_ids: ids,
      },
      uuidName,
    },
    {
      op: "mutate",
      table: "Logical_Switch",
      where: [["_uuid", "==", switchUuid]],
      mutations: [["ports", "insert", [uuidName]]],
    },
  );
  return ops;
}

/**
 * Operations that delete a pod port: detach it from its switch, delete the row.
 *
 * @param current the port and its switch
 * @returns the operations
 */
export function deletePodPortOps(current: CurrentPodPort): Operation[] {
  const uuid = current.port._uuid;
  const ops: Operation[] = [];
  if (current.switchUuid) {
    ops.push({
      op: "mutate",
      table: "Logical_Switch",
      where: [["_uuid", "==", current.switchUuid]],
      mutations: [["ports", "delete", [uuid]]],
    });
  }
  ops.push({ op: "delete", table: "Logical_Switch_Port", where: [["_uuid", "==", uuid]] });
  return ops;
}

/**
 * Merges single-mutation set `insert`/`delete` mutates of the same row and column into
 * one operation each (placed last), so a batch of 500 pods on 10 switches mutates each
 * switch's `ports` once instead of 500 times. Other operations keep their order.
 *
 * @param ops operations of one transaction
 * @returns the equivalent, shorter list
 */
export function coalesceSetMutations(ops: readonly Operation[]): Operation[] {
  const out: Operation[] = [];
  const merged = new Map<string, { op: Operation; values: unknown[] }>();
  for (const o of ops) {
    if (o.op === "mutate" && o.mutations.length === 1) {
      const [col, mutator, value] = o.mutations[0]!;
      if ((mutator === "insert" || mutator === "delete") && Array.isArray(value)) {
        const key = JSON.stringify([o.table, o.where, col, mutator]);
        const m = merged.get(key);
        if (m) m.values.push(...value);
        else merged.set(key, { op: o, values: [...value] });
        continue;
      }
    }
    out.push(o);
  }
  for (const { op, values } of merged.values()) {
    if (op.op !== "mutate") continue;
    const [col, mutator] = op.mutations[0]!;
    out.push({ ...op, mutations: [[col, mutator, values]] });
  }
  return out;
}
