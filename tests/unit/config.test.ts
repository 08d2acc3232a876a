import { describe, expect, it } from "vitest";
import { readConfig } from "../../supabase/functions/_shared/config.ts";

const DB_URL = "postgresql://postgres:postgres@127.0.0.1:54322/postgres";

function errorOf(env: Record<string, string | undefined>): Error {
  try {
    readConfig(env);
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected readConfig to throw");
}

describe("readConfig", () => {
  it("turns a comma-separated STRIPE_WEBHOOK_SECRET into a trimmed list without empty entries", () => {
    const config = readConfig({ SUPABASE_DB_URL: DB_URL, STRIPE_WEBHOOK_SECRET: " whsec_new , whsec_old,, " });
    expect(config.STRIPE_WEBHOOK_SECRET).toEqual(["whsec_new", "whsec_old"]);
  });

  it("gives an empty secret list when STRIPE_WEBHOOK_SECRET is unset", () => {
    expect(readConfig({ SUPABASE_DB_URL: DB_URL }).STRIPE_WEBHOOK_SECRET).toEqual([]);
  });

  it("applies defaults for everything but the database URL", () => {
    expect(readConfig({ SUPABASE_DB_URL: DB_URL })).toEqual({
      SUPABASE_DB_URL: DB_URL,
      STRIPE_WEBHOOK_SECRET: [],
      RESEND_WEBHOOK_SECRET: [],
      RESEND_BASE_URL: "https://api.resend.com",
      EMAIL_FROM: "Shop <no-reply@example.com>",
      RESEND_RATE_LIMIT_PER_SECOND: 5,
      EMAIL_BATCH_SIZE: 100,
      EMAIL_LEASE_SECONDS: 60,
      EMAIL_DRAIN_SECONDS: 20,
      RESEND_TIMEOUT_MS: 15000,
      WEBHOOK_ALLOW_HTTP: false,
      WEBHOOK_ALLOWED_HOSTS: [],
      WEBHOOK_TIMEOUT_MS: 15000,
      WEBHOOK_CIRCUIT_THRESHOLD: 5,
      WEBHOOK_CIRCUIT_COOLDOWN_SECONDS: 60,
      WEBHOOK_LEASE_SECONDS: 60,
      WEBHOOK_DISPATCH_SECONDS: 20,
      WEBHOOK_CONCURRENCY: 32,
      CLIENT_IP_HEADER: "x-forwarded-for",
      TRUSTED_PROXY_HOPS: 1,
      CORS_ALLOWED_ORIGINS: [],
      SHARE_DEDUP_WINDOW_SECONDS: 1800,
      SHARE_IP_LIMIT_PER_MINUTE: 60,
      SHARE_SESSION_LIMIT_PER_MINUTE: 20,
      ANALYTICS_IP_LIMIT_PER_MINUTE: 600,
      ANALYTICS_CUSTOM_EVENTS: [],
      MAX_BODY_BYTES: 1048576,
      DB_POOL_MAX: 10,
      SECURITY_ALERT_THRESHOLD: 20,
      SECURITY_ALERT_WINDOW_SECONDS: 60,
      LOG_LEVEL: "info",
    });
  });

  it("treats an empty variable as unset and applies its default", () => {
    const config = readConfig({ SUPABASE_DB_URL: DB_URL, MAX_BODY_BYTES: "", LOG_LEVEL: "" });
    expect(config).toMatchObject({ MAX_BODY_BYTES: 1048576, LOG_LEVEL: "info" });
  });

  it("reads numbers from their string form", () => {
    const config = readConfig({ SUPABASE_DB_URL: DB_URL, MAX_BODY_BYTES: "2048", DB_POOL_MAX: "3", LOG_LEVEL: "debug" });
    expect(config).toMatchObject({ MAX_BODY_BYTES: 2048, DB_POOL_MAX: 3, LOG_LEVEL: "debug" });
  });

  it("throws an error naming SUPABASE_DB_URL when it is missing", () => {
    expect(errorOf({}).message).toContain("SUPABASE_DB_URL");
  });

  it.each([
    ["MAX_BODY_BYTES", "0"],
    ["MAX_BODY_BYTES", "1.5"],
    ["DB_POOL_MAX", "101"],
    ["SECURITY_ALERT_THRESHOLD", "0"],
    ["LOG_LEVEL", "verbose"],
  ])("rejects %s=%s and names the variable", (name, value) => {
    const error = errorOf({ SUPABASE_DB_URL: DB_URL, [name]: value });
    expect(error.message).toContain(name);
  });

  it("names every bad variable at once", () => {
    const message = errorOf({ MAX_BODY_BYTES: "-1", LOG_LEVEL: "loud" }).message;
    for (const name of ["SUPABASE_DB_URL", "MAX_BODY_BYTES", "LOG_LEVEL"]) expect(message).toContain(name);
  });

  it("does not echo a bad value, which may be a secret pasted into the wrong variable", () => {
    const secret = "sk_live_51HxYzAbCdEfGhIjKlMnOpQr";
    const error = errorOf({ SUPABASE_DB_URL: DB_URL, MAX_BODY_BYTES: secret, LOG_LEVEL: secret });
    expect(error.message).toContain("MAX_BODY_BYTES");
    expect(error.message).not.toContain(secret);
    expect(error.message).not.toContain("sk_live");
  });

  it("does not echo a malformed database URL, which carries the password", () => {
    const badUrl = "postgres user:s3cr3t-pa55word@db host/postgres";
    const error = errorOf({ SUPABASE_DB_URL: badUrl });
    expect(error.message).toContain("SUPABASE_DB_URL");
    expect(error.message).not.toContain("s3cr3t-pa55word");
  });
});
