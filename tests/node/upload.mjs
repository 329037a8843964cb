// Uploads files with the official client: node upload.mjs <name> <root> <file>...
// Prints one JSON line: {"id": ..., "size": ..., "digest": ...}
import { DefaultArtifactClient } from '@actions/artifact'
import path from 'node:path'

const [name, root, ...files] = process.argv.slice(2)
const client = new DefaultArtifactClient()
const result = await client.uploadArtifact(name, files.map(f => path.join(root, f)), root, { compressionLevel: 6 })
console.log(JSON.stringify(result))
