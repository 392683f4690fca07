"""The project's exceptions: one root, specific subclasses, messages that name the fix."""

from __future__ import annotations


class QAError(Exception):
    """Root of every error `qa` raises on purpose; the CLI prints it as one line, exit 2."""


class InputError(QAError):
    """A question, file or option the user gave cannot be used as it is."""


class IndexMissingError(QAError):
    """The index folder or collection does not exist, or holds nothing yet."""


class IndexCorruptError(QAError):
    """The index exists but cannot be read (damaged files, locked database)."""


class EmbeddingMismatchError(QAError):
    """The index was built with another embedding model than the one configured."""


class ModelIntegrityError(QAError):
    """A model file is missing or its SHA-256 does not match the pinned value."""


class UnknownNameError(QAError):
    """A backend or other registered name is not known; the message lists the valid ones."""


class BackendError(QAError):
    """A chat backend is down, timed out or answered with something unusable."""


class StoreUnavailableError(QAError):
    """The Chroma server cannot be reached."""


class IndexBusyError(QAError):
    """Another process holds the index's write lock (an ingest running elsewhere)."""


class IndexWriteError(QAError):
    """Writing the index failed part-way (disk full, file size limit, I/O error); what was
    written stays consistent and the next `qa ingest` resumes."""
