import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { importPKCS8 } from "jose";

// A self-signed RSA key and certificate made for tests and `npm run trigger` only, with
// `openssl req -x509 -newkey rsa:2048 -nodes -days 36500`; nothing trusts it but a stack
// whose PAYPAL_CERT_HOSTS names the host serving it. PayPal's own certificates are never
// reproduced here: only PayPal can sign as PayPal.
const HERE = import.meta.dirname ?? new URL(".", import.meta.url).pathname;

/** The test certificate (PEM). */
export const TEST_CERTIFICATE = readFileSync(join(HERE, "test-cert.pem"), "utf8");

/** The test certificate's private key, for signing PayPal-style samples. */
export function testSigningKey(): Promise<CryptoKey> {
  return importPKCS8(readFileSync(join(HERE, "test-key.pem"), "utf8"), "RS256") as Promise<CryptoKey>;
}

/** Serves the test certificate on 127.0.0.1 (a stand-in for api.paypal.com's certificate URL). */
export async function serveTestCertificate(): Promise<{ url: string; requests(): number; close(): Promise<void> }> {
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    res.writeHead(200, { "content-type": "application/x-pem-file" }).end(TEST_CERTIFICATE);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/notifications/certs/CERT-360caa42-test`,
    requests: () => requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
