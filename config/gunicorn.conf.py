"""gunicorn settings of the CKAN web role (bin/web with WEB_WORKERS=N, the
systemd unit of docs/operations.md, and the ``web`` service of
docker/compose.yaml). Values come from environment variables so that the
three share this one file; command-line options (``--bind``, ``--workers``)
win over them.

  WEB_WORKERS    worker processes (default 2; about 2 per core, each ~250 MB)
  WEB_THREADS    threads per worker (default 1: gunicorn's sync worker;
                 more than 1 selects the gthread worker)
  WEB_TIMEOUT    seconds a request may take before its worker is restarted
                 (default 120: large downloads and DataStore dumps stream)
  WEB_BIND       address (default 127.0.0.1:5000)
  WEB_PROXIES    reverse proxies in front (nginx: 1), whose X-Forwarded-* headers
                 give the client's address (config/ckan_wsgi.py); unset: none
"""
import os

wsgi_app = "ckan_wsgi:application"
pythonpath = os.path.dirname(os.path.abspath(__file__))

bind = [os.environ.get("WEB_BIND") or "127.0.0.1:5000"]
workers = int(os.environ.get("WEB_WORKERS") or 2)
threads = int(os.environ.get("WEB_THREADS") or 1)
timeout = int(os.environ.get("WEB_TIMEOUT") or 120)
# SIGTERM (bin/services stop, systemd, docker stop): workers finish the
# requests in hand within this many seconds, then exit.
graceful_timeout = 15
keepalive = 5
# A worker is replaced after about this many requests (bounds slow leaks).
max_requests = 2000
max_requests_jitter = 200
# No preload_app: each worker loads CKAN itself (see ckan_wsgi.py).
# Managed by PID and signals (TERM: graceful stop, HUP: reload workers, TTIN/TTOU:
# one worker more/less); no control socket in $HOME shared by every instance.
control_socket_disable = True

# One access-log line per request on stderr (var/log/ckan.log, journald,
# docker logs): the client's address (behind a proxy, the one it forwarded when
# WEB_PROXIES is set: config/ckan_wsgi.py), the request, status, bytes, duration
# and the worker's PID.
accesslog = "-"
errorlog = "-"
access_log_format = '%({REMOTE_ADDR}e)s "%(r)s" %(s)s %(b)s %(M)sms pid=%(p)s'
# Behind nginx (docker/): trust its X-Forwarded-Proto for the scheme.
forwarded_allow_ips = os.environ.get("WEB_FORWARDED_ALLOW_IPS") or "127.0.0.1"
