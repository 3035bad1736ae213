/**
 * Test-only TLS material for the https tests of `httpGet` and the pod readers:
 * an EC P-256 CA, a server certificate for `IP:127.0.0.1` signed by it (both valid until
 * 2126), and an unrelated CA. Made once with `openssl req -x509 -newkey ec -pkeyopt
 * ec_paramgen_curve:prime256v1` and `openssl x509 -req -extfile` (subjectAltName). Not
 * exported by mod.ts; never trust these outside tests.
 *
 * @module
 */

/** Test fixture: `ca.crt`. */
export const TEST_CA_PEM = `-----BEGIN CERTIFICATE-----
MIIBlDCCATmgAwIBAgIUe3WJ7GM9Wj38p39yBJL8qb59TRswCgYIKoZIzj0EAwIw
HjEcMBoGA1UEAwwTb3ZuLWs4cy1jbmktdGVzdC1jYTAgFw0yNjExMjYxMjM2NTJa
GA8yMTI2MTEwMjEyMzY1MlowHjEcMBoGA1UEAwwTb3ZuLWs4cy1jbmktdGVzdC1j
YTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABJANrSxRPj/N7dRQ4Sd8fqgpV3Bb
6M9ee7ujhG1P36dSC0b4hq9luyuGgrHWW4yMDvPQToenJ+nt+mwuFNice5qjUzBR
MB0GA1UdDgQWBBTu5FukxRGK7szintomVaI4+jVT/jAfBgNVHSMEGDAWgBTu5Fuk
xRGK7szintomVaI4+jVT/jAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kA
MEYCIQCc66QpNkj1HPL8fkeGc1GIcmK7Bp72xv/bMq/CihIn0wIhAK/X91D2Gh1C
gZLqgioETBMQaPYd7qjd8NQZRk95UVJS
-----END CERTIFICATE-----
`;

/** Test fixture: `srv.crt`. */
export const TEST_SERVER_CERT_PEM = `-----BEGIN CERTIFICATE-----
MIIBiTCCAS+gAwIBAgIUH/CdfdMoEIwT6tq2iD1OtiyqRK0wCgYIKoZIzj0EAwIw
HjEcMBoGA1UEAwwTb3ZuLWs4cy1jbmktdGVzdC1jYTAgFw0yNjExMjYxMjM2NTJa
GA8yMTI2MTEwMjEyMzY1MlowFDESMBAGA1UEAwwJMTI3LjAuMC4xMFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAE0sO9JqnwijLVr37vllYEWlzRQTuEH4Uh65a48+jK
noeiD/tXkX9wxNYuoYKn3N1pmT6L5slwxwmEbHCOrL5sIaNTMFEwDwYDVR0RBAgw
BocEfwAAATAdBgNVHQ4EFgQUTJeJwO5WNPBR/52H/h71D2Oy4JUwHwYDVR0jBBgw
FoAU7uRbpMURiu7M4p7aJlWiOPo1U/4wCgYIKoZIzj0EAwIDSAAwRQIgVa6UUD7Y
btWm7PboK4xQV0mF0rKOAstV2SThMkAO31wCIQDAYqmva6XbGvpJ/XSBmP7givGN
2P86iqYpGSUxqq+faw==
-----END CERTIFICATE-----
`;

/** Test fixture: `srv.key`. */
export const TEST_SERVER_KEY_PEM = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg2fr6VZfU60hXp0Zh
paBy44mTJfESix5BN192y4CmdeuhRANCAATSw70mqfCKMtWvfu+WVgRaXNFBO4Qf
hSHrlrjz6Mqeh6IP+1eRf3DE1i6hgqfc3WmZPovmyXDHCYRscI6svmwh
-----END PRIVATE KEY-----
`;

/** Test fixture: `other.crt`. */
export const TEST_OTHER_CA_PEM = `-----BEGIN CERTIFICATE-----
MIIBfDCCASOgAwIBAgIUD2relOtUIQccyWtW/NjBatSNrPswCgYIKoZIzj0EAwIw
EzERMA8GA1UEAwwIb3RoZXItY2EwIBcNMjYxMTI2MTIzNjUyWhgPMjEyNjExMDIx
MjM2NTJaMBMxETAPBgNVBAMMCG90aGVyLWNhMFkwEwYHKoZIzj0CAQYIKoZIzj0D
AQcDQgAE6en8w640LdbweaP6zDUhGW8tHwagLxzHFxCqLccujEv2HHYwVxEzFB8F
dXO3lE9dKLI8UXeYdJloCYzHvaqyiKNTMFEwHQYDVR0OBBYEFDo6qR3pM1sFczSO
RVO78+pFjrwGMB8GA1UdIwQYMBaAFDo6qR3pM1sFczSORVO78+pFjrwGMA8GA1Ud
EwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDRwAwRAIgYqfH7EixjB69jRRJaGyg9uBe
BrX6RAp4v8kxNbiRodwCIHks59K7ZRaNCeZzCrfJ97W8yJ63PbMsYvGVXITRnlwS
-----END CERTIFICATE-----
`;

/**
 * Test fixture: an https server on 127.0.0.1 (a free port) with the test server
 * certificate, so clients trusting {@linkcode TEST_CA_PEM} reach it.
 *
 * @param handler answers each request
 * @returns the server (`await using` closes it)
 */
export function serveTestTls(
  handler: (req: Request) => Response | Promise<Response>,
): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: TEST_SERVER_CERT_PEM,
    key: TEST_SERVER_KEY_PEM,
    onListen() {},
  }, handler);
}
