/**
 * Addresses inside one node subnet. The network address, `.1` (the cluster router's
 * port), `.2` (the management port) and the broadcast address are never handed out.
 * Pure and in-process: the pod watcher rebuilds it from NB on start with
 * {@linkcode AddressAllocator.reserve} and then allocates the lowest free address.
 *
 * @module
 */
import { formatIpv4, type Ipv4Cidr } from "../net/mod.ts";

/** Offset of the cluster router port address in a node subnet. */
export const ROUTER_PORT_OFFSET = 1;
/** Offset of the management port address in a node subnet. */
export const MANAGEMENT_PORT_OFFSET = 2;

/** Allocates addresses of one subnet. */
export class AddressAllocator {
  readonly #subnet: Ipv4Cidr;
  readonly #used: Uint8Array;
  #free: number;

  /**
   * @param subnet the node subnet (prefix at most /30)
   * @throws {RangeError} when the subnet has no room for a pod
   */
  constructor(subnet: Ipv4Cidr) {
    if (subnet.prefix > 29) {
      throw new RangeError(`Cannot allocate pod addresses from ${subnet}: it is smaller than /29`);
    }
    this.#subnet = subnet;
    this.#used = new Uint8Array(subnet.size);
    for (const n of [0, ROUTER_PORT_OFFSET, MANAGEMENT_PORT_OFFSET, subnet.size - 1]) {
      this.#used[n] = 1;
    }
    this.#free = subnet.size - 4;
  }

  /** The subnet served. */
  get subnet(): Ipv4Cidr {
    return this.#subnet;
  }

  /** How many addresses are still free. */
  get free(): number {
    return this.#free;
  }

  /**
   * Marks an address as used (an address found in NB on start).
   *
   * @param ip the address
   * @returns false when it is outside the subnet, reserved or already used
   */
  reserve(ip: number): boolean {
    const off = ip - this.#subnet.network;
    if (!this.#subnet.contains(ip) || this.#used[off]) return false;
    this.#used[off] = 1;
    this.#free--;
    return true;
  }

  /**
   * Hands out the lowest free address.
   *
   * @returns the address, or `undefined` when the subnet is full
   */
  allocate(): number | undefined {
    if (this.#free === 0) return undefined;
    const off = this.#used.indexOf(0);
    if (off < 0) return undefined;
    this.#used[off] = 1;
    this.#free--;
    return this.#subnet.network + off;
  }

  /**
   * Returns an address to the pool. Reserved addresses (.0, .1, .2, broadcast) stay used.
   *
   * @param ip the address
   * @returns false when it was not allocated
   */
  release(ip: number): boolean {
    const off = ip - this.#subnet.network;
    const fixed = off === 0 || off === ROUTER_PORT_OFFSET || off === MANAGEMENT_PORT_OFFSET ||
      off === this.#subnet.size - 1;
    if (!this.#subnet.contains(ip) || fixed || !this.#used[off]) return false;
    this.#used[off] = 0;
    this.#free++;
    return true;
  }

  /**
   * Whether an address is in use (reserved ones included).
   *
   * @param ip the address
   * @returns true when used or outside the subnet
   */
  isUsed(ip: number): boolean {
    return !this.#subnet.contains(ip) || this.#used[ip - this.#subnet.network] === 1;
  }

  /** For logs: `10.244.1.0/24 (251 free)`. */
  toString(): string {
    return `${this.#subnet} (${this.#free} free, first ${formatIpv4(this.#subnet.network)})`;
  }
}
