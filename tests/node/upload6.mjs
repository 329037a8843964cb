// Uploads files with the CURRENT official client (@actions/artifact 6.x, installed as
// the npm alias `artifact6`): node upload6.mjs <name> <root> [--skip-archive] <file>...
// With --skip-archive the single file is the artifact (upload-artifact v7 `archive: false`):
// its name becomes the file's name. Prints one JSON line: {"id": ..., "size": ..., "digest": ...}
import { DefaultArtifactClient } from 'artifact6'
import path from 'node:path'

const [name, root, ...rest] = process.argv.slice(2)
const skipArchive = rest[0] === '--skip-archive'
const files = (skipArchive ? rest.slice(1) : rest).map(f => path.join(root, f))
const client = new DefaultArtifactClient()
const result = await client.uploadArtifact(name, files, root, { compressionLevel: 6, skipArchive })
console.log(JSON.stringify(result))
