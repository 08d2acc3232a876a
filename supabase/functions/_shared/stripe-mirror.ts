import { z } from "zod";

/**
 * The object types the mirror keeps, by the name STRIPE_MIRROR uses and the `object` field
 * of `data.object`; each has a `stripe_<name>` table (stripe_mirror_table in SQL).
 */
export const MIRRORED_OBJECTS = {
  customers: "customer",
  products: "product",
  prices: "price",
  subscriptions: "subscription",
  invoices: "invoice",
  charges: "charge",
  refunds: "refund",
  disputes: "dispute",
  payment_intents: "payment_intent",
} as const;

/** A STRIPE_MIRROR name. */
export type MirrorName = keyof typeof MIRRORED_OBJECTS;

/** STRIPE_MIRROR: a comma-separated list of MIRRORED_OBJECTS names; unset is all of them, `none` nothing. */
export const stripeMirrorVariable = z.string().optional().transform((value, ctx) => {
  if (value === undefined || value.trim() === "") return Object.keys(MIRRORED_OBJECTS) as MirrorName[];
  const names = value.split(",").map((name) => name.trim()).filter(Boolean);
  if (names.length === 1 && names[0] === "none") return [];
  const unknown = names.filter((name) => !(name in MIRRORED_OBJECTS));
  if (unknown.length > 0) {
    ctx.addIssue({ code: "custom", message: `names no mirrored object: ${unknown.join(", ")}` });
    return z.NEVER;
  }
  return names as MirrorName[];
});

/** What apply_stripe_event's mirror write needs beyond the event: its rank and whether it deletes. */
export const mirrorSchema = z.strictObject({ rank: z.number().int().min(0).max(2), deleted: z.boolean() }).nullable();

/** The mirror part of an event's plan; null when its object is not mirrored. */
export type MirrorPlan = z.infer<typeof mirrorSchema>;

/**
 * Whether and how `event` writes the mirror: when its object's type is among `mirrored`. The
 * rank orders events of one second: created, then anything else, then deleted.
 */
export function planMirror(
  event: { type: string; data: { object: Record<string, unknown> } },
  mirrored: ReadonlySet<string>,
): MirrorPlan {
  const objectType = event.data.object.object;
  if (typeof objectType !== "string" || !mirrored.has(objectType) || typeof event.data.object.id !== "string") {
    return null;
  }
  const deleted = event.type.endsWith(".deleted");
  return { rank: event.type.endsWith(".created") ? 0 : deleted ? 2 : 1, deleted };
}

/** The object types to mirror, from STRIPE_MIRROR's names. */
export const mirroredTypes = (names: readonly MirrorName[]): ReadonlySet<string> =>
  new Set(names.map((name) => MIRRORED_OBJECTS[name]));
