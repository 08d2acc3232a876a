import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { analyticsServiceConfig } from "../../supabase/functions/_shared/config/analytics-service.ts";
import { emailServiceConfig } from "../../supabase/functions/_shared/config/email-service.ts";
import { ConfigError, configOrExit, readConfig } from "../../supabase/functions/_shared/config/read.ts";
import { resendWebhookConfig } from "../../supabase/functions/_shared/config/resend-webhook.ts";
import { stripeWebhookConfig } from "../../supabase/functions/_shared/config/stripe-webhook.ts";
import { trackSocialShareConfig } from "../../supabase/functions/_shared/config/track-social-share.ts";
import { webhookDispatcherConfig } from "../../supabase/functions/_shared/config/webhook-dispatcher.ts";
import { webhookEndpointsConfig } from "../../supabase/functions/_shared/config/webhook-endpoints.ts";
import { inboundWebhookConfig } from "../../supabase/functions/_shared/config/inbound-webhook.ts";
import { webhookSourcesConfig } from "../../supabase/functions/_shared/config/webhook-sources.ts";
import { operationsConfig } from "../../supabase/functions/_shared/config/operations.ts";
import { jwtKeysOf } from "../../supabase/functions/_shared/runtime.ts";
import { MIRRORED_OBJECTS } from "../../supabase/functions/_shared/stripe-mirror.ts";

const DB_URL = "postgresql://postgres:postgres@127.0.0.1:54322/postgres";

/** Each function's schema and the least environment it starts with. */
const FUNCTIONS: Record<string, { schema: z.ZodType; minimal: Record<string, string> }> = {
  "stripe-webhook": {
    schema: stripeWebhookConfig,
    minimal: { SUPABASE_DB_URL: DB_URL, STRIPE_WEBHOOK_SECRET: "whsec_a" },
  },
  "resend-webhook": {
    schema: resendWebhookConfig,
    minimal: { SUPABASE_DB_URL: DB_URL, RESEND_WEBHOOK_SECRET: "whsec_b" },
  },
  "email-service": { schema: emailServiceConfig, minimal: { SUPABASE_DB_URL: DB_URL, RESEND_API_KEY: "re_local" } },
  "webhook-endpoints": { schema: webhookEndpointsConfig, minimal: { SUPABASE_DB_URL: DB_URL } },
  "webhook-dispatcher": { schema: webhookDispatcherConfig, minimal: { SUPABASE_DB_URL: DB_URL } },
  "track-social-share": { schema: trackSocialShareConfig, minimal: { SUPABASE_DB_URL: DB_URL } },
  "analytics-service": { schema: analyticsServiceConfig, minimal: { SUPABASE_DB_URL: DB_URL } },
  "inbound-webhook": { schema: inboundWebhookConfig, minimal: { SUPABASE_DB_URL: DB_URL } },
  "webhook-sources": {
    schema: webhookSourcesConfig,
    minimal: { SUPABASE_DB_URL: DB_URL, SUPABASE_URL: "https://ref.supabase.co" },
  },
  operations: { schema: operationsConfig, minimal: { SUPABASE_DB_URL: DB_URL } },
};
const NAMES = Object.keys(FUNCTIONS);

const BASE_DEFAULTS = {
  SUPABASE_DB_URL: DB_URL,
  LOG_LEVEL: "info",
  DB_POOL_MAX: 10,
  MAX_BODY_BYTES: 1048576,
  SECURITY_ALERT_THRESHOLD: 20,
  SECURITY_ALERT_WINDOW_SECONDS: 60,
  CLIENT_IP_HEADER: "x-forwarded-for",
  TRUSTED_PROXY_HOPS: 1,
};

/** Every variable any function reads, each set to a valid value. */
const FULL_ENV: Record<string, string> = {
  SUPABASE_DB_URL: DB_URL,
  LOG_LEVEL: "debug",
  DB_POOL_MAX: "3",
  MAX_BODY_BYTES: "2048",
  SECURITY_ALERT_THRESHOLD: "5",
  SECURITY_ALERT_WINDOW_SECONDS: "30",
  CLIENT_IP_HEADER: "CF-Connecting-IP",
  TRUSTED_PROXY_HOPS: "2",
  STRIPE_WEBHOOK_SECRET: "whsec_a",
  RESEND_WEBHOOK_SECRET: "whsec_b",
  RESEND_API_KEY: "re_local",
  RESEND_BASE_URL: "http://127.0.0.1:54324",
  EMAIL_FROM: "Shop <orders@shop.example>",
  EMAIL_WAKEUP_SECRET: "wakeup-secret-0123456789",
  RESEND_RATE_LIMIT_PER_SECOND: "2",
  EMAIL_BATCH_SIZE: "50",
  EMAIL_LEASE_SECONDS: "30",
  EMAIL_DRAIN_SECONDS: "10",
  RESEND_TIMEOUT_MS: "5000",
  SUPABASE_SERVICE_ROLE_KEY: "service-role-key",
  SUPABASE_JWT_SECRET: "jwt-secret-0123456789abcdef",
  SUPABASE_URL: "http://127.0.0.1:54321",
  SUPABASE_JWKS_URL: "http://127.0.0.1:54321/jwks",
  WEBHOOK_ALLOW_HTTP: "true",
  WEBHOOK_ALLOWED_HOSTS: "127.0.0.1,localhost",
  WEBHOOK_WAKEUP_SECRET: "wakeup-secret-abcdefghij",
  WEBHOOK_TIMEOUT_MS: "1000",
  WEBHOOK_CIRCUIT_THRESHOLD: "3",
  WEBHOOK_CIRCUIT_COOLDOWN_SECONDS: "10",
  WEBHOOK_LEASE_SECONDS: "30",
  WEBHOOK_DISPATCH_SECONDS: "5",
  WEBHOOK_CONCURRENCY: "8",
  CORS_ALLOWED_ORIGINS: "https://shop.example",
  SHARE_DEDUP_WINDOW_SECONDS: "60",
  SHARE_IP_LIMIT_PER_MINUTE: "10",
  SHARE_SESSION_LIMIT_PER_MINUTE: "5",
  ANALYTICS_IP_LIMIT_PER_MINUTE: "100",
  ANALYTICS_CUSTOM_EVENTS: "quiz_done",
  FUNCTIONS_PUBLIC_URL: "https://hooks.shop.example/functions/v1",
  INBOUND_WAKEUP_SECRET: "wakeup-secret-klmnopqrst",
  INBOUND_SOURCE_CACHE_SECONDS: "2",
  INBOUND_BATCH_LIMIT: "50",
  INBOUND_PROCESS_SECONDS: "5",
  PAYPAL_CERT_HOSTS: "127.0.0.1",
  OPS_HEALTH_CACHE_SECONDS: "10",
  STRIPE_MIRROR: "customers,invoices",
  // Set for other programs on the same machine: no function reads them.
  DATABASE_URL: DB_URL,
  EMAIL_SWEEP_SECONDS: "5",
  PATH: "/usr/bin",
};

function errorOf(name: string, env: Record<string, string | undefined>): ConfigError {
  try {
    readConfig(FUNCTIONS[name].schema, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected ${name}'s configuration to be refused`);
}

const read = (name: string, env: Record<string, string | undefined> = {}) =>
  readConfig(FUNCTIONS[name].schema, { ...FUNCTIONS[name].minimal, ...env }) as Record<string, unknown>;

describe("each function reads exactly its own variables", () => {
  const expected: Record<string, string[]> = {
    "stripe-webhook": ["STRIPE_WEBHOOK_SECRET", "STRIPE_MIRROR"],
    "resend-webhook": ["RESEND_WEBHOOK_SECRET"],
    "email-service": [
      "SUPABASE_SERVICE_ROLE_KEY",
      "RESEND_API_KEY",
      "RESEND_BASE_URL",
      "EMAIL_FROM",
      "EMAIL_WAKEUP_SECRET",
      "RESEND_RATE_LIMIT_PER_SECOND",
      "EMAIL_BATCH_SIZE",
      "EMAIL_LEASE_SECONDS",
      "EMAIL_DRAIN_SECONDS",
      "RESEND_TIMEOUT_MS",
    ],
    "webhook-endpoints": [
      "SUPABASE_SERVICE_ROLE_KEY",
      "SUPABASE_JWT_SECRET",
      "SUPABASE_URL",
      "SUPABASE_JWKS_URL",
      "CORS_ALLOWED_ORIGINS",
      "WEBHOOK_ALLOW_HTTP",
      "WEBHOOK_ALLOWED_HOSTS",
    ],
    "webhook-dispatcher": [
      "SUPABASE_SERVICE_ROLE_KEY",
      "WEBHOOK_ALLOW_HTTP",
      "WEBHOOK_ALLOWED_HOSTS",
      "WEBHOOK_WAKEUP_SECRET",
      "WEBHOOK_TIMEOUT_MS",
      "WEBHOOK_CIRCUIT_THRESHOLD",
      "WEBHOOK_CIRCUIT_COOLDOWN_SECONDS",
      "WEBHOOK_LEASE_SECONDS",
      "WEBHOOK_DISPATCH_SECONDS",
      "WEBHOOK_CONCURRENCY",
    ],
    "track-social-share": [
      "SUPABASE_JWT_SECRET",
      "SUPABASE_URL",
      "SUPABASE_JWKS_URL",
      "CORS_ALLOWED_ORIGINS",
      "SHARE_DEDUP_WINDOW_SECONDS",
      "SHARE_IP_LIMIT_PER_MINUTE",
      "SHARE_SESSION_LIMIT_PER_MINUTE",
    ],
    "analytics-service": [
      "SUPABASE_SERVICE_ROLE_KEY",
      "SUPABASE_JWT_SECRET",
      "SUPABASE_URL",
      "SUPABASE_JWKS_URL",
      "CORS_ALLOWED_ORIGINS",
      "ANALYTICS_IP_LIMIT_PER_MINUTE",
      "ANALYTICS_CUSTOM_EVENTS",
    ],
    "inbound-webhook": [
      "SUPABASE_SERVICE_ROLE_KEY",
      "SUPABASE_URL",
      "FUNCTIONS_PUBLIC_URL",
      "WEBHOOK_ALLOW_HTTP",
      "WEBHOOK_ALLOWED_HOSTS",
      "INBOUND_WAKEUP_SECRET",
      "INBOUND_SOURCE_CACHE_SECONDS",
      "INBOUND_BATCH_LIMIT",
      "INBOUND_PROCESS_SECONDS",
      "PAYPAL_CERT_HOSTS",
    ],
    "webhook-sources": [
      "SUPABASE_SERVICE_ROLE_KEY",
      "SUPABASE_JWT_SECRET",
      "SUPABASE_URL",
      "SUPABASE_JWKS_URL",
      "CORS_ALLOWED_ORIGINS",
      "FUNCTIONS_PUBLIC_URL",
    ],
    operations: [
      "SUPABASE_SERVICE_ROLE_KEY",
      "SUPABASE_JWT_SECRET",
      "SUPABASE_URL",
      "SUPABASE_JWKS_URL",
      "CORS_ALLOWED_ORIGINS",
      "OPS_HEALTH_CACHE_SECONDS",
      "STRIPE_MIRROR",
    ],
  };

  it.each(NAMES)("%s: the shared variables and its own, nothing else from the environment", (name) => {
    const config = readConfig(FUNCTIONS[name].schema, FULL_ENV) as Record<string, unknown>;
    expect(Object.keys(config).sort()).toEqual([...Object.keys(BASE_DEFAULTS), ...expected[name]].sort());
  });

  it.each(NAMES)("%s: reads the shared variables from their string form", (name) => {
    expect(readConfig(FUNCTIONS[name].schema, FULL_ENV)).toMatchObject({
      LOG_LEVEL: "debug",
      DB_POOL_MAX: 3,
      MAX_BODY_BYTES: 2048,
      SECURITY_ALERT_THRESHOLD: 5,
      SECURITY_ALERT_WINDOW_SECONDS: 30,
      CLIENT_IP_HEADER: "cf-connecting-ip",
      TRUSTED_PROXY_HOPS: 2,
    });
  });

  it.each(NAMES)("%s: starts although every other function's variables are invalid", (name) => {
    const othersBroken = Object.fromEntries(
      Object.keys(FULL_ENV)
        .filter((variable) => !(variable in BASE_DEFAULTS) && !expected[name].includes(variable))
        .map((variable) => [variable, "not valid for anyone: -1"]),
    );
    expect(() => readConfig(FUNCTIONS[name].schema, { ...FULL_ENV, ...othersBroken })).not.toThrow();
  });

  it("a bad EMAIL_BATCH_SIZE stops email-service only", () => {
    const env = { ...FULL_ENV, EMAIL_BATCH_SIZE: "500" };
    for (const name of NAMES.filter((n) => n !== "email-service")) {
      expect(() => readConfig(FUNCTIONS[name].schema, env), name).not.toThrow();
    }
    expect(errorOf("email-service", env).problems.map((p) => p.variable)).toEqual(["EMAIL_BATCH_SIZE"]);
  });
});

describe("defaults", () => {
  it.each(NAMES)("%s: applies the shared defaults", (name) => {
    expect(read(name)).toMatchObject(BASE_DEFAULTS);
  });

  it("stripe-webhook and resend-webhook: their secrets, and what stripe-webhook mirrors", () => {
    expect(read("stripe-webhook")).toEqual({
      ...BASE_DEFAULTS,
      STRIPE_WEBHOOK_SECRET: ["whsec_a"],
      STRIPE_MIRROR: Object.keys(MIRRORED_OBJECTS),
    });
    expect(read("stripe-webhook", { STRIPE_MIRROR: " customers , invoices " }).STRIPE_MIRROR).toEqual(["customers", "invoices"]);
    expect(read("stripe-webhook", { STRIPE_MIRROR: "none" }).STRIPE_MIRROR).toEqual([]);
    expect(errorOf("stripe-webhook", { ...FUNCTIONS["stripe-webhook"].minimal, STRIPE_MIRROR: "customers,orders" }).problems)
      .toEqual([{ variable: "STRIPE_MIRROR", problem: "is invalid (names no mirrored object: orders)" }]);
    expect(read("resend-webhook")).toEqual({ ...BASE_DEFAULTS, RESEND_WEBHOOK_SECRET: ["whsec_b"] });
  });

  it("email-service", () => {
    expect(read("email-service")).toEqual({
      ...BASE_DEFAULTS,
      RESEND_API_KEY: "re_local",
      RESEND_BASE_URL: "https://api.resend.com",
      EMAIL_FROM: "Shop <no-reply@example.com>",
      RESEND_RATE_LIMIT_PER_SECOND: 5,
      EMAIL_BATCH_SIZE: 100,
      EMAIL_LEASE_SECONDS: 60,
      EMAIL_DRAIN_SECONDS: 20,
      RESEND_TIMEOUT_MS: 15000,
    });
  });

  it("webhook-endpoints and webhook-dispatcher", () => {
    expect(read("webhook-endpoints")).toEqual({
      ...BASE_DEFAULTS,
      CORS_ALLOWED_ORIGINS: [],
      WEBHOOK_ALLOW_HTTP: false,
      WEBHOOK_ALLOWED_HOSTS: [],
    });
    expect(read("webhook-dispatcher")).toEqual({
      ...BASE_DEFAULTS,
      WEBHOOK_ALLOW_HTTP: false,
      WEBHOOK_ALLOWED_HOSTS: [],
      WEBHOOK_TIMEOUT_MS: 15000,
      WEBHOOK_CIRCUIT_COOLDOWN_SECONDS: 60,
      WEBHOOK_LEASE_SECONDS: 60,
      WEBHOOK_DISPATCH_SECONDS: 20,
      WEBHOOK_CONCURRENCY: 32,
    });
  });

  it("track-social-share and analytics-service", () => {
    expect(read("track-social-share")).toEqual({
      ...BASE_DEFAULTS,
      CORS_ALLOWED_ORIGINS: [],
      SHARE_DEDUP_WINDOW_SECONDS: 1800,
      SHARE_IP_LIMIT_PER_MINUTE: 60,
      SHARE_SESSION_LIMIT_PER_MINUTE: 20,
    });
    expect(read("analytics-service")).toEqual({
      ...BASE_DEFAULTS,
      CORS_ALLOWED_ORIGINS: [],
      ANALYTICS_IP_LIMIT_PER_MINUTE: 600,
      ANALYTICS_CUSTOM_EVENTS: [],
    });
  });

  it("treats an empty variable as unset and applies its default", () => {
    expect(read("stripe-webhook", { MAX_BODY_BYTES: "", LOG_LEVEL: "" })).toMatchObject({
      MAX_BODY_BYTES: 1048576,
      LOG_LEVEL: "info",
    });
  });

  it("turns a comma-separated secret into a trimmed list without empty entries", () => {
    expect(read("stripe-webhook", { STRIPE_WEBHOOK_SECRET: " whsec_new , whsec_old,, " }).STRIPE_WEBHOOK_SECRET)
      .toEqual(["whsec_new", "whsec_old"]);
  });

  it("derives the JWKS address from SUPABASE_URL unless SUPABASE_JWKS_URL is set", () => {
    expect(jwtKeysOf({ SUPABASE_URL: "https://ref.supabase.co" })).toEqual({
      secret: undefined,
      jwksUrl: "https://ref.supabase.co/auth/v1/.well-known/jwks.json",
    });
    expect(
      jwtKeysOf({ SUPABASE_URL: "https://ref.supabase.co", SUPABASE_JWKS_URL: "https://keys.example/jwks" }).jwksUrl,
    )
      .toBe("https://keys.example/jwks");
    expect(jwtKeysOf({})).toEqual({ secret: undefined, jwksUrl: undefined });
  });
});

describe("required and invalid variables", () => {
  it.each(NAMES)("%s: refuses to start without SUPABASE_DB_URL", (name) => {
    const { SUPABASE_DB_URL: _, ...rest } = FUNCTIONS[name].minimal;
    expect(errorOf(name, rest).problems).toEqual([{ variable: "SUPABASE_DB_URL", problem: "is not set" }]);
  });

  it.each([
    ["stripe-webhook", "STRIPE_WEBHOOK_SECRET"],
    ["resend-webhook", "RESEND_WEBHOOK_SECRET"],
    ["email-service", "RESEND_API_KEY"],
  ])("%s: refuses to start without %s, or with it empty", (name, variable) => {
    expect(errorOf(name, { SUPABASE_DB_URL: DB_URL }).problems).toEqual([{ variable, problem: "is not set" }]);
    expect(errorOf(name, { SUPABASE_DB_URL: DB_URL, [variable]: "" }).problems).toEqual([
      { variable, problem: "is not set" },
    ]);
  });

  it.each(["STRIPE_WEBHOOK_SECRET", "RESEND_WEBHOOK_SECRET"])("refuses a %s list that names no secret", (variable) => {
    const name = variable.startsWith("STRIPE") ? "stripe-webhook" : "resend-webhook";
    expect(errorOf(name, { SUPABASE_DB_URL: DB_URL, [variable]: " , ," }).problems).toEqual([
      { variable, problem: expect.stringContaining("is invalid") },
    ]);
  });

  it.each([
    ["stripe-webhook", "MAX_BODY_BYTES", "0"],
    ["stripe-webhook", "MAX_BODY_BYTES", "1.5"],
    ["resend-webhook", "DB_POOL_MAX", "101"],
    ["webhook-endpoints", "SECURITY_ALERT_THRESHOLD", "0"],
    ["track-social-share", "LOG_LEVEL", "verbose"],
    ["analytics-service", "TRUSTED_PROXY_HOPS", "11"],
    ["email-service", "EMAIL_BATCH_SIZE", "101"],
    ["email-service", "EMAIL_WAKEUP_SECRET", "short"],
    ["webhook-dispatcher", "WEBHOOK_CONCURRENCY", "0"],
    ["webhook-dispatcher", "WEBHOOK_ALLOW_HTTP", "yes"],
    ["webhook-endpoints", "SUPABASE_JWT_SECRET", "short"],
    ["track-social-share", "SHARE_IP_LIMIT_PER_MINUTE", "-1"],
  ])("%s: rejects %s=%s and names the variable", (name, variable, value) => {
    const problems = errorOf(name, { ...FUNCTIONS[name].minimal, [variable]: value }).problems;
    expect(problems.map((p) => p.variable)).toEqual([variable]);
    expect(problems[0].problem).toMatch(/^is invalid \(.+\)$/);
  });

  it("names every bad variable at once", () => {
    const error = errorOf("stripe-webhook", { MAX_BODY_BYTES: "-1", LOG_LEVEL: "loud" });
    expect(error.problems.map((p) => p.variable).sort()).toEqual(
      ["LOG_LEVEL", "MAX_BODY_BYTES", "STRIPE_WEBHOOK_SECRET", "SUPABASE_DB_URL"],
    );
    for (const name of ["SUPABASE_DB_URL", "MAX_BODY_BYTES", "LOG_LEVEL"]) expect(error.message).toContain(name);
  });

  it.each(NAMES)("%s: does not echo a bad value, which may be a secret pasted into the wrong variable", (name) => {
    const secret = "sk_live_51HxYzAbCdEfGhIjKlMnOpQr";
    const error = errorOf(name, { ...FUNCTIONS[name].minimal, MAX_BODY_BYTES: secret, LOG_LEVEL: secret });
    expect(error.message).toContain("MAX_BODY_BYTES");
    expect(error.message).not.toContain(secret);
    expect(error.message).not.toContain("sk_live");
  });

  it("does not echo a malformed database URL, which carries the password", () => {
    const badUrl = "postgres user:s3cr3t-pa55word@db host/postgres";
    const error = errorOf("email-service", { SUPABASE_DB_URL: badUrl, RESEND_API_KEY: "re_local" });
    expect(error.message).toContain("SUPABASE_DB_URL");
    expect(error.message).not.toContain("s3cr3t-pa55word");
  });
});

describe("configOrExit", () => {
  const exitWith = (codes: number[]) => (code: number): never => {
    codes.push(code);
    throw new Error("exited");
  };

  it("logs exactly one JSON line naming the bad variables, never their values, then exits 1", () => {
    const lines: string[] = [];
    const codes: number[] = [];
    const env = {
      SUPABASE_DB_URL: DB_URL,
      RESEND_API_KEY: "re_live_abcdefghijklmnop",
      EMAIL_BATCH_SIZE: "re_live_secret_999",
    };
    expect(() => configOrExit("email-service", emailServiceConfig, env, exitWith(codes), (l) => lines.push(l)))
      .toThrow("exited");
    expect(codes).toEqual([1]);
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]);
    expect(line).toMatchObject({ level: "error", fn: "email-service", variables: ["EMAIL_BATCH_SIZE"] });
    expect(line.msg).toMatch(/^not starting: EMAIL_BATCH_SIZE is invalid/);
    expect(lines[0]).not.toContain("re_live");
    expect(lines[0]).not.toContain("999");
  });

  it("names a missing secret as not set", () => {
    const lines: string[] = [];
    expect(() =>
      configOrExit(
        "stripe-webhook",
        stripeWebhookConfig,
        { SUPABASE_DB_URL: DB_URL },
        exitWith([]),
        (l) => lines.push(l),
      )
    )
      .toThrow("exited");
    expect(JSON.parse(lines[0])).toMatchObject({
      msg: "not starting: STRIPE_WEBHOOK_SECRET is not set",
      variables: ["STRIPE_WEBHOOK_SECRET"],
    });
  });

  it("returns the configuration, with nothing logged, when it is valid", () => {
    const lines: string[] = [];
    const codes: number[] = [];
    const config = configOrExit("stripe-webhook", stripeWebhookConfig, FULL_ENV, exitWith(codes), (l) => lines.push(l));
    expect(config.STRIPE_WEBHOOK_SECRET).toEqual(["whsec_a"]);
    expect(lines).toEqual([]);
    expect(codes).toEqual([]);
  });
});

describe("the README's environment table is the reference", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("## Environment variables"), readme.indexOf("`npm start` writes these"));
  const rows = [...section.matchAll(/^\| `([A-Z0-9_]+)` \| ([^|]+) \| ([^|]+) \|/gm)].map((
    [, variable, usedBy, def],
  ) => ({
    variable,
    usedBy: usedBy.trim(),
    def: def.trim(),
  }));
  const readers = (variable: string) =>
    NAMES.filter((name) => variable in (FUNCTIONS[name].schema as z.ZodObject).shape);
  const schemaVariables = [
    ...new Set(NAMES.flatMap((name) => Object.keys((FUNCTIONS[name].schema as z.ZodObject).shape))),
  ];

  it("has a row for every variable a function reads", () => {
    expect(rows.length).toBeGreaterThan(30);
    expect(schemaVariables.filter((v) => !rows.some((row) => row.variable === v))).toEqual([]);
  });

  it("says which functions read each variable: `functions` for all of them", () => {
    for (const { variable, usedBy } of rows) {
      const named = [...usedBy.matchAll(/`([a-z-]+)`/g)].map(([, name]) => name).filter((name) => NAMES.includes(name));
      const actual = readers(variable);
      if (usedBy === "functions") expect(actual, variable).toEqual(NAMES);
      else expect(actual, `${variable}: used by ${usedBy}`).toEqual(NAMES.filter((name) => named.includes(name)));
    }
  });

  it("gives each default exactly, and marks the required ones", () => {
    for (const { variable, def } of rows) {
      for (const name of readers(variable)) {
        const { [variable]: _, ...withoutIt } = FUNCTIONS[name].minimal;
        let value: unknown;
        try {
          value = (readConfig(FUNCTIONS[name].schema, withoutIt) as Record<string, unknown>)[variable];
        } catch (error) {
          expect(def, `${variable} is required by ${name}`).toMatch(/required|set by Supabase/);
          expect((error as ConfigError).problems, variable).toEqual([{ variable, problem: "is not set" }]);
          continue;
        }
        const literal = /^`([^`$]+)`$/.exec(def)?.[1];
        if (literal !== undefined) expect(String(value), `${variable} in ${name}`).toBe(literal);
        else if (def.startsWith("—")) expect(String(value ?? ""), `${variable} in ${name}`).toBe("");
        else expect(def, variable).toMatch(/set by Supabase|^`\$SUPABASE_URL/);
      }
    }
  });
});
