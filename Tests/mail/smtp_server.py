#!/usr/bin/env python3
"""A small but real SMTP server for Accord's test suite.

It's built on aiosmtpd 1.4.3 (Debian's python3-aiosmtpd). It appends every
accepted message as one JSON line to MAILBOX/received.jsonl, and it can
simulate STARTTLS, implicit TLS (smtps), AUTH, temporary failures and
permanent rejections.

Once it's listening it prints "ready PORT" on stdout, then serves until it
gets SIGTERM or SIGINT and exits 0. Every SMTP reply it sends is logged to
stderr.

  smtp_server.py --mailbox DIR [--host H] [--port P]
                 [--cert C --key K [--require-starttls | --implicit-tls]]
                 [--auth USER:PASSWORD]
                 [--tempfail ADDR:N ...] [--reject ADDR ...]
"""

import os
import sys

# aiosmtpd comes from Debian's python3-aiosmtpd, so only the system
# interpreter has it. "/usr/bin/env python3" can find another python3 first
# (pyenv, for example). If that happens, re-run this script under
# /usr/bin/python3.
try:
    import aiosmtpd  # noqa: F401
except ImportError:
    SYSTEM_PYTHON = "/usr/bin/python3"
    if os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PYTHON) \
            and os.path.exists(SYSTEM_PYTHON):
        os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])
    raise

import argparse
import asyncio
import json
import logging
import signal
import ssl
import time
import warnings

from aiosmtpd.controller import UnthreadedController
from aiosmtpd.smtp import SMTP, AuthResult

log = logging.getLogger("smtp_server")


class LoggingSMTP(SMTP):
    """aiosmtpd's SMTP protocol, but it logs every reply line it sends."""

    async def push(self, status):
        text = status.decode("utf-8", "replace") if isinstance(status, bytes) else status
        peer = self.session.peer if self.session else None
        log.info("%s << %s", peer, text)
        await super().push(status)


class Handler:
    """The aiosmtpd handler hooks. One instance is shared by every session,
    so the tempfail counters persist from one connection to the next."""

    def __init__(self, mailbox, tempfail, reject):
        self.mailbox_path = os.path.join(mailbox, "received.jsonl")
        self.tempfail_left = dict(tempfail)  # address (lowercased) -> failures left
        self.reject = set(reject)            # addresses (lowercased)

    # The hook signature in aiosmtpd 1.4.3 is
    # (server, session, envelope, address, rcpt_options). If the hook is
    # defined, it has to append to envelope.rcpt_tos itself.
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        key = address.lower()
        if key in self.reject:
            log.info("RCPT %s: rejected (--reject)", address)
            return "550 5.1.1 No such user"
        if self.tempfail_left.get(key, 0) > 0:
            self.tempfail_left[key] -= 1
            log.info("RCPT %s: tempfail (%d more to go)", address, self.tempfail_left[key])
            return "451 4.3.0 Try again later"
        log.info("RCPT %s: accepted", address)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    # aiosmtpd itself answers DATA with "503 need RCPT" when no RCPT was
    # accepted, so this hook only runs if at least one recipient got a 250.
    async def handle_DATA(self, server, session, envelope):
        # session.ssl is only set after STARTTLS. With implicit TLS it stays
        # None, so also ask the transport.
        tls = session.ssl is not None or \
            server.transport.get_extra_info("ssl_object") is not None
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data": (envelope.original_content or b"").decode("utf-8", errors="replace"),
            "tls": tls,
            # auth_data is whatever our authenticator put in the AuthResult.
            "auth_user": session.auth_data if session.authenticated else None,
            "at": time.time(),
        }
        with open(self.mailbox_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
            f.flush()
            os.fsync(f.fileno())
        log.info("DATA accepted: from=%s to=%s tls=%s auth_user=%s",
                 record["mail_from"], record["rcpt_tos"], tls, record["auth_user"])
        return "250 2.0.0 Message accepted"


def make_authenticator(user, password):
    """The authenticator aiosmtpd calls for AUTH PLAIN and AUTH LOGIN."""
    def authenticator(server, session, envelope, mechanism, auth_data):
        # auth_data is a LoginPassword(login: bytes, password: bytes).
        login = auth_data.login.decode("utf-8", "replace")
        ok = login == user and auth_data.password.decode("utf-8", "replace") == password
        log.info("AUTH %s user=%r: %s", mechanism, login, "ok" if ok else "invalid")
        if ok:
            # On success, aiosmtpd copies auth_data into session.auth_data.
            return AuthResult(success=True, auth_data=login)
        # handled=False is essential. AuthResult defaults to handled=True,
        # which means "the reply was already sent", so aiosmtpd would send
        # nothing and the client would hang. With handled=False, smtp_AUTH
        # sends "535 5.7.8 Authentication credentials invalid".
        return AuthResult(success=False, handled=False)
    return authenticator


class Server(UnthreadedController):
    """Runs the server on the main thread's event loop. There's no helper
    thread, and port 0 works. (The threaded Controller's start() tries to
    connect to the configured port, and that fails for port 0.)"""

    def factory(self):
        return LoggingSMTP(self.handler, **self.SMTP_kwargs)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    p.add_argument("--mailbox", required=True, metavar="DIR")
    p.add_argument("--cert", metavar="FILE")
    p.add_argument("--key", metavar="FILE")
    p.add_argument("--require-starttls", action="store_true")
    p.add_argument("--implicit-tls", action="store_true")
    p.add_argument("--auth", metavar="USER:PASSWORD")
    p.add_argument("--tempfail", action="append", default=[], metavar="ADDRESS:N")
    p.add_argument("--reject", action="append", default=[], metavar="ADDRESS")
    args = p.parse_args()

    if bool(args.cert) != bool(args.key):
        p.error("--cert and --key must be given together")
    if (args.require_starttls or args.implicit_tls) and not args.cert:
        p.error("--require-starttls/--implicit-tls need --cert and --key")
    if args.require_starttls and args.implicit_tls:
        p.error("--require-starttls and --implicit-tls are mutually exclusive")
    if args.auth is not None and ":" not in args.auth:
        p.error("--auth must be USER:PASSWORD")
    tempfail = {}
    for spec in args.tempfail:
        addr, sep, n = spec.rpartition(":")
        if not sep or not addr or not n.isdigit():
            p.error(f"--tempfail must be ADDRESS:N, got {spec!r}")
        tempfail[addr.lower()] = int(n)
    args.tempfail = tempfail
    args.reject = [a.lower() for a in args.reject]
    return args


def main():
    args = parse_args()
    # A parent may start us with signals blocked (libdispatch's worker threads block them, and the mask
    # is inherited): unblock the two that stop us.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(name)s: %(message)s")
    # aiosmtpd's own logger ("mail.log") is chatty at INFO. It also logs two
    # expected warnings over and over: on every successful AUTH, that
    # Session.login_data is deprecated, and on every connection, that
    # auth_required is set without auth_require_tls. Keep only its other
    # warnings and errors (TLS handshake failures, for example).
    noise = ("login_data is deprecated", "auth_require_tls == False")
    mail_log = logging.getLogger("mail.log")
    mail_log.setLevel(logging.WARNING)
    mail_log.addFilter(lambda r: not any(n in r.getMessage() for n in noise))

    os.makedirs(args.mailbox, exist_ok=True)

    tls_ctx = None
    if args.cert:
        tls_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_ctx.load_cert_chain(args.cert, args.key)

    smtp_kwargs = dict(
        # With a fixed hostname, aiosmtpd doesn't call socket.getfqdn() (a
        # possibly slow DNS lookup) on every connection.
        server_hostname="localhost",
    )
    if args.implicit_tls:
        # The whole connection is TLS: the listening socket gets the context.
        # Don't pass tls_context, or EHLO would also offer STARTTLS.
        smtp_kwargs["ssl_context"] = tls_ctx
    elif tls_ctx:
        smtp_kwargs["tls_context"] = tls_ctx
        smtp_kwargs["require_starttls"] = args.require_starttls

    if args.auth is not None:
        user, _, password = args.auth.partition(":")
        smtp_kwargs["authenticator"] = make_authenticator(user, password)
        smtp_kwargs["auth_required"] = True
        # aiosmtpd treats only STARTTLS as TLS here (it checks its private
        # _tls_protocol), so it would refuse AUTH on an implicit-TLS
        # connection with 538. Require TLS for AUTH only in STARTTLS mode.
        smtp_kwargs["auth_require_tls"] = tls_ctx is not None and not args.implicit_tls
        # The "AUTH without TLS" UserWarning is deliberate here.
        warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")

    handler = Handler(args.mailbox, args.tempfail, args.reject)
    loop = asyncio.new_event_loop()
    server = Server(handler, hostname=args.host, port=args.port, loop=loop, **smtp_kwargs)
    server.begin()  # binds the socket; the loop runs below

    port = server.server.sockets[0].getsockname()[1]
    log.info("listening on %s:%d (starttls=%s require_starttls=%s implicit_tls=%s auth=%s)",
             args.host, port, bool(tls_ctx) and not args.implicit_tls,
             args.require_starttls, args.implicit_tls, args.auth is not None)
    print(f"ready {port}", flush=True)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, loop.stop)
    loop.run_forever()

    # Shut down: stop listening, cancel any open sessions, close the loop.
    log.info("shutting down")
    loop.run_until_complete(server.finalize())
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
