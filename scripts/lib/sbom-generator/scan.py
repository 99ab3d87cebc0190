"""A minimal SBOM generator that follows BuildKit's SBOM scanning protocol.

BuildKit runs it with the build result mounted read-only at $BUILDKIT_SCAN_SOURCE (and
other stages under $BUILDKIT_SCAN_SOURCE_EXTRAS), and attaches every in-toto statement
it writes to $BUILDKIT_SCAN_DESTINATION/<name>.spdx.json as an SBOM attestation
(https://github.com/moby/buildkit/blob/master/docs/attestations/sbom-protocol.md).

The SBOM is an SPDX 2.3 document listing the Debian packages of /var/lib/dpkg/status.
Like syft, it records when it ran, so two builds give two different SBOMs.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

TOOL = "repro-dev-sbom-generator-1"


def dpkg_packages(root: Path) -> list[dict[str, str]]:
    status = root / "var/lib/dpkg/status"
    if not status.is_file():
        return []
    packages = []
    for stanza in status.read_text(errors="replace").split("\n\n"):
        fields = {}
        for line in stanza.splitlines():
            if line[:1].isspace() or ":" not in line:
                continue
            key, _, value = line.partition(":")
            fields[key] = value.strip()
        if "Package" in fields and "install ok installed" in fields.get("Status", ""):
            packages.append(fields)
    return sorted(packages, key=lambda p: p["Package"])


def spdx_document(name: str, root: Path) -> dict[str, object]:
    packages = []
    for fields in dpkg_packages(root):
        package, version = fields["Package"], fields.get("Version", "")
        arch = fields.get("Architecture", "")
        packages.append(
            {
                "SPDXID": "SPDXRef-Package-deb-"
                + hashlib.sha256(package.encode()).hexdigest()[:16],
                "name": package,
                "versionInfo": version,
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": False,
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": f"pkg:deb/debian/{package}@{version}?arch={arch}",
                    }
                ],
            }
        )
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    listing = json.dumps(packages, sort_keys=True).encode()
    return {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": name,
        "documentNamespace": f"https://repro.dev/sbom/{hashlib.sha256(listing).hexdigest()}/{created}",
        "creationInfo": {"created": created, "creators": [f"Tool: {TOOL}"]},
        "packages": packages,
    }


def main() -> int:
    source = Path(os.environ["BUILDKIT_SCAN_SOURCE"])
    destination = Path(os.environ["BUILDKIT_SCAN_DESTINATION"])
    targets = [source]
    extras = os.environ.get("BUILDKIT_SCAN_SOURCE_EXTRAS")
    if extras and Path(extras).is_dir():
        targets += sorted(p for p in Path(extras).iterdir() if p.is_dir())
    for target in targets:
        statement = {
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": "https://spdx.dev/Document",
            "subject": [],
            "predicate": spdx_document(target.name, target),
        }
        out = destination / f"{target.name}.spdx.json"
        out.write_text(json.dumps(statement, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
