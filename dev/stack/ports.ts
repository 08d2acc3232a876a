import { createServer } from "node:net";

/** Resolves true when nothing listens on 127.0.0.1:`port`. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** A port the OS reports free right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Throws a message that names the port and what wanted it, instead of EADDRINUSE later. */
export async function assertPortFree(port: number, what: string): Promise<void> {
  if (!(await isPortFree(port))) {
    throw new Error(
      `Port ${port} (${what}) is already in use. Stop whatever holds it ` +
        `(\`lsof -i :${port}\` shows it; another \`npm start\`?) and try again.`,
    );
  }
}
