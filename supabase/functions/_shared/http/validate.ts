import type { z } from "zod";
import { HttpError } from "./errors.ts";

/**
 * Validates `value` against `schema`, or throws the contract's 400 with every failing path
 * as `details` (prefixed by where `value` sits in the body, e.g. `data.object`).
 */
export function validateOrReject<T extends z.ZodType>(
  schema: T,
  value: unknown,
  options: { prefix?: (string | number)[]; message?: string } = {},
): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({
    path: [...(options.prefix ?? []), ...issue.path].join("."),
    message: issue.message,
  }));
  throw new HttpError(400, "invalid_request", options.message ?? "The request body does not match the schema.", {
    details,
    security: "malformed_payload",
  });
}
