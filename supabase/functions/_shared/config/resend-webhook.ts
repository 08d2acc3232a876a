import { z } from "zod";
import { baseVariables, requiredList } from "./base.ts";

/** resend-webhook's variables: its signing secrets, several during a rotation. */
export const resendWebhookConfig = z.object({ ...baseVariables, RESEND_WEBHOOK_SECRET: requiredList });

/** resend-webhook's settings. */
export type ResendWebhookConfig = z.infer<typeof resendWebhookConfig>;
