import { randomInt, randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { jsonb } from "../../supabase/functions/_shared/sql-json.ts";
import { functionUrl, signJwt, stack, testSql } from "../helpers/stack.ts";

const sql = testSql();
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

// Generated traffic in a three-day window of its own, far from the other files' "now", written
// through the same SQL function the ingest endpoint uses; the API's answers are checked against
// sums computed here from the generated rows.
const base = Date.UTC(2019, 0, 1) + randomInt(0, 2000) * DAY;
const NAMES = ["page_view", "view_item", "add_to_cart", "begin_checkout", "purchase", "share"] as const;
const PLATFORMS = ["facebook", "x", "whatsapp", "copy_link"];

interface Generated {
  session: string;
  name: string;
  at: number;
  content: string | null;
  platform: string | null;
}

function generate(): Generated[] {
  const out: Generated[] = [];
  for (let s = 0; s < 240; s++) {
    const session = `gen-${randomUUID()}`;
    const start = base + randomInt(0, 3 * DAY - 2 * HOUR);
    for (let e = randomInt(1, 14); e > 0; e--) {
      const name = NAMES[Math.min(randomInt(0, 7), NAMES.length - 1)];
      const content = name === "page_view" || name === "begin_checkout" ? null : `p${randomInt(0, 12)}`;
      out.push({
        session,
        name,
        at: start + randomInt(0, 2 * HOUR),
        content,
        platform: name === "share" ? PLATFORMS[randomInt(0, PLATFORMS.length)] : null,
      });
    }
  }
  return out;
}

const generated = generate();

beforeAll(async () => {
  const rows = generated.map((g) => ({
    client_event_id: randomUUID(),
    event_name: g.name,
    occurred_at: new Date(g.at).toISOString(),
    session_id: g.session,
    content_type: g.content ? "product" : null,
    content_id: g.content,
    platform: g.platform,
    ip_hash: "0".repeat(32),
  }));
  // One statement: the stack is shared, and analytics-ingest's prune_tracking_state() drops the
  // session sets of old buckets, so between two chunks it could make a session count twice.
  await sql`select public.ingest_analytics_events(${jsonb(sql, rows)})`;
});

async function metric(path: string, token = stack.SUPABASE_SERVICE_ROLE_KEY) {
  const res = await fetch(`${functionUrl("analytics-service")}/metrics/${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: await res.json() };
}

const iso = (ms: number) => new Date(ms).toISOString();
const floorTo = (ms: number, size: number) => Math.floor(ms / size) * size;
const ceilTo = (ms: number, size: number) => Math.ceil(ms / size) * size;

function expectedBuckets(from: number, to: number, size: number) {
  const groups = new Map<string, { count: number; sessions: Set<string> }>();
  for (const g of generated) {
    if (g.at < from || g.at >= to) continue;
    const key = `${iso(floorTo(g.at, size))}|${g.name}`;
    const group = groups.get(key) ?? { count: 0, sessions: new Set() };
    group.count++;
    group.sessions.add(g.session);
    groups.set(key, group);
  }
  return [...groups.entries()]
    .map(([key, group]) => {
      const [bucket, event] = key.split("|");
      return { bucket, event, count: group.count, unique_sessions: group.sessions.size };
    })
    .sort((a, b) => a.bucket.localeCompare(b.bucket) || a.event.localeCompare(b.event));
}

describe("analytics-service metrics: answers match the generated traffic", () => {
  it.each([
    ["day", base, base + 3 * DAY],
    ["hour", base + 5.5 * HOUR, base + 30.25 * HOUR],
  ] as const)("counts events and unique sessions per %s bucket", async (interval, from, to) => {
    const size = interval === "day" ? DAY : HOUR;
    const res = await metric(`events?from=${iso(from)}&to=${iso(to)}&interval=${interval}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.from).toBe(iso(floorTo(from, size)));
    expect(res.body.to).toBe(iso(ceilTo(to, size)));
    expect(res.body.buckets).toEqual(expectedBuckets(floorTo(from, size), ceilTo(to, size), size));
  });

  it("filters by event names in any spelling", async () => {
    const res = await metric(`events?from=${iso(base)}&to=${iso(base + 3 * DAY)}&events=Add To Cart,purchase`);
    const expected = expectedBuckets(base, base + 3 * DAY, DAY).filter((b) => ["add_to_cart", "purchase"].includes(b.event));
    expect(res.body.buckets).toEqual(expected);
  });

  it("counts shares per platform", async () => {
    const res = await metric(`shares?from=${iso(base)}&to=${iso(base + 3 * DAY)}`);
    const counts = new Map<string, number>();
    for (const g of generated) if (g.platform) counts.set(g.platform, (counts.get(g.platform) ?? 0) + 1);
    const expected = [...counts.entries()]
      .map(([platform, count]) => ({ platform, count }))
      .sort((a, b) => b.count - a.count || a.platform.localeCompare(b.platform));
    expect(res.body.platforms).toEqual(expected);
  });

  it.each(["view_item", "share"])("ranks the top content by %s", async (event) => {
    const res = await metric(`top-content?from=${iso(base)}&to=${iso(base + 3 * DAY)}&event=${event}&limit=5`);
    const counts = new Map<string, number>();
    for (const g of generated) if (g.name === event && g.content) counts.set(g.content, (counts.get(g.content) ?? 0) + 1);
    const expected = [...counts.entries()]
      .map(([content_id, count]) => ({ content_type: "product", content_id, count }))
      .sort((a, b) => b.count - a.count || a.content_id.localeCompare(b.content_id))
      .slice(0, 5);
    expect(res.body.items).toEqual(expected);
  });

  it("walks a funnel by each session's first occurrences, in order", async () => {
    const steps = ["page_view", "view_item", "add_to_cart", "purchase"];
    const from = base + 12 * HOUR;
    const to = base + 60 * HOUR;
    const firsts = new Map<string, number>();
    for (const g of generated) {
      const key = `${g.session}|${g.name}`;
      firsts.set(key, Math.min(firsts.get(key) ?? Infinity, g.at));
    }
    const sessions = [...new Set(generated.map((g) => g.session))];
    const reached = steps.map(() => 0);
    for (const session of sessions) {
      let previous = -Infinity;
      for (const [index, step] of steps.entries()) {
        const at = firsts.get(`${session}|${step}`);
        const inRange = at !== undefined && at >= (index === 0 ? from : previous) && at < to;
        if (!inRange) break;
        reached[index]++;
        previous = at;
      }
    }
    const res = await metric(`funnel?from=${iso(from)}&to=${iso(to)}&steps=${steps.join(",")}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(reached[0]).toBeGreaterThan(0);
    expect(res.body.steps.map((s: { sessions: number }) => s.sessions)).toEqual(reached);
    expect(res.body.steps[1].conversion_from_previous).toBeCloseTo(reached[1] / reached[0], 4);
    expect(res.body.steps[3].conversion_from_start).toBeCloseTo(reached[3] / reached[0], 4);
  });
});

describe("analytics-service metrics: who may ask", () => {
  const path = () => `events?from=${iso(base)}&to=${iso(base + DAY)}`;

  it("answers the service role and an admin", async () => {
    expect((await metric(path())).status).toBe(200);
    const admin = await signJwt({ role: "authenticated", app_metadata: { role: "admin", tenant_id: randomUUID() } });
    expect((await metric(path(), admin)).status).toBe(200);
  });

  it("refuses the anon key and signed-in users with 403, and no token with 401", async () => {
    expect((await metric(path(), stack.SUPABASE_ANON_KEY)).status).toBe(403);
    const user = await signJwt({ role: "authenticated", sub: randomUUID() });
    expect((await metric(path(), user)).status).toBe(403);
    const none = await fetch(`${functionUrl("analytics-service")}/metrics/${path()}`);
    expect(none.status).toBe(401);
  });
});

describe("analytics-service metrics: validated queries", () => {
  const from = iso(base);
  it.each([
    ["a missing from", `events?to=${from}`, "from"],
    ["a date without offset", `events?from=2019-01-01T00:00:00&to=${from}`, "from"],
    ["to before from", `events?from=${iso(base + DAY)}&to=${from}`, "to"],
    ["hours over 31 days", `events?from=${from}&to=${iso(base + 40 * DAY)}&interval=hour`, "to"],
    ["an unknown interval", `events?from=${from}&to=${iso(base + DAY)}&interval=week`, "interval"],
    ["an invalid event name", `events?from=${from}&to=${iso(base + DAY)}&events=page_view,9x`, "events"],
    ["an unknown parameter", `shares?from=${from}&to=${iso(base + DAY)}&platform=x`, ""],
    ["a limit over 100", `top-content?from=${from}&to=${iso(base + DAY)}&limit=1000`, "limit"],
    ["a one-step funnel", `funnel?from=${from}&to=${iso(base + DAY)}&steps=page_view`, "steps"],
    ["a funnel repeating a step", `funnel?from=${from}&to=${iso(base + DAY)}&steps=page_view,Page View`, "steps"],
  ])("answers 400 for %s", async (_label, path, field) => {
    const res = await metric(path);
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(field);
  });

  it("answers 404 for an unknown metric or path", async () => {
    expect((await metric(`revenue?from=${from}`)).status).toBe(404);
    expect((await metric(`events/extra?from=${from}`)).status).toBe(404);
  });
});
