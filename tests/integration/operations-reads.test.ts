import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { operationsClient } from "../helpers/operations.ts";
import { type OwnStack, startOwnStack } from "../helpers/own-stack.ts";

// The dashboard's reads of /operations (events, one event, emails, one email, the series) and
// CORS on the admin APIs. A stack of its own: the lists and the series count every row in the
// database. The rows are written directly with fixed ages, so every expectation is exact.
let own: OwnStack;
const { call } = operationsClient(() => own);
const ALLOWED = "https://ops.example";

const tenantA = randomUUID();
const tenantB = randomUUID();
let sourceA: string;
let sourceB: string;

async function sign(claims: Record<string, unknown>) {
  const { SignJWT } = await import("jose");
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setExpirationTime("1h")
    .sign(new TextEncoder().encode(own.stack.env.SUPABASE_JWT_SECRET));
}
const admin = (tenantId: string) => sign({ role: "authenticated", app_metadata: { role: "admin", tenant_id: tenantId } });

const insertSource = async (tenantId: string | null) => {
  const [row] = await own.sql`
    insert into public.webhook_sources (tenant_id, name, verifier) values (${tenantId}, 'reads', 'none') returning id`;
  return row.id as string;
};

/** Inserts an inbound event received `minutesAgo` minutes ago; answers its id. */
async function event(
  provider: string,
  fields: { type?: string; status?: string; payload?: unknown; eventId?: string; minutesAgo?: number } = {},
): Promise<string> {
  const [row] = await own.sql`
    insert into public.webhook_events (provider, event_id, event_type, payload, status, received_at)
    values (${provider}, ${fields.eventId ?? `evt_${randomUUID()}`}, ${fields.type ?? "order.shipped"},
            ${own.sql.json((fields.payload ?? { n: 1 }) as never)}, ${fields.status ?? "processed"},
            date_trunc('second', now()) - make_interval(mins => ${fields.minutesAgo ?? 1}))
    returning id::text as id`;
  return row.id;
}

const email = async (fields: { status: string; template?: string; recipient?: string; messageId?: string; minutesAgo: number }) => {
  const [row] = await own.sql`
    insert into public.email_queue (template, recipient, data, status, idempotency_key, provider_message_id, created_at)
    values (${fields.template ?? "order_confirmation"}, ${fields.recipient ?? "ada@example.com"}, '{}', ${fields.status},
            ${`reads:${randomUUID()}`}, ${fields.messageId ?? null}, now() - make_interval(mins => ${fields.minutesAgo}))
    returning id`;
  return row.id as string;
};

/** Walks every page of `path` (limit `limit`), answering the ids in order. */
async function walk(path: string, limit: number, token?: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const separator = path.includes("?") ? "&" : "?";
    const page = await call("GET", `${path}${separator}limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`, { token });
    expect(page.status, JSON.stringify(page.body)).toBe(200);
    expect(page.body.data.length).toBeLessThanOrEqual(limit);
    ids.push(...page.body.data.map((row: { id: string }) => row.id));
    cursor = page.body.next_cursor;
    if (!cursor) return ids;
  }
  throw new Error("more than 100 pages");
}

const ids: Record<string, string> = {};
const emails: Record<string, string> = {};

beforeAll(async () => {
  own = await startOwnStack("operations-reads", {
    LOG_LEVEL: "error",
    OPS_HEALTH_CACHE_SECONDS: "0",
    CORS_ALLOWED_ORIGINS: `${ALLOWED},https://*.ops.example`,
  });
  sourceA = await insertSource(tenantA);
  sourceB = await insertSource(tenantB);
  const a = `source:${sourceA}`;
  // Seven events of source A, two received in the same second (pagination must order by id too).
  ids.a1 = await event(a, { type: "order.paid", minutesAgo: 90 });
  ids.a2 = await event(a, { type: "order.paid", status: "failed", minutesAgo: 60, payload: { note: "The NEEDLE is here" } });
  ids.a3 = await event(a, { status: "unmatched", minutesAgo: 30 });
  ids.a4 = await event(a, { minutesAgo: 20, payload: { pct: "50% off" } });
  ids.a5 = await event(a, { minutesAgo: 20, eventId: "evt_shared" });
  ids.a6 = await event(a, { status: "ignored", minutesAgo: 10 });
  ids.a7 = await event(a, { status: "pending", minutesAgo: 5 });
  ids.b1 = await event(`source:${sourceB}`, { status: "failed", minutesAgo: 15, payload: { note: "needle too" } });
  ids.s1 = await event("stripe", { type: "payment_intent.succeeded", minutesAgo: 40, eventId: "evt_shared" });
  ids.s2 = await event("stripe", { type: "charge.refunded", status: "failed", minutesAgo: 3 });
  ids.r1 = await event("resend", { type: "email.delivered", minutesAgo: 7, payload: { type: "email.delivered", data: { email_id: "msg_1" } } });
  ids.r0 = await event("resend", { type: "email.sent", minutesAgo: 8, payload: { type: "email.sent", data: { email_id: "msg_1" } } });
  ids.r2 = await event("resend", { type: "email.sent", minutesAgo: 2, payload: { data: { email_id: "msg_other" } } });

  // Settled statuses only: the email worker claims pending rows.
  emails.sent = await email({ status: "delivered", messageId: "msg_1", minutesAgo: 30 });
  emails.dead = await email({ status: "dead", recipient: "bob@example.com", minutesAgo: 20 });
  emails.canceled = await email({ status: "canceled", template: "password_reset", minutesAgo: 10 });
}, 120_000);

afterAll(async () => {
  await own?.close();
});

const eventIds = async (query: string, token?: string) => {
  const answer = await call("GET", `operations/events${query}`, { token });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.data.map((row: { id: string }) => row.id);
};

describe("GET /operations/events", () => {
  it("lists every provider's events newest first, with the documented columns", async () => {
    const all = await call("GET", "operations/events");
    expect(all.status).toBe(200);
    const [expected] = [await own.sql`select id::text as id from public.webhook_events order by received_at desc, id desc limit 50`];
    expect(all.body.data.map((row: { id: string }) => row.id)).toEqual(expected.map((row) => row.id));
    expect(all.body.next_cursor).toBeNull();
    const stripe = all.body.data.find((row: { id: string }) => row.id === ids.s2);
    expect(Object.keys(stripe).sort()).toEqual([
      "attempts",
      "duplicates",
      "error",
      "event_id",
      "event_type",
      "id",
      "next_attempt_at",
      "outcome",
      "processed_at",
      "provider",
      "received_at",
      "source_id",
      "status",
    ]);
    expect(stripe).toMatchObject({ provider: "stripe", source_id: null, event_type: "charge.refunded", status: "failed" });
  });

  it("pages without gaps or overlaps, same-second events included", async () => {
    const expected = [ids.a7, ids.a6, ids.a5, ids.a4, ids.a3, ids.a2, ids.a1];
    for (const limit of [1, 2, 3, 7]) {
      expect(await walk(`operations/events?source_id=${sourceA}`, limit)).toEqual(expected);
    }
    const everything = await own.sql`select id::text as id from public.webhook_events order by received_at desc, id desc`;
    expect(await walk("operations/events", 4)).toEqual(everything.map((row) => row.id));
  });

  it("filters by provider, source, status, type, time, event id", async () => {
    expect(await eventIds("?provider=stripe")).toEqual([ids.s2, ids.s1]);
    expect(await eventIds(`?provider=source:${sourceB}`)).toEqual([ids.b1]);
    expect(await eventIds(`?source_id=${sourceA}&status=failed,unmatched`)).toEqual([ids.a3, ids.a2]);
    expect(await eventIds(`?source_id=${sourceA}&status=pending`)).toEqual([ids.a7]);
    expect(await eventIds(`?source_id=${sourceA}&type=order.paid`)).toEqual([ids.a2, ids.a1]);
    const [row] = await own.sql`select received_at from public.webhook_events where id = ${ids.a3}`;
    const at = (row.received_at as Date).toISOString();
    expect(await eventIds(`?source_id=${sourceA}&to=${at}`)).toEqual([ids.a2, ids.a1]);
    expect(await eventIds(`?source_id=${sourceA}&from=${at}&status=unmatched,processed`)).toEqual([ids.a5, ids.a4, ids.a3]);
    expect(await eventIds("?event_id=evt_shared")).toEqual([ids.a5, ids.s1]);
    expect(await eventIds("?event_id=evt_shared&provider=stripe")).toEqual([ids.s1]);
  });

  it("searches payload text case-insensitively, with no wildcards", async () => {
    expect(await eventIds("?q=needle")).toEqual([ids.b1, ids.a2]);
    expect(await eventIds(`?q=NeEdLe&source_id=${sourceA}`)).toEqual([ids.a2]);
    expect(await eventIds(`?q=${encodeURIComponent("50%")}`)).toEqual([ids.a4]);
    expect(await eventIds(`?q=${encodeURIComponent("%")}`)).toEqual([ids.a4]);
    expect(await eventIds("?q=_")).toEqual([ids.r2, ids.r1, ids.r0]);
    expect(await eventIds("?q=nothing-like-this")).toEqual([]);
  });

  it("shows a tenant's admin its own sources' events only, and refuses it Stripe's and Resend's", async () => {
    const token = await admin(tenantA);
    expect(await walk("operations/events", 3, token)).toEqual([ids.a7, ids.a6, ids.a5, ids.a4, ids.a3, ids.a2, ids.a1]);
    expect(await eventIds(`?source_id=${sourceB}`, token)).toEqual([]);
    expect(await eventIds("?event_id=evt_shared", token)).toEqual([ids.a5]);
    expect(await eventIds("?q=needle", token)).toEqual([ids.a2]);
    for (const provider of ["stripe", "resend"]) {
      const refused = await call("GET", `operations/events?provider=${provider}`, { token });
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe("forbidden");
    }
    expect((await call("GET", "operations/events", { token: null })).status).toBe(401);
  });

  it.each([
    ["status=bogus", "query.status"],
    ["limit=0", "query.limit"],
    ["limit=101", "query.limit"],
    ["provider=github", "query.provider"],
    ["source_id=nope", "query.source_id"],
    ["from=yesterday", "query.from"],
    ["cursor=garbage", "query.cursor"],
    [`q=${"x".repeat(201)}`, "query.q"],
    ["ids=1", "query"],
  ])("answers 400 for %s", async (query, path) => {
    const answer = await call("GET", `operations/events?${query}`);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe("invalid_request");
    expect(JSON.stringify(answer.body.error.details)).toContain(path.split(".").at(-1));
  });

  it("refuses a bigint cursor's shape on the uuid list and the reverse", async () => {
    const page = await call("GET", `operations/events?source_id=${sourceA}&limit=1`);
    const answer = await call("GET", `operations/emails?cursor=${page.body.next_cursor}`);
    expect(answer.status).toBe(400);
  });
});

describe("GET /operations/events/:id", () => {
  it("answers the event with its payload, history and audits, newest first", async () => {
    const retry = await call("POST", "operations/actions/retry-event", { body: { id: ids.a2, dry_run: true } });
    expect(retry.status, JSON.stringify(retry.body)).toBe(200);
    const mark = await call("POST", "operations/actions/mark-processed", {
      body: { filter: { ids: [ids.a1, ids.a2] }, dry_run: true },
    });
    expect(mark.status, JSON.stringify(mark.body)).toBe(200);
    await call("POST", "operations/actions/retry-event", { body: { id: ids.a1, dry_run: true } });

    const answer = await call("GET", `operations/events/${ids.a2}`);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      id: ids.a2,
      provider: `source:${sourceA}`,
      source_id: sourceA,
      status: "failed",
      attempts: 1,
      duplicates: 0,
      last_duplicate_at: null,
      request_id: null,
      payload: { note: "The NEEDLE is here" },
    });
    expect(answer.body.audits.map((a: { action: string }) => a.action)).toEqual(["mark-processed", "retry-event"]);
    expect(answer.body.audits[1]).toEqual({
      id: expect.any(String),
      created_at: expect.any(String),
      actor: "platform",
      action: "retry-event",
      dry_run: true,
      touched: expect.any(Number),
      params: { id: ids.a2, dry_run: true },
      request_id: retry.headers.get("x-request-id"),
    });
    expect((await call("GET", `operations/events/${ids.a3}`)).body.audits).toEqual([]);
  });

  it("lets a tenant's admin open its own events only", async () => {
    const token = await admin(tenantA);
    expect((await call("GET", `operations/events/${ids.a3}`, { token })).status).toBe(200);
    for (const id of [ids.b1, ids.s1, ids.r1]) {
      const answer = await call("GET", `operations/events/${id}`, { token });
      expect(answer.status).toBe(404);
      expect(answer.body.error.code).toBe("not_found");
    }
  });

  it.each(["abc", "0", "-1", "99999999999", "9223372036854775808", "1.5"])("answers 404 for id %s", async (id) => {
    const answer = await call("GET", `operations/events/${id}`);
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe("not_found");
  });
});

describe("GET /operations/emails", () => {
  const emailIds = async (query: string) => {
    const answer = await call("GET", `operations/emails${query}`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body.data.map((row: { id: string }) => row.id);
  };

  it("lists emails newest first, with the documented columns, and pages", async () => {
    const all = await call("GET", "operations/emails");
    expect(all.body.data.map((row: { id: string }) => row.id)).toEqual([emails.canceled, emails.dead, emails.sent]);
    expect(Object.keys(all.body.data[0]).sort()).toEqual([
      "attempts",
      "created_at",
      "delivered_at",
      "id",
      "last_error",
      "max_attempts",
      "next_attempt_at",
      "provider_message_id",
      "recipient",
      "sent_at",
      "status",
      "template",
    ]);
    for (const limit of [1, 2]) {
      expect(await walk("operations/emails", limit)).toEqual([emails.canceled, emails.dead, emails.sent]);
    }
  });

  it("filters by status, template, recipient and time", async () => {
    expect(await emailIds("?status=dead")).toEqual([emails.dead]);
    expect(await emailIds("?status=dead,delivered")).toEqual([emails.dead, emails.sent]);
    expect(await emailIds("?template=password_reset")).toEqual([emails.canceled]);
    expect(await emailIds("?recipient=bob@example.com")).toEqual([emails.dead]);
    expect(await emailIds("?recipient=bob@example")).toEqual([]);
    const [row] = await own.sql`select created_at from public.email_queue where id = ${emails.dead}`;
    const at = (row.created_at as Date).toISOString();
    expect(await emailIds(`?from=${at}`)).toEqual([emails.canceled, emails.dead]);
    expect(await emailIds(`?to=${at}`)).toEqual([emails.sent]);
  });

  it("is the platform's only, and validates its query", async () => {
    const token = await admin(tenantA);
    for (const path of ["operations/emails", `operations/emails/${emails.sent}`]) {
      const refused = await call("GET", path, { token });
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe("forbidden");
    }
    for (const query of ["status=lost", "limit=500", "cursor=x", "from=now"]) {
      expect((await call("GET", `operations/emails?${query}`)).status).toBe(400);
    }
  });
});

describe("GET /operations/emails/:id", () => {
  it("answers the email with Resend's events for its message, oldest first", async () => {
    const answer = await call("GET", `operations/emails/${emails.sent}`);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ id: emails.sent, status: "delivered", provider_message_id: "msg_1" });
    expect(answer.body.events).toEqual([
      { id: ids.r0, event_type: "email.sent", status: "processed", received_at: expect.any(String) },
      { id: ids.r1, event_type: "email.delivered", status: "processed", received_at: expect.any(String) },
    ]);
    expect((await call("GET", `operations/emails/${emails.dead}`)).body.events).toEqual([]);
  });

  it.each(["nope", randomUUID()])("answers 404 for %s", async (id) => {
    const answer = await call("GET", `operations/emails/${id}`);
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe("not_found");
  });
});

describe("GET /operations/emails/:id/preview", () => {
  it("renders the email from its template, the layout and the brand as they are now", async () => {
    const [row] = await own.sql`
      insert into public.email_queue (template, recipient, data, status, idempotency_key)
      values ('password_reset', 'ada@example.com', ${own.sql.json({ reset_url: "https://shop.example/r?t=1&u=<x>" })}, 'sent',
              ${`preview:${randomUUID()}`})
      returning id`;
    await own.sql`update public.email_brand set shop_name = 'Preview & Co'`;
    const answer = await call("GET", `operations/emails/${row.id}/preview`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.subject).toMatch(/password/i);
    expect(answer.body.html).toContain("https://shop.example/r?t&#x3D;1&amp;u&#x3D;&lt;x&gt;");
    expect(answer.body.text).toContain("https://shop.example/r?t=1&u=<x>");
  });

  it("answers 422 template_error, naming what is missing, for data the template cannot render", async () => {
    const id = await email({ status: "failed", template: "password_reset", minutesAgo: 1 });
    const answer = await call("GET", `operations/emails/${id}/preview`);
    expect(answer.status).toBe(422);
    expect(answer.body.error).toMatchObject({ code: "template_error", message: expect.stringContaining("reset_url") });
  });

  it("answers 404 for an email that does not exist, and 403 to a tenant admin", async () => {
    expect((await call("GET", `operations/emails/${randomUUID()}/preview`)).status).toBe(404);
    const refused = await call("GET", `operations/emails/${emails.sent}/preview`, { token: await admin(tenantA) });
    expect(refused.status).toBe(403);
  });
});

describe("GET /operations/series", () => {
  /** The database's own count of events since `from`, by provider filter and tenant. */
  const counts = async (from: string, provider?: string, tenant?: string) => {
    const [row] = await own.sql`
      select count(*)::int as total,
             count(*) filter (where status in ('processed', 'ignored'))::int as processed,
             count(*) filter (where status in ('failed', 'unmatched'))::int as failed
      from public.webhook_events e
      where received_at >= ${from}::timestamptz
        ${provider ? own.sql`and provider = ${provider}` : own.sql``}
        ${tenant ? own.sql`and source_id in (select id from public.webhook_sources where tenant_id = ${tenant})` : own.sql``}`;
    return row;
  };
  const sums = (buckets: { total: number; processed: number; failed: number }[]) => ({
    total: buckets.reduce((n, b) => n + b.total, 0),
    processed: buckets.reduce((n, b) => n + b.processed, 0),
    failed: buckets.reduce((n, b) => n + b.failed, 0),
  });

  it("answers a day of hourly buckets by default, aligned, summing to the totals", async () => {
    const answer = await call("GET", "operations/series");
    expect(answer.status).toBe(200);
    const { buckets, totals } = answer.body;
    expect(answer.body).toMatchObject({ window_minutes: 1440, bucket_minutes: 60, component: null });
    expect(buckets).toHaveLength(24);
    expect(answer.body.from).toBe(buckets[0].start);
    for (const [i, bucket] of buckets.entries()) {
      expect(new Date(bucket.start).getTime() % 3_600_000).toBe(0);
      if (i > 0) expect(new Date(bucket.start).getTime() - new Date(buckets[i - 1].start).getTime()).toBe(3_600_000);
    }
    expect(new Date(buckets.at(-1).start).getTime()).toBeLessThanOrEqual(new Date(answer.body.to).getTime());
    expect(sums(buckets)).toEqual(totals);
    expect(totals).toEqual(await counts(answer.body.from));
    expect(totals.total).toBe(13);
  });

  it("puts each event in its bucket", async () => {
    const answer = await call("GET", "operations/series?window=180&bucket=30");
    expect(answer.status).toBe(200);
    expect(answer.body.buckets).toHaveLength(6);
    const expected = await own.sql`
      select date_bin('30 minutes', received_at, timestamptz 'epoch') as start, count(*)::int as total
      from public.webhook_events where received_at >= ${answer.body.from}::timestamptz group by 1`;
    const byStart = new Map(expected.map((row) => [(row.start as Date).toISOString(), row.total]));
    for (const bucket of answer.body.buckets) expect(bucket.total).toBe(byStart.get(bucket.start) ?? 0);
    expect(sums(answer.body.buckets)).toEqual(answer.body.totals);
  });

  it("narrows to one component, and to a tenant's own sources", async () => {
    const source = await call("GET", `operations/series?component=source:${sourceA}`);
    expect(source.body.component).toBe(`source:${sourceA}`);
    expect(source.body.totals).toEqual(await counts(source.body.from, `source:${sourceA}`));
    expect(source.body.totals).toEqual({ total: 7, processed: 4, failed: 2 });
    const stripe = await call("GET", "operations/series?component=stripe&window=60&bucket=5");
    expect(stripe.body.buckets).toHaveLength(12);
    expect(sums(stripe.body.buckets)).toEqual(await counts(stripe.body.from, "stripe"));

    const token = await admin(tenantA);
    const mine = await call("GET", "operations/series", { token });
    expect(mine.status).toBe(200);
    expect(mine.body.totals).toEqual(await counts(mine.body.from, undefined, tenantA));
    expect(mine.body.totals.total).toBe(7);
    const theirs = await call("GET", `operations/series?component=source:${sourceB}`, { token });
    expect(theirs.body.totals.total).toBe(0);
    for (const component of ["stripe", "resend"]) {
      const refused = await call("GET", `operations/series?component=${component}`, { token });
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe("forbidden");
    }
  });

  it.each(["window=0", "bucket=0", "window=43201", "bucket=1441", "window=43200&bucket=20", "component=email", "x=1"])(
    "answers 400 for %s",
    async (query) => {
      const answer = await call("GET", `operations/series?${query}`);
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe("invalid_request");
    },
  );

  it("allows exactly 2000 buckets", async () => {
    const answer = await call("GET", "operations/series?window=2000&bucket=1");
    expect(answer.status).toBe(200);
    expect(answer.body.buckets).toHaveLength(2000);
  });
});

describe("CORS on the admin APIs", () => {
  const request = (path: string, init: { method?: string; origin?: string; headers?: Record<string, string> } = {}) =>
    fetch(`${own.stack.env.SUPABASE_URL}/functions/v1/${path}`, {
      method: init.method ?? "GET",
      headers: {
        ...(init.origin ? { origin: init.origin } : {}),
        ...init.headers,
      },
    });
  const preflight = (path: string, origin: string) =>
    request(path, {
      method: "OPTIONS",
      origin,
      headers: { "access-control-request-method": "GET", "access-control-request-headers": "authorization, content-type" },
    });
  const service = () => ({ authorization: `Bearer ${own.stack.env.SUPABASE_SERVICE_ROLE_KEY}` });

  it.each(["operations/events", "webhook-endpoints", "webhook-sources"])(
    "%s answers a preflight from an allowed origin with what the dashboard sends",
    async (path) => {
      const answer = await preflight(path, ALLOWED);
      expect(answer.status).toBe(204);
      expect(answer.headers.get("access-control-allow-origin")).toBe(ALLOWED);
      for (const header of ["authorization", "content-type"]) {
        expect(answer.headers.get("access-control-allow-headers")).toContain(header);
      }
      expect(answer.headers.get("access-control-allow-methods")).toContain("GET");
      expect(answer.headers.get("access-control-allow-methods")).toContain("POST");
      expect(answer.headers.get("vary")).toContain("Origin");
    },
  );

  it("lists every method an API uses in the preflight", async () => {
    const answer = await preflight("webhook-endpoints/00000000-0000-4000-8000-000000000000", ALLOWED);
    for (const method of ["GET", "POST", "PATCH", "DELETE"]) {
      expect(answer.headers.get("access-control-allow-methods")).toContain(method);
    }
  });

  it.each(["operations/events", "webhook-endpoints", "webhook-sources"])(
    "%s stamps its answers for an allowed origin, errors included",
    async (path) => {
      const answer = await request(path, { origin: "https://eu.ops.example", headers: service() });
      expect(answer.status).toBe(200);
      expect(answer.headers.get("access-control-allow-origin")).toBe("https://eu.ops.example");
      expect(answer.headers.get("access-control-expose-headers")).toContain("x-request-id");
      const unauthorized = await request(path, { origin: ALLOWED });
      expect(unauthorized.status).toBe(401);
      expect(unauthorized.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    },
  );

  it.each(["operations/events", "webhook-endpoints", "webhook-sources", "operations/health/live"])(
    "%s refuses another origin, preflight or not",
    async (path) => {
      for (const answer of [await preflight(path, "https://evil.example"), await request(path, { origin: "https://evil.example", headers: service() })]) {
        expect(answer.status).toBe(403);
        expect(answer.headers.get("access-control-allow-origin")).toBeNull();
        expect((await answer.json()).error.code).toBe("origin_not_allowed");
      }
    },
  );

  it.each(["operations/events", "webhook-endpoints", "webhook-sources"])(
    "%s serves a request without Origin as before, with no CORS headers",
    async (path) => {
      const answer = await request(path, { headers: service() });
      expect(answer.status).toBe(200);
      expect(answer.headers.get("access-control-allow-origin")).toBeNull();
      expect(answer.headers.get("vary")).toBeNull();
      const live = await request("operations/health/live");
      expect(live.status).toBe(200);
      expect(live.headers.get("access-control-allow-origin")).toBeNull();
    },
  );
});
