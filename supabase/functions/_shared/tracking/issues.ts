// What a refused tracking request says about each failing field, the same on the client (which
// refuses before sending) and in the functions' 400s and per-event rejections.
import type * as v from "valibot";

/** One failing field: its dotted path (empty for the body itself) and why. */
export interface IssueDetail {
  path: string;
  message: string;
}

// An unknown key names the object it is in, as zod's unrecognized_keys does, so a body with
// one answers like every other endpoint's.
const isUnknownKey = (issue: v.BaseIssue<unknown>) => issue.type === "strict_object" && issue.expected === "never";

/** Where an issue sits, as a list of keys. */
export function issuePath(issue: v.BaseIssue<unknown>): PropertyKey[] {
  const keys = (issue.path ?? []).map((item) => item.key as PropertyKey);
  return isUnknownKey(issue) ? keys.slice(0, -1) : keys;
}

/** The message of an issue; an unknown key's says which key. */
export function issueMessage(issue: v.BaseIssue<unknown>): string {
  return isUnknownKey(issue) ? `Unrecognized key: ${issue.received}` : issue.message;
}

/** Every issue as a path and a message. */
export function issueDetails(issues: readonly v.BaseIssue<unknown>[]): IssueDetail[] {
  return issues.map((issue) => ({ path: issuePath(issue).map(String).join("."), message: issueMessage(issue) }));
}
