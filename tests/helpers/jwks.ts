import { createServer, type Server } from "node:http";
import { exportJWK, generateKeyPair, SignJWT } from "jose";

/** A project's asymmetric signing key, served as a JWKS the way Supabase Auth publishes it. */
export interface JwksIssuer {
  url: string;
  sign(claims: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

/** Starts a JWKS endpoint on a free local port with one fresh ES256 key. */
export async function startJwksIssuer(): Promise<JwksIssuer> {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const kid = `test-${Date.now()}`;
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" };
  const server: Server = createServer((req, res) => {
    res.writeHead(req.url === "/auth/v1/.well-known/jwks.json" ? 200 : 404, { "content-type": "application/json" });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/auth/v1/.well-known/jwks.json`,
    sign: (claims) =>
      new SignJWT(claims).setProtectedHeader({ alg: "ES256", kid }).setIssuedAt().setExpirationTime("1h").sign(privateKey),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
