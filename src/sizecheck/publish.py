"""Publishing a run's output files: staged, locked, moved into place when complete.

sizecheck never writes an output file in place. A run into the folder ``--out``:

1. takes the folder's lock, ``.sizecheck.lock`` (a second run into the same folder is
   refused while the first one lives);
2. writes every file into a private staging folder inside ``--out``
   (``.sizecheck-staging-XXXXXXXX/``, on the same disk, so that moving a file is a
   rename);
3. when everything is written, checks every place it will publish to, moves the files
   into place (``summary.json`` last), removes the files of the previous run that this
   run did not write again, and writes the manifest ``.sizecheck-manifest.json``, the
   list of the files sizecheck wrote, last.

A run that fails or is interrupted before step 3 publishes nothing: the folder keeps the
previous run's files as they were, and no file is ever truncated under its final name.
Ctrl-C (and ``SIGTERM``) during the moves of step 3 waits until they are done. The
moves themselves take milliseconds; a run killed outright (``SIGKILL``, power loss) in
exactly that moment can leave files of both runs, all complete and all listed in the
manifest, so the next run replaces them.

**Only sizecheck's own files** are replaced or removed: those listed in the manifest of
the previous run (for a folder written before manifests existed, the ``outputs`` of its
``summary.json``). A file, folder or link of the user's at a place this run would write
to stops the run, naming it; nothing is published. Links under ``--out`` are never
followed: a link where a file or folder of sizecheck's would go stops the run, and a link
listed in an old manifest is left alone. Input files are never replaced or removed.

**The lock** is an operating-system lock (``flock``; on Windows ``msvcrt.locking``) on
``.sizecheck.lock``: it ends with the process that holds it, however that process
ends, so a killed run never blocks the folder. The file itself is removed when the run
ends; one left behind by a killed run is harmless and reused. The staging folders a
killed run leaves behind are removed by the next run into the same folder, under the
lock. File systems without locks (some network shares) are refused with a message.

Publishing needs room for a complete new set of files beside the previous one until the
previous one is removed. On Windows, where a file open in another program (a CSV shown in
Excel) cannot be replaced, such a file stops the run before anything is moved.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence, Set
from pathlib import Path
from types import FrameType
from typing import Any

from sizecheck.errors import SizecheckError, UsageError
from sizecheck.i18n import Joined, Note, catalogue_error

__all__ = [
    "LOCK_NAME",
    "MANIFEST_NAME",
    "STAGING_PREFIX",
    "OutputConflictError",
    "OutputError",
    "OutputFolder",
    "OutputLockedError",
    "manifest_command",
    "read_manifest",
]

#: The lock file inside ``--out`` (present while a run writes there).
LOCK_NAME = ".sizecheck.lock"
#: The list of the files sizecheck wrote into ``--out``, written last.
MANIFEST_NAME = ".sizecheck-manifest.json"
#: Staging folders inside ``--out`` start with this.
STAGING_PREFIX = ".sizecheck-staging-"
#: Names starting with this inside ``--out`` are sizecheck's bookkeeping, never outputs.
_RESERVED = ".sizecheck"
#: Largest manifest or summary.json read for the previous run's file list.
_MAX_MANIFEST_BYTES = 64 << 20


class OutputError(SizecheckError):
    """The output folder cannot be written: permissions, disk full, not a folder."""


class OutputLockedError(OutputError):
    """Another sizecheck run is writing into the same output folder."""


class OutputConflictError(OutputError):
    """A place this run would write to holds something sizecheck did not write."""


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _name_ok(name: str) -> bool:
    """Whether ``name`` is a relative POSIX path inside a folder and not bookkeeping."""
    if not name or "\\" in name or "\x00" in name or name.startswith("/"):
        return False
    parts = name.split("/")
    return all(p not in {"", ".", ".."} for p in parts) and not parts[0].startswith(_RESERVED)


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


def _read_json(path: Path) -> Any:
    """The JSON in ``path`` if it is a regular file (not a link) of sane size, else None."""
    st = _lstat(path)
    if st is None or not stat.S_ISREG(st.st_mode) or st.st_size > _MAX_MANIFEST_BYTES:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as fh:
            return json.loads(fh.read(_MAX_MANIFEST_BYTES + 1))
    except (OSError, ValueError):
        return None


def manifest_command(out: str | Path) -> str | None:
    """The sizecheck command (``measure``, ``gage``, ``propose``) whose files ``out``
    holds, from its manifest; ``measure`` for a manifest or ``summary.json`` written
    before manifests named their command; None when ``out`` holds no sizecheck files."""
    root = Path(out)
    if not read_manifest(root):
        return None
    manifest = _read_json(root / MANIFEST_NAME)
    command = manifest.get("command") if isinstance(manifest, dict) else None
    return command if isinstance(command, str) and command else "measure"


def read_manifest(out: str | Path) -> list[str]:
    """The files sizecheck wrote into ``out`` last time, as relative POSIX paths.

    Read from ``.sizecheck-manifest.json``; for a folder written before manifests
    existed, from the ``outputs`` of a sizecheck ``summary.json``. Entries that are not
    plain relative paths inside the folder are ignored, and so is a manifest that is a
    link. Empty when there is neither.
    """
    root = Path(out)
    manifest = _read_json(root / MANIFEST_NAME)
    entries: object = None
    if isinstance(manifest, dict) and manifest.get("tool") == "sizecheck":
        entries = manifest.get("files")
    else:
        summary = _read_json(root / "summary.json")
        tool = summary.get("tool") if isinstance(summary, dict) else None
        if isinstance(summary, dict) and isinstance(tool, dict) and tool.get("name") == "sizecheck":
            entries = summary.get("outputs")
    if not isinstance(entries, list):
        return []
    return list(dict.fromkeys(e for e in entries if isinstance(e, str) and _name_ok(e)))


# --------------------------------------------------------------------------- the lock


def _lock_holder(fd: int) -> str:
    """Who holds the lock, from what the holder wrote into the lock file."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        info = json.loads(os.read(fd, 4096) or b"{}")
        pid, host, since = int(info["pid"]), str(info["host"]), str(info["since"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return ""
    return Note("output.lock_holder", pid=pid, host=host, since=since)


def _try_lock(fd: int) -> bool:
    """Take the operating-system lock on ``fd`` without waiting; False when held."""
    if sys.platform == "win32":
        import msvcrt

        try:
            os.lseek(fd, 0, os.SEEK_SET)  # the first byte is the lock
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import errno
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError as exc:
        if exc.errno in {errno.EAGAIN, errno.EACCES}:
            return False
        raise
    return True


def _acquire(root: Path) -> int:
    """Lock ``root`` for this process; the open lock file's descriptor."""
    import socket
    from datetime import UTC, datetime

    path = root / LOCK_NAME
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    while True:
        try:
            fd = os.open(path, flags, 0o644)
        except OSError as exc:
            if path.is_symlink() or path.is_dir():
                raise OutputConflictError(
                    f"{path} is not sizecheck's lock file (a link or a folder). Remove it, "
                    "or choose another --out."
                ) from exc
            raise OutputError(f"Cannot create the lock file {path}: {_reason(exc)}.") from exc
        try:
            mine = os.fstat(fd)
            if not stat.S_ISREG(mine.st_mode) or mine.st_nlink != 1:
                raise OutputConflictError(
                    f"{path} is not sizecheck's lock file (it has other names). Remove it, "
                    "or choose another --out."
                )
            try:
                locked = _try_lock(fd)
            except OSError as exc:
                raise OutputError(
                    f"Cannot lock {path}: {_reason(exc)}. The file system of --out does not "
                    "support locks; choose an --out on a local disk."
                ) from exc
            if not locked:
                raise catalogue_error(
                    OutputLockedError, "output.locked", holder=_lock_holder(fd), root=str(root)
                )
            now = _lstat(path)
            if now is None or (now.st_dev, now.st_ino) != (mine.st_dev, mine.st_ino):
                os.close(fd)  # the holder removed the file as we took it: take the new one
                continue
            since = datetime.now(UTC).isoformat(timespec="seconds")
            info = {"pid": os.getpid(), "host": socket.gethostname(), "since": since}
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, json.dumps(info).encode())
            return fd
        except BaseException:
            os.close(fd)
            raise


def _release(root: Path, fd: int) -> None:
    """Remove the lock file (while still holding the lock, where the system allows) and
    release the lock."""
    path = root / LOCK_NAME
    if sys.platform == "win32":  # an open file cannot be removed there
        os.close(fd)
        with contextlib.suppress(OSError):
            path.unlink()
        return
    with contextlib.suppress(OSError):
        now, mine = os.lstat(path), os.fstat(fd)
        if (now.st_dev, now.st_ino) == (mine.st_dev, mine.st_ino):
            path.unlink()
    os.close(fd)


# --------------------------------------------------------------------------- the folder


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back until the block is done (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def remember(signum: int, frame: FrameType | None) -> None:
        caught.append(signum)

    wanted = [signal.SIGINT] + ([signal.SIGTERM] if hasattr(signal, "SIGTERM") else [])
    previous = {s: signal.signal(s, remember) for s in wanted}
    try:
        yield
    finally:
        for wanted_signal, handler in previous.items():
            signal.signal(wanted_signal, handler)
        for signum in dict.fromkeys(caught):
            signal.raise_signal(signum)


class OutputFolder:
    """An output folder written by one run: lock, staging folder and manifest.

    Use it as a context manager: entering creates ``out`` if missing, takes the lock and
    makes the staging folder; writers put their files at :meth:`stage` paths;
    :meth:`commit` publishes them. Leaving without a commit publishes nothing and
    removes the staging folder (and ``out``, if this run created it and it is empty).

    Parameters
    ----------
    out : path
        The output folder. An empty string is refused (it would mean the current
        folder).
    inputs : sequence of path
        The run's input files: one at a place the run would replace or remove is
        refused (here for ``expect`` and the previous run's files, again at commit).
    expect : sequence of str
        Names the run will write (``charts/`` for a folder), checked here (see
        :meth:`check`), before the work starts, so that a conflict is reported at once
        rather than after the analysis.
    command : str
        The sizecheck command writing (``measure``, ``gage``, ``propose``), recorded in the
        manifest. A folder holding another command's files is refused: one command's run
        would replace or remove the other's files (both write ``rejects.csv`` and
        ``charts/``), and the folder would mix two analyses.

    Raises
    ------
    UsageError
        ``out`` is empty or a file, or holds an input where an output goes.
    OutputConflictError
        A name of ``expect`` is taken by something sizecheck did not write, or ``out``
        holds the files of another sizecheck command.
    """

    def __init__(
        self,
        out: str | Path,
        *,
        inputs: Sequence[str | Path] = (),
        expect: Sequence[str] = (),
        command: str = "measure",
    ) -> None:
        if not str(out).strip():
            raise UsageError("--out is empty; give a folder (it is created if missing).")
        self.out = Path(out)
        self.root = self.out.resolve()
        if self.root.exists() and not self.root.is_dir():
            raise catalogue_error(UsageError, "output.out_is_file", out=str(out))
        self._inputs = {Path(p).resolve() for p in inputs}
        self._staging: Path | None = None
        self._lock: int | None = None
        self._created: list[Path] = []
        self._staged: list[str] = []
        self.committed = False
        self.command = command
        self._check_command()
        previous = set(read_manifest(self.root))
        clash = sorted(
            p.relative_to(self.root).as_posix()
            for p in self._inputs
            if p.is_relative_to(self.root) and self._reserved_for_us(p, expect, previous)
        )
        if clash:
            raise catalogue_error(
                UsageError, "output.holds_input", out=str(out), file=str(clash[0])
            )
        self.check(expect)

    # -- checks

    def _check_command(self) -> None:
        """Refuse a folder that holds another sizecheck command's files."""
        other = manifest_command(self.root)
        if other is not None and other != self.command:
            raise catalogue_error(
                OutputConflictError,
                "output.other_command",
                root=str(self.root),
                other=other,
                command=self.command,
            )

    def check(self, names: Sequence[str]) -> None:
        """Refuse at once, before any work, when one of ``names`` cannot be published:
        a file name (``report.html``) or, ending in ``/``, a folder (``charts/``) that is
        taken by something sizecheck did not write, a link, or an input.

        Raises
        ------
        OutputConflictError
        """
        previous = set(read_manifest(self.root))
        problems = [p for p in (self._problem(n, previous) for n in names) if p]
        if problems:
            raise self._conflict(problems)

    def _reserved_for_us(self, path: Path, expect: Sequence[str], previous: set[str]) -> bool:
        name = path.relative_to(self.root).as_posix()
        return name.startswith(_RESERVED) or name in expect or name in previous

    def _is_input(self, name: str) -> bool:
        return (self.root / name) in self._inputs

    def _parents_problem(self, name: str, previous: Set[str] = frozenset()) -> str | None:
        """Why a parent folder of ``name`` cannot take it (a link, not a folder), or None.
        A file of the previous run (in ``previous``) where a folder goes is no problem:
        it is removed when this run is published (``deviations.parquet`` of the pandas
        engine where the Dask engine writes the folder ``deviations.parquet/``)."""
        current = self.root
        for part in name.split("/")[:-1]:
            current = current / part
            st = _lstat(current)
            if st is None:
                return None  # created when publishing
            if stat.S_ISLNK(st.st_mode):
                return Note("output.problem.link_parent", name=str(current.relative_to(self.root)))
            if not stat.S_ISDIR(st.st_mode):
                rel = current.relative_to(self.root).as_posix()
                if stat.S_ISREG(st.st_mode) and rel in previous and not self._is_input(rel):
                    return None  # the previous run's file, replaced by this run's folder
                return Note("output.problem.file_for_folder", name=rel)
        return None

    def _previous_folder(self, name: str, previous: Set[str]) -> bool:
        """Whether the folder ``name`` holds only files of the previous run (and folders
        of them), so that this run's file of that name can replace it (the Dask engine's
        ``deviations.parquet/`` where the pandas engine writes the file)."""
        for dirpath, dirnames, filenames in os.walk(self.root / name):
            for entry in (*dirnames, *filenames):
                path = Path(dirpath, entry)
                st = _lstat(path)
                rel = path.relative_to(self.root).as_posix()
                if st is None or stat.S_ISLNK(st.st_mode):
                    return False
                if not stat.S_ISDIR(st.st_mode) and (
                    rel not in previous or not stat.S_ISREG(st.st_mode) or self._is_input(rel)
                ):
                    return False
        return True

    def _problem(self, name: str, previous: Set[str]) -> str | None:
        """Why ``name`` (a folder if it ends in ``/``) cannot be published, or None."""
        if name.endswith("/"):
            # the folder, as the parent of a file
            return self._parents_problem(f"{name}x", previous)
        if self._is_input(name):
            return Note("output.problem.input", name=name)
        parent = self._parents_problem(name, previous)
        if parent:
            return parent
        st = _lstat(self.root / name)
        if st is None:
            return None
        if stat.S_ISLNK(st.st_mode):
            return Note("output.problem.link", name=name)
        if stat.S_ISDIR(st.st_mode):
            if self._previous_folder(name, previous):
                return None  # the previous run's folder, replaced by this run's file
            return Note("output.problem.folder", name=name)
        if not stat.S_ISREG(st.st_mode):
            return Note("output.problem.not_regular", name=name)
        if name not in previous:
            return Note("output.problem.not_ours", name=name)
        return None

    def _conflict(self, problems: Sequence[str]) -> OutputConflictError:
        parts = [p if isinstance(p, Note) else Note("output.problem.as_is", text=p)
                 for p in problems[:5]]  # fmt: skip
        more = len(problems) - 5
        return catalogue_error(
            OutputConflictError,
            "output.already_holds",
            root=str(self.root),
            shown=Joined(", ", tuple(parts)),
            more=Note("output.problem.more", n=more) if more > 0 else "",
            manifest=MANIFEST_NAME,
        )

    def _removable(self, name: str) -> bool:
        """Whether a file of the previous run may be removed: a regular file (not a link)
        in real folders, and not an input."""
        if self._is_input(name) or self._parents_problem(name):
            return False
        st = _lstat(self.root / name)
        return st is not None and stat.S_ISREG(st.st_mode)

    # -- life cycle

    def open(self) -> OutputFolder:
        """Create the folder if missing, take its lock, and make the staging folder."""
        if self._lock is not None:
            return self
        if self.committed:
            raise UsageError("This output folder was published already; open a new one.")
        self._created = _make_folder(self.root)
        try:
            self._lock = _acquire(self.root)
            _remove_staging_leftovers(self.root)
            self._staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.root))
        except BaseException as exc:
            self.close()
            if isinstance(exc, OSError):
                raise OutputError(
                    f"Cannot write into the output folder {self.root}: {_reason(exc)}."
                ) from exc
            raise
        return self

    def close(self) -> None:
        """Remove the staging folder and release the lock; without a commit, also remove
        the folders :meth:`open` created, if they are empty."""
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None
        if self._lock is not None:
            _release(self.root, self._lock)
            self._lock = None
        if not self.committed:
            for folder in self._created:  # innermost first
                try:
                    folder.rmdir()
                except OSError:
                    break
        self._created = []

    def __enter__(self) -> OutputFolder:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing

    def stage(self, name: str) -> Path:
        """The path in the staging folder where the file published as ``name`` (a
        relative POSIX path such as ``charts/ud-a/ladder.png``) is written."""
        if self._staging is None:
            raise UsageError("The output folder is not open; use OutputFolder in a with block.")
        if not _name_ok(name):
            raise UsageError(
                f"Refusing to write {name!r}: not a plain relative path inside the output folder."
            )
        path = self._staging / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name not in self._staged:
            self._staged.append(name)
        return path

    @contextlib.contextmanager
    def writing(self, name: str) -> Iterator[Path]:
        """``with folder.writing("rejects.csv") as path:`` write the file at ``path``; an
        OS error (disk full, permissions) becomes an :class:`OutputError` naming the file."""
        try:
            yield self.stage(name)
        except OSError as exc:
            raise self.write_error(name, exc) from exc

    def write_error(self, name: str, exc: OSError) -> OutputError:
        """The error for an OS error while writing ``name`` into the staging folder."""
        return catalogue_error(
            OutputError,
            "output.cannot_write",
            path=str(self.root / name),
            reason=_reason(exc),
            root=str(self.root),
        )

    def write_bytes(self, name: str, data: bytes) -> Path:
        """Write ``data`` as the file published as ``name``; return its staging path."""
        with self.writing(name) as path:
            path.write_bytes(data)
        return path

    @property
    def staged(self) -> list[str]:
        """The files written so far, as names relative to the folder, in the order first
        staged (files found in the staging folder without :meth:`stage` follow, sorted)."""
        if self._staging is None:
            return []
        found: set[str] = set()
        for dirpath, _, filenames in os.walk(self._staging):
            for f in filenames:
                path = Path(dirpath, f)
                name = path.relative_to(self._staging).as_posix()
                st = _lstat(path)
                if st is not None and stat.S_ISREG(st.st_mode) and _name_ok(name):
                    found.add(name)
        return [n for n in self._staged if n in found] + sorted(found - set(self._staged))

    # -- publishing

    def commit(
        self, *, scope: Sequence[str] | None = None, last: Sequence[str] = ("summary.json",)
    ) -> list[Path]:
        """Publish every staged file and return the published paths (the manifest last).

        Parameters
        ----------
        scope : sequence of str, optional
            The files and folders (``"charts"``, ``"report.html"``) of the previous run's
            output this run replaces: its files there that this run did not write again
            are removed. Default: all of them (a ``measure`` run replaces a ``measure``
            run). Files of the previous run outside ``scope`` stay, and stay listed.
        last : sequence of str
            Names moved into place after all the others.

        Raises
        ------
        OutputConflictError
            A place to publish to holds a file, folder or link sizecheck did not write,
            or an input; nothing is published.
        OutputError
            An OS error while moving (the message says what state the folder is in).
        """
        if self._staging is None:
            raise UsageError("The output folder is not open; use OutputFolder in a with block.")
        self._check_command()  # again: another command may have written meanwhile
        names = self.staged
        previous = read_manifest(self.root)
        known = set(previous)
        problems = [p for p in (self._problem(n, known) for n in names) if p]
        manifest = _lstat(self.root / MANIFEST_NAME)
        if manifest is not None and not stat.S_ISREG(manifest.st_mode):
            problems.append(f"{MANIFEST_NAME} (not a regular file)")
        if problems:
            raise self._conflict(problems)

        def replaced(name: str) -> bool:
            return scope is None or any(name == s or name.startswith(f"{s}/") for s in scope)

        new = set(names)
        stale = [n for n in previous if n not in new and replaced(n) and self._removable(n)]
        # the previous run's files where this run puts a folder, or under a folder where
        # this run puts a file: removed before the moves (file ↔ folder of one name)
        in_way = [n for n in previous if n not in new and _in_the_way(n, new)]
        if any(n not in stale for n in in_way):
            raise self._conflict([Note("output.problem.in_the_way", name=n)
                                  for n in in_way if n not in stale])  # fmt: skip
        stale = [n for n in stale if n not in in_way]
        busy = [n for n in (*names, *stale) if _in_use(self.root / n)]
        if busy:
            raise catalogue_error(
                OutputConflictError,
                "output.in_use",
                paths=", ".join(str(self.root / n) for n in busy[:5]),
            )
        kept = [n for n in previous if n not in new and not replaced(n)]
        order = [n for n in names if n not in last] + [n for n in names if n in last]
        with _signals_deferred():
            try:
                # first claim every name either run may leave, so that an interruption
                # in the moves below leaves nothing unlisted
                self._write_manifest([*previous, *(n for n in names if n not in known)])
                for name in in_way:
                    (self.root / name).unlink()
                    self._prune(name)
                for name in order:
                    self._make_parents(name)
                    (self._staging / name).replace(self.root / name)
                for name in stale:
                    (self.root / name).unlink()
                    self._prune(name)
                self._write_manifest([*kept, *names])
            except OSError as exc:
                raise OutputError(
                    f"Publishing into {self.root} failed: {_reason(exc)} "
                    f"({exc.filename or self.root}). Files of this run and of the previous "
                    f"one may both be there, all listed in {MANIFEST_NAME}: run again to "
                    "replace them."
                ) from exc
        self.committed = True
        return [*(self.root / n for n in names), self.root / MANIFEST_NAME]

    def _make_parents(self, name: str) -> None:
        current = self.root
        for part in name.split("/")[:-1]:
            current = current / part
            if _lstat(current) is None:
                current.mkdir()

    def _prune(self, name: str) -> None:
        """Remove the folders of ``name`` left empty, innermost first."""
        parts = name.split("/")[:-1]
        while parts:
            try:
                (self.root / "/".join(parts)).rmdir()
            except OSError:
                return
            parts.pop()

    def _write_manifest(self, files: Sequence[str]) -> None:
        from sizecheck import __version__

        if self._staging is None:  # pragma: no cover - commit checks
            raise UsageError("The output folder is not open.")
        data = {
            "tool": "sizecheck",
            "version": __version__,
            "format": 1,
            "command": self.command,
            "files": list(files),
        }
        staged = self._staging / MANIFEST_NAME
        staged.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", "utf-8")
        staged.replace(self.root / MANIFEST_NAME)


def _in_the_way(old: str, new: Set[str]) -> bool:
    """Whether the previous run's file ``old`` stands where one of ``new`` goes: ``old``
    is a folder of a new file (``deviations.parquet`` and ``deviations.parquet/part.0``),
    or lies in a folder that a new file replaces (the other way round)."""
    parts = old.split("/")
    folders = {"/".join(parts[:k]) for k in range(1, len(parts))}
    return bool(folders & new) or any(n.startswith(f"{old}/") for n in new)


def _in_use(path: Path) -> bool:
    """Whether another program holds ``path`` open so that it cannot be replaced.

    Only Windows refuses to replace a file that is open (Excel keeps the CSV it shows
    open without sharing); there, opening it for writing (nothing is written) fails.
    Elsewhere a file can always be replaced.
    """
    if sys.platform != "win32" or not path.is_file() or path.is_symlink():
        return False
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_APPEND))
    except PermissionError:
        return True
    except OSError:
        return False
    return False


def _make_folder(root: Path) -> list[Path]:
    """Create ``root`` and its missing parents; the folders created, innermost first."""
    missing: list[Path] = []
    current = root
    while _lstat(current) is None and current != current.parent:
        missing.append(current)
        current = current.parent
    if not current.is_dir():
        raise OutputError(
            f"Cannot create the output folder {root}: {current} is a file, not a folder."
        )
    created: list[Path] = []
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            for done in reversed(created):
                with contextlib.suppress(OSError):
                    done.rmdir()
            raise OutputError(
                f"Cannot create the output folder {root}: {_reason(exc)} ({folder})."
            ) from exc
        created.append(folder)
    return created[::-1]


def _remove_staging_leftovers(root: Path) -> None:
    """Remove the staging folders of runs that were killed (the caller holds the lock)."""
    with os.scandir(root) as entries:
        for entry in entries:
            if entry.name.startswith(STAGING_PREFIX) and entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
