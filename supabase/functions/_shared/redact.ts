/** What replaces a redacted value. */
export const REDACTED = "[REDACTED]";

// Keys whose values are secrets wherever they appear: headers, bodies, error details. Providers'
// signature headers count too (X-Shopify-Hmac-SHA256, close-sig-hash, paypal-transmission-sig):
// a logged signature over an unstamped body could be replayed. So do keys named `*-key`,
// which is what an api-key source's own header is usually called.
const SECRET_KEY =
  /(secret|passw(or)?d|token|authorization|api[-_]?key|signature|hmac|(^|[-_])sig([-_]|$)|[-_]key$|cookie|cvc|cvv|card[-_]?number|iban|^pan$|^card$)/i;
// Credentials that leak into free text: Stripe and Resend keys, webhook secrets, bearer tokens, JWTs.
const SECRET_TEXT =
  /\b(?:(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{8,}|whsec_[A-Za-z0-9+/=]{8,}|re_[A-Za-z0-9_]{16,}|Bearer\s+[A-Za-z0-9._~+/-]+=*|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+)/g;
const CARD_CANDIDATE = /\b(?:\d[ /-]?){12,}\d\b/g;
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

/**
 * A card number at the start of a digit run, redacted; the rest of the run is kept. Candidates
 * are the whole run and each prefix of 13 to 19 digits that ends where a group ends, so
 * "4242 4242 4242 4242 123" (a card followed by its CVC) is caught, while a prefix cut inside a
 * group ("4242 4242 4242 424|1") is not taken for a card just because it passes Luhn.
 */
function redactCardPrefix(run: string): string {
  const positions: number[] = [];
  for (let i = 0; i < run.length; i++) if (run[i] >= "0" && run[i] <= "9") positions.push(i);
  for (let count = Math.min(19, positions.length); count >= 13; count--) {
    const end = positions[count - 1] + 1;
    const atGroupEnd = count === positions.length || !/[0-9]/.test(run[end]);
    const digits = positions.slice(0, count).map((i) => run[i]).join("");
    if (atGroupEnd && passesLuhn(digits)) return "[REDACTED_PAN]" + run.slice(end);
  }
  return run;
}

/** Removes credentials and card numbers from free text and masks email addresses. */
export function redactText(text: string): string {
  return maskEmail(text.replace(SECRET_TEXT, REDACTED).replace(CARD_CANDIDATE, redactCardPrefix));
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
