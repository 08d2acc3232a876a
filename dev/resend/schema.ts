import { z } from "zod";

/** Why Resend would refuse a request body: the error `name` and a message naming the field. */
export interface ValidationProblem {
  name: "validation_error" | "missing_required_field";
  message: string;
}

/** Resend's per-request limits, as documented. */
export const MAX_RECIPIENTS = 50;
/** Resend's documented maximum number of emails in one batch request. */
export const MAX_BATCH = 100;

// Deliberately loose (Resend accepts anything a mail server would), but strict enough to catch
// the bugs that matter: a missing @, a display name without brackets, comma-joined lists.
const ADDRESS = /^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;".]+$/;
const NAMED = /^(?:"[^"]*"|[^<>"]*?)\s*<([^<>]+)>$/;
const TAG_PART = /^[A-Za-z0-9_-]*$/;

/** The bare address of `addr` or `Name <addr>`, or null when it is neither. */
export function bareAddress(value: string): string | null {
  const trimmed = value.trim();
  const inner = NAMED.exec(trimmed)?.[1]?.trim() ?? trimmed;
  return ADDRESS.test(inner) ? inner : null;
}

const formatMessage = (field: string) =>
  `Invalid \`${field}\` field. The email address needs to follow the \`email@example.com\` or \`Name <email@example.com>\` format.`;

function fail(ctx: z.RefinementCtx, message: string, name: ValidationProblem["name"] = "validation_error"): never {
  ctx.addIssue({ code: "custom", message, params: { name } });
  return z.NEVER as never;
}

const sender = z.unknown().optional().transform((value, ctx): string => {
  if (value === undefined || value === null || value === "") {
    return fail(ctx, "Missing `from` field.", "missing_required_field");
  }
  if (typeof value !== "string" || !bareAddress(value)) return fail(ctx, formatMessage("from"));
  return value.trim();
});

const subject = z.unknown().optional().transform((value, ctx): string => {
  if (value === undefined || value === null) return fail(ctx, "Missing `subject` field.", "missing_required_field");
  if (typeof value !== "string") return fail(ctx, "Invalid `subject` field. It must be a string.");
  return value;
});

// `to`, `cc`, `bcc` and `reply_to` all take "a string or an array of strings"; normalising to an
// array here means nothing downstream has to care which form the client used.
const recipients = (field: string, required: boolean) =>
  z.unknown().optional().transform((value, ctx): string[] => {
    if (value === undefined || value === null) {
      return required ? fail(ctx, `Missing \`${field}\` field.`, "missing_required_field") : [];
    }
    const list = typeof value === "string" ? [value] : value;
    if (!Array.isArray(list) || list.some((item) => typeof item !== "string")) {
      return fail(ctx, `Invalid \`${field}\` field. It must be a string or an array of strings.`);
    }
    if (list.length === 0) {
      return required ? fail(ctx, `Missing \`${field}\` field.`, "missing_required_field") : [];
    }
    if (list.length > MAX_RECIPIENTS) {
      return fail(ctx, `Too many recipients in \`${field}\`: ${list.length}. The maximum is ${MAX_RECIPIENTS}.`);
    }
    if (list.some((item) => !bareAddress(item))) return fail(ctx, formatMessage(field));
    return list.map((item) => item.trim());
  });

const tagPart = z.string().max(256).regex(TAG_PART);
const tagsMessage =
  "Invalid `tags` field. Tag names and values can only contain ASCII letters, numbers, underscores or dashes, " +
  "at most 256 characters each.";

const attachment = z
  .object({
    content: z.string().optional(),
    filename: z.union([z.string(), z.literal(false)]).nullish(),
    path: z.string().optional(),
    content_type: z.string().optional(),
    content_id: z.string().optional(),
  })
  .refine((a) => a.content !== undefined || a.path !== undefined, "Each attachment needs `content` or `path`.");

const emailFields = {
  from: sender,
  to: recipients("to", true),
  subject,
  html: z.string({ error: "Invalid `html` field. It must be a string." }).nullish(),
  text: z.string({ error: "Invalid `text` field. It must be a string." }).nullish(),
  cc: recipients("cc", false),
  bcc: recipients("bcc", false),
  reply_to: recipients("reply_to", false),
  headers: z.record(z.string(), z.string(), { error: "Invalid `headers` field. It must map names to strings." })
    .optional(),
  tags: z.array(z.object({ name: tagPart.min(1), value: tagPart }), { error: tagsMessage }).optional(),
  scheduled_at: z.string({ error: "Invalid `scheduled_at` field. It must be an ISO 8601 string." }).nullish(),
  topic_id: z.string().nullish(),
  template: z.object({ id: z.string().min(1), variables: z.record(z.string(), z.unknown()).optional() }).optional(),
};

// Unknown keys are stripped rather than refused: Resend ignores fields it does not know.
const emailSchema = z
  .object({ ...emailFields, attachments: z.array(attachment).optional() })
  .superRefine((email, ctx) => {
    if (!email.html && !email.text && !email.template) {
      ctx.addIssue({
        code: "custom",
        message: "Missing `html` or `text` field.",
        params: { name: "missing_required_field" },
      });
    }
  });

/** A send request after validation, with every address list normalised to an array. */
export type EmailInput = z.output<typeof emailSchema>;

function problemOf(error: z.ZodError): ValidationProblem {
  const issue = error.issues[0];
  const params = (issue as { params?: { name?: ValidationProblem["name"] } }).params;
  if (issue.code === "custom") return { name: params?.name ?? "validation_error", message: issue.message };
  if (issue.path.length === 0) {
    return { name: "validation_error", message: "Invalid request body. Expected a JSON object." };
  }
  // Zod's own messages (from fields without a custom one) still get the field named up front.
  const field = issue.path.map(String).join(".");
  const own = issue.message.startsWith("Invalid `") ? issue.message : `Invalid \`${field}\` field. ${issue.message}`;
  return { name: "validation_error", message: issue.path[0] === "tags" ? tagsMessage : own };
}

/** Validates one `POST /emails` body. */
export function parseEmail(body: unknown): { email: EmailInput } | { problem: ValidationProblem } {
  const result = emailSchema.safeParse(body);
  return result.success ? { email: result.data } : { problem: problemOf(result.error) };
}

/** One entry of a permissive batch that failed validation, as Resend reports it. */
export interface BatchItemError {
  index: number;
  message: string;
}

/**
 * Validates a `POST /emails/batch` body. Strict mode (Resend's default) refuses the whole batch
 * on the first bad email; permissive mode returns the good ones plus an error per bad one.
 */
export function parseBatch(
  body: unknown,
  permissive: boolean,
): { emails: { index: number; email: EmailInput }[]; errors: BatchItemError[] } | { problem: ValidationProblem } {
  if (!Array.isArray(body)) {
    return { problem: { name: "validation_error", message: "Invalid request body. Expected an array of emails." } };
  }
  if (body.length === 0) {
    return { problem: { name: "validation_error", message: "The batch must contain at least one email." } };
  }
  if (body.length > MAX_BATCH) {
    return {
      problem: {
        name: "validation_error",
        message: `Too many emails in the batch: ${body.length}. The maximum is ${MAX_BATCH}.`,
      },
    };
  }
  const emails: { index: number; email: EmailInput }[] = [];
  const errors: BatchItemError[] = [];
  for (let index = 0; index < body.length; index++) {
    const item = body[index];
    const parsed = item && typeof item === "object" && "attachments" in item && item.attachments != null
      ? { problem: { name: "validation_error" as const, message: "Attachments are not supported in batch emails." } }
      : parseEmail(item);
    if ("email" in parsed) {
      emails.push({ index, email: parsed.email });
      continue;
    }
    if (!permissive) return { problem: { ...parsed.problem, message: `emails[${index}]: ${parsed.problem.message}` } };
    errors.push({ index, message: parsed.problem.message });
  }
  return { emails, errors };
}
