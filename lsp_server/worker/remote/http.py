"""The HTTP connection to a remote engine: one `httpx` client, its errors, and cancellable streams.

Owns the API key (read from the environment variable or the file the settings name; sent as a
bearer token; never logged, never in a message), TLS (the system's CAs, plus a CA bundle when
one is set), the timeouts, turning every HTTP or network failure into a `RemoteError` whose
message says what to do, and reading server-sent events (`httpx-sse`) as JSON objects. A cancel
shuts the stream's socket down from a watch thread, so that a `cancelled()` that turns true
while the engine is still computing the prompt ends the read at once and the engine (which sees
the client gone) stops. Must not know what the requests mean (`dialects`) or about prompts.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

CANCEL_POLL_S = 0.01  # how often a stream's watch thread asks `cancelled()`
# An idle kept-alive connection is dropped before llama-server's own keep-alive timeout (5 s)
# would close it under a request; a request that still finds its connection closed before any
# answer came (the race at that moment) is sent once more on a new one: nothing was generated.
KEEPALIVE_S = 2.0


class RemoteError(Exception):
    """A request to the engine failed; the message is for the user."""


class Unreachable(RemoteError):
    """The engine did not answer (down, no route, timed out, closed the stream): it may come back."""


class Refused(RemoteError):
    """The engine answered with an HTTP error: a setting (key, URL, model) is likely wrong."""


class Failed(RemoteError):
    """The engine answered a request with a server error (HTTP 5xx other than 503): the next may work."""


class Malformed(RemoteError):
    """The engine's answer is not what the dialect says it sends."""


def read_key(env_name: str = "", file: str = "") -> str | None:
    """The API key: from the environment variable named `env_name`, else the file `file` (first
    line, stripped); None when neither is set. A named variable or file that is missing is an error:
    a key the user meant to send must not be silently left out."""
    if env_name:
        value = os.environ.get(env_name)
        if not value:
            raise RemoteError(f"the environment variable {env_name} (backendApiKeyEnv) is not set or empty")
        return value.strip()
    if file:
        try:
            lines = Path(file).expanduser().read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise RemoteError(f"cannot read the API key file {file} (backendApiKeyFile): {exc.strerror}") from None
        if not lines or not lines[0].strip():
            raise RemoteError(f"the API key file {file} (backendApiKeyFile) is empty")
        return lines[0].strip()
    return None


def tls_context(ca_bundle: str = "") -> ssl.SSLContext:
    """The system's CAs, and the CAs of `ca_bundle` (a PEM file) besides when set."""
    context = ssl.create_default_context()
    if ca_bundle:
        try:
            context.load_verify_locations(cafile=str(Path(ca_bundle).expanduser()))
        except (OSError, ssl.SSLError) as exc:
            raise RemoteError(f"cannot read the CA bundle {ca_bundle} (backendCaBundle): {exc}") from None
    return context


def http_error(status: int, body: str, url: str) -> RemoteError:
    """What an HTTP error status means to the user (`body`: the engine's own message, shortened)."""
    detail = _error_message(body)
    if status in (401, 403):
        return Refused(f"{url} refused the API key (HTTP {status}{detail}); set backendApiKeyEnv or backendApiKeyFile "
                       "to the key the engine was started with (--api-key)")
    if status == 404:
        return Refused(f"{url} has no such endpoint or model (HTTP 404{detail}); check backendUrl, backendModel and "
                       "that `backend` names the engine's dialect")
    if status == 503:
        return Unreachable(f"{url} is not ready (HTTP 503{detail}): still loading its model?")
    if status >= 500:
        return Failed(f"{url} failed (HTTP {status}{detail})")
    return Refused(f"{url} rejected the request (HTTP {status}{detail})")


def _error_message(body: str) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        text = body.strip()
    else:
        err = data.get("error", data) if isinstance(data, dict) else data
        text = str(err.get("message", err) if isinstance(err, dict) else err)
    return f": {text[:200]}" if text else ""


class Connection:
    """A client of the engine at `url` (scheme, host, port; no path)."""

    def __init__(self, url: str, *, key: str | None = None, ca_bundle: str = "", timeout_s: float = 10.0) -> None:
        import httpx  # deferred: only a remote backend needs HTTP (the embedded one opens no socket)

        self._httpx = httpx
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.client = httpx.Client(base_url=self.url, headers=headers, verify=tls_context(ca_bundle),
                                   timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)), trust_env=False,
                                   limits=httpx.Limits(keepalive_expiry=KEEPALIVE_S))

    def close(self) -> None:
        self.client.close()

    def get(self, path: str) -> dict:
        return self._json("GET", path, None)

    def post(self, path: str, body: dict) -> dict:
        return self._json("POST", path, body)

    def _json(self, method: str, path: str, body: dict | None) -> dict:
        try:
            try:
                response = self.client.request(method, path, json=body)
            except self._httpx.RemoteProtocolError:  # closed under us before any answer: once more
                response = self.client.request(method, path, json=body)
        except self._httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        if response.status_code != 200:
            raise http_error(response.status_code, response.text, self.url + path)
        try:
            data = response.json()
        except ValueError:
            raise Malformed(f"{self.url}{path} answered with something that is not JSON") from None
        return data

    def _unreachable(self, exc: Exception) -> Unreachable:
        if isinstance(exc, self._httpx.TimeoutException):
            return Unreachable(f"{self.url} did not answer in time ({type(exc).__name__}); raise backendTimeoutMs "
                               "if the engine is busy")
        if isinstance(exc, self._httpx.ConnectError) and "CERTIFICATE" in str(exc).upper():
            return Unreachable(f"{self.url}: the TLS certificate is not trusted ({exc}); set backendCaBundle to the "
                               "CA that signed it")
        return Unreachable(f"{self.url} is not reachable ({type(exc).__name__}: {exc})")

    def stream(self, path: str, body: dict, cancelled: Callable[[], bool], wait_s: float = 0.0) -> Iterator[dict]:
        """The JSON objects of a server-sent event stream, until `[DONE]` or its end. Returns
        (ends) early once `cancelled()` is true; closing the generator closes the stream. `wait_s`
        is added to the timeout of this request's reads: the time the engine may need to compute
        the prompt before its first piece (a cold prompt on a CPU engine takes tens of seconds)."""
        from httpx_sse import EventSource, SSEError  # deferred, as httpx

        watch = None
        try:
            with self._open_stream(path, body, wait_s) as response:
                if response.status_code != 200:
                    response.read()
                    raise http_error(response.status_code, response.text, self.url + path)
                watch = _Watch(response, cancelled)
                for event in EventSource(response).iter_sse():
                    if watch.fired:
                        return
                    if event.data.strip() == "[DONE]":
                        return
                    if not event.data.strip():
                        continue
                    try:
                        yield json.loads(event.data)
                    except ValueError:
                        raise Malformed(f"{self.url}{path} sent a stream event that is not JSON") from None
        except SSEError as exc:
            raise Malformed(f"{self.url}{path} did not answer with an event stream ({exc})") from None
        except self._httpx.HTTPError as exc:
            if watch is not None and watch.fired:
                return  # our own cancel shut the socket down
            raise self._unreachable(exc) from None
        finally:
            if watch is not None:
                watch.stop()


    def _open_stream(self, path: str, body: dict, wait_s: float = 0.0):
        """The streaming response (a context manager), sent once more if the connection was found
        closed before any answer."""
        base = self.client.timeout
        timeout = self._httpx.Timeout(base.read + wait_s, connect=base.connect) if wait_s > 0 else base
        try:
            response = self.client.send(self.client.build_request("POST", path, json=body, timeout=timeout), stream=True)
        except self._httpx.RemoteProtocolError:
            response = self.client.send(self.client.build_request("POST", path, json=body, timeout=timeout), stream=True)
        return contextlib.closing(response)


class _Watch:
    """Shuts a streaming response's socket down once `cancelled()` is true (polled every
    CANCEL_POLL_S), which ends a read blocked in another thread; the engine sees the client go."""

    def __init__(self, response, cancelled: Callable[[], bool]) -> None:
        self.fired = False
        self._cancelled = cancelled
        stream = response.extensions.get("network_stream")
        self._socket: socket.socket | None = stream.get_extra_info("socket") if stream is not None else None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="remote-cancel-watch")
        self._thread.start()

    def _run(self) -> None:
        while not self._done.wait(CANCEL_POLL_S):
            if self._cancelled():
                self.fired = True
                if self._socket is not None:
                    try:
                        self._socket.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                return

    def stop(self) -> None:
        self._done.set()
