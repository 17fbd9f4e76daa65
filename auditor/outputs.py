"""Where the auditor writes: private permissions, directories it may create, and output sets that appear
all at once.

Every file the auditor writes is 0600 and every directory it creates is 0700: a snapshot and a report
describe who can reach production, which is for the auditor's operator only. An ``OutputSet`` stages
every output (report files, a snapshot directory) beside its final place and moves them in together,
with Ctrl-C and SIGTERM held back for the few renames, so a reader sees all the old outputs or all the
new ones, never a mix.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from auditor.errors import UserError

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
PRIVATE_UMASK = 0o077
STAGED_SUFFIX = ".staged"


def make_private_dirs(directory: Path) -> None:
    """Create ``directory`` and any missing parents, each 0700 (existing ones are left as they are)."""
    missing: list[Path] = []
    current = directory
    while not current.exists() and not current.is_symlink():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for path in reversed(missing):
        path.mkdir(mode=PRIVATE_DIR_MODE)
        os.chmod(path, PRIVATE_DIR_MODE)  # mkdir's mode is masked by the umask


def write_private_text(path: Path, text: str) -> Path:
    """Write a new file readable by its owner only (the caller makes sure it does not exist yet)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    return path


def write_text_atomically(path: Path, text: str) -> Path:
    """Write a private file via a temporary sibling renamed into place: a reader never sees half of it."""
    make_private_dirs(path.parent)
    fd, staging = tempfile.mkstemp(prefix=f".{path.name}.", suffix=STAGED_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
    return path


def check_output_directory(directory: Path, flag: str = "--out") -> None:
    """``directory`` exists (created 0700 if missing) and is a writable directory; else a one-line UserError."""
    if directory.exists() and not directory.is_dir():
        raise UserError(f"{flag} {directory} is a file, not a directory")
    try:
        make_private_dirs(directory)
    except OSError as exc:
        raise UserError(f"{flag} {directory}: cannot create this directory ({exc.strerror or exc})") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UserError(f"{flag} {directory}: this directory is not writable")


@contextmanager
def held_signals() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) and SIGTERM back until the block is done, then act on them.

    Only the main thread can install signal handlers; elsewhere the block runs unprotected.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def remember(number: int, _frame: FrameType | None) -> None:
        received.append(number)

    held = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.signal(number, remember) for number in held}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for pending in dict.fromkeys(received):
            signal.raise_signal(pending)  # the handler that was in place before now acts on it


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


class OutputSet:
    """Outputs staged beside their final paths, then moved into place together by ``commit``.

    If anything fails or is interrupted before ``commit`` finishes, every path is left as it was
    (``discard`` removes what was staged). After ``commit``, every path holds its new content.
    """

    def __init__(self) -> None:
        self._moves: list[tuple[Path, Path]] = []  # (staged, final)
        self._committed = False

    def _add(self, staged: Path, final: Path) -> None:
        if any(existing == final for _, existing in self._moves):
            raise ValueError(f"{final} is staged twice")
        self._moves.append((staged, final))

    def stage_text(self, final: Path, text: str) -> Path:
        """Write ``text`` to a private file beside ``final``; it becomes ``final`` at commit."""
        make_private_dirs(final.parent)
        fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=STAGED_SUFFIX, dir=final.parent)
        staged = Path(name)
        self._add(staged, final)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        return staged

    def stage_directory(self, final: Path) -> Path:
        """An empty private directory beside ``final`` to fill; it replaces ``final`` at commit."""
        make_private_dirs(final.parent)
        staged = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=STAGED_SUFFIX, dir=final.parent))
        self._add(staged, final)
        return staged

    def commit(self, finalize: Callable[[], None] | None = None) -> None:
        """Move every staged output into place, then call ``finalize`` (e.g. commit the history store);
        on any failure of either put every earlier output back."""
        done: list[tuple[Path, Path | None]] = []  # (final, where its previous content was kept)
        with held_signals():
            try:
                for staged, final in self._moves:
                    kept = self._keep_previous(final)
                    done.append((final, kept))
                    os.replace(staged, final)
                if finalize is not None:
                    finalize()
            except BaseException:
                for final, kept in reversed(done):
                    self._restore(final, kept)
                self.discard()
                raise
            self._committed = True
        for _, kept in done:
            if kept is not None:
                _remove(kept)

    @staticmethod
    def _keep_previous(final: Path) -> Path | None:
        """A path holding ``final``'s current content while the new one moves in (None: nothing there)."""
        if not (final.exists() or final.is_symlink()):
            return None
        kept = final.with_name(f".{final.name}.{secrets.token_hex(6)}.previous")
        if final.is_file() and not final.is_symlink():
            try:
                os.link(final, kept)  # the file stays readable at its path until the new one replaces it
                return kept
            except OSError:
                pass
        os.replace(final, kept)
        return kept

    @staticmethod
    def _restore(final: Path, kept: Path | None) -> None:
        """Put ``final`` back as it was before commit (``kept``: its previous content, None: it was absent)."""
        if kept is None:
            if final.exists() or final.is_symlink():
                _remove(final)
            return
        if final.exists() and os.path.samefile(final, kept):
            kept.unlink()  # a hard link to the unchanged file: rename() of one link onto the other does nothing
            return
        if (final.exists() or final.is_symlink()) and (kept.is_dir() or final.is_dir()):
            _remove(final)  # a directory cannot be replaced by rename while it exists
        os.replace(kept, final)  # a file is replaced atomically

    def discard(self) -> None:
        """Remove whatever was staged and not moved into place."""
        for staged, _ in self._moves:
            if staged.exists() or staged.is_symlink():
                _remove(staged)

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(self, *_: object) -> None:
        if not self._committed:
            self.discard()
