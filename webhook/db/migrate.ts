// Versioned SQL migrations (webhook/migrations/NNN_name.sql), applied at start-up. A session
// advisory lock makes concurrent replicas wait for each other instead of racing; each migration
// runs in its own transaction together with its ledger row, so a crash leaves no half-applied step.
import { readdir, readFile } from "node:fs/promises";
import type pg from "pg";

const MIGRATIONS_DIR = new URL("../migrations/", import.meta.url);
/** Arbitrary constant shared by every replica: the advisory lock key of the migration step. */
const MIGRATION_LOCK_KEY = 4_117_206_551;
const FILE_PATTERN = /^(\d{3})_([a-z0-9_]+)\.sql$/;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export async function loadMigrations(dir: URL = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_PATTERN.exec(file);
    if (match === null) throw new Error(`migration file ${file}: name must look like 001_some_name.sql`);
    const version = Number(match[1]);
    if (migrations.some((m) => m.version === version)) throw new Error(`migration file ${file}: version ${version} is used twice`);
    migrations.push({ version, name: match[2] as string, sql: await readFile(new URL(file, dir), "utf8") });
  }
  return migrations;
}

/** Applies the migrations not applied yet; returns the versions it applied. */
export async function migrate(pool: pg.Pool, migrations?: Migration[]): Promise<number[]> {
  const all = migrations ?? (await loadMigrations());
  const client = await pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    try {
      await client.query(
        `CREATE TABLE IF NOT EXISTS webhook_schema_migrations (
           version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const done = await client.query<{ version: number; name: string }>("SELECT version, name FROM webhook_schema_migrations");
      const applied = new Map(done.rows.map((r) => [r.version, r.name]));
      const ran: number[] = [];
      for (const m of all) {
        const known = applied.get(m.version);
        if (known !== undefined) {
          if (known !== m.name) throw new Error(`migration ${m.version} was applied as "${known}" but is now named "${m.name}"`);
          continue;
        }
        await client.query("BEGIN");
        try {
          await client.query(m.sql);
          await client.query("INSERT INTO webhook_schema_migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
          await client.query("COMMIT");
        } catch (error) {
          await client.query("ROLLBACK");
          throw new Error(`migration ${m.version}_${m.name} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
        }
        ran.push(m.version);
      }
      return ran;
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
}
