#!/usr/bin/env python3
"""Vendor the Security Hub service model's ASFF shapes as test/fixtures/asff-securityhub/model.json.

Usage:
    python3 scripts/vendor-asff-model.py PATH/botocore/data/securityhub/<date>/service-2.json[.gz] \
        [--botocore-version X.Y.Z] [--out test/fixtures/asff-securityhub/model.json]

PATH is an unpacked botocore wheel (newer botocore ships the model gzipped: both are read). The
botocore version is read from PATH/botocore/__init__.py when --botocore-version is not given.

Writes the closure of shapes reachable from `AwsSecurityFinding` (what BatchImportFindings takes
per finding), except that of `ResourceDetails` only the members AwsIamAccessKey, AwsIamUser,
AwsIamRole and Other (the resource types credwarden exports) are kept, with their closures in
full; plus `BatchImportFindingsRequest` and its `Findings` list (min/max length). Shapes are kept
as botocore has them (type, members, required, min, max, pattern, enum, ...) but without their
`documentation` strings, and sorted by name, so the output is small and reproducible.
"""

import argparse
import gzip
import hashlib
import json
import os
import re
import sys

ROOT_SHAPES = ["AwsSecurityFinding", "BatchImportFindingsRequest"]
RESOURCE_DETAILS = "ResourceDetails"
RESOURCE_DETAILS_KEPT = ["AwsIamAccessKey", "AwsIamUser", "AwsIamRole", "Other"]
DEFAULT_OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "asff-securityhub", "model.json"
)


def read_model(path):
    with open(path, "rb") as fh:
        raw = fh.read()
    sha256 = hashlib.sha256(raw).hexdigest()
    if path.endswith(".gz") or raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return json.loads(raw.decode("utf-8")), sha256


def botocore_version_near(path):
    """botocore/__init__.py's __version__ for .../botocore/data/<service>/<date>/service-2.json."""
    init = os.path.join(os.path.dirname(path), "..", "..", "..", "__init__.py")
    try:
        with open(init, encoding="utf-8") as fh:
            m = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", fh.read(), re.M)
            return m.group(1) if m else None
    except OSError:
        return None


def strip_docs(shape):
    """A shape without documentation (its own and its members')."""
    out = {k: v for k, v in shape.items() if k != "documentation"}
    if "members" in out:
        out["members"] = {
            name: {k: v for k, v in member.items() if k != "documentation"} for name, member in out["members"].items()
        }
    for ref in ("member", "key", "value"):
        if ref in out:
            out[ref] = {k: v for k, v in out[ref].items() if k != "documentation"}
    return out


def pruned_closure(shapes):
    kept = {}
    todo = list(ROOT_SHAPES)
    while todo:
        name = todo.pop()
        if name in kept:
            continue
        if name not in shapes:
            sys.exit(f"shape {name} not in the model")
        shape = strip_docs(shapes[name])
        if name == RESOURCE_DETAILS:
            missing = [m for m in RESOURCE_DETAILS_KEPT if m not in shape["members"]]
            if missing:
                sys.exit(f"{RESOURCE_DETAILS} lacks {missing}")
            shape["members"] = {m: shape["members"][m] for m in RESOURCE_DETAILS_KEPT}
        kept[name] = shape
        if shape["type"] == "structure":
            todo.extend(m["shape"] for m in shape["members"].values())
        elif shape["type"] == "list":
            todo.append(shape["member"]["shape"])
        elif shape["type"] == "map":
            todo.extend([shape["key"]["shape"], shape["value"]["shape"]])
    return dict(sorted(kept.items()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("service_model", help="botocore/data/securityhub/<date>/service-2.json or .json.gz")
    ap.add_argument("--botocore-version", help="default: read from the botocore package beside the model")
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()

    model, sha256 = read_model(args.service_model)
    meta = model["metadata"]
    if meta.get("serviceId") != "SecurityHub":
        sys.exit(f"not the Security Hub model: serviceId {meta.get('serviceId')!r}")
    version = args.botocore_version or botocore_version_near(args.service_model)
    if not version:
        sys.exit("botocore version unknown: pass --botocore-version")
    shapes = pruned_closure(model["shapes"])
    norm = args.service_model.replace(os.sep, "/")
    source_file = norm[norm.rindex("botocore/data/") :] if "botocore/data/" in norm else os.path.basename(norm)
    out = {
        "source": {
            "package": f"botocore=={version}",
            "file": source_file,
            "sha256": sha256,
            "license": "Apache-2.0",
            "pruned": {
                "roots": ROOT_SHAPES,
                "ResourceDetails.members": RESOURCE_DETAILS_KEPT,
                "documentation": "removed",
            },
        },
        "metadata": {k: meta[k] for k in ("apiVersion", "protocol", "serviceFullName", "serviceId", "uid") if k in meta},
        "shapes": shapes,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="\n") as fh:
        json.dump(out, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    print(f"{args.out}: {len(shapes)} shapes, API version {meta['apiVersion']}, botocore {version}", file=sys.stderr)


if __name__ == "__main__":
    main()
