/**
 * Pure network helpers: IPv4 addresses, CIDR blocks, MAC addresses and Linux interface
 * names. A leaf: imports nothing from src/.
 *
 * @module
 */
export * from "./cidr.ts";
export * from "./ifname.ts";
export * from "./ipv4.ts";
export * from "./mac.ts";
