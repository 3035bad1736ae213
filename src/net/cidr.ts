/**
 * IPv4 CIDR blocks: strict parsing, containment, overlap and host arithmetic.
 *
 * @module
 */
import { formatIpv4, parseIpv4 } from "./ipv4.ts";

/** An IPv4 network: the network address and the prefix length. Immutable. */
export class Ipv4Cidr {
  /**
   * @param network network address (host bits zero) as an unsigned 32-bit number
   * @param prefix prefix length, 0..32
   * @throws {RangeError} when the prefix is out of range or host bits are set
   */
  constructor(readonly network: number, readonly prefix: number) {
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
      throw new RangeError(`Cannot make a CIDR with prefix length ${prefix}: must be 0..32`);
    }
    if (((network & ~maskOf(prefix)) >>> 0) !== 0) {
      throw new RangeError(
        `Cannot make the CIDR ${formatIpv4(network)}/${prefix}: host bits are set`,
      );
    }
  }

  /**
   * Parses `A.B.C.D/N`. Host bits must be zero.
   *
   * @param text the CIDR
   * @returns the network
   * @throws {SyntaxError} when `text` is not an IPv4 CIDR
   * @throws {RangeError} when host bits are set (the message names the network meant)
   */
  static parse(text: string): Ipv4Cidr {
    const m = /^([0-9.]+)\/(\d{1,2})$/.exec(text.trim());
    const addr = m ? parseIpv4(m[1]!) : undefined;
    const prefix = m ? Number(m[2]) : NaN;
    if (addr === undefined || !(prefix >= 0 && prefix <= 32)) {
      throw new SyntaxError(`Cannot parse "${text}": not an IPv4 CIDR such as 10.244.0.0/16`);
    }
    const network = (addr & maskOf(prefix)) >>> 0;
    if (network !== addr) {
      throw new RangeError(
        `Cannot use "${text}": host bits are set; did you mean ${formatIpv4(network)}/${prefix}?`,
      );
    }
    return new Ipv4Cidr(network, prefix);
  }

  /**
   * Parses `A.B.C.D/N` with host bits allowed, keeping the address (e.g. `192.168.1.1/24`).
   *
   * @param text interface address with prefix
   * @returns the address and its network
   * @throws {SyntaxError} when `text` is not an address with prefix length
   */
  static parseInterface(text: string): { address: number; cidr: Ipv4Cidr } {
    const m = /^([0-9.]+)\/(\d{1,2})$/.exec(text.trim());
    const addr = m ? parseIpv4(m[1]!) : undefined;
    const prefix = m ? Number(m[2]) : NaN;
    if (addr === undefined || !(prefix >= 0 && prefix <= 32)) {
      throw new SyntaxError(`Cannot parse "${text}": not an IPv4 address with prefix length`);
    }
    return { address: addr, cidr: new Ipv4Cidr((addr & maskOf(prefix)) >>> 0, prefix) };
  }

  /** Number of addresses in the block. */
  get size(): number {
    return 2 ** (32 - this.prefix);
  }

  /** The netmask as an unsigned 32-bit number. */
  get mask(): number {
    return maskOf(this.prefix);
  }

  /** The last address (broadcast) of the block. */
  get last(): number {
    return this.network + this.size - 1;
  }

  /**
   * The address at offset `n` from the network address (`host(1)` = the `.1`).
   *
   * @param n offset, 0..size-1
   * @returns the address
   * @throws {RangeError} when the offset is outside the block
   */
  host(n: number): number {
    if (!Number.isInteger(n) || n < 0 || n >= this.size) {
      throw new RangeError(`Cannot take address #${n} of ${this}: the block has ${this.size}`);
    }
    return this.network + n;
  }

  /**
   * Whether an address or a whole block lies inside this block.
   *
   * @param other an address (number) or a CIDR
   * @returns true when contained
   */
  contains(other: number | Ipv4Cidr): boolean {
    if (typeof other === "number") return other >= this.network && other <= this.last;
    return other.prefix >= this.prefix && other.network >= this.network &&
      other.last <= this.last;
  }

  /**
   * Whether two blocks share any address.
   *
   * @param other the other block
   * @returns true when they overlap
   */
  overlaps(other: Ipv4Cidr): boolean {
    return this.network <= other.last && other.network <= this.last;
  }

  /**
   * Value equality.
   *
   * @param other the other block
   * @returns true when network and prefix are equal
   */
  equals(other: Ipv4Cidr): boolean {
    return this.network === other.network && this.prefix === other.prefix;
  }

  /** `A.B.C.D/N`. */
  toString(): string {
    return `${formatIpv4(this.network)}/${this.prefix}`;
  }
}

/**
 * The netmask of a prefix length.
 *
 * @param prefix 0..32
 * @returns the mask as an unsigned 32-bit number
 */
export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/**
 * Parses a CIDR, returning `undefined` instead of throwing.
 *
 * @param text candidate
 * @returns the network, or `undefined` when invalid or host bits are set
 */
export function tryParseCidr(text: string): Ipv4Cidr | undefined {
  try {
    return Ipv4Cidr.parse(text);
  } catch {
    return undefined;
  }
}
