/** What replaces a redacted value. */
export const REDACTED = "[REDACTED]";

// Keys whose values are secrets wherever they appear: headers, bodies, error details.
const SECRET_KEY =
  /(secret|passw(or)?d|token|authorization|api[-_]?key|signature|cookie|cvc|cvv|card[-_]?number|iban|^pan$|^card$)/i;
// Credentials that leak into free text: Stripe and Resend keys, webhook secrets, bearer tokens, JWTs.
const SECRET_TEXT =
  /\b(?:(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{8,}|whsec_[A-Za-z0-9+/=]{8,}|re_[A-Za-z0-9_]{16,}|Bearer\s+[A-Za-z0-9._~+/-]+=*|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+)/g;
const CARD_CANDIDATE = /\b(?:\d[ -]?){12,18}\d\b/g;
const EMAIL = /\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b/g;

function passesLuhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Masks an address to its first character and domain: `ada@example.com` → `a***@example.com`. */
export function maskEmail(text: string): string {
  return text.replace(EMAIL, (_m, first: string, domain: string) => `${first}***@${domain}`);
}

/** Removes credentials and card numbers from free text and masks email addresses. */
export function redactText(text: string): string {
  return maskEmail(
    text.replace(SECRET_TEXT, REDACTED).replace(CARD_CANDIDATE, (match) => {
      const digits = match.replace(/[ -]/g, "");
      return digits.length >= 13 && digits.length <= 19 && passesLuhn(digits) ? "[REDACTED_PAN]" : match;
    }),
  );
}

/**
 * A deep copy of `value` that is safe to log: values under secret-looking keys are replaced,
 * strings are scrubbed by {@link redactText}, and `Headers` become plain objects first.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return "[TRUNCATED]";
  if (typeof value === "string") return redactText(value);
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Headers) return redact(Object.fromEntries(value.entries()), depth);
  if (value instanceof Error) return { name: value.name, message: redactText(value.message) };
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) ? REDACTED : redact(item, depth + 1);
  }
  return out;
}
