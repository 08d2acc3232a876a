/**
 * Polls `probe` every 50 ms until `done` holds for its value, for at most 10 s, and returns
 * that value; for effects that happen asynchronously (webhooks, wake-ups, a killed worker).
 */
export async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await probe();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
