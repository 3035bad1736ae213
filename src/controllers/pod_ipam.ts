/**
 * Pod addresses of every node switch: one {@linkcode AddressAllocator} per node subnet
 * (`.1` router and `.2` management port never handed out), plus who holds each
 * address. Rebuilt from NB on start (every address found on a switch's ports is taken,
 * pod ports by their pod), then kept by the pod controller: an address is released
 * only after the transaction that deleted its port committed, so it is never handed
 * out twice, also across restarts (NB is the record). Pure in-process state.
 *
 * @module
 */
import { AddressAllocator } from "../ipam/mod.ts";
import { formatIpv4, type Ipv4Cidr, parseIpv4 } from "../net/mod.ts";

/** One node switch's addresses. */
export interface NodeAddresses {
  /** Switch (= node) name. */
  node: string;
  /** Switch uuid. */
  switchUuid: string;
  /** Node subnet. */
  subnet: Ipv4Cidr;
  /** Free addresses left. */
  readonly free: number;
}

interface NodeState {
  node: string;
  switchUuid: string;
  subnet: Ipv4Cidr;
  alloc: AddressAllocator;
  /** ip -> pod key (addresses of non-pod ports are used but unowned). */
  owners: Map<number, string>;
}

/** An address held by a pod. */
export interface PodAddress {
  node: string;
  ip: number;
}

/** Pod addresses of all node switches. */
export class PodIpam {
  #nodes = new Map<string, NodeState>();
  #byPod = new Map<string, PodAddress>();

  /** Number of pods holding an address. */
  get assigned(): number {
    return this.#byPod.size;
  }

  /**
   * @param node switch name
   * @returns the node's addresses, or `undefined` when it has no switch with a subnet
   */
  node(node: string): NodeAddresses | undefined {
    const s = this.#nodes.get(node);
    if (!s) return undefined;
    return {
      node: s.node,
      switchUuid: s.switchUuid,
      subnet: s.subnet,
      get free() {
        return s.alloc.free;
      },
    };
  }

  /** @returns the names of the nodes served */
  nodes(): string[] {
    return [...this.#nodes.keys()];
  }

  /**
   * Node of a switch uuid.
   *
   * @param switchUuid the uuid
   * @returns the node name, or `undefined`
   */
  nodeOfSwitch(switchUuid: string): string | undefined {
    for (const s of this.#nodes.values()) if (s.switchUuid === switchUuid) return s.node;
    return undefined;
  }

  /**
   * Adds or updates a node switch. A changed subnet starts a new allocator; pods whose
   * address is outside the new subnet lose it (their controller gives them a new one).
   *
   * @param node switch name
   * @param switchUuid its uuid
   * @param subnet its `other_config:subnet`
   * @returns false when the subnet cannot serve pods (smaller than /29)
   */
  setSwitch(node: string, switchUuid: string, subnet: Ipv4Cidr): boolean {
    const cur = this.#nodes.get(node);
    if (cur && cur.subnet.equals(subnet)) {
      cur.switchUuid = switchUuid;
      return true;
    }
    let alloc: AddressAllocator;
    try {
      alloc = new AddressAllocator(subnet);
    } catch {
      this.deleteSwitch(node);
      return false;
    }
    const owners = new Map<number, string>();
    for (const [key, a] of this.#byPod) {
      if (a.node !== node) continue;
      if (subnet.contains(a.ip) && alloc.reserve(a.ip)) owners.set(a.ip, key);
      else this.#byPod.delete(key);
    }
    this.#nodes.set(node, { node, switchUuid, subnet, alloc, owners });
    return true;
  }

  /**
   * Forgets a node switch and every address on it.
   *
   * @param node switch name
   */
  deleteSwitch(node: string): void {
    if (!this.#nodes.delete(node)) return;
    for (const [key, a] of this.#byPod) if (a.node === node) this.#byPod.delete(key);
  }

  /**
   * Records an address found in NB: held by a pod (`podKey`) or by another port.
   *
   * @param node switch name
   * @param ip the address
   * @param podKey `namespace/name` of the pod whose port carries it
   * @returns false when the address is outside the subnet or held by another pod
   */
  observe(node: string, ip: number, podKey?: string): boolean {
    const s = this.#nodes.get(node);
    if (!s || !s.subnet.contains(ip)) return false;
    const owner = s.owners.get(ip);
    if (owner !== undefined) return owner === podKey;
    const fresh = s.alloc.reserve(ip);
    if (podKey === undefined) return true;
    if (!fresh) return false; // a reserved address, or another port's
    s.owners.set(ip, podKey);
    // A pod holding another address too (a leftover port) keeps both taken until one goes.
    if (!this.#byPod.has(podKey)) this.#byPod.set(podKey, { node, ip });
    return true;
  }

  /**
   * The address a pod holds.
   *
   * @param podKey `namespace/name`
   * @returns node and address, or `undefined`
   */
  get(podKey: string): PodAddress | undefined {
    return this.#byPod.get(podKey);
  }

  /**
   * Gives a pod an address on a node: the one it holds there, else `preferred` when
   * free (e.g. from its annotation), else the lowest free one. An address it holds on
   * another node stays taken until {@linkcode releaseIp} (after its port is deleted).
   *
   * @param podKey `namespace/name`
   * @param node switch name
   * @param preferred an address to reuse when free
   * @returns the address, or `undefined` when the node has no switch or its subnet is full
   */
  assign(podKey: string, node: string, preferred?: number): number | undefined {
    const s = this.#nodes.get(node);
    if (!s) return undefined;
    const cur = this.#byPod.get(podKey);
    if (cur && cur.node === node && s.owners.get(cur.ip) === podKey) return cur.ip;
    let ip: number | undefined;
    if (preferred !== undefined && s.subnet.contains(preferred) && s.alloc.reserve(preferred)) {
      ip = preferred;
    } else ip = s.alloc.allocate();
    if (ip === undefined) return undefined;
    s.owners.set(ip, podKey);
    this.#byPod.set(podKey, { node, ip });
    return ip;
  }

  /**
   * Releases one address if `podKey` holds it (after its port was deleted).
   *
   * @param node switch name
   * @param ip the address
   * @param podKey the pod that held it
   * @returns whether it was released
   */
  releaseIp(node: string, ip: number, podKey: string): boolean {
    const s = this.#nodes.get(node);
    if (!s || s.owners.get(ip) !== podKey) return false;
    s.owners.delete(ip);
    s.alloc.release(ip);
    const cur = this.#byPod.get(podKey);
    if (cur && cur.node === node && cur.ip === ip) this.#byPod.delete(podKey);
    return true;
  }

  /**
   * Releases the address a pod holds (its port is gone, or it never got one).
   *
   * @param podKey `namespace/name`
   * @returns the released address, or `undefined`
   */
  release(podKey: string): PodAddress | undefined {
    const cur = this.#byPod.get(podKey);
    if (!cur) return undefined;
    this.releaseIp(cur.node, cur.ip, podKey);
    this.#byPod.delete(podKey);
    return cur;
  }

  /**
   * Who holds an address.
   *
   * @param node switch name
   * @param ip the address (number or dotted)
   * @returns the pod key, `""` for a non-pod use, or `undefined` when free
   */
  holder(node: string, ip: number | string): string | undefined {
    const n = typeof ip === "string" ? parseIpv4(ip) : ip;
    const s = this.#nodes.get(node);
    if (n === undefined || !s) return undefined;
    const owner = s.owners.get(n);
    if (owner !== undefined) return owner;
    return s.alloc.isUsed(n) ? "" : undefined;
  }

  /** For logs. */
  toString(): string {
    return [...this.#nodes.values()].map((s) =>
      `${s.node}=${s.subnet}(${s.alloc.free} free, first ${formatIpv4(s.subnet.host(3))})`
    ).join(" ");
  }
}
