// The repository stands alone: nothing may point at files beside the checkout, and every
// `docs/<file>.md §X` citation must name a heading that exists in that doc.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join, relative } from "node:path";

const root = join(import.meta.dirname, "..", "..");
const SKIP_DIRS = new Set(["node_modules", ".git", ".dev", "results"]);
const TEXT = /\.(ts|js|mjs|cjs|md|conf|proto|json|yaml|yml|toml|sh)$|^(Dockerfile|auditrelay|auditrelay-event-handler)$/;
// Built from pieces so this file does not match itself.
const OUTSIDE = [["shared", "reference"].join("/"), ["..", "shared"].join("/")];
const BARE = new RegExp("(?<![\\w/.-])(fluentd|teleport-event-handler)\\.md", "g");
const ID = "(?:§\\d+(?:\\.\\d+)*|O\\d+)";
const CITE = new RegExp(`docs/([\\w-]+)\\.md((?:\\s*(?:,|–|-|and)?\\s*${ID}(?:[–-]\\d+)?)+)`, "g");

async function walk(dir: string, out: string[]): Promise<string[]> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) { if (!SKIP_DIRS.has(e.name)) await walk(join(dir, e.name), out); }
    else if (TEXT.test(e.name)) out.push(join(dir, e.name));
  }
  return out;
}

/** Section ids a doc declares: the first word of each heading, without `§` and a trailing dot. */
export function headingIds(markdown: string): Set<string> {
  const ids = new Set<string>();
  for (const m of markdown.matchAll(/^#{1,6}\s+§?([0-9]+(?:\.[0-9]+)*|O[0-9]+)\.?\s/gm)) ids.add(m[1]!);
  return ids;
}

/** `§3, §7, O4` → ["3","7","O4"]; `§1–5` → ["1","5"]; `O2–O4` → ["O2","O4"]. */
export function citedIds(list: string): string[] {
  const ids: string[] = [];
  for (const m of list.matchAll(/§?(\d+(?:\.\d+)*|O\d+)/g)) ids.push(m[1]!);
  return ids;
}

test("headingIds and citedIds read what the docs use", () => {
  assert.deepEqual([...headingIds("## §1. in_http\n### §1.1 `configure`\n## O2. wire\n")], ["1", "1.1", "O2"]);
  assert.deepEqual(citedIds(" §3, §7, O4"), ["3", "7", "O4"]);
  assert.deepEqual(citedIds(" §1–5"), ["1", "5"]);
});

test("no file points outside the repository and every cited section exists", async () => {
  const files = await walk(root, []);
  const docs = new Map<string, Set<string>>();
  const problems: string[] = [];
  for (const file of files) {
    const rel = relative(root, file);
    const lines = (await readFile(file, "utf8")).split("\n");
    for (const [i, line] of lines.entries()) {
      const at = `${rel}:${i + 1}`;
      for (const o of OUTSIDE) if (line.includes(o)) problems.push(`${at}: mentions ${o}; cite docs/compatibility*.md or test/fixtures/ instead`);
      for (const m of line.matchAll(BARE)) problems.push(`${at}: cites ${m[0]}, which is not in this repository; cite docs/compatibility*.md`);
      for (const m of line.matchAll(CITE)) {
        const doc = m[1]!;
        if (!docs.has(doc)) {
          const path = join(root, "docs", `${doc}.md`);
          docs.set(doc, existsSync(path) ? headingIds(await readFile(path, "utf8")) : new Set());
        }
        for (const id of citedIds(m[2]!)) {
          if (!docs.get(doc)!.has(id)) problems.push(`${at}: docs/${doc}.md has no heading for ${id.startsWith("O") ? id : "§" + id}`);
        }
      }
    }
  }
  assert.deepEqual(problems, []);
});
