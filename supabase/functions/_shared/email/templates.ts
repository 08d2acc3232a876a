import type { Sql } from "../db.ts";
import type { EmailTemplate } from "./render.ts";

/**
 * The stored templates by key, each with its layout and the brand, in one query: what
 * email-service sends with and what the dashboard's preview shows, so both render the same.
 */
export async function loadTemplates(sql: Sql, keys: string[]): Promise<Map<string, EmailTemplate>> {
  const rows = await sql<(EmailTemplate & { key: string })[]>`
    select t.key, t.subject, t.html, t.text, t.preheader, t.transactional,
      case when l.key is not null then jsonb_build_object('html', l.html, 'text', l.text) end as layout,
      (select to_jsonb(b) - 'id' - 'updated_at' from public.email_brand b) as brand
    from public.email_templates t left join public.email_layouts l on l.key = t.layout
    where t.key = any(${keys}::text[])`;
  return new Map(rows.map(({ key, ...template }) => [key, template]));
}
