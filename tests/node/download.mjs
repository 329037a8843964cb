// Downloads an artifact of the current run with the official client:
// node download.mjs <artifact-id> <dest>. Prints one JSON line with the client's result.
import { DefaultArtifactClient } from '@actions/artifact'

const [id, dest] = process.argv.slice(2)
const client = new DefaultArtifactClient()
const result = await client.downloadArtifact(Number(id), { path: dest })
console.log(JSON.stringify(result))
