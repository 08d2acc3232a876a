import { z } from "zod";

/** The envelope every Resend webhook event has; the data of a handled type is checked by its type. */
export const resendEventSchema = z.looseObject({
  type: z.string().min(1).max(255),
  created_at: z.iso.datetime({ offset: true }),
  data: z.looseObject({}),
});

/** A verified, envelope-valid Resend event. */
export type ResendEvent = z.infer<typeof resendEventSchema>;

/** The fields of an email event's data the suite reads; the rest is stored as sent. */
export const emailDataSchema = z.looseObject({
  email_id: z.string().min(1).max(255),
  to: z.array(z.string().max(1024)).max(1000).nullish(),
  from: z.string().max(1024).nullish(),
  subject: z.string().nullish(),
  bounce: z.looseObject({
    type: z.string().max(64).nullish(),
    subType: z.string().max(64).nullish(),
    message: z.string().nullish(),
  }).nullish(),
});
