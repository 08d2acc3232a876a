import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseOutage } from "../../dev/chaos/database-outage.ts";
import { duplicateStorm } from "../../dev/chaos/duplicate-storm.ts";
import type { ChaosTarget } from "../../dev/chaos/harness.ts";
import { partnerOutage } from "../../dev/chaos/partner-outage.ts";
import { providerOutage } from "../../dev/chaos/provider-outage.ts";
import { workerCrash } from "../../dev/chaos/worker-crash.ts";
import { type OwnStack, startOwnStack } from "../helpers/own-stack.ts";

// The short resilience suite (`npm run chaos` is the long one): on a stack of its own, since a
// storm's checker counts every effect in the database and every email in the stand-in's inbox.
let own: OwnStack;

beforeAll(async () => {
  own = await startOwnStack("chaos-test", {
    LOG_LEVEL: "error",
    DB_POOL_MAX: "20",
    EMAIL_BATCH_SIZE: "10",
    RESEND_TIMEOUT_MS: "1000",
  });
}, 120_000);

afterAll(async () => {
  await own?.close();
});

const target = (): ChaosTarget => ({
  env: own.stack.env as unknown as Record<string, string>,
  sql: own.sql,
  log: () => {},
  serveExtra: own.stack.serveExtra,
});

describe("duplicate storm", () => {
  it("applies every event once, sends no email twice, and ends each order where a replay would", async () => {
    const result = await duplicateStorm(
      target(),
      200,
      7,
    );
    expect(result, result.notes.join("; ")).toMatchObject({ sent: 1260, lost: 0, duplicated: 0, refused: 0, wrong: 0, pass: true });
    expect(result.effects).toBe(420);
  }, 120_000);
});

describe("database outage", () => {
  it("answers 5xx for what it could not store, and every event ends stored and applied once after the retries", async () => {
    const result = await databaseOutage(
      target(),
      150,
      1,
      1500,
    );
    expect(result, result.notes.join("; ")).toMatchObject({ sent: 150, effects: 150, lost: 0, duplicated: 0, wrong: 0, pass: true });
    expect(result.refused).toBeGreaterThan(0);
  }, 120_000);
});

describe("provider outage", () => {
  it("sends every email exactly once while Resend answers 500s, 429s and nothing", async () => {
    const result = await providerOutage(
      target(),
      120,
      3,
    );
    expect(result, result.notes.join("; ")).toMatchObject({ sent: 120, effects: 120, lost: 0, duplicated: 0, wrong: 0, pass: true });
    expect(result.refused).toBeGreaterThan(0);
  }, 120_000);
});

describe("partner outage", () => {
  it("delivers everything after a simulated hour down, within each partner's rate limit, its circuit opened and closed again", async () => {
    const result = await partnerOutage(target(), 100);
    expect(result, result.notes.join("; ")).toMatchObject({ sent: 100, effects: 100, lost: 0, duplicated: 0, wrong: 0, pass: true });
    expect(result.refused).toBeGreaterThan(0);
  }, 120_000);
});

describe("worker crash", () => {
  it("loses nothing and sends no email twice when workers are killed with SIGKILL mid-batch", async () => {
    const result = await workerCrash(target(), 150, 5, 3);
    expect(result, result.notes.join("; ")).toMatchObject({ sent: 300, effects: 300, lost: 0, duplicated: 0, wrong: 0, pass: true });
  }, 120_000);
});
