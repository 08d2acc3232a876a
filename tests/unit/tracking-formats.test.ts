import fc from "fast-check";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { isoDateTime, uuid } from "../../supabase/functions/_shared/tracking/formats.ts";

// The tracking schemas are valibot so the browser client stays small; their UUIDs and times must
// still be the ones every zod-validated endpoint takes, so a client id or timestamp accepted here
// is accepted there, and the other way round.
const valibotUuid = v.pipe(v.string(), uuid());
const valibotDateTime = v.pipe(v.string(), isoDateTime());
const zodUuid = z.uuid();
const zodDateTime = z.iso.datetime({ offset: true });

const hex = fc.constantFrom(..."0123456789abcdefABCDEFgx-");
const uuidLike = fc.oneof(
  fc.uuid().map((id) => id),
  fc.uuid().map((id) => id.toUpperCase()),
  fc.constantFrom(
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
    "6ba7b810-9dad-01d1-80b4-00c04fd430c8",
    "6ba7b810-9dad-91d1-80b4-00c04fd430c8",
    "6ba7b810-9dad-11d1-c0b4-00c04fd430c8",
  ),
  fc.array(hex, { minLength: 36, maxLength: 36 }).map((chars) =>
    chars.map((c, i) => ([8, 13, 18, 23].includes(i) ? "-" : c)).join("")
  ),
  fc.string(),
);

const digits = (n: number) => fc.integer({ min: 0, max: 10 ** n - 1 }).map((x) => String(x).padStart(n, "0"));
const dateTimeLike = fc.oneof(
  fc.date({ min: new Date(-62e12), max: new Date(25e13), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.tuple(
    digits(4),
    digits(2),
    digits(2),
    fc.constantFrom("T", "t", " "),
    digits(2),
    digits(2),
    fc.option(digits(2)),
    fc.option(fc.integer({ min: 0, max: 9999999 }).map(String)),
    fc.constantFrom("Z", "z", "+02:00", "-23:59", "+24:00", "+0200", "+02", ""),
  ).map(([y, mo, d, t, h, mi, s, frac, zone]) =>
    `${y}-${mo}-${d}${t}${h}:${mi}${s === null ? "" : `:${s}`}${frac === null ? "" : `.${frac}`}${zone}`
  ),
  fc.constantFrom("2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2000-02-29T12:00:00+01:00"),
  fc.string(),
);

describe("tracking formats", () => {
  it("accept exactly the UUIDs zod's z.uuid() accepts", () => {
    fc.assert(fc.property(uuidLike, (value) => {
      expect(v.is(valibotUuid, value), value).toBe(zodUuid.safeParse(value).success);
    }), { numRuns: 5000 });
  });

  it("accept exactly the times zod's z.iso.datetime({ offset: true }) accepts", () => {
    fc.assert(fc.property(dateTimeLike, (value) => {
      expect(v.is(valibotDateTime, value), value).toBe(zodDateTime.safeParse(value).success);
    }), { numRuns: 5000 });
  });

  it("take real ids and times and refuse near misses", () => {
    expect(v.is(valibotUuid, crypto.randomUUID())).toBe(true);
    expect(v.is(valibotUuid, "not-a-uuid")).toBe(false);
    expect(v.is(valibotDateTime, "2026-12-08T10:00:00.123+01:00")).toBe(true);
    expect(v.is(valibotDateTime, "2026-02-30T10:00:00Z")).toBe(false);
    expect(v.is(valibotDateTime, "2026-12-08 10:00:00Z")).toBe(false);
  });
});
