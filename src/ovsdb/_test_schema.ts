/**
 * A small schema for unit tests (shaped like OVN_Northbound's switch tables).
 *
 * @module
 */
import { type DatabaseSchema, parseSchema } from "./schema.ts";

/** Schema JSON of the test database. */
export const TEST_SCHEMA_JSON = {
  name: "Test_DB",
  version: "1.2.3",
  tables: {
    Switch: {
      isRoot: true,
      indexes: [["name"]],
      columns: {
        name: { type: "string" },
        ports: {
          type: { key: { type: "uuid", refTable: "Port" }, min: 0, max: "unlimited" },
        },
        external_ids: {
          type: { key: "string", value: "string", min: 0, max: "unlimited" },
        },
        vlans: {
          type: {
            key: "integer",
            value: { type: "uuid", refTable: "Port" },
            min: 0,
            max: "unlimited",
          },
        },
      },
    },
    Port: {
      columns: {
        name: { type: "string" },
        addresses: { type: { key: "string", min: 0, max: "unlimited" } },
        tag: {
          type: { key: { type: "integer", minInteger: 1, maxInteger: 4095 }, min: 0, max: 1 },
        },
        up: { type: { key: "boolean", min: 0, max: 1 } },
        enabled: { type: "boolean" },
        weight: { type: "real" },
        kind: { type: { key: { type: "string", enum: ["set", ["a", "b"]] } } },
      },
    },
  },
};

/** The parsed test schema. */
export const TEST_SCHEMA: DatabaseSchema = parseSchema(TEST_SCHEMA_JSON);
