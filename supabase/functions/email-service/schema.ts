import { z } from "zod";

/** `{"action": "drain"}`: send what is due now (the wake-ups and the sweep call this). */
export const drainRequest = z.object({ action: z.literal("drain") });

/** `{"action": "send", ...}`: queue one email from a stored template. */
export const sendRequest = z.object({
  action: z.literal("send"),
  template: z.string().regex(/^[a-z][a-z0-9_]*$/, "must be a template key").max(100),
  to: z.string().email().max(320),
  data: z.record(z.string(), z.unknown()).default({}),
});

/** Every request email-service accepts. */
export const emailServiceRequest = z.discriminatedUnion("action", [drainRequest, sendRequest]);

/** A validated request. */
export type EmailServiceRequest = z.infer<typeof emailServiceRequest>;
