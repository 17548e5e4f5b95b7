"""The repository stands alone: nothing it ships sends a reader to design notes that live
outside it. What users and contributors need is written in README.md and CONTRIBUTING.md."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE = re.compile(r"\b(?:DESIGN|CONTROLS)\.md\b|\bDESIGN\b|\.\./shared\b|shared/notes\b")


def test_no_tracked_file_points_outside_the_repository() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    offenders = []
    for name in tracked:
        path = ROOT / name
        if name == "tests/test_stands_alone.py" or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        offenders += [f"{name}:{n}" for n, line in enumerate(text.splitlines(), 1) if OUTSIDE.search(line)]
    assert offenders == []


# What counts as a cited file: a path under one of the repository's top-level folders, any
# `NAME.md`, and the target of a relative markdown link. A path is read from the repository
# root or from the citing file's folder (runbooks name each other by file name).
CITING = ("README.md", "CONTRIBUTING.md", "docs/", "deploy/")
KUBECTL = re.compile(r"\bkubectl\b[^`\n]*")
LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")


def _tracked() -> list[str]:
    return subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()


def _path_pattern(top_folders: set[str]) -> re.Pattern[str]:
    tops = "|".join(re.escape(top) for top in sorted(top_folders))
    return re.compile(rf"(?<![\w/.:<>{{}}$*~@-])((?:\./)?(?:{tops})/[\w./-]*[\w/]|[\w.-]+\.md)(?![\w/<>{{}}*-])")


def cited_paths(text: str, top_folders: set[str], *, markdown: bool = True) -> list[str]:
    """Every repository path `text` cites (see CITING above for what counts); links only in `markdown`."""
    links = [t for t in LINK.findall(text) if "://" not in t and not t.startswith("mailto:")] if markdown else []
    text = KUBECTL.sub("", text)  # `kubectl exec deploy/controlwatch`: a Kubernetes object, not a file
    return list(dict.fromkeys(_path_pattern(top_folders).findall(text) + links))


def test_cited_paths_are_found() -> None:
    text = (
        "see DESIGN.md, `docs/oncall.md` and [the runbook](deploy/runbooks/X.md#first-steps); "
        "not https://example.com/docs/a.md, `deploy/runbooks/<alert>.md`, `0.0.0.0/0` or [top](#controls)"
    )
    assert cited_paths(text, {"docs", "deploy"}) == ["DESIGN.md", "docs/oncall.md", "deploy/runbooks/X.md"]
    kubectl = "`kubectl exec -n controlwatch deploy/controlwatch -- controlwatch baseline diff`, `deploy/iam/x.yaml`"
    assert cited_paths(kubectl, {"deploy"}) == ["deploy/iam/x.yaml"]
    assert cited_paths(r'NAME = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251})")', {"docs"}, markdown=False) == []


def test_every_file_the_documentation_cites_is_in_the_repository() -> None:
    tracked = _tracked()
    tops = {name.split("/")[0] for name in tracked if "/" in name}
    citing = [n for n in tracked if n.startswith(CITING) and (not n.startswith("docs/") or n.endswith(".md"))]
    assert "README.md" in citing and any(n.startswith("deploy/prometheus/") for n in citing)
    missing = []
    for name in citing:
        folder = (ROOT / name).parent
        for cited in cited_paths((ROOT / name).read_text(encoding="utf-8"), tops, markdown=name.endswith(".md")):
            if not (ROOT / cited).exists() and not (folder / cited).exists():
                missing.append(f"{name}: {cited}")
    assert missing == []
