# Cổng dữ liệu mở — the embedded default in two commands:
#   make run     set up everything (apt, .venv, PostgreSQL, Redis, CKAN, demo) and start the portal
#   make test    the same set-up, then the test suites
# Ports come from config/ports.env; override with CKAN_PORT=... PG_PORT=... REDIS_PORT=...
# The work is done by the scripts in bin/ (see README.md and docs/operations.md).

SHELL := /bin/bash
.DEFAULT_GOAL := help
.NOTPARALLEL:

.PHONY: help run stop restart status test setup services info clean distclean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 12

run:  ## set up what is missing and start the portal (http://127.0.0.1:5000 by default)
	@bin/run

stop:  ## stop everything `make run` started (web, worker, harvest consumers, Redis, PostgreSQL)
	@bin/services stop

restart:  ## stop, then run
	@bin/services stop
	@bin/run

status:  ## show what runs, with PIDs, addresses and logs
	@bin/services status

test:  ## set up, then run the bundle's tests and ckanext-scheming's suite
	@bin/test

setup:  ## system packages and the .venv only
	@bin/setup-system
	@bin/setup-venv
	@bin/setup-npm

services:  ## set up, start PostgreSQL and Redis only (enough for running single tests)
	@bin/setup-system
	@bin/setup-venv
	@bin/setup-npm
	@bin/services start pg redis
	@bin/setup-db

info:  ## print URL, demo accounts, PIDs and logs
	@bin/info

clean:  ## stop everything and DELETE var/ (databases, uploads, secrets, logs)
	@bin/services stop
	rm -rf var

distclean: clean  ## clean, and delete .venv too
	rm -rf .venv
