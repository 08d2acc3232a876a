// The string formats the tracking schemas accept, as valibot actions that accept what zod's
// z.uuid() and z.iso.datetime({ offset: true }) accept, so these endpoints take the ids and times
// the others do (tests/unit/tracking-formats.test.ts compares them on generated input).
// Valibot's own uuid() and isoTimestamp() differ: any UUID version; a space for the T, a comma
// fraction and no calendar check.
import * as v from "valibot";

/** RFC 9562: versions 1 to 8 with the RFC variant, or the nil and max UUIDs (lowercase, as zod has them). */
const UUID =
  /^(?:[\dA-Fa-f]{8}-[\dA-Fa-f]{4}-[1-8][\dA-Fa-f]{3}-[89ABab][\dA-Fa-f]{3}-[\dA-Fa-f]{12}|0{8}(?:-0{4}){3}-0{12}|f{8}(?:-f{4}){3}-f{12})$/;

/** RFC 3339 with seconds, any fraction, and `Z` or a `±hh:mm` offset; the day is checked below. */
const DATE_TIME =
  /^(\d{4})-(0[1-9]|1[0-2])-(\d\d)T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;

function isCalendarDateTime(value: string): boolean {
  const match = DATE_TIME.exec(value);
  if (!match) return false;
  const [year, month, day] = match.slice(1, 4).map(Number);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return day >= 1 && day <= days;
}

/** A UUID. */
export const uuid = () => v.regex<string, string>(UUID, "Invalid UUID");

/** An ISO 8601 date and time with `Z` or an offset, on a day the calendar has. */
export const isoDateTime = () => v.check<string, string>(isCalendarDateTime, "Invalid ISO datetime");
