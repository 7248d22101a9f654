"""A real SMTP server for the notification tests (aiosmtpd, on loopback).

``smtpd`` starts an aiosmtpd server on a free port of 127.0.0.1 chosen by
the kernel (so parallel test sessions never collide, and the SMTP_PORT of
config/ports.env stays free for a developer's mail relay), points CKAN at
it (``smtp.server`` in ``ckan.common.config``, restored after the test) and
stops it in teardown. ``smtpd.messages`` are the received messages, parsed
with the e-mail package (``email.policy.default``: headers and bodies
decoded), each with ``.envelope_to``.

Import the fixtures into a test module::

    from .smtp import dead_smtp, refusing_smtpd, silent_smtp, smtpd  # noqa: F401

A message is stored before the server answers 250 to DATA, so it is there
as soon as the sending call returns.
"""
from __future__ import annotations

import contextlib
import email
import email.policy
import socket
import threading
from email.message import EmailMessage
from typing import Iterator

import pytest


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Collector:
    """aiosmtpd handler keeping every message; ``refuse`` makes it answer
    DATA with a permanent error instead."""

    def __init__(self, refuse: bool = False):
        self.refuse = refuse
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "554 5.7.1 Message refused by the test server"
        msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                       policy=email.policy.default)
        msg.envelope_to = list(envelope.rcpt_tos)
        msg.envelope_from = envelope.mail_from
        with self._lock:
            self.messages.append(msg)
        return "250 Message accepted for delivery"


class SMTPServer:
    def __init__(self, refuse: bool = False):
        from aiosmtpd.controller import Controller

        self.handler = Collector(refuse=refuse)
        self.host = "127.0.0.1"
        self.port = free_port()
        self.controller = Controller(self.handler, hostname=self.host, port=self.port)

    @property
    def address(self) -> str:
        return "%s:%d" % (self.host, self.port)

    @property
    def messages(self) -> list[EmailMessage]:
        return list(self.handler.messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m.envelope_to]

    def clear(self) -> None:
        self.handler.messages.clear()

    def start(self) -> "SMTPServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


@contextlib.contextmanager
def _serving(monkeypatch, server_address: str) -> Iterator[None]:
    from ckan.common import config

    monkeypatch.setitem(config, "smtp.server", server_address)
    yield


@pytest.fixture
def smtpd(monkeypatch) -> Iterator[SMTPServer]:
    """A running SMTP server that CKAN's mailer sends to."""
    server = SMTPServer().start()
    try:
        with _serving(monkeypatch, server.address):
            yield server
    finally:
        server.stop()


@pytest.fixture
def refusing_smtpd(monkeypatch) -> Iterator[SMTPServer]:
    """A running SMTP server that refuses every message (554 after DATA)."""
    server = SMTPServer(refuse=True).start()
    try:
        with _serving(monkeypatch, server.address):
            yield server
    finally:
        server.stop()


@pytest.fixture
def dead_smtp(monkeypatch) -> Iterator[str]:
    """A loopback port where nothing listens (connection refused)."""
    address = "127.0.0.1:%d" % free_port()
    with _serving(monkeypatch, address):
        yield address


@pytest.fixture
def silent_smtp(monkeypatch) -> Iterator[str]:
    """A loopback port that accepts connections and never answers (no
    greeting): CKAN's mailer would wait forever without a timeout."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    address = "127.0.0.1:%d" % listener.getsockname()[1]
    try:
        with _serving(monkeypatch, address):
            yield address
    finally:
        listener.close()

