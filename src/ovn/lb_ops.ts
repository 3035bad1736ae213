/**
 * PURE operation builders of the service load balancer layout (see `lb_layout.ts` and
 * docs/load-balancers.md): the index of NB rows and the desired state in, OVSDB
 * operations out, nothing when NB already matches.
 *
 * - {@linkcode planServiceLbs}: one service's per-service rows (insert, update of the
 *   small `vips`/`options`, delete) and its NodePort and external IP keys on every gateway
 *   router (`mutate` of single keys, never the whole map).
 * - {@linkcode planGatewayRouter}: one gateway router in full: its per-router load
 *   balancers exist, are attached, and hold exactly the router VIPs of all services.
 * - {@linkcode planServicesGroup}: the group exists and is attached to every node switch.
 * - {@linkcode planStaleServiceLbs}: repair: per-service rows of services that are gone,
 *   VIPs left in the original's cluster load balancers.
 *
 * Operations of several plans may share one transaction: inserted rows get uuid-names
 * from one {@linkcode UuidNamer} per transaction.
 *
 * @module
 */
import type { Mutation, Operation } from "../ovsdb/mod.ts";
import { valuesEqual } from "../ovsdb/mod.ts";
import { mapMutations } from "../ovsdb/mod.ts";
import { ownerIds } from "./external_ids.ts";
import {
  AFFINITY_ID,
  GATEWAY_LB_KIND,
  GATEWAY_ROUTER_ID,
  gatewayLbIdKey,
  gatewayLbSlot,
  type GatewayRouter,
  LB_PROTOCOLS,
  type LbIndex,
  type LbProtocol,
  type LbRow,
  makeGatewayLbName,
  makeServiceLbName,
  SERVICE_CONTROLLER,
  SERVICE_LB_KIND,
  type ServiceLbSpec,
  SERVICES_LB_GROUP,
} from "./lb_layout.ts";

/** Gives unique uuid-names within one transaction. */
export type UuidNamer = (hint: string) => string;

/**
 * A uuid-name source for one transaction: `<hint>_<n>`.
 *
 * @returns the namer
 */
export function makeUuidNamer(): UuidNamer {
  let n = 0;
  return (hint) => `${hint.replace(/[^A-Za-z0-9_]/g, "_")}_${n++}`;
}

/**
 * A router VIP claim: which per-router load balancer slot and VIP a service programs on
 * every gateway router: a nodePort (`tcp|30080`, `tcp/10800|30080`; the router's node IP
 * is prepended) or an external IP VIP (`tcp|192.0.2.10:80`, the same on every router).
 */
export type RouterClaim = string;

/**
 * The router VIP claims of a service spec.
 *
 * @param spec the spec, or `undefined` for a deleted service
 * @returns claim -> backends
 */
export function routerClaims(spec: ServiceLbSpec | undefined): Map<RouterClaim, string> {
  const out = new Map<RouterClaim, string>();
  for (const p of LB_PROTOCOLS) {
    const ps = spec?.protocols[p];
    if (!ps) continue;
    const slot = gatewayLbSlot(p, ps.affinityTimeout);
    for (const [np, backends] of Object.entries(ps.nodePorts)) out.set(`${slot}|${np}`, backends);
    for (const [vip, backends] of Object.entries(ps.externalVips)) {
      out.set(`${slot}|${vip}`, backends);
    }
  }
  return out;
}

function splitClaim(c: RouterClaim): [slot: string, vip: string] {
  const i = c.indexOf("|");
  return [c.slice(0, i), c.slice(i + 1)];
}

/**
 * The VIP key of a claim on one router.
 *
 * @param vip a nodePort, or `ip:port`
 * @param physicalIp the router's node IP
 * @returns the key, or `undefined` for a nodePort on a router without node IP
 */
function routerKey(vip: string, physicalIp: string | undefined): string | undefined {
  if (vip.includes(":")) return vip;
  return physicalIp ? `${physicalIp}:${vip}` : undefined;
}

/**
 * The options of a load balancer: `reject=true` (a VIP without ready endpoints answers
 * TCP RST / ICMP port unreachable instead of black-holing) and the affinity timeout.
 *
 * @param affinityTimeout 0 or seconds
 * @returns the options map
 */
export function lbOptions(affinityTimeout: number): Record<string, string> {
  return {
    reject: "true",
    ...(affinityTimeout ? { affinity_timeout: String(affinityTimeout) } : {}),
  };
}

const where = (uuid: string) => [["_uuid", "==", uuid] as const];

/** Collects map mutations per row so each row gets one `mutate`. */
class MutationSet {
  #by = new Map<string, { table: string; muts: Mutation[] }>();

  add(table: string, uuid: string, muts: readonly Mutation[]): void {
    if (muts.length === 0) return;
    let e = this.#by.get(uuid);
    if (!e) this.#by.set(uuid, e = { table, muts: [] });
    e.muts.push(...muts);
  }

  ops(): Operation[] {
    return [...this.#by].map(([uuid, e]) => ({
      op: "mutate" as const,
      table: e.table,
      where: where(uuid),
      mutations: e.muts,
    }));
  }
}

/**
 * Mutations that make the keys of a map column equal `desired` for the listed keys:
 * changed keys are deleted then inserted, keys mapped to `undefined` are deleted.
 *
 * @param column map column
 * @param current its value
 * @param desired key -> value, or `undefined` to delete the key
 * @returns zero to two mutations
 */
export function mapKeyMutations(
  column: string,
  current: Readonly<Record<string, string>>,
  desired: ReadonlyMap<string, string | undefined>,
): Mutation[] {
  const del: string[] = [];
  const ins: Record<string, string> = {};
  for (const [k, v] of [...desired].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const cur = current[k];
    if (v === undefined) {
      if (cur !== undefined) del.push(k);
    } else if (cur !== v) {
      if (cur !== undefined) del.push(k);
      ins[k] = v;
    }
  }
  const out: Mutation[] = [];
  if (del.length) out.push([column, "delete", del]);
  if (Object.keys(ins).length) out.push([column, "insert", ins]);
  return out;
}

/** Inputs of {@linkcode planServiceLbs}. */
export interface ServicePlanInput {
  /** `namespace/name`. */
  service: string;
  /** Desired state; `undefined` when the service is gone or wants no load balancing. */
  spec: ServiceLbSpec | undefined;
  /** Router claims this service made before (to remove keys it no longer wants). */
  previous?: ReadonlySet<RouterClaim>;
  /** Whether another service claims a slot and VIP (then its key is not removed). */
  claimedByOther?: (claim: RouterClaim) => boolean;
  /** uuid-names for inserted rows. */
  namer: UuidNamer;
}

/** What {@linkcode planServiceLbs} returns. */
export interface ServicePlan {
  /** Operations (empty when NB matches). */
  ops: Operation[];
  /** The claims now applied (to pass as `previous` next time). */
  claims: Set<RouterClaim>;
  /** Gateway routers skipped: their per-router LB for a slot is missing (the router plan makes it). */
  pendingRouters: string[];
}

/**
 * Plans one service: its per-service load balancers and its NodePort and external IP
 * keys on every gateway router.
 *
 * @param ix the NB index
 * @param input service, spec, previous claims, uuid-names
 * @returns operations, claims, routers left to the router plan
 * @throws {Error} when the services group does not exist yet (run {@linkcode planServicesGroup} first)
 */
export function planServiceLbs(ix: LbIndex, input: ServicePlanInput): ServicePlan {
  const { service, spec } = input;
  const ops: Operation[] = [];
  const existing = ix.serviceLbs(service);
  const group = ix.group();
  for (const protocol of LB_PROTOCOLS) {
    const want = spec?.protocols[protocol];
    const rows = existing.get(protocol) ?? [];
    const keep = want && Object.keys(want.vips).length > 0 ? rows[0] : undefined;
    for (const r of rows) {
      if (r !== keep) ops.push({ op: "delete", table: "Load_Balancer", where: where(r._uuid) });
    }
    if (!want || Object.keys(want.vips).length === 0) continue;
    if (!group) {
      throw new Error(
        `Cannot program service ${service}: load balancer group ${SERVICES_LB_GROUP} is missing; ` +
          "the repair pass creates it before workers run",
      );
    }
    const columns = {
      name: makeServiceLbName(service, protocol),
      protocol: [protocol],
      vips: want.vips,
      options: lbOptions(want.affinityTimeout),
      external_ids: ownerIds(SERVICE_LB_KIND, service, SERVICE_CONTROLLER),
    };
    if (!keep) {
      const ref = input.namer("svc_lb");
      ops.push({ op: "insert", table: "Load_Balancer", row: columns, uuidName: ref });
      ops.push({
        op: "mutate",
        table: "Load_Balancer_Group",
        where: where(group._uuid),
        mutations: [["load_balancer", "insert", [ref]]],
      });
      continue;
    }
    const changed: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(columns)) {
      if (!valuesEqual((keep as unknown as Record<string, unknown>)[k], v)) changed[k] = v;
    }
    if (Object.keys(changed).length) {
      ops.push({ op: "update", table: "Load_Balancer", where: where(keep._uuid), row: changed });
    }
    if (!ix.inGroup(keep._uuid)) {
      ops.push({
        op: "mutate",
        table: "Load_Balancer_Group",
        where: where(group._uuid),
        mutations: [["load_balancer", "insert", [keep._uuid]]],
      });
    }
  }

  const claims = routerClaims(spec);
  const gone = [...(input.previous ?? [])].filter((c) =>
    !claims.has(c) && !(input.claimedByOther?.(c) ?? false)
  );
  const muts = new MutationSet();
  const pending = new Set<string>();
  if (claims.size || gone.length) {
    for (const gr of ix.gatewayRouters()) {
      const perLb = new Map<LbRow, Map<string, string | undefined>>();
      const want = (slot: string, vip: string, value: string | undefined) => {
        const lb = ix.gatewayLb(gr.row.name, slot);
        if (!lb) {
          if (value !== undefined) pending.add(gr.row.name);
          return;
        }
        let m = perLb.get(lb);
        if (!m) perLb.set(lb, m = new Map());
        const key = routerKey(vip, gr.physicalIp);
        if (key) m.set(key, value);
      };
      for (const [c, backends] of claims) want(...splitClaim(c), backends);
      for (const c of gone) want(...splitClaim(c), undefined);
      for (const [lb, m] of perLb) {
        muts.add("Load_Balancer", lb._uuid, mapKeyMutations("vips", lb.vips, m));
      }
    }
  }
  ops.push(...muts.ops());
  return { ops, claims: new Set(claims.keys()), pendingRouters: [...pending].sort() };
}

/**
 * The VIPs a gateway router should hold, per slot, given every service: NodePort VIPs on
 * its node IP (none without one) and every external IP VIP.
 *
 * @param specs every service's desired state
 * @param physicalIp the router's node IP
 * @returns slot -> (`ip:port` -> backends)
 */
export function gatewayVips(
  specs: Iterable<ServiceLbSpec>,
  physicalIp: string | undefined,
): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const spec of specs) {
    for (const [c, backends] of routerClaims(spec)) {
      const [slot, vip] = splitClaim(c);
      const key = routerKey(vip, physicalIp);
      if (!key) continue;
      let m = out.get(slot);
      if (!m) out.set(slot, m = {});
      m[key] = backends;
    }
  }
  return out;
}

function slotParts(slot: string): [LbProtocol, number] {
  const [p, t] = slot.split("/");
  return [p as LbProtocol, Number(t ?? "0")];
}

/** Inputs of {@linkcode planGatewayRouter}. */
export interface GatewayPlanInput {
  /** The gateway router. */
  router: GatewayRouter;
  /** slot -> wanted VIPs ({@linkcode gatewayVips}). */
  vips: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** The services group's uuid: detached from the router if found there (it belongs on switches only). */
  detachGroup?: string | undefined;
  /** uuid-names for inserted rows. */
  namer: UuidNamer;
}

/**
 * Plans one gateway router in full: a per-router load balancer for TCP, UDP and every
 * other slot with VIPs (made when missing, attached to the router), each holding exactly
 * the wanted NodePort and external IP VIPs (single-key mutations), `options:reject=true`
 * and the slot's affinity timeout.
 *
 * @param ix the NB index
 * @param input router, wanted VIPs, uuid-names
 * @returns operations (empty when NB matches)
 */
export function planGatewayRouter(ix: LbIndex, input: GatewayPlanInput): Operation[] {
  const { router } = input;
  const name = router.row.name;
  const ops: Operation[] = [];
  const muts = new MutationSet();
  const attach: string[] = [];
  const existing = ix.gatewayLbs(name);
  const slots = new Set<string>(["tcp", "udp", ...input.vips.keys(), ...existing.keys()]);
  for (const slot of [...slots].sort()) {
    const [protocol, affinity] = slotParts(slot);
    const want = input.vips.get(slot) ?? {};
    const lb = existing.get(slot);
    if (!lb) {
      if (affinity && Object.keys(want).length === 0) continue;
      const ref = input.namer("gw_lb");
      const ids = affinity
        ? { [GATEWAY_ROUTER_ID]: name, [AFFINITY_ID]: String(affinity) }
        : { [gatewayLbIdKey(protocol)]: name };
      ops.push({
        op: "insert",
        table: "Load_Balancer",
        uuidName: ref,
        row: {
          name: makeGatewayLbName(name, protocol, affinity),
          protocol: [protocol],
          vips: want,
          options: lbOptions(affinity),
          external_ids: { ...ids, ...ownerIds(GATEWAY_LB_KIND, name, SERVICE_CONTROLLER) },
        },
      });
      attach.push(ref);
      continue;
    }
    const delta = new Map<string, string | undefined>();
    for (const k of Object.keys(lb.vips)) if (!(k in want)) delta.set(k, undefined);
    for (const [k, v] of Object.entries(want)) delta.set(k, v);
    muts.add("Load_Balancer", lb._uuid, [
      ...mapKeyMutations("vips", lb.vips, delta),
      ...mapMutations("options", lb.options, lbOptions(affinity)),
    ]);
    if (!router.row.load_balancer.includes(lb._uuid)) attach.push(lb._uuid);
  }
  if (attach.length) {
    muts.add("Logical_Router", router.row._uuid, [["load_balancer", "insert", attach]]);
  }
  if (input.detachGroup && router.row.load_balancer_group.includes(input.detachGroup)) {
    muts.add("Logical_Router", router.row._uuid, [["load_balancer_group", "delete", [
      input.detachGroup,
    ]]]);
  }
  ops.push(...muts.ops());
  return ops;
}

/**
 * Plans the services group: created when missing, attached to every node switch.
 *
 * @param ix the NB index
 * @param namer uuid-names
 * @returns operations, and the group's uuid (or uuid-name when this plan creates it)
 */
export function planServicesGroup(
  ix: LbIndex,
  namer: UuidNamer,
): { ops: Operation[]; groupRef: string } {
  const ops: Operation[] = [];
  const group = ix.group();
  let groupRef = group?._uuid;
  if (!groupRef) {
    groupRef = namer("svc_group");
    ops.push({
      op: "insert",
      table: "Load_Balancer_Group",
      uuidName: groupRef,
      row: { name: SERVICES_LB_GROUP },
    });
  }
  for (const s of ix.nodeSwitches()) {
    if (s.load_balancer_group.includes(groupRef)) continue;
    ops.push({
      op: "mutate",
      table: "Logical_Switch",
      where: where(s._uuid),
      mutations: [["load_balancer_group", "insert", [groupRef]]],
    });
  }
  return { ops, groupRef };
}

/**
 * Plans the repair of per-service state: deletes the per-service load balancers of
 * services not wanted any more, and empties the original's cluster load balancers
 * (their VIPs came from the original watcher; the same VIPs in two load balancers of
 * one switch would conflict).
 *
 * @param ix the NB index
 * @param wanted services that exist (`namespace/name`)
 * @returns operations (empty when NB matches)
 */
export function planStaleServiceLbs(ix: LbIndex, wanted: ReadonlySet<string>): Operation[] {
  const ops: Operation[] = [];
  for (const service of ix.services().sort()) {
    if (wanted.has(service)) continue;
    for (const rows of ix.serviceLbs(service).values()) {
      for (const r of rows) {
        ops.push({ op: "delete", table: "Load_Balancer", where: where(r._uuid) });
      }
    }
  }
  for (const lb of ix.legacyClusterLbs()) {
    if (Object.keys(lb.vips).length) {
      ops.push({ op: "update", table: "Load_Balancer", where: where(lb._uuid), row: { vips: {} } });
    }
  }
  return ops;
}
