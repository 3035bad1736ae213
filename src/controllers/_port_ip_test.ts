import assert from "node:assert/strict";
import { parseIpv4 } from "../net/mod.ts";
import { portMacIp } from "../ovn/pod_ops.ts";
import { portIpv4 } from "./_port_ip.ts";

const CASES: { addresses: string[]; dynamic_addresses?: string[] }[] = [
  { addresses: ["0a:58:0a:80:00:03 10.128.0.3"] },
  { addresses: ["0A:58:0A:80:00:03 10.128.0.3"] },
  { addresses: ["0a:58:0a:80:00:03 255.255.255.255"] },
  { addresses: ["0a:58:0a:80:00:03 0.0.0.0"] },
  { addresses: ["0a:58:0a:80:00:03 10.128.0.256"] },
  { addresses: ["0a:58:0a:80:00:03 10.128.00.3"] },
  { addresses: ["0a:58:0a:80:00:03 10.128.0"] },
  { addresses: ["0a:58:0a:80:00:03 10.128.0.3.4"] },
  { addresses: ["0a:58:0a:80:00:03 10..0.3"] },
  { addresses: ["0a:58:0a:80:00:03 10.128.0.3 fd00::3"] },
  { addresses: ["0a:58:0a:80:00:03  10.128.0.3"] },
  { addresses: [" 0a:58:0a:80:00:03 10.128.0.3"] },
  { addresses: ["0a-58-0a-80-00-03 10.128.0.3"] },
  { addresses: ["0g:58:0a:80:00:03 10.128.0.3"] },
  { addresses: ["router"] },
  { addresses: ["dynamic"], dynamic_addresses: ["0a:58:0a:80:00:07 10.128.0.7"] },
  { addresses: ["unknown", "0a:58:0a:80:00:09 10.128.0.9"] },
  { addresses: [] },
  { addresses: ["0a:58:0a:80:00:03"] },
];

Deno.test("portIpv4() gives what parseIpv4(portMacIp()) gives, for canonical and odd forms", () => {
  for (const c of CASES) {
    const slow = portMacIp(c);
    const want = slow ? parseIpv4(slow.ip) : undefined;
    assert.equal(portIpv4(c), want, JSON.stringify(c));
  }
  assert.equal(portIpv4({ addresses: ["0a:58:0a:80:00:03 10.128.0.3"] }), 0x0a800003);
});
