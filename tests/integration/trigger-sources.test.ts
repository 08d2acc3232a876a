import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { triggerSource } from "../../dev/trigger/source.ts";
import { VERIFIER_KINDS } from "../../supabase/functions/_shared/webhook-verify/types.ts";
import { stack, testSql } from "../helpers/stack.ts";

// `npm run trigger -- <verifier> [type]`: a signed sample for every verifier, with no account.
const sql = testSql();

beforeAll(() => {
  vi.spyOn(console, "log").mockImplementation(() => {});
});

afterAll(async () => {
  vi.restoreAllMocks();
  await sql`delete from public.webhook_sources where name like 'trigger: %'`;
});

describe.each(VERIFIER_KINDS)("npm run trigger -- %s", (verifier) => {
  it("creates the trigger source once, and each run's sample is verified and stored", async () => {
    for (let run = 0; run < 2; run++) {
      expect(await triggerSource({ verifier, env: stack as unknown as Record<string, string> })).toBe(true);
    }
    const sources = await sql<{ id: string }[]>`
      select id from public.webhook_sources where name = ${`trigger: ${verifier}`}`;
    expect(sources).toHaveLength(1);
    const events = await sql`
      select status from public.webhook_events where source_id = ${sources[0].id}`;
    expect(events).toEqual([{ status: "processed" }, { status: "processed" }]);
  });
});

describe("npm run trigger -- <verifier> <type> --source <id>", () => {
  it("posts to that source with that type", async () => {
    const [source] = await sql<{ id: string }[]>`
      select id from public.webhook_sources where name = 'trigger: github'`;
    expect(await triggerSource({ verifier: "github", type: "issues", sourceId: source.id, env: stack as unknown as Record<string, string> }))
      .toBe(true);
    const [event] = await sql`
      select event_type from public.webhook_events where source_id = ${source.id} order by id desc limit 1`;
    expect(event).toEqual({ event_type: "issues" });
  });

  it("refuses an unknown verifier", async () => {
    await expect(triggerSource({ verifier: "carrier-pigeon", env: stack as unknown as Record<string, string> }))
      .rejects.toThrow(/Unknown verifier carrier-pigeon/);
  });
});
