/**
 * The client address as the Supabase gateway reports it: the first `x-forwarded-for` hop,
 * else `x-real-ip`, else "unknown". Used as the source of security events and rate limits.
 */
export function clientIpOf(req: Request): string {
  const forwarded = req.headers.get("x-forwarded-for");
  const first = forwarded?.split(",")[0]?.trim();
  return first || req.headers.get("x-real-ip")?.trim() || "unknown";
}
