import assert from "node:assert/strict";
import { CniError, toErrorJson } from "./errors.ts";
import { assertSupportedVersion, compareVersions, versionInfo } from "./version.ts";

Deno.test("toErrorJson() renders the spec's error object", () => {
  const e = new CniError(11, "Cannot set up pod a/b: no annotation", { details: "start it" });
  assert.deepEqual(toErrorJson(e, "1.0.0"), {
    cniVersion: "1.0.0",
    code: 11,
    msg: "Cannot set up pod a/b: no annotation",
    details: "start it",
  });
});

Deno.test("toErrorJson() gives other errors code 100 and puts causes in details", () => {
  const inner = new Error("RTNETLINK answers: File exists");
  const j = toErrorJson(new Error("Cannot create veth", { cause: inner }), "0.4.0");
  assert.equal(j.code, 100);
  assert.equal(j.msg, "Cannot create veth");
  assert.equal(j.details, "RTNETLINK answers: File exists");
  assert.equal(toErrorJson("plain", "0.3.1").details, undefined);
});

Deno.test("compareVersions() orders x.y.z", () => {
  assert.ok(compareVersions("0.3.1", "0.4.0") < 0);
  assert.ok(compareVersions("1.0.0", "0.4.0") > 0);
  assert.equal(compareVersions("0.3.1", "0.3.1"), 0);
});

Deno.test("assertSupportedVersion() rejects unknown versions with code 1", () => {
  assertSupportedVersion("0.3.1");
  assert.throws(
    () => assertSupportedVersion("1.1.0"),
    (e: Error & { code?: number }) => e.code === 1 && /incompatible CNI versions/.test(e.message),
  );
});

Deno.test("versionInfo() lists the supported versions and echoes the config's", () => {
  assert.deepEqual(versionInfo("0.4.0"), {
    cniVersion: "0.4.0",
    supportedVersions: ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0"],
  });
  assert.equal(versionInfo().cniVersion, "1.0.0");
});

Deno.test("toErrorJson() does not repeat a cause the message already quotes", () => {
  const cause = new Error("No such file or directory (os error 2)");
  const e = new CniError(106, `Cannot remove port v: ${cause.message}`, {
    cause,
    details: "is ovsdb-server running?",
  });
  assert.equal(toErrorJson(e, "1.0.0").details, "is ovsdb-server running?");
});
