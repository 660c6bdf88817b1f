"""Running a renderer binary: no shell, a clean environment, a time limit, bounded output;
and turning what it says on failure into one short line."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

TIMEOUT_SECONDS = 120
MESSAGE_WIDTH = 300

_KLOG = re.compile(r'^[EWIF]\d{4} [\d:.]+\s+\d+ [\w.]+:\d+\] ')  # kubectl's log prefix
_KLOG_ERR = re.compile(r'\berr="((?:[^"\\]|\\.)*)"')
_GO_ESCAPES = {"n": " ", "t": " ", '"': '"', "\\": "\\"}


class RenderError(Exception):
    """A renderer that failed, with the one-line reason to report (and, for callers that
    know how to read it, all it wrote to stderr)."""

    def __init__(self, message: str, stderr: str = ""):
        super().__init__(message)
        self.stderr = stderr


def find(*names: str) -> Path | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def run(argv: list[str], max_bytes: int, hide: dict[str, str], drop: re.Pattern[str] | None = None) -> str:
    """Stdout of `argv`; RenderError when it fails, times out or writes more than `max_bytes`.
    In its message, each key of `hide` (e.g. an absolute path) is replaced by its value."""
    with tempfile.TemporaryDirectory(prefix="tdv-render-home-") as home:
        env = {
            "HOME": home, "PATH": "", "LANG": "C", "KUBECONFIG": os.path.join(home, "none"),
            "HELM_PLUGINS": os.path.join(home, "plugins"), "HELM_CONFIG_HOME": home,
            "HELM_CACHE_HOME": home, "HELM_DATA_HOME": home, "XDG_CONFIG_HOME": home,
        }
        try:
            done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, env=env, cwd=home,
                                  timeout=TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            raise RenderError(f"{Path(argv[0]).name} did not finish within {TIMEOUT_SECONDS} seconds") from None
        except OSError as error:
            raise RenderError(f"cannot run {argv[0]}: {error.strerror or error}") from None
    if done.returncode != 0:
        stderr = done.stderr.decode("utf-8", "replace")
        message = summary(stderr, hide, drop=drop) or f"{Path(argv[0]).name} exited with status {done.returncode}"
        raise RenderError(message, stderr)
    if len(done.stdout) > max_bytes:
        raise RenderError(f"rendered output is larger than {max_bytes // (1024 * 1024) or max_bytes} "
                          f"{'MiB' if max_bytes >= 1024 * 1024 else 'bytes'}; not scanned")
    return done.stdout.decode("utf-8", "replace")


def summary(text: str, hide: dict[str, str] | None = None, lines: int = 2, drop: re.Pattern[str] | None = None) -> str:
    """The first meaningful lines of a renderer's message, on one line and trimmed (after
    replacing `hide`'s keys by their values and removing what `drop` matches)."""
    kept: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("# Warning:") or line.lower().startswith(("warning:", "walk.go:")):
            continue
        if _KLOG.match(line):
            quoted = _KLOG_ERR.search(line)
            line = _unquote(quoted.group(1)) if quoted else _KLOG.sub("", line)
        line = line.removeprefix("Error: ").strip()
        if line:
            kept.append(line)
        if len(kept) == lines:
            break
    message = " ".join(" ".join(kept).split())
    for needle, shown in sorted((hide or {}).items(), key=lambda item: -len(item[0])):
        message = message.replace(needle, shown)
    if drop is not None:
        message = drop.sub("", message)
    return shortened(message)


def shortened(message: str, width: int = MESSAGE_WIDTH) -> str:
    """`message` in at most `width` characters. A long one loses its middle, not its end:
    renderers name the cause last (`...: lstat base: no such file or directory`)."""
    if len(message) <= width:
        return message
    head = message[: width // 3].rstrip()
    return head + " … " + message[len(message) - (width - len(head) - 3):].lstrip()


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _GO_ESCAPES.get(m.group(1), m.group(1)), text)
