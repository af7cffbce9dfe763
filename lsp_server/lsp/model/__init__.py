"""The language server's handle on the model worker process.

`client` starts the worker subprocess and exchanges `lsp_server.worker_protocol` messages with
it; `manager` owns the model's state (loading, ready, error), restarts a crashed worker and
supersedes a document's older completion job.
"""
