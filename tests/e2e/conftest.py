"""Session fixtures for the end-to-end browser tests.

One JupyterLab server (started from the current interpreter, on a free loopback port, with a
random token and throw-away config/runtime/settings/workspace/checkpoint folders) and one headless
Chromium (Debian's /usr/bin/chromium, driven by Playwright) are shared by all notebooks of a run.
See tests/e2e/README.md.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
E2E_DIR = Path(__file__).resolve().parent

IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}

# How Chromium runs on these machines (root, no GPU, closed network): see tests/e2e/README.md.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

# User settings for the throw-away JupyterLab settings folder.
LAB_SETTINGS = {
    # No news / update-check toasts (and no requests to the internet).
    "@jupyterlab/apputils-extension/notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    # Never write the notebooks under test back to disk.
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    # Attach every cell to the DOM, so selectors and screenshots see the whole notebook.
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}

_SCREENSHOTS: list[Path] = []
_TIMINGS: list[tuple[str, float]] = []
# (notebook, what changed, "training" or "redraw", first feedback s or None, first figure s, final figure s)
_PANEL_TIMINGS: list[tuple[str, str, str, float | None, float, float]] = []


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "e2e: end-to-end tests (JupyterLab server and a headless browser); slower"
    )


def pytest_terminal_summary(terminalreporter):
    if not (_SCREENSHOTS or _TIMINGS or _PANEL_TIMINGS):
        return
    terminalreporter.write_sep("-", "e2e browser test")
    for name, seconds in _TIMINGS:
        terminalreporter.write_line(f"{seconds:6.1f} s  {name}")
    if _PANEL_TIMINGS:
        # The learner's side of benchmarks/panel.py; reported, never asserted (the machine is noisy).
        terminalreporter.write_line(
            "panel slider changes, from the slider action (the widget update sent) to the first feedback "
            "(the message line or the figure first changed), to the first new figure (the run so far, or "
            "the final figure if none came) and to the final figure (the panel last changed):")
        for notebook, what, kind, feedback, first_figure, final in _PANEL_TIMINGS:
            first = "none (the panel did not change)" if feedback is None else f"{feedback:.2f} s"
            terminalreporter.write_line(
                f"  {notebook} {what} ({kind}): first feedback {first}, first figure {first_figure:.2f} s, "
                f"final figure {final:.2f} s")
        slowest = {kind: max((t[5] for t in _PANEL_TIMINGS if t[2] == kind), default=None)
                   for kind in ("training", "redraw")}
        terminalreporter.write_line("browser slowest: " + ", ".join(
            f"{kind} " + ("n/a" if s is None else f"{s:.2f} s") for kind, s in slowest.items()))
    if _SCREENSHOTS:
        terminalreporter.write_line(f"screenshots in {screenshot_dir()}:")
        for path in _SCREENSHOTS:
            terminalreporter.write_line(f"  {path}")


def unavailable(reason: str):
    """Skip locally, but fail under CI=true: CI must run the browser test."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


def find_chromium() -> str | None:
    """E2E_CHROMIUM if set (and nothing else), else Debian's /usr/bin/chromium or one on PATH."""
    explicit = os.environ.get("E2E_CHROMIUM")
    candidates = [explicit] if explicit else [
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        shutil.which("google-chrome"),
        shutil.which("google-chrome-stable"),
    ]
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def screenshot_dir() -> Path:
    path = Path(os.environ.get("E2E_SCREENSHOTS") or E2E_DIR / "screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def record_screenshot(path: Path) -> None:
    _SCREENSHOTS.append(path)


def record_timing(name: str, seconds: float) -> None:
    _TIMINGS.append((name, seconds))


def record_panel_timings(notebook: str, timings) -> None:
    """`timings`: (what changed, "training" or "redraw", first feedback s or None, first figure s,
    final figure s)."""
    _PANEL_TIMINGS.extend((notebook, *t) for t in timings)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _child_pids(pid: int) -> list[int]:
    """Direct children of `pid` (the kernels of a Jupyter server), read from /proc."""
    children = []
    proc = Path("/proc")
    if not proc.is_dir():
        return children
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may contain spaces, so split after the last ')'.
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and fields[1] == str(pid):
            children.append(int(entry.name))
    return children


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class LabServer:
    port: int
    token: str
    proc: subprocess.Popen
    log_path: Path
    kernel_pids: set[int] = field(default_factory=set)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def api(self, method: str, path: str, timeout: float = 10.0):
        req = urllib.request.Request(
            self.url(path),
            method=method,
            headers={"Authorization": f"token {self.token}"},
            data=b"" if method in {"POST", "PATCH"} else None,
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def log_tail(self, n: int = 60) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def remember_kernels(self) -> None:
        self.kernel_pids.update(_child_pids(self.proc.pid))

    def shutdown_all_kernels(self, timeout: float = 20.0) -> None:
        """Shut down every session and kernel (frees the memory between notebooks)."""
        self.remember_kernels()
        try:
            for session in self.api("GET", "api/sessions"):
                try:
                    self.api("DELETE", f"api/sessions/{session['id']}", timeout=timeout)
                except urllib.error.HTTPError:
                    pass
            for kernel in self.api("GET", "api/kernels"):
                try:
                    self.api("DELETE", f"api/kernels/{kernel['id']}", timeout=timeout)
                except urllib.error.HTTPError:
                    pass
            deadline = time.monotonic() + timeout
            while self.api("GET", "api/kernels") and time.monotonic() < deadline:
                time.sleep(0.2)
        except (urllib.error.URLError, OSError):
            pass

    def stop(self) -> None:
        self.shutdown_all_kernels()
        if self.proc.poll() is None:
            try:
                self.api("POST", "api/shutdown", timeout=10)
            except (urllib.error.URLError, OSError):
                pass
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
        # Kernels run in their own sessions: end any that outlived the server, by pid.
        for pid in sorted(self.kernel_pids):
            if _alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


def _write_lab_settings(settings_dir: Path) -> None:
    for plugin, values in LAB_SETTINGS.items():
        path = settings_dir / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values, indent=2))


@pytest.fixture(scope="session")
def lab_server():
    """A JupyterLab server rooted at the repository, for the whole test session."""
    tmp = Path(tempfile.mkdtemp(prefix="neuronlab-e2e-"))
    dirs = {
        name: tmp / name
        for name in ("config", "runtime", "data", "settings", "workspaces", "ipython", "checkpoints")
    }
    for d in dirs.values():
        d.mkdir()
    _write_lab_settings(dirs["settings"])
    # No language server (it would write .virtual_documents/ into the repository).
    (dirs["config"] / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"jupyter_lsp": False}}})
    )

    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
    env.pop("MPLBACKEND", None)  # `make` exports Agg; learners' kernels use the inline backend
    env.update(
        JUPYTER_CONFIG_DIR=str(dirs["config"]),
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
        JUPYTER_DATA_DIR=str(dirs["data"]),
        JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
        JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]),
        IPYTHONDIR=str(dirs["ipython"]),
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    port = _free_port()
    token = secrets.token_hex(24)
    cmd = [
        sys.executable, "-m", "jupyter", "lab",
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={REPO}",
        "--ServerApp.terminals_enabled=False",
        # Checkpoints go to the temp folder (an absolute checkpoint_dir is used as is), so
        # opening a notebook leaves no .ipynb_checkpoints/ in the repository.
        f"--FileCheckpoints.checkpoint_dir={dirs['checkpoints']}",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp, used to run all cells
        "--JupyterNotebookApp.expose_app_in_browser=True",  # the same in Notebook 7 (/notebooks/...)
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    log_path = tmp / "jupyter-server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
    server = LabServer(port=port, token=token, proc=proc, log_path=log_path)
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"JupyterLab exited with {proc.returncode} at start:\n{server.log_tail()}",
                    pytrace=False,
                )
            try:
                server.api("GET", "api/status", timeout=2)
                break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer in 90 s:\n{server.log_tail()}",
                                pytrace=False)
                time.sleep(0.25)
        yield server
    finally:
        server.stop()
        if os.environ.get("E2E_KEEP_TMP"):
            print(f"\ne2e: kept {tmp} (server log: {log_path})")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


class Artifacts:
    """What the tests hand to the terminal summary: screenshots, per-notebook and panel timings."""

    screenshot_dir = staticmethod(screenshot_dir)
    record_screenshot = staticmethod(record_screenshot)
    record_timing = staticmethod(record_timing)
    record_panel_timings = staticmethod(record_panel_timings)
    unavailable = staticmethod(unavailable)  # skip locally, fail under CI=true


@pytest.fixture(scope="session")
def e2e_artifacts():
    return Artifacts()


@pytest.fixture(scope="session")
def chromium_browser():
    """One headless Chromium for the session (Debian's package; Playwright never downloads one)."""
    executable = find_chromium()
    if executable is None:
        unavailable(
            "no Chromium binary found (install Debian's `chromium` package, or set E2E_CHROMIUM)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Python package `playwright` is not installed (pip install -e '.[test]')")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()
