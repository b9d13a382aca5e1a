"""The `scenec` command and `python -m compiler`: cli.main inside the process's edges.

Ctrl-C at any moment from scenec's first line on (before the command line module is even imported)
ends with exit 130 and no traceback; a standard output closed early (`| head`) ends quietly, 141.
Only Python's own start-up, before this module runs, is out of reach.
"""

import os
import sys

# Spelled out rather than imported from typing, which is not imported at all on this path.
TYPE_CHECKING = False

if TYPE_CHECKING:
    import signal  # the same functions, as typeshed types them (it has no stub for _signal)
else:
    # _signal, not signal: the public module imports enum (about 9 ms on a busy machine), and every
    # millisecond before the handler below is a moment when Ctrl-C would still print a traceback.
    import _signal as signal

EXIT_INTERRUPTED = 130  # the same numbers as compiler.cli's, which is not imported yet
EXIT_BROKEN_PIPE = 141


def _leave_now(signum: int, frame: object) -> None:
    os._exit(EXIT_INTERRUPTED)  # nothing is written yet, or everything is: no cleanup to run


def _unraisable(unraisable: "sys.UnraisableHookArgs") -> None:
    """A Ctrl-C that lands where Python cannot raise it (a finalizer, a weakref callback) would be printed as
    "Exception ignored ... KeyboardInterrupt" while the command went on: it ends the process as any Ctrl-C does."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt):
        os._exit(EXIT_INTERRUPTED)
    sys.__unraisablehook__(unraisable)


sys.unraisablehook = _unraisable

# Only when Python installed its own handler: a SIGINT ignored by the caller (nohup, `cmd &`) stays ignored.
_OURS = signal.getsignal(signal.SIGINT) is signal.default_int_handler
if _OURS:
    signal.signal(signal.SIGINT, _leave_now)


def main() -> int:
    code = EXIT_INTERRUPTED
    try:
        if _OURS:
            # From here Ctrl-C raises KeyboardInterrupt again: render stops its workers and journals.
            signal.signal(signal.SIGINT, signal.default_int_handler)
        from compiler.cli import main as run

        code = run()
        if sys.stdout is not None:
            sys.stdout.flush()
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    except BrokenPipeError:
        code = EXIT_BROKEN_PIPE
    finally:
        if _OURS:
            signal.signal(signal.SIGINT, _leave_now)
    if code == EXIT_BROKEN_PIPE:
        _discard_output()
    return code


def _discard_output() -> None:
    """Point standard output at /dev/null, so Python's own flush at exit does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):
        pass


if __name__ == "__main__":
    raise SystemExit(main())
