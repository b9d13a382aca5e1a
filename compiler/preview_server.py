"""scenec preview --watch: the preview served on loopback, rebuilt on every save (watchfiles) and reloaded in the
browser by a server-sent event, so no page polls."""

from __future__ import annotations

import http.server
import sys
import threading
from pathlib import Path

from .preview import build_page

TYPE_CHECKING = False  # spelled out, as in records.py

if TYPE_CHECKING:
    from watchfiles import Change

__all__ = ["LivePreview", "serve"]

KEEPALIVE_SECONDS = 15.0


class LivePreview:
    """The current page, its version, and the loopback server that hands them out."""

    def __init__(self, scene: Path, *, region: str | None = "beijing", port: int = 0,
                 model: str | None = None) -> None:
        self.scene, self.region, self.model = scene, region, model
        self.root = scene.absolute().parent
        self.version = 0
        self.closed = False
        self.changed = threading.Condition()
        self.html, self.links = self._build()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self.server.daemon_threads = True
        self.stop_event = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def _build(self) -> tuple[str, frozenset[str]]:
        page = build_page(self.scene, region=self.region, live_reload=True, model=self.model)
        return page.html, page.links

    def rebuild(self) -> None:
        html, links = self._build()
        with self.changed:
            self.html, self.links, self.version = html, links, self.version + 1
            self.changed.notify_all()

    def wait_for_change(self, seen: int, timeout: float) -> int:
        with self.changed:
            self.changed.wait_for(lambda: self.version != seen or self.closed, timeout)
            return self.version

    def start(self) -> LivePreview:
        threading.Thread(target=self.server.serve_forever, name="preview-server", daemon=True).start()
        threading.Thread(target=self.watch, name="preview-watch", daemon=True).start()
        return self

    def watch(self) -> None:
        from watchfiles import watch

        for _ in watch(self.root, stop_event=self.stop_event, watch_filter=_interesting):
            self.rebuild()

    def stop(self) -> None:
        self.stop_event.set()
        with self.changed:
            self.closed = True
            self.changed.notify_all()
        self.server.shutdown()
        self.server.server_close()


def _interesting(change: Change, path: str) -> bool:
    """Saves of scenes, cast files and media; not editor swap files, hidden folders or our own outputs."""
    parts = Path(path).parts
    name = parts[-1]
    return not any(part.startswith(".") for part in parts) and not name.endswith(("~", ".swp", ".tmp", ".html"))


def _handler(live: LivePreview) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the standard library's name for it
            port = live.server.server_address[1]
            if self.headers.get("Host") not in (f"127.0.0.1:{port}", f"localhost:{port}"):
                # A page of another site whose name was pointed at 127.0.0.1 (DNS rebinding) gets nothing.
                self._send(403, "text/plain", b"forbidden")
            elif self.path in ("/", "/index.html"):
                self._send(200, "text/html; charset=utf-8", live.html.encode("utf-8"))
            elif self.path == "/events":
                self._events()
            else:
                self._media()

        def _send(self, status: int, kind: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _events(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            seen = live.version
            try:
                while not live.closed:
                    version = live.wait_for_change(seen, KEEPALIVE_SECONDS)
                    self.wfile.write(f"data: {version}\n\n".encode() if version != seen else b": keep-alive\n\n")
                    self.wfile.flush()
                    seen = version
            except OSError:  # the browser went away
                return

        def _media(self) -> None:
            """Large media the page links instead of embedding: only those, nothing else of the folder."""
            from urllib.parse import unquote

            link = self.path.split("?", 1)[0].lstrip("/")
            target = (live.root / unquote(link)).resolve()
            if link not in live.links or not target.is_file():
                self._send(404, "text/plain", b"not found")
                return
            import mimetypes

            kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            self._send(200, kind, target.read_bytes())

        def log_message(self, format: str, *args: object) -> None:  # quiet: the terminal shows the URL only
            return

    return Handler


def serve(scene: Path, *, region: str | None = "beijing", port: int = 0, model: str | None = None) -> int:
    live = LivePreview(scene, region=region, port=port, model=model).start()
    print(f"scenec preview: {live.url} (reloads on save; Ctrl-C to stop)", file=sys.stderr)
    try:
        live.stop_event.wait()
    except KeyboardInterrupt:
        pass
    finally:
        live.stop()
    return 0
