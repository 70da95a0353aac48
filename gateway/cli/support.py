"""What every command of the command line shares: settings, services, error handling."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from audit import LogUnavailable
from gateway.core import dbstate
from gateway.core.errors import ConfigurationError, GatewayError
from gateway.core.secretfiles import owner_only_dir
from gateway.core.settings import Settings, load_settings
from gateway.services import Services, build_services
from gateway.subjects import check_keys

P = ParamSpec("P")
T = TypeVar("T")


def cli_settings() -> Settings:
    """The settings every command starts from. For the embedded store, `var/` is made
    owner-only here, on the first command whatever it is, and files the command creates
    (the database, its journal, generated keys) are owner-only from their first byte."""
    settings = load_settings()
    if settings.is_embedded:
        os.umask(0o077)
        owner_only_dir(settings.var_dir)
    return settings


def handle_errors(func: Callable[P, T]) -> Callable[P, T]:
    """Turn domain errors into `error: ...` on stderr and a non-zero exit, no traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return func(*args, **kwargs)
        except BrokenPipeError:
            # The reader went away (`... | head`): nothing is wrong, so no error line,
            # and no second complaint when Python flushes stdout on the way out.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        except ConfigurationError as exc:
            click.echo(f"error: {exc.detail}", err=True)
            sys.exit(2)
        except GatewayError as exc:
            click.echo(f"error: {exc.detail}", err=True)
            sys.exit(1)
        except LogUnavailable:
            click.echo(
                "error: the audit log cannot be written; a change this command made is "
                "not logged: check it and retry when the log is back",
                err=True,
            )
            sys.exit(1)
        except (SQLAlchemyError, OSError) as exc:
            plain = _plain_database_problem(exc)
            if plain is not None:
                click.echo(f"error: {plain}", err=True)
                sys.exit(2)
            # Type only: a driver's message can quote the personal data it choked on.
            click.echo(
                f"error: {type(exc).__name__} while talking to the database or files "
                "(details withheld: they may contain personal data)",
                err=True,
            )
            sys.exit(1)

    return wrapper


def _plain_database_problem(exc: BaseException) -> str | None:
    """What `dbstate` can say safely about `exc` (no such database, refused, schema not
    migrated or older than the code), or None: the details stay withheld."""
    try:
        url = load_settings().sqlalchemy_url
    except ConfigurationError:  # pragma: no cover - a command got this far with them
        return None
    return asyncio.run(dbstate.explain(exc, url))


def run_with_services(
    work: Callable[[Services], Coroutine[Any, Any, T]], settings: Settings | None = None
) -> T:
    async def main() -> T:
        services = build_services(settings or cli_settings())
        try:
            await check_keys(services.engine, services.keys, services.clock.now())
            await dbstate.require_migrated(services.settings.sqlalchemy_url)
            return await work(services)
        finally:
            await services.close()

    return asyncio.run(main())
