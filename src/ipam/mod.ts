/**
 * Pure address management: node subnets carved from the cluster subnet, and addresses
 * inside a node subnet (`.1` router and `.2` management port reserved).
 *
 * @module
 */
export * from "./address_allocator.ts";
export * from "./subnet_allocator.ts";
