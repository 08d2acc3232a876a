import type { Sql } from "../_shared/db.ts";
import type { AuthorizedCaller } from "../_shared/http/caller-auth.ts";

/** One component's health: its figures, the six checks (three for an endpoint), and the status they give. */
export interface ComponentHealth {
  component: string;
  kind: "provider" | "source" | "email" | "outbound" | "endpoint";
  name: string;
  tenant_id: string | null;
  status: Status;
  failing: string[];
  figures: Record<string, unknown> & { total: number; processed: number; failed: number; pending: number };
  checks: { check: string; value: number | null; threshold: number; passed: boolean }[];
  by_type: { type: string; total: number; failed: number }[];
}

/** A health alert as ops_alerts keeps it. */
export type Alert = Record<string, unknown> & {
  id: number;
  tenant_id: string | null;
  status: string;
  severity: string;
};

/** What `public.ops_health` answers. */
export interface Health {
  generated_at: string;
  window_minutes: number;
  components: ComponentHealth[];
  alerts: Alert[];
}

/** The three states of the health contract. */
export type Status = "HEALTHY" | "DEGRADED" | "CRITICAL";

const RANK: Record<Status, number> = { HEALTHY: 0, DEGRADED: 1, CRITICAL: 2 };

/** The worst of `statuses`, HEALTHY for none. */
export function worst(statuses: Status[]): Status {
  return statuses.reduce<Status>((a, b) => (RANK[b] > RANK[a] ? b : a), "HEALTHY");
}

/** Health as one caller may see it: a tenant sees its own sources and endpoints, and their alerts. */
export function visibleTo(caller: AuthorizedCaller, health: Health): Health {
  if (caller.kind === "platform") return health;
  const own = (row: { tenant_id: string | null }) => row.tenant_id === caller.tenantId;
  return { ...health, components: health.components.filter(own), alerts: health.alerts.filter(own) };
}

/**
 * The health answer: overall status (the worst component's) and totals over everything but
 * the per-endpoint rows (they are in `outbound` already), then each component.
 */
export function healthAnswer(health: Health) {
  const counted = health.components.filter((c) => c.kind !== "endpoint");
  const sum = (key: "total" | "processed" | "failed" | "pending") =>
    counted.reduce((total, c) => total + Number(c.figures[key] ?? 0), 0);
  const processed = sum("processed");
  const failed = sum("failed");
  return {
    status: worst(health.components.map((c) => c.status)),
    generated_at: health.generated_at,
    window_minutes: health.window_minutes,
    overall: {
      total: sum("total"),
      processed,
      failed,
      pending: sum("pending"),
      success_rate: processed + failed > 0 ? Math.round((processed / (processed + failed)) * 10_000) / 10_000 : null,
    },
    components: health.components,
    alerts: health.alerts,
  };
}

/**
 * Health per window, computed by `public.ops_health` (which also opens and resolves alerts)
 * and reused for `cacheSeconds`: a dashboard polling every few seconds, or several, costs one
 * computation per interval. Concurrent misses share one query.
 */
export function healthCache(sql: Sql, cacheSeconds: number, now = () => Date.now()) {
  const cache = new Map<number, { health: Promise<Health>; until: number }>();
  return {
    get(windowMinutes: number): Promise<Health> {
      const hit = cache.get(windowMinutes);
      if (hit && hit.until > now()) return hit.health;
      const health = sql<{ health: Health }[]>`select public.ops_health(${windowMinutes}) as health`
        .then(([row]) => row.health);
      cache.set(windowMinutes, { health, until: now() + cacheSeconds * 1000 });
      health.catch(() => cache.delete(windowMinutes));
      return health;
    },
    /** Forgets every cached answer: after an action, the next read shows its effect. */
    clear() {
      cache.clear();
    },
  };
}

/** The health cache; see {@link healthCache}. */
export type HealthCache = ReturnType<typeof healthCache>;
