/**
 * Node subnet allocation from the cluster subnet: the lowest block of the requested size
 * that overlaps no block already in use. Pure; the caller reads the used blocks from NB
 * and commits the choice in a transaction guarded by a `wait` on exactly those blocks,
 * so two nodes allocating at once cannot both win the same block.
 *
 * @module
 */
import { Ipv4Cidr } from "../net/mod.ts";

/**
 * Finds the lowest free block of `prefix` length inside `cluster`.
 *
 * @param cluster the cluster subnet
 * @param prefix prefix length of the block wanted (>= the cluster's)
 * @param used blocks already taken (any size; those outside the cluster are ignored)
 * @returns the block, or `undefined` when the cluster subnet is exhausted
 * @throws {RangeError} when `prefix` is shorter than the cluster's prefix or above 30
 */
export function nextFreeSubnet(
  cluster: Ipv4Cidr,
  prefix: number,
  used: readonly Ipv4Cidr[],
): Ipv4Cidr | undefined {
  if (!Number.isInteger(prefix) || prefix < cluster.prefix || prefix > 30) {
    throw new RangeError(
      `Cannot allocate a /${prefix} from ${cluster}: the size must be between /${cluster.prefix} and /30`,
    );
  }
  const size = 2 ** (32 - prefix);
  const taken = used.filter((u) => u.overlaps(cluster)).sort((a, b) => a.network - b.network);
  let candidate = cluster.network;
  let i = 0;
  while (candidate + size - 1 <= cluster.last) {
    const end = candidate + size - 1;
    // Skip blocks that end before the candidate starts.
    while (i < taken.length && taken[i]!.last < candidate) i++;
    const hit = taken.slice(i).find((u) => u.network <= end && candidate <= u.last);
    if (!hit) return new Ipv4Cidr(candidate, prefix);
    candidate = Math.ceil((hit.last + 1) / size) * size;
  }
  return undefined;
}

/** Why a node subnet cannot be used. */
export type SubnetConflict =
  | { kind: "outside"; cluster: Ipv4Cidr }
  | { kind: "cluster-too-small"; cluster: Ipv4Cidr }
  | { kind: "too-small" }
  | { kind: "overlap"; owner: string; subnet: Ipv4Cidr };

/**
 * Checks a node subnet against the cluster subnet and the other nodes' subnets.
 *
 * @param cluster the cluster subnet
 * @param subnet the node subnet asked for
 * @param others other nodes' subnets by node name (the node itself excluded)
 * @returns the first conflict, or `undefined` when the subnet is usable
 */
export function findSubnetConflict(
  cluster: Ipv4Cidr,
  subnet: Ipv4Cidr,
  others: ReadonlyMap<string, Ipv4Cidr>,
): SubnetConflict | undefined {
  if (cluster.prefix > subnet.prefix) return { kind: "cluster-too-small", cluster };
  if (!cluster.contains(subnet)) return { kind: "outside", cluster };
  // .0 network, .1 router, .2 management port, and at least one address for a pod.
  if (subnet.prefix > 29) return { kind: "too-small" };
  for (const [owner, s] of [...others].sort(([a], [b]) => a.localeCompare(b))) {
    if (s.overlaps(subnet)) return { kind: "overlap", owner, subnet: s };
  }
  return undefined;
}
