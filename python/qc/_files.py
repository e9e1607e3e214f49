"""Writing the package's reports: whole or not at all."""
import json
import os


def write_text(path, text):
    """`text` into `path` through a temporary file renamed into place."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def write_json(path, obj):
    """`obj` as indented JSON, atomically."""
    write_text(path, json.dumps(obj, indent=1) + "\n")
