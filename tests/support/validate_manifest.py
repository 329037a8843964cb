"""Validates manifest.json files against schema/manifest-v1.schema.json.
Usage: python3 validate_manifest.py <schema> <manifest>...  Exit 1 with the errors."""
import json
import sys

import jsonschema

schema = json.load(open(sys.argv[1]))
validator = jsonschema.Draft202012Validator(schema)
bad = 0
for path in sys.argv[2:]:
    for error in validator.iter_errors(json.load(open(path))):
        bad += 1
        print(f"{path}: {'/'.join(map(str, error.absolute_path))}: {error.message}")
sys.exit(1 if bad else 0)
