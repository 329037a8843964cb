// Downloads an artifact of the current run with the CURRENT official client
// (@actions/artifact 6.x): node download6.mjs <artifact-id> <dest>. It unzips only when
// the blob's Content-Type is a zip type or its URL ends in .zip. Prints one JSON line.
import { DefaultArtifactClient } from 'artifact6'

const [id, dest] = process.argv.slice(2)
const client = new DefaultArtifactClient()
const result = await client.downloadArtifact(Number(id), { path: dest })
console.log(JSON.stringify(result))
