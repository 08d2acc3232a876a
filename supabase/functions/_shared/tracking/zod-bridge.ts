// The tracking schemas are valibot (the browser client bundles them, see fields.ts), and the
// request pipeline and the metrics queries are zod: this wraps one in the other, server-side only.
import * as v from "valibot";
import { z } from "zod";
import { issueMessage, issuePath } from "./issues.ts";

/**
 * A zod schema that parses with a valibot one and reports its issues as zod issues (same paths,
 * same messages), so a tracking schema can sit inside a zod object or be a pipeline's body schema.
 */
export function zodFromValibot<S extends v.GenericSchema>(schema: S) {
  return z.unknown().transform((value, ctx): v.InferOutput<S> => {
    const result = v.safeParse(schema, value);
    if (result.success) return result.output;
    for (const issue of result.issues) {
      ctx.issues.push({ code: "custom", message: issueMessage(issue), path: issuePath(issue), input: issue.input });
    }
    return z.NEVER;
  });
}
