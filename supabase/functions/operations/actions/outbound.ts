import { z } from "zod";
import type { AuthorizedCaller } from "../../_shared/http/caller-auth.ts";
import { HttpError } from "../../_shared/http/errors.ts";
import type { Sql } from "../../_shared/db.ts";
import type { Action } from "./action.ts";

const scope = (sql: Sql, caller: AuthorizedCaller) =>
  caller.kind === "platform" ? sql`true` : sql`e.tenant_id = ${caller.tenantId}`;

/** `replay-delivery {delivery_id}`: sends one partner delivery again (webhook-endpoints' replay, from here). */
export const replayDelivery: Action<{ delivery_id: string; dry_run?: boolean }> = {
  params: z.strictObject({ delivery_id: z.guid(), dry_run: z.boolean().optional() }),
  async run({ sql, caller }, { delivery_id, dry_run }) {
    const [delivery] = await sql<{ id: string }[]>`
      select d.id from public.webhook_deliveries d join public.webhook_endpoints e on e.id = d.endpoint_id
      where d.id = ${delivery_id} and ${scope(sql, caller)}`;
    if (!delivery) throw new HttpError(404, "not_found", "No delivery with this id.");
    if (dry_run) return { touched: 0, body: { delivery_id } };
    const [{ replayed }] = await sql<
      { replayed: boolean }[]
    >`select public.replay_webhook_delivery(${delivery_id}) as replayed`;
    if (!replayed) {
      throw new HttpError(409, "delivery_in_flight", "The delivery is being attempted right now; retry shortly.");
    }
    return { touched: 1, body: { delivery_id, status: "PENDING" } };
  },
};

/** `recover-endpoint {endpoint_id, from, to}`: replays the endpoint's failed and exhausted deliveries created in [from, to). */
export const recoverEndpoint: Action<{ endpoint_id: string; from: string; to: string; dry_run?: boolean }> = {
  params: z.strictObject({
    endpoint_id: z.guid(),
    from: z.iso.datetime({ offset: true }),
    to: z.iso.datetime({ offset: true }),
    dry_run: z.boolean().optional(),
  }),
  async run({ sql, caller }, { endpoint_id, from, to, dry_run }) {
    const [endpoint] = await sql<{ failed: number }[]>`
      select (select count(*)::int from public.webhook_deliveries d
              where d.endpoint_id = e.id and d.status in ('FAILED', 'RETRY_EXHAUSTED')
                and d.created_at >= ${from}::timestamptz and d.created_at < ${to}::timestamptz) as failed
      from public.webhook_endpoints e where e.id = ${endpoint_id} and ${scope(sql, caller)}`;
    if (!endpoint) throw new HttpError(404, "not_found", "No webhook endpoint with this id.");
    if (dry_run) return { touched: 0, body: { matched: endpoint.failed } };
    const [{ replayed }] = await sql<{ replayed: number }[]>`
      select public.recover_webhook_deliveries(${endpoint_id}, ${from}::timestamptz, ${to}::timestamptz) as replayed`;
    return { touched: replayed, body: { matched: endpoint.failed, replayed } };
  },
};
