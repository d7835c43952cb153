#!/usr/bin/env node
// Drift check of the API types: regenerates src/api/schema.d.ts from an OpenAPI document
// into a temp file and fails, printing a diff, when it differs from the committed one.
//
//   npm run check:api -- path/to/openapi.json     (or CLINIC_OPENAPI=path npm run check:api)
//
// With no path, the document is printed by the API itself (`cargo run --example clinic --
// openapi`, which connects to nothing). Node built-ins only: no dependency for a diff, the
// system's `diff -u` shows it when present.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const web = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const committed = join(web, 'src/api/schema.d.ts')
const generator = join(web, 'node_modules/.bin/openapi-typescript')
const tmp = mkdtempSync(join(tmpdir(), 'clinic-api-'))

try {
  let doc = process.argv[2] || process.env.CLINIC_OPENAPI
  if (doc) {
    // Relative to where npm was called (INIT_CWD), e.g. `npm --prefix examples/clinic/web`.
    doc = resolve(process.env.INIT_CWD ?? process.cwd(), doc)
  } else {
    doc = join(tmp, 'openapi.json')
    console.error('check:api: no document given; printing it with `cargo run -q --example clinic -- openapi`')
    const printed = execFileSync('cargo', ['run', '-q', '--example', 'clinic', '--', 'openapi'], {
      cwd: web,
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 * 1024 * 1024,
    })
    writeFileSync(doc, printed)
  }
  const fresh = join(tmp, 'schema.d.ts')
  // The same command as `npm run gen:api`, so the outputs compare byte for byte.
  const gen = spawnSync(generator, [doc, '-o', fresh], { stdio: ['ignore', 'ignore', 'inherit'] })
  if (gen.status !== 0) {
    console.error(`check:api: openapi-typescript failed on ${doc}`)
    process.exit(2)
  }
  if (readFileSync(fresh, 'utf8') === readFileSync(committed, 'utf8')) {
    console.error('check:api: src/api/schema.d.ts matches the API document')
    process.exit(0)
  }
  const diff = spawnSync('diff', ['-u', '--label', 'src/api/schema.d.ts (committed)', '--label',
    'from the API document', committed, fresh], { encoding: 'utf8' })
  if (diff.stdout) process.stdout.write(diff.stdout)
  else console.error('check:api: (no `diff` on this system to show the difference)')
  console.error('check:api: src/api/schema.d.ts is out of date with the API: run `npm run gen:api` and commit it')
  process.exit(1)
} finally {
  rmSync(tmp, { recursive: true, force: true })
}
