"""The DPO console: the request register, the log and the reports in a browser, for
DPOs and auditors (server-rendered pages under /console, signed in by session)."""

from gateway.console.pages import ConsolePages
from gateway.console.screens import ConsoleScreens
from gateway.console.service import Console
from gateway.console.sessions import Sessions
from gateway.console.signin import LocalSignIn
from gateway.console.tables import console_sessions

# The console's route handlers, for the app to mount.
CONSOLE_HANDLERS = (ConsolePages, ConsoleScreens)

__all__ = [
    "CONSOLE_HANDLERS",
    "Console",
    "ConsolePages",
    "ConsoleScreens",
    "LocalSignIn",
    "Sessions",
    "console_sessions",
]
