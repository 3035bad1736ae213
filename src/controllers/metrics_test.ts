import assert from "node:assert/strict";
import { MetricsRegistry } from "./metrics.ts";
import { parseListenAddress } from "./metrics_server.ts";

Deno.test("MetricsRegistry.render() prints counters, gauges and histograms in text format", () => {
  const m = new MetricsRegistry();
  m.counter("x_total", "things").inc({ result: "ok" }, 2);
  const g = m.gauge("depth", "queue depth");
  g.collect(() => [[{ queue: "pods" }, 7]]);
  const h = m.histogram("lat_seconds", "latency", [0.1, 1]);
  h.observe(0.05);
  h.observe(0.5);
  const text = m.render();
  assert.match(text, /^# TYPE x_total counter$/m);
  assert.match(text, /^x_total\{result="ok"\} 2$/m);
  assert.match(text, /^depth\{queue="pods"\} 7$/m);
  assert.match(text, /^lat_seconds_bucket\{le="0.1"\} 1$/m);
  assert.match(text, /^lat_seconds_bucket\{le="1"\} 2$/m);
  assert.match(text, /^lat_seconds_bucket\{le="\+Inf"\} 2$/m);
  assert.match(text, /^lat_seconds_count 2$/m);
  assert.deepEqual(h.get(), { count: 2, sum: 0.55 });
});

Deno.test("MetricsRegistry.counter() returns the same metric twice, refuses a type clash", () => {
  const m = new MetricsRegistry();
  assert.equal(m.counter("a", "x"), m.counter("a", "x"));
  assert.throws(() => m.gauge("a", "x"), /is a counter/);
});

Deno.test("parseListenAddress() accepts host:port and [v6]:port, rejects the rest", () => {
  assert.deepEqual(parseListenAddress("127.0.0.1:9476"), { hostname: "127.0.0.1", port: 9476 });
  assert.deepEqual(parseListenAddress("[::1]:0"), { hostname: "::1", port: 0 });
  assert.throws(() => parseListenAddress("9476"), /--metrics-address "9476"/);
  assert.throws(() => parseListenAddress("h:70000"), /HOST:PORT/);
});
