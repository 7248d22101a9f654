"""The systemd units of docs/operations.md (issue 20, item 6): every ```ini block
that starts with `# /etc/systemd/system/NAME` is written out with the checkout
in place of /srv/portal and checked by `systemd-analyze verify` (unknown keys,
bad values, commands that are not executable), template units through an
instance. Without systemd-analyze (a container), a parser check instead.
"""
from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

from tests.e2e.conftest import ROOT

DOC = ROOT / "docs" / "operations.md"
INSTANCES = {"portal-harvest@.service": ["gather", "fetch"]}


def _units() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    units = {}
    for block in re.findall(r"```ini\n(.*?)```", text, re.S):
        m = re.match(r"# /etc/systemd/system/(\S+\.service)", block)
        if m:
            units[m.group(1)] = block.replace("/srv/portal", str(ROOT))
    return units


def test_docs_have_a_unit_for_each_role():
    assert {"portal-web.service", "portal-worker.service", "portal-harvest@.service",
            "portal-harvest-scheduler.service"} <= set(_units())
    web = _units()["portal-web.service"]
    assert f"ExecStart={ROOT}/bin/web " in web and "Environment=WEB_WORKERS=" in web


def _names(units: dict[str, str]) -> list[str]:
    names = []
    for name in units:
        if name.endswith("@.service"):
            names += [name.replace("@.", f"@{i}.") for i in INSTANCES[name]]
        else:
            names.append(name)
    return names


def test_units_verify(tmp_path):
    units = _units()
    for name, text in units.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    exe = shutil.which("systemd-analyze")
    if exe:
        env = {**os.environ, "SYSTEMD_LOG_LEVEL": "notice"}
        for name in _names(units):
            res = subprocess.run([exe, "verify", str(tmp_path / name)], cwd=tmp_path,
                                 capture_output=True, text=True, env=env)
            out = res.stdout + res.stderr
            assert res.returncode == 0 and name.split("@")[0] not in out, (name, out)
        return
    # no systemd here: sections, keys and commands by a parser
    known = {"Unit": {"Description", "After", "Wants"},
             "Service": {"Type", "User", "Group", "WorkingDirectory", "Environment",
                         "EnvironmentFile", "ExecStart", "ExecReload", "KillMode",
                         "TimeoutStopSec", "Restart", "RestartSec", "NoNewPrivileges",
                         "PrivateTmp"},
             "Install": {"WantedBy"}}
    for name, text in units.items():
        parser = configparser.RawConfigParser(strict=False, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment]
        parser.read_string(text)
        assert set(parser.sections()) == set(known), name
        for section in parser.sections():
            assert set(parser[section]) <= known[section], (name, section)
        exec_start = shlex.split(parser["Service"]["ExecStart"])[0]
        assert Path(exec_start).is_file() and os.access(exec_start, os.X_OK), exec_start


def test_verify_catches_a_bad_unit(tmp_path):
    """The check is real: a misspelt key is reported."""
    exe = shutil.which("systemd-analyze")
    if not exe:
        return
    text = _units()["portal-web.service"].replace("KillMode=mixed", "KillModus=mixed")
    (tmp_path / "portal-web.service").write_text(text, encoding="utf-8")
    res = subprocess.run([exe, "verify", str(tmp_path / "portal-web.service")],
                         capture_output=True, text=True)
    assert "KillModus" in res.stdout + res.stderr
