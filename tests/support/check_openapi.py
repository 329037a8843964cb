"""Checks answers of the fake against GitHub's OpenAPI description (@octokit/openapi).

Usage: python3 check_openapi.py <api.github.com.json> <answers.json>
answers.json: [{"path": "/repos/{owner}/{repo}/compare/{basehead}", "status": 200, "body": ...}, ...]
Each body is validated against the JSON response schema of `GET <path>` for that status
(an error status the operation does not document: against `basic-error`),
with `$ref`s resolved inside the description and OpenAPI 3.0's `nullable` turned into
JSON Schema. Prints one line per violation; exit 1 when there is any, 2 when an
operation is not described at all."""
import json
import sys

import jsonschema


def convert(node):
    """OpenAPI 3.0 schema objects → JSON Schema (draft 7): `nullable: true` allows null."""
    if isinstance(node, list):
        return [convert(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: convert(v) for k, v in node.items() if k not in ("nullable", "example", "examples", "discriminator", "xml", "externalDocs", "deprecated", "readOnly", "writeOnly")}
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


spec = json.load(open(sys.argv[1]))
answers = json.load(open(sys.argv[2]))
components = {"schemas": convert(spec["components"]["schemas"])}
bad = 0
for answer in answers:
    op = spec["paths"].get(answer["path"], {}).get("get")
    if op is None:
        print(f"GET {answer['path']}: not in GitHub's OpenAPI description")
        sys.exit(2)
    response = op["responses"].get(str(answer["status"]))
    if response is None and answer["status"] >= 400:
        # GitHub answers 401/403/404 on every route, but documents them on few; such an
        # answer must still be GitHub's error shape.
        print(f"GET {answer['path']}: status {answer['status']} is not documented for this operation; checked as `basic-error`")
        response = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/basic-error"}}}}
    if response is None:
        print(f"GET {answer['path']}: status {answer['status']} is not a documented response ({', '.join(op['responses'])})")
        bad += 1
        continue
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        continue
    root = dict(convert(schema))
    root["components"] = components
    validator = jsonschema.Draft7Validator(root)
    for error in sorted(validator.iter_errors(answer["body"]), key=lambda e: list(e.absolute_path)):
        bad += 1
        where = "/".join(map(str, error.absolute_path)) or "(root)"
        print(f"GET {answer['path']} ({op['operationId']}) {answer['status']}: {where}: {error.message[:300]}")
print(f"{len(answers)} answers checked, {bad} violations")
sys.exit(1 if bad else 0)
