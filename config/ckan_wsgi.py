"""WSGI entry of the CKAN web app, for gunicorn (config/gunicorn.conf.py).

CKAN's documented ``wsgi.py``: the configuration is the ini file named by the
environment variable ``CKAN_INI`` (``var/ckan.ini`` under ``make run``,
``/srv/app/docker/ckan.ini`` in the image), read by CKAN's own loader
(logging from the file's logging sections, as ``ckan run`` does), which lets the
``CKAN_*`` variables of ``ckan.config.environment.CONFIG_FROM_ENV_VARS`` win.
Each gunicorn worker imports this module once (no preloading: the master holds
no database connection that forked workers would share).
"""
import os
from logging.config import fileConfig

from ckan.cli import CKANConfigLoader
from ckan.config.middleware import make_app
from werkzeug.middleware.proxy_fix import ProxyFix

INI = os.environ["CKAN_INI"]
# Behind this many reverse proxies (nginx of docker/: 1), the client's address,
# scheme and host are the ones they forward (X-Forwarded-For/-Proto/-Host): the
# guard's rate limits count per client, not per proxy. 0 (unset): headers ignored.
PROXIES = int(os.environ.get("WEB_PROXIES") or 0)

# As ckan.cli.load_config, but keeping gunicorn's own loggers (its access log).
fileConfig(INI, disable_existing_loggers=False)
application = make_app(CKANConfigLoader(INI).get_config())
if PROXIES:
    application = ProxyFix(application, x_for=PROXIES, x_proto=PROXIES, x_host=PROXIES)
