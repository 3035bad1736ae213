import assert from "node:assert/strict";
import { formatPodAnnotation, parsePodAnnotation, podAnnotationMatches } from "./pod_annotation.ts";

const A = {
  ip_address: "10.244.1.5/24",
  mac_address: "0a:58:0a:f4:01:05",
  gateway_ip: "10.244.1.1",
};

Deno.test("formatPodAnnotation() writes the original's JSON string, keys in its order", () => {
  assert.equal(
    formatPodAnnotation({
      gateway_ip: A.gateway_ip,
      mac_address: A.mac_address,
      ip_address: A.ip_address,
    }),
    '{"ip_address":"10.244.1.5/24","mac_address":"0a:58:0a:f4:01:05","gateway_ip":"10.244.1.1"}',
  );
});

Deno.test("parsePodAnnotation() reads JSON and the pre-2017 Python repr; rejects junk", () => {
  assert.deepEqual(parsePodAnnotation(formatPodAnnotation(A)), A);
  assert.deepEqual(
    parsePodAnnotation(
      "{u'ip_address': u'10.244.1.5/24', u'mac_address': u'0A:58:0A:F4:01:05', u'gateway_ip': u'10.244.1.1'}",
    ),
    A,
  );
  assert.equal(parsePodAnnotation(undefined), undefined);
  assert.equal(parsePodAnnotation("{"), undefined);
  assert.equal(parsePodAnnotation('{"ip_address":"x"}'), undefined);
});

Deno.test("podAnnotationMatches() ignores formatting, sees a changed address", () => {
  assert.equal(
    podAnnotationMatches(
      '{ "gateway_ip": "10.244.1.1", "ip_address": "10.244.1.5/24", "mac_address": "0A:58:0A:F4:01:05" }',
      A,
    ),
    true,
  );
  assert.equal(
    podAnnotationMatches(formatPodAnnotation({ ...A, ip_address: "10.244.1.6/24" }), A),
    false,
  );
  assert.equal(podAnnotationMatches(undefined, A), false);
});
