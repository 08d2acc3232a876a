import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createIdempotencyStore } from "../../supabase/functions/_shared/idempotency.ts";
import { createPostgresRateLimiter } from "../../supabase/functions/_shared/rate-limit.ts";
import { testSql } from "../helpers/stack.ts";

const sql = testSql();
const store = createIdempotencyStore(sql, { lockSeconds: 30, ttlSeconds: 3600 });
const limiter = createPostgresRateLimiter(sql);

describe("idempotency keys in Postgres", () => {
  it("claims a new key, then replays the stored response for the same request", async () => {
    const key = randomUUID();
    expect(await store.claim("test", key, "hash-a")).toEqual({ outcome: "claimed" });
    await store.complete("test", key, 202, { id: "job_1" });
    expect(await store.claim("test", key, "hash-a")).toEqual({ outcome: "replay", status: 202, body: { id: "job_1" } });
  });

  it("answers in_flight while the first holder works, and mismatch for a different request", async () => {
    const key = randomUUID();
    await store.claim("test", key, "hash-a");
    expect(await store.claim("test", key, "hash-a")).toEqual({ outcome: "in_flight" });
    expect(await store.claim("test", key, "hash-b")).toEqual({ outcome: "mismatch" });
  });

  it("lets exactly one of many concurrent claims win", async () => {
    const key = randomUUID();
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => store.claim("test", key, "hash-a")));
    expect(outcomes.filter((o) => o.outcome === "claimed")).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === "in_flight")).toHaveLength(19);
  });

  it("gives a released key to the retry", async () => {
    const key = randomUUID();
    await store.claim("test", key, "hash-a");
    await store.release("test", key);
    expect(await store.claim("test", key, "hash-a")).toEqual({ outcome: "claimed" });
  });

  it("lets the same request take over a key whose holder crashed, once its lock lapsed", async () => {
    const key = randomUUID();
    await store.claim("test", key, "hash-a");
    await sql`update public.idempotency_keys set locked_until = now() - interval '1 second' where key = ${key}`;
    expect(await store.claim("test", key, "hash-b")).toEqual({ outcome: "mismatch" });
    expect(await store.claim("test", key, "hash-a")).toEqual({ outcome: "claimed" });
  });

  it("treats an expired key as new, and purges expired keys", async () => {
    const key = randomUUID();
    await store.claim("test", key, "hash-a");
    await store.complete("test", key, 200, { ok: true });
    await sql`update public.idempotency_keys set expires_at = now() - interval '1 second' where key = ${key}`;
    expect(await store.claim("test", key, "hash-b")).toEqual({ outcome: "claimed" });
    await sql`update public.idempotency_keys set expires_at = now() - interval '1 second' where key = ${key}`;
    const [{ purged }] = await sql`select public.idempotency_purge_expired() as purged`;
    expect(purged).toBeGreaterThanOrEqual(1);
    expect(await sql`select 1 from public.idempotency_keys where key = ${key}`).toHaveLength(0);
  });
});

describe("token buckets in Postgres", () => {
  it("allows a burst, then refuses with a Retry-After that matches the refill rate", async () => {
    const key = `test:${randomUUID()}`;
    const policy = { ratePerSecond: 0.5, burst: 3 };
    const decisions = [];
    for (let i = 0; i < 5; i++) decisions.push(await limiter(key, policy));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false, false]);
    expect(decisions[3].retryAfterSeconds).toBe(2);
  });

  it("refills with time and never beyond the burst", async () => {
    const key = `test:${randomUUID()}`;
    const policy = { ratePerSecond: 1, burst: 2 };
    await limiter(key, policy);
    await limiter(key, policy);
    await sql`update public.rate_limit_buckets set updated_at = updated_at - interval '1 hour' where key = ${key}`;
    const after = [];
    for (let i = 0; i < 3; i++) after.push((await limiter(key, policy)).allowed);
    expect(after).toEqual([true, true, false]);
  });

  it("holds under concurrency: a burst of 10 admits exactly 10 of 30 simultaneous requests", async () => {
    const key = `test:${randomUUID()}`;
    const decisions = await Promise.all(Array.from({ length: 30 }, () => limiter(key, { ratePerSecond: 0.001, burst: 10 })));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
  });
});
