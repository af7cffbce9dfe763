"""The worker's completion request for a snapshot: what text around the cursor it is sent, and how.

Owns which settings and how much text around the cursor go into a `CompletionRequest`; the prompt
itself is cut in tokens in the worker. Builds the request and nothing more:
it neither calls the model nor decides whether to complete (the gating does).
"""

from __future__ import annotations

from lsp_server.lsp.documents import Snapshot, document_path
from lsp_server.lsp.settings import Settings
from lsp_server.syntax.gating import Gate
from lsp_server.worker_protocol import CompletionRequest, ContextFile

PREFIX_CHARS = 48_000  # text sent to the worker around the cursor; windows are cut in tokens there
SUFFIX_CHARS = 16_000


def make_request(snap: Snapshot, gate: Gate | None, settings: Settings, context: tuple[ContextFile, ...] = (),
                 repo: str = "") -> CompletionRequest:
    """The worker's completion request for a snapshot and a gate (None for a prefill: the prompt
    does not depend on it), with the cross-file `context` of the cursor and the workspace folder's
    name (`repo`)."""
    return CompletionRequest(
        prefix=snap.text[max(0, snap.offset - PREFIX_CHARS): snap.offset],
        suffix=snap.text[snap.offset: snap.offset + SUFFIX_CHARS],
        path=document_path(snap.uri),
        language=snap.language,
        gate=gate,
        max_tokens=settings.max_tokens,
        latency_target_ms=settings.latency_target_ms,
        prefix_tokens=settings.prefix_tokens,
        suffix_tokens=settings.suffix_tokens,
        # the rest of an early answer is generated for the next request, which takes it over
        # only when jobs are followed
        partial_after_ms=settings.partial_after_ms if settings.follow_typing else 0,
        context=context,
        repo=repo,
    )
