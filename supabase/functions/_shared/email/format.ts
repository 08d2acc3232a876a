import { TemplateError } from "./template-error.ts";

// Formatters by locale and currency: building an Intl.NumberFormat costs about 50 µs, more
// than the rest of rendering a line item.
const moneyFormats = new Map<string, Intl.NumberFormat>();

function moneyFormat(currency: string, locale: string): Intl.NumberFormat {
  const key = `${locale}|${currency}`;
  let format = moneyFormats.get(key);
  if (!format) {
    try {
      format = new Intl.NumberFormat(locale, { style: "currency", currency });
    } catch {
      throw new TemplateError(`money: "${currency}" is not a currency, or "${locale}" not a locale`);
    }
    moneyFormats.set(key, format);
  }
  return format;
}

/**
 * An amount in the currency's minor units (Stripe's: cents, or yen for JPY, which has none),
 * formatted for `locale`: 4200 USD is "$42.00", 4200 JPY is "¥4,200".
 */
export function formatMoney(amount: unknown, currency: string, locale: string): string {
  const minor = typeof amount === "string" && /^-?\d+$/.test(amount) ? Number(amount) : amount;
  if (typeof minor !== "number" || !Number.isSafeInteger(minor)) {
    throw new TemplateError(`money: ${JSON.stringify(amount)} is not an amount in minor units`);
  }
  const format = moneyFormat(currency.toUpperCase(), locale);
  return format.format(minor / 10 ** (format.resolvedOptions().maximumFractionDigits ?? 2));
}

const DATE_STYLES = new Set(["full", "long", "medium", "short"]);

/** A timestamp (ISO text or Unix seconds) as a date in `locale` and `timeZone`; style "long" unless given. */
export function formatDate(value: unknown, locale: string, timeZone: string, style = "long"): string {
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(String(value));
  if (Number.isNaN(date.getTime())) throw new TemplateError(`date: ${JSON.stringify(value)} is not a date`);
  if (!DATE_STYLES.has(style)) throw new TemplateError(`date: style "${style}" is not full, long, medium or short`);
  try {
    return new Intl.DateTimeFormat(locale, { dateStyle: style as "long", timeZone }).format(date);
  } catch {
    throw new TemplateError(`date: "${timeZone}" is not a time zone, or "${locale}" not a locale`);
  }
}
