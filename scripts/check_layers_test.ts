import assert from "node:assert/strict";
import { violations } from "./check_layers.ts";

Deno.test("violations() rejects a leaf importing another src folder", () => {
  const v = violations("src/ovsdb/client.ts", `import { x } from "../log/mod.ts";`);
  assert.equal(v.length, 1);
  assert.match(v[0]!, /src\/ovsdb may not import src\/log/);
});

Deno.test("violations() allows listed folders, same folder and packages", () => {
  const src = [
    `import { a } from "./framing.ts";`,
    `import type { B } from "../ovsdb/mod.ts";`,
    `import ipaddr from "ipaddr.js";`,
    `const m = await import("../net/cidr.ts");`,
  ].join("\n");
  assert.deepEqual(violations("src/ovn/names.ts", src), []);
});

Deno.test("violations() catches dynamic imports and unknown folders", () => {
  assert.equal(violations("src/k8s/x.ts", `await import("../ovn/mod.ts")`).length, 1);
  assert.match(violations("src/zzz/x.ts", "")[0]!, /not in scripts\/check_layers.ts/);
});
