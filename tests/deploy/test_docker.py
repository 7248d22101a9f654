"""The production files of docker/ (issue 20, item 5), checked without a Docker
engine (none runs here):

- the image installs exactly the requirement files `make run` installs
  (bin/setup-venv; not requirements-test.txt), and nothing else with pip; its
  last stage has no build tools and runs as a non-root user;
- its CKAN configuration is rendered from config/ckan.ini.template (the same
  plugins but binhphuoc_pgsearch) and takes its values from CKAN_* variables;
  its `init` role runs the migrations bin/setup-ckan runs, its other roles the
  commands of bin/services; its entry point reads the secret files;
- the compose file is valid for Debian's docker-compose (`config`), every
  long-running service has a health check, secrets come from files;
- nginx's configuration passes `nginx -t`, and a real nginx in front of a real
  CKAN (gunicorn) gzips, caches static files, stops uploads over CKAN's size
  with a Vietnamese page, and adds the guard's security headers only where CKAN
  did not (tests/deploy/test_web_workers.py starts the web role).
"""
from __future__ import annotations

import gzip
import http.client
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import ROOT
from tests.workflow.conftest import WORKFLOW_PLUGINS

from .test_web_workers import GunicornServer

DOCKER = ROOT / "docker"
DOCKERFILE = DOCKER / "Dockerfile"
NGINX_TEMPLATE = DOCKER / "nginx" / "templates" / "default.conf.template"
LONG_RUNNING_ROLES = {"web", "worker", "harvest-gather", "harvest-fetch", "harvest-scheduler"}
ONE_SHOTS = {"init", "solr-init"}


# --- pip installs -----------------------------------------------------------------------------

def _pip_installs(commands: list[list[str]]) -> list[dict]:
    """Each `pip install` of the shell commands, as what it installs."""
    found = []
    for argv in commands:
        for i in range(len(argv) - 1):
            is_pip = argv[i] in ("pip", "pip3", "PIP") or argv[i].endswith("/pip")
            if is_pip and argv[i + 1] == "install":
                found.append(_install(argv[i + 2:]))
    return found


def _install(args: list[str]) -> dict:
    out: dict = {"requirements": [], "constraints": [], "no_deps": False,
                 "editable": None, "packages": []}
    it = iter(args)
    for a in it:
        if a in ("-q", "--quiet", "--no-cache-dir", "--disable-pip-version-check"):
            continue
        if a == "--no-deps":
            out["no_deps"] = True
        elif a == "-r":
            out["requirements"].append(next(it))
        elif a == "-c":
            out["constraints"].append(next(it))
        elif a == "-e":
            out["editable"] = next(it)
        else:
            out["packages"].append(a)  # anything else: a package or an unknown option
    return out


def _normalise(install: dict, root: str) -> dict:
    def rel(p: str) -> str:
        p = p.replace(root, "").lstrip("/")
        return p or "."
    return {**install,
            "requirements": [rel(p) for p in install["requirements"]],
            "constraints": [rel(p) for p in install["constraints"]],
            "editable": rel(install["editable"]) if install["editable"] else None}


def _setup_venv_installs() -> list[dict]:
    commands = []
    for line in (ROOT / "bin" / "setup-venv").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith('"${PIP[@]}" install'):
            commands.append(shlex.split(line.replace('"${PIP[@]}"', "PIP")))
    return [_normalise(i, "$ROOT") for i in _pip_installs(commands)]


def _dockerfile():
    from dockerfile_parse import DockerfileParser

    return DockerfileParser(str(DOCKERFILE)).structure


def _stages() -> list[list[dict]]:
    stages: list[list[dict]] = []
    for ins in _dockerfile():
        if ins["instruction"] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(ins)
    return stages


def _run_commands(stage: list[dict]) -> list[list[str]]:
    out = []
    for ins in stage:
        if ins["instruction"] == "RUN":
            for part in re.split(r"&&|;|\|\|", ins["value"]):
                out.append(shlex.split(part))
    return out


def test_image_installs_exactly_make_runs_requirement_files():
    expected = [i for i in _setup_venv_installs()
                if "config/requirements-test.txt" not in i["requirements"]]
    assert len(expected) == 4, expected  # bootstrap, requirements, nodeps, the bundle
    stages = _stages()
    installs = [_normalise(i, "/srv/app")
                for stage in stages for i in _pip_installs(_run_commands(stage))]
    assert installs == expected
    # nothing else is pip-installed: no package named, no other pip call (e.g. python -m pip)
    assert not any(i["packages"] for i in installs)
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert text.count("pip install") == len(installs)
    assert "requirements-test" not in "".join(i["value"] for s in stages for i in s
                                             if i["instruction"] in ("RUN", "COPY"))
    # every requirement file it installs is copied from the checkout
    for i in installs:
        for f in i["requirements"] + i["constraints"]:
            assert (ROOT / f).is_file(), f


def test_image_final_stage_has_no_build_tools_and_is_not_root():
    stages = _stages()
    assert len(stages) >= 2
    final = stages[-1]
    assert all(i["instruction"] != "RUN" or "pip install" not in i["value"] for i in final)
    apt = " ".join(i["value"] for i in final if i["instruction"] == "RUN")
    for tool in ("build-essential", "gcc", "g++", "make ", "-dev ", "-dev\n", "npm", "nodejs",
                 "git "):
        assert tool not in apt + " ", tool
    users = [i["value"].strip() for i in final if i["instruction"] == "USER"]
    assert users and users[-1] not in ("root", "0")
    copies = [i["value"] for i in final if i["instruction"] == "COPY"]
    assert copies and all(c.startswith("--from=build ") for c in copies)
    # the base of both stages is the same Python as .venv's
    assert "python:3.11-" in DOCKERFILE.read_text(encoding="utf-8")
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {"docker/secrets", "docker/.env", "docker/harvest.env", ".venv", "var"} <= set(ignored)


def test_image_ini_is_the_template_without_pgsearch_and_reads_the_environment(tmp_path):
    from ckan.cli import CKANConfigLoader

    ini = tmp_path / "ckan.ini"
    subprocess.run(["python3", str(DOCKER / "render_ini.py"),
                    str(ROOT / "config" / "ckan.ini.template"), str(ini)], check=True)
    env = {
        "CKAN_SITE_URL": "https://dulieu.example.vn", "CKAN_SECRET_KEY": "s3cret",
        "CKAN_SQLALCHEMY_URL": "postgresql://ckan:pw@db/ckan",
        "CKAN_DATASTORE_WRITE_URL": "postgresql://ckan:pw@db/datastore",
        "CKAN_DATASTORE_READ_URL": "postgresql://datastore_ro:pw2@db/datastore",
        "CKAN_SOLR_URL": "http://solr1:8983/solr/ckan", "CKAN_REDIS_URL": "redis://redis:6379/0",
        "CKAN_SSO_DISCOVERY_URL": "", "CKAN_SSO_CLIENT_ID": "", "CKAN_SSO_CLIENT_SECRET": "",
        "CKAN_STORAGE_PATH": "/var/lib/ckan", "CKAN_XLOADER_SITE_URL": "http://web:8000",
        "CKAN_XLOADER_API_TOKEN": "tok", "CKAN_SMTP_SERVER": "smtp.example:25",
        "CKAN_SMTP_MAIL_FROM": "a@example.vn", "CKAN_BEHIND_TLS": "true",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        conf = CKANConfigLoader(str(ini)).get_config()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert conf["SECRET_KEY"] == "s3cret"
    assert conf["solr_url"] == "http://solr1:8983/solr/ckan"
    assert conf["ckan.site_url"] == "https://dulieu.example.vn"
    assert conf["ckanext.xloader.api_token"] == "tok"
    assert conf["ckanext.binhphuoc.security.behind_tls"] == "true"
    from tests import servers

    template_plugins = servers.production_option("ckan.plugins").split()
    assert conf["ckan.plugins"].split() == [p for p in template_plugins
                                            if p != "binhphuoc_pgsearch"]


def test_init_role_runs_the_migrations_of_make_run():
    def plugins(path: Path) -> list[str]:
        return re.findall(r"db upgrade -p (\w+)", path.read_text(encoding="utf-8"))

    make_run = [p for p in plugins(ROOT / "bin" / "setup-ckan") if p != "binhphuoc_pgsearch"]
    assert plugins(DOCKER / "entrypoint.sh") == make_run


def test_image_roles_run_the_commands_of_make_run():
    """worker, harvest-gather, harvest-fetch, harvest-scheduler: the CKAN commands
    bin/services runs for the same names."""
    services = (ROOT / "bin" / "services").read_text(encoding="utf-8")
    entry = (DOCKER / "entrypoint.sh").read_text(encoding="utf-8")
    make_run = dict(re.findall(r'^\s+([a-z-]+)\)\s+echo "([^"$]+)" ;;', services, re.M))
    image = dict(re.findall(r'^\s+([a-z-]+)\)\s+exec "\$\{CKAN\[@\]\}" ([^;"$]+?) ?(?:"\$@")? ;;',
                            entry, re.M))
    assert set(make_run) == LONG_RUNNING_ROLES - {"web"}
    assert image == make_run


# --- compose ------------------------------------------------------------------------------------

def _docker_compose() -> str:
    exe = shutil.which("docker-compose")
    if not exe:
        pytest.fail("docker-compose is missing: bin/setup-system installs it "
                    "(apt-get install docker-compose)", pytrace=False)
    return exe


@pytest.fixture(scope="module")
def compose_dir(tmp_path_factory) -> Path:
    """docker/ as an operator prepares it: secrets made, beside the checkout's config/."""
    base = tmp_path_factory.mktemp("compose")
    shutil.copytree(DOCKER, base / "docker", ignore=shutil.ignore_patterns(
        "secrets", ".env", "harvest.env", "__pycache__"))
    (base / "config").symlink_to(ROOT / "config")
    subprocess.run([str(base / "docker" / "make-secrets")], check=True, capture_output=True)
    return base / "docker"


def _compose_config(compose_dir: Path, file: str = "compose.yaml") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CKAN_", "WEB_"))}
    env["CKAN_SITE_URL"] = "https://dulieu.example.vn"
    return subprocess.run([_docker_compose(), "-f", file, "config"], cwd=compose_dir,
                          env=env, capture_output=True, text=True)


@pytest.fixture(scope="module")
def compose(compose_dir) -> dict:
    res = _compose_config(compose_dir)
    assert res.returncode == 0, res.stderr
    return yaml.safe_load(res.stdout)


def test_compose_file_is_valid_and_the_validator_is_real(compose_dir, compose):
    bad = compose_dir / "bad.yaml"
    bad.write_text((compose_dir / "compose.yaml").read_text(encoding="utf-8")
                   .replace("      retries: 3\n", "      retrys: 3\n", 1), encoding="utf-8")
    res = _compose_config(compose_dir, "bad.yaml")
    assert res.returncode != 0 and "retrys" in res.stderr
    assert {"nginx", "web", "worker", "harvest-gather", "harvest-fetch", "harvest-scheduler",
            "db", "redis", "zookeeper", "solr1", "solr2", "solr-init", "init"} <= \
        set(compose["services"])


def test_compose_roles_health_checks_and_secrets(compose):
    services = compose["services"]
    roles = {s["command"][0]: name for name, s in services.items()
             if s.get("image", "").startswith("cong-du-lieu-mo")}
    assert LONG_RUNNING_ROLES | {"init"} <= set(roles)
    for name, s in services.items():
        if name in ONE_SHOTS:
            assert s["restart"] == "no"
            continue
        assert s.get("healthcheck", {}).get("test"), f"{name} has no health check"
        assert not s["healthcheck"].get("disable"), name
    # one-shots are waited for until they have succeeded
    assert services["web"]["depends_on"]["init"]["condition"] == "service_completed_successfully"
    assert services["init"]["depends_on"]["solr-init"]["condition"] == \
        "service_completed_successfully"
    # secrets: files, never values in the environment
    for name, s in services.items():
        for key, value in (s.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|TOKEN", key):
                assert key.endswith("_FILE") and str(value).startswith("/run/secrets/"), \
                    (name, key)
    assert all("file" in v for v in compose["secrets"].values())
    # the web role: gunicorn with WEB_WORKERS processes
    assert services["web"]["environment"]["WEB_WORKERS"]
    assert "exec gunicorn --config /srv/app/config/gunicorn.conf.py" in \
        (DOCKER / "entrypoint.sh").read_text(encoding="utf-8")
    # SolrCloud: the official image, ZooKeeper, the bundle's configset
    for node in ("solr1", "solr2"):
        assert services[node]["image"].startswith("solr:9")
        assert services[node]["environment"]["ZK_HOST"] == "zookeeper:2181"
    mounts = [v.split(":")[0] for v in services["solr-init"]["volumes"]] \
        if isinstance(services["solr-init"]["volumes"][0], str) else \
        [v["source"] for v in services["solr-init"]["volumes"]]
    configset = [Path(m) for m in mounts if m.endswith("config/solr/configset")]
    assert configset and (configset[0] / "conf" / "schema.xml").is_file()
    # one upload limit for nginx and CKAN
    assert services["nginx"]["environment"]["CKAN_MAX_UPLOAD_SIZE_MB"] == \
        services["web"]["environment"]["CKAN_MAX_UPLOAD_SIZE_MB"]
    assert "client_max_body_size ${CKAN_MAX_UPLOAD_SIZE_MB}m;" in \
        NGINX_TEMPLATE.read_text(encoding="utf-8")


# --- nginx ----------------------------------------------------------------------------------------

def _nginx() -> str:
    exe = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else "")
    if not exe:
        pytest.fail("nginx is missing: bin/setup-system installs it (apt-get install nginx-light)",
                    pytrace=False)
    return exe


def _render_nginx(env: dict[str, str]) -> str:
    """What the nginx image's entrypoint does: envsubst of the variables that are set."""
    text = NGINX_TEMPLATE.read_text(encoding="utf-8")
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}",
                  lambda m: env.get(m.group(1), m.group(0)), text)


def _nginx_main(prefix: Path, conf: str) -> Path:
    (prefix / "default.conf").write_text(conf, encoding="utf-8")
    main = prefix / "nginx.conf"
    main.write_text("events {}\nhttp {\n  include /etc/nginx/mime.types;\n"
                    f"  include {prefix}/default.conf;\n}}\n", encoding="utf-8")
    return main


def test_nginx_config_passes_nginx_t(tmp_path):
    main = _nginx_main(tmp_path, _render_nginx({"CKAN_MAX_UPLOAD_SIZE_MB": "100"}))
    res = subprocess.run([_nginx(), "-t", "-c", str(main), "-p", str(tmp_path),
                          "-g", f"pid {tmp_path}/nginx.pid; error_log stderr;"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "client_max_body_size 100m;" in (tmp_path / "default.conf").read_text()


def _fallback_headers() -> dict[str, str]:
    text = NGINX_TEMPLATE.read_text(encoding="utf-8")
    return {m.group(1).replace("_", "-").lower(): m.group(2) for m in re.finditer(
        r'map \$upstream_http_(\w+) \$\w+ \{\s*"" "([^"]*)";', text)}


def test_nginx_csp_is_the_guards():
    from ckanext.binhphuoc.guard.security import CSP

    assert _fallback_headers()["content-security-policy"] == \
        "; ".join(f"{k} {v}" for k, v in CSP.items())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(url: str, data: bytes | None = None, headers: dict | None = None):
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


@pytest.mark.ckan_config("ckan.plugins", WORKFLOW_PLUGINS)
@pytest.mark.usefixtures("clean_db")
def test_real_nginx_in_front_of_gunicorn(tmp_path):
    """The portal with the bundle's guard (its security headers), behind nginx."""
    server = GunicornServer(2, tmp_path, {"ckan.plugins": WORKFLOW_PLUGINS},
                            env={"WEB_PROXIES": "1"}).start()
    port = _free_port()
    conf = _render_nginx({"CKAN_MAX_UPLOAD_SIZE_MB": "1"})
    # the only changes for loopback: its address, CKAN's, the error pages' folder
    conf = conf.replace("listen 80;", f"listen 127.0.0.1:{port};")
    conf = re.sub(r"resolver [^;]*;", "", conf)
    conf = conf.replace("set $ckan http://web:8000;", f"set $ckan {server.url};")
    conf = conf.replace("root /usr/share/nginx/html;", f"root {DOCKER / 'nginx' / 'html'};")
    main = _nginx_main(tmp_path, conf)
    nginx = subprocess.Popen(
        [_nginx(), "-c", str(main), "-p", str(tmp_path),
         # workers as this user (root in CI): they read the error pages of the checkout
         # and the temporary directory, which `nobody` may not reach
         "-g", f"daemon off; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log; "
               f"user {pwd.getpwuid(os.getuid()).pw_name};"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if _request(base + "/nginx-health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        # nginx's fallback values are the guard's, as CKAN itself sends them
        _, direct, _ = _request(server.url + "/api/3/action/status_show")
        for name, value in _fallback_headers().items():
            if name != "content-security-policy":
                assert direct[name] == value, name
        # a page: CKAN's own headers, once (nginx adds none of its fallbacks)
        status, headers, body = _request(base + "/dataset/", headers={"Accept-Encoding": "gzip"})
        assert status == 200
        assert headers.get_all("Content-Security-Policy") and \
            len(headers.get_all("Content-Security-Policy")) == 1
        assert len(headers.get_all("X-Frame-Options")) == 1
        assert headers["Content-Encoding"] == "gzip"
        assert b"<html" in gzip.decompress(body)
        assert "max-age" not in (headers.get("Cache-Control") or "")
        # a static file of CKAN: cached for a week
        status, headers, _ = _request(base + "/base/images/ckan-logo.png")
        assert status == 200, status
        assert headers["Cache-Control"] == "max-age=604800"
        assert headers["Expires"]
        # an upload over the size: nginx's Vietnamese page, with the guard's headers
        status, headers, body = _request(base + "/api/3/action/resource_create",
                                         data=b"x" * (2 * 1024 * 1024),
                                         headers={"Content-Type": "application/octet-stream"})
        assert status == 413
        assert "Tệp tải lên quá lớn" in body.decode("utf-8")
        assert headers["Content-Security-Policy"] == _fallback_headers()["content-security-policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        # the client's address reaches CKAN through nginx (WEB_PROXIES=1, as compose sets
        # it), and a client cannot forge it: the last X-Forwarded-For entry is nginx's peer
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30,
                                          source_address=("127.0.0.2", 0))
        conn.request("GET", "/api/3/action/status_show?probe=client-address",
                     headers={"X-Forwarded-For": "203.0.113.9"})
        assert conn.getresponse().status == 200
        conn.close()
        probe = re.compile(r'^(\S+) "GET /api/3/action/status_show\?probe=client-address', re.M)
        deadline = time.monotonic() + 10  # the access-log line follows the response
        while not probe.search(server.log.read_text(encoding="utf-8")):
            assert time.monotonic() < deadline, server.log_tail()
            time.sleep(0.1)
        assert probe.search(server.log.read_text(encoding="utf-8")).group(1) == "127.0.0.2"
        # CKAN down: nginx's Vietnamese 50x page
        server.stop()
        status, _, body = _request(base + "/dataset/")
        assert status == 502 and "tạm thời gián đoạn" in body.decode("utf-8")
    finally:
        nginx.send_signal(signal.SIGTERM)
        nginx.wait(timeout=20)
        server.stop()


# --- entry point --------------------------------------------------------------------------------

def _entrypoint(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"]}
    return subprocess.run([str(DOCKER / "entrypoint.sh"), *args], env={**base, **env},
                          capture_output=True, text=True, timeout=30)


def test_entrypoint_reads_secret_files_into_the_settings(tmp_path):
    secrets = {"db_password": "d6a1", "datastore_ro_password": "r0c2", "secret_key": "k3y"}
    for name, value in secrets.items():
        (tmp_path / name).write_text(value + "\n", encoding="utf-8")
    env = {"CKAN_SITE_URL": "https://dulieu.example.vn",
           "CKAN_DB_PASSWORD_FILE": str(tmp_path / "db_password"),
           "CKAN_DATASTORE_RO_PASSWORD_FILE": str(tmp_path / "datastore_ro_password"),
           "CKAN_SECRET_KEY_FILE": str(tmp_path / "secret_key")}
    res = _entrypoint(env, "env")  # any other command runs as given, after the set-up
    assert res.returncode == 0, res.stderr
    got = dict(line.split("=", 1) for line in res.stdout.splitlines() if "=" in line)
    assert got["CKAN_SQLALCHEMY_URL"] == "postgresql://ckan:d6a1@db/ckan"
    assert got["CKAN_DATASTORE_WRITE_URL"] == "postgresql://ckan:d6a1@db/datastore"
    assert got["CKAN_DATASTORE_READ_URL"] == "postgresql://datastore_ro:r0c2@db/datastore"
    assert got["CKAN_SECRET_KEY"] == "k3y"
    assert got["CKAN_SOLR_URL"] == "http://solr1:8983/solr/ckan"
    assert got["CKAN_INI"] == "/srv/app/docker/ckan.ini"
    assert not any(k.endswith("_FILE") for k in got)
    # a secret that is missing stops the container with its name
    res = _entrypoint({**env, "CKAN_SECRET_KEY_FILE": str(tmp_path / "nope")}, "env")
    assert res.returncode != 0 and "CKAN_SECRET_KEY_FILE" in res.stderr
    res = _entrypoint({k: v for k, v in env.items() if k != "CKAN_SECRET_KEY_FILE"}, "env")
    assert res.returncode != 0 and "CKAN_SECRET_KEY" in res.stderr
