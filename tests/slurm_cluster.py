"""A real, throwaway single-node SLURM cluster (with one fake GPU) for the test suite.

Usage::

    from slurm_cluster import SlurmCluster, SlurmUnavailable

    try:
        with SlurmCluster() as cluster:
            subprocess.run(["sbatch", "--wrap", "true"], env=cluster.environ(), check=True)
    except SlurmUnavailable as exc:
        pytest.skip(str(exc))

or, with pytest, the module-scoped ``slurm_cluster`` fixture defined at the bottom of this
module (import it into a ``conftest.py`` or test module: ``from slurm_cluster import
slurm_cluster``).  The fixture skips the test when SLURM cannot be installed.

Run Snakemake against it with ``cluster.snakemake("--executor", "slurm", "--workflow-profile",
"<repo>/profiles/slurm-local", ..., cwd=workdir)``; the environment it uses puts the directory of
``sys.executable`` first on ``PATH`` because jobs inherit it and re-run ``python -m snakemake``.

What it does (Debian ``slurm-wlm`` 22.05, as root, no systemd, no cgroups, no accounting):

* installs ``slurmctld slurmd slurm-client munge`` with apt-get when missing; when that is
  impossible (not root, no apt-get, no network) it raises :class:`SlurmUnavailable`;
* writes ``slurm.conf``, ``gres.conf`` (``gpu:1`` backed by ``File=/dev/null``) and a munge key
  into a fresh temporary directory that also holds every state/spool/log/pid file and the
  munge socket; the daemons listen on free TCP ports picked at start-up;
* points ``/etc/slurm/slurm.conf`` at that file through a symlink, because the Snakemake SLURM
  jobstep plugin strips ``SLURM_CONF`` before its nested ``srun`` (a pre-existing file there is
  moved aside and put back on exit);
* runs ``munged``, ``slurmctld`` and ``slurmd -N <node>`` in the foreground as children of this
  process and waits (bounded) until ``sinfo`` reports the node ``idle``;
* on exit cancels the remaining jobs, stops the daemons by PID (SIGTERM, then SIGKILL), kills any
  left-over ``slurmstepd``/job process that carries this cluster's marker, removes the symlink
  and the temporary directory.

A process-wide ``flock`` serialises clusters (one at a time per machine); because the lock dies
with its holder, whoever takes it may safely clean up after a crashed predecessor (stale
symlink, moved-aside config, orphaned daemons).
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import fcntl
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

__all__ = [
    "SlurmCluster",
    "SlurmClusterError",
    "SlurmUnavailable",
    "ensure_slurm_installed",
    "slurm_cluster",
]

APT_PACKAGES = ("slurmctld", "slurmd", "slurm-client", "munge")
REQUIRED_BINARIES = {
    "munged": "/usr/sbin/munged",
    "slurmctld": "/usr/sbin/slurmctld",
    "slurmd": "/usr/sbin/slurmd",
    "sbatch": "/usr/bin/sbatch",
    "srun": "/usr/bin/srun",
    "squeue": "/usr/bin/squeue",
    "sinfo": "/usr/bin/sinfo",
    "scontrol": "/usr/bin/scontrol",
    "scancel": "/usr/bin/scancel",
}

SYSTEM_CONF = Path("/etc/slurm/slurm.conf")
BACKUP_CONF = Path("/etc/slurm/slurm.conf.transinv-backup")
# Machine-wide (like /etc/slurm), so not under a per-user or per-run $TMPDIR.
LOCK_FILE = Path("/tmp/transinv-slurm-harness.lock")
DIR_PREFIX = "transinv-slurm-"
MARKER_VAR = "TRANSINV_SLURM_HARNESS"


_ACTIVE: SlurmCluster | None = None


class SlurmUnavailable(RuntimeError):
    """SLURM cannot be provided on this machine (not root, no apt-get, install failed)."""


class SlurmClusterError(RuntimeError):
    """The cluster was installable but did not come up (or could not be torn down)."""


# --------------------------------------------------------------------------- installation


def _missing_binaries() -> list[str]:
    return [name for name, path in REQUIRED_BINARIES.items() if not os.access(path, os.X_OK)]


def ensure_slurm_installed(timeout: float = 600.0) -> None:
    """Install the Debian SLURM and munge packages unless they are already there.

    Raises :class:`SlurmUnavailable` (with the reason) when that is not possible.
    """
    if not _missing_binaries():
        return
    if os.geteuid() != 0:
        raise SlurmUnavailable(
            f"SLURM binaries missing ({', '.join(_missing_binaries())}) and not running as root"
        )
    apt = shutil.which("apt-get")
    if apt is None:
        raise SlurmUnavailable("SLURM binaries missing and apt-get is not available")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [apt, "install", "-y", "--no-install-recommends", *APT_PACKAGES]
    deadline = time.monotonic() + timeout
    log: list[str] = []

    def attempt(cmd: list[str]) -> bool:
        left = max(1.0, deadline - time.monotonic())
        try:
            proc = subprocess.run(
                cmd, env=env, capture_output=True, text=True, timeout=left, check=False
            )
        except subprocess.TimeoutExpired:
            log.append(f"$ {' '.join(cmd)}\n(timed out)")
            return False
        log.append(f"$ {' '.join(cmd)}\n{(proc.stdout + proc.stderr)[-2000:]}")
        return proc.returncode == 0

    # Debian's postinst scripts try to start the services; without systemd that is refused
    # and harmless.  A first failure is usually stale package lists: update once and retry.
    ok = attempt(install) or (attempt([apt, "update"]) and attempt(install))
    if not ok or _missing_binaries():
        raise SlurmUnavailable(
            "could not install SLURM via apt-get ("
            + ", ".join(APT_PACKAGES)
            + "):\n"
            + "\n".join(log)[-4000:]
        )


# --------------------------------------------------------------------------- process helpers


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is as good as dead
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _proc_environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    env = {}
    for item in raw.split(b"\0"):
        key, sep, value = item.partition(b"=")
        if sep:
            env[key.decode(errors="replace")] = value.decode(errors="replace")
    return env


def _ancestors() -> set[int]:
    pids = {os.getpid()}
    pid = os.getpid()
    for _ in range(256):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            pid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
        if pid <= 1:
            break
        pids.add(pid)
    return pids


def _all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _terminate(pids: list[int], timeout: float) -> list[int]:
    """SIGTERM ``pids``, wait up to ``timeout`` s, SIGKILL what is left. Returns killed pids."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_pid_alive(p) for p in pids):
        time.sleep(0.05)
    killed = [p for p in pids if _pid_alive(p)]
    for pid in killed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and any(_pid_alive(p) for p in killed):
        time.sleep(0.05)
    return killed


# --------------------------------------------------------------------------- the cluster


class SlurmCluster:
    """Context manager for a single-node SLURM cluster with ``gpus`` fake GPUs.

    Attributes available after :meth:`start`:

    ``root``       temporary directory with config, state, logs, munge socket;
    ``conf``       path of the generated ``slurm.conf`` (also linked at /etc/slurm/slurm.conf);
    ``node``       node name (``slurmd -N``); ``partition`` the default partition (``gpu``);
    ``env``        the variables to add to a child's environment (``SLURM_CONF``);
    ``pids``       ``{"munged": pid, "slurmctld": pid, "slurmd": pid}``;
    ``timings``    seconds spent in ``install``, ``start`` and (after exit) ``stop``.
    """

    def __init__(
        self,
        *,
        node: str = "transinv-node",
        partition: str = "gpu",
        gpus: int = 1,
        cpus: int | None = None,
        real_memory_mb: int | None = None,
        min_job_age: int = 3600,
        base_dir: str | os.PathLike[str] | None = None,
        install: bool = True,
        install_timeout: float = 600.0,
        lock_timeout: float = 120.0,
        startup_timeout: float = 60.0,
        stop_timeout: float = 15.0,
        keep_dir: bool = False,
    ) -> None:
        self.node = node
        self.partition = partition
        self.gpus = gpus
        self.cpus = cpus or len(os.sched_getaffinity(0))
        self.real_memory_mb = real_memory_mb or self._default_memory_mb()
        self.min_job_age = min_job_age
        self.base_dir = base_dir
        self.install = install
        self.install_timeout = install_timeout
        self.lock_timeout = lock_timeout
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.keep_dir = keep_dir

        self.root: Path | None = None
        self.conf: Path | None = None
        self.env: dict[str, str] = {}
        self.pids: dict[str, int] = {}
        self.timings: dict[str, float] = {}
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._lock_fd: int | None = None
        self._linked = False
        self._backed_up = False
        self._started = False

    # ----------------------------------------------------------------- public API

    def __enter__(self) -> SlurmCluster:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> SlurmCluster:
        global _ACTIVE
        if self._started:
            raise SlurmClusterError("cluster already started")
        if _ACTIVE is not None:
            # The flock would make us wait for ourselves until lock_timeout.
            raise SlurmClusterError(
                f"a SlurmCluster is already running in this process ({_ACTIVE.root}); "
                "reuse it or stop it first (the slurm_cluster fixture is module-scoped)"
            )
        t0 = time.monotonic()
        if self.install:
            ensure_slurm_installed(self.install_timeout)
        elif _missing_binaries():
            raise SlurmUnavailable(f"SLURM binaries missing: {', '.join(_missing_binaries())}")
        if os.geteuid() != 0:
            raise SlurmUnavailable("the SLURM test cluster needs root (munged, /etc/slurm)")
        self.timings["install"] = time.monotonic() - t0
        t1 = time.monotonic()
        self._started = True
        self._procs, self.pids, self._linked, self._backed_up = {}, {}, False, False
        _ACTIVE = self
        try:
            self._acquire_lock()
            self._cleanup_after_crashed_run()
            self._write_config()
            self._link_system_conf()
            self._start_daemons()
        except BaseException:
            self.stop()
            raise
        self.timings["start"] = time.monotonic() - t1
        return self

    def stop(self) -> None:
        """Idempotent teardown; safe after a partial start."""
        global _ACTIVE
        if not self._started:
            return
        t0 = time.monotonic()
        errors: list[str] = []
        try:
            if "slurmctld" in self._procs and self._procs["slurmctld"].poll() is None:
                self._cancel_all_jobs()
            # slurmd and slurmctld in parallel, munged last (they talk to it while stopping).
            daemons = [self._procs[n] for n in ("slurmd", "slurmctld") if n in self._procs]
            self._stop_popen(daemons)
            if self.root is not None:
                self._kill_marked_processes(only_root=self.root)
            if "munged" in self._procs:
                self._stop_popen([self._procs["munged"]])
            leftovers = {n: p.pid for n, p in self._procs.items() if p.poll() is None}
            if leftovers:
                errors.append(f"daemons still running after SIGKILL: {leftovers}")
        finally:
            try:
                self._unlink_system_conf()
            except OSError as exc:
                errors.append(f"could not restore {SYSTEM_CONF}: {exc}")
            if self.root is not None and not self.keep_dir:
                shutil.rmtree(self.root, ignore_errors=True)
            self._release_lock()
            self._started = False
            if _ACTIVE is self:
                _ACTIVE = None
            self.timings["stop"] = time.monotonic() - t0
        if errors:
            raise SlurmClusterError("; ".join(errors))

    def environ(
        self, base: Mapping[str, str] | None = None, *, with_python: bool = True
    ) -> dict[str, str]:
        """A full environment for subprocesses that talk to this cluster.

        Starts from ``base`` (default ``os.environ``), drops every inherited ``SLURM_*``,
        ``SBATCH_*``/``SRUN_*``/``SALLOC_*`` and ``SNAKEMAKE_SLURM_*`` variable (so tests behave
        the same inside a real SLURM job), makes sure ``/usr/bin`` and ``/usr/sbin`` are on
        ``PATH`` and adds :attr:`env`.  With ``with_python`` the directory of ``sys.executable``
        goes first on ``PATH``: SLURM jobs inherit the submitter's environment
        (``sbatch --export=ALL``) and must find the same Python, Snakemake and plugin.
        """
        env = dict(os.environ if base is None else base)
        for key in list(env):
            if key.startswith(("SLURM_", "SBATCH_", "SRUN_", "SALLOC_", "SNAKEMAKE_SLURM_")):
                del env[key]
        parts = [p for p in env.get("PATH", "").split(os.pathsep) if p]
        if with_python:
            pybin = str(Path(sys.executable).parent)
            parts = [pybin, *(p for p in parts if p != pybin)]
        parts += [p for p in ("/usr/bin", "/usr/sbin") if p not in parts]
        env["PATH"] = os.pathsep.join(parts)
        env.update(self.env)
        return env

    def snakemake(
        self, *args: str, cwd: str | os.PathLike[str], timeout: float = 120.0
    ) -> subprocess.CompletedProcess[str]:
        """Run ``python -m snakemake *args`` in ``cwd`` against this cluster.

        Output (stdout and stderr together) is in ``.stdout``; nothing raises on a non-zero
        exit.  On timeout the whole process group is killed and ``returncode`` is -9.
        Typical ``args``: ``"--executor", "slurm", "--workflow-profile",
        "<repo>/profiles/slurm-local", "--cores", "1", "--jobs", "2"``.
        """
        cmd = [sys.executable, "-m", "snakemake", *args]
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=self.environ(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            out = f"{out}\n(snakemake killed after {timeout:.0f} s)"
        return subprocess.CompletedProcess(cmd, proc.returncode, out, "")

    def run(
        self, *args: str, timeout: float = 30.0, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run a SLURM client command (``sinfo``, ``squeue``, ...) against this cluster."""
        return subprocess.run(
            list(args),
            env=self.environ(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=check,
        )

    def daemons_alive(self) -> dict[str, bool]:
        return {name: _pid_alive(pid) for name, pid in self.pids.items()}

    def leftover_pids(self) -> list[int]:
        """Live (non-zombie) processes still carrying this cluster's marker or job config.

        Empty after a clean :meth:`stop`; usable after exit because :attr:`root` is kept.
        """
        if self.root is None:
            return []
        return [pid for pid in self._marked_pids(self.root) if _pid_alive(pid)]

    def logs(self, tail: int = 4000) -> str:
        """The tail of every daemon log, for failure messages."""
        if self.root is None:
            return "(no cluster directory)"
        parts = []
        for path in sorted((self.root / "log").glob("*")):
            try:
                text = path.read_text(errors="replace")
            except OSError as exc:
                text = f"(unreadable: {exc})"
            parts.append(f"--- {path.name} ---\n{text[-tail:]}")
        return "\n".join(parts) or "(no logs)"

    # ----------------------------------------------------------------- internals

    @staticmethod
    def _default_memory_mb() -> int:
        try:
            for line in Path("/proc/meminfo").read_text().splitlines():
                if line.startswith("MemTotal:"):
                    total_mb = int(line.split()[1]) // 1024
                    return max(256, min(4000, total_mb // 2))
        except (OSError, ValueError, IndexError):
            pass
        return 1000

    def _acquire_lock(self) -> None:
        fd = os.open(LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise SlurmClusterError(
                        f"another SLURM test cluster holds {LOCK_FILE} for more than "
                        f"{self.lock_timeout:.0f} s"
                    ) from None
                time.sleep(0.2)
        self._lock_fd = fd

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def _cleanup_after_crashed_run(self) -> None:
        """We hold the lock, so every trace of an earlier harness is stale."""
        self._kill_marked_processes(only_root=None)
        if SYSTEM_CONF.is_symlink() and DIR_PREFIX in os.readlink(SYSTEM_CONF):
            stale_root = Path(os.readlink(SYSTEM_CONF)).parent.parent
            SYSTEM_CONF.unlink()
            if stale_root.name.startswith(DIR_PREFIX):
                shutil.rmtree(stale_root, ignore_errors=True)
        if BACKUP_CONF.exists() or BACKUP_CONF.is_symlink():
            if SYSTEM_CONF.exists() or SYSTEM_CONF.is_symlink():
                raise SlurmClusterError(
                    f"both {SYSTEM_CONF} and a left-over {BACKUP_CONF} exist; "
                    "decide which one to keep and remove the other"
                )
            os.replace(BACKUP_CONF, SYSTEM_CONF)

    def _kill_marked_processes(self, only_root: Path | None) -> None:
        """Kill processes started by a harness (daemons, slurmstepd, job tasks).

        A process is ours when its environment carries ``MARKER_VAR`` (daemons and their
        slurmstepd children) or a ``SLURM_CONF`` inside a harness directory (job tasks).  With
        ``only_root`` set, only this cluster's; otherwise every harness's (stale) ones.
        """
        victims = self._marked_pids(only_root)
        if victims:
            _terminate(victims, timeout=3.0)

    def _marked_pids(self, only_root: Path | None) -> list[int]:
        skip = _ancestors() | {p.pid for p in self._procs.values()}
        found = []
        for pid in _all_pids():
            if pid in skip:
                continue
            env = _proc_environ(pid)
            marker = env.get(MARKER_VAR) or ""
            conf = env.get("SLURM_CONF") or ""
            is_job = "SLURM_JOB_ID" in env
            if only_root is None:
                mine = DIR_PREFIX in marker or (is_job and DIR_PREFIX in conf)
            else:
                mine = marker == str(only_root) or (
                    is_job and conf.startswith(f"{only_root}{os.sep}")
                )
            if mine:
                found.append(pid)
        return found

    def _write_config(self) -> None:
        parent = self.base_dir or tempfile.gettempdir()
        self.root = Path(tempfile.mkdtemp(prefix=DIR_PREFIX, dir=parent))
        root = self.root
        # munged insists that every client can traverse to its socket.
        root.chmod(0o755)
        for sub in ("etc", "state", "spool", "log", "run", "munge"):
            (root / sub).mkdir(mode=0o755 if sub == "munge" else 0o700)
        socket_path = root / "munge" / "munge.socket"
        if len(str(socket_path)) > 100:
            raise SlurmClusterError(f"munge socket path too long for AF_UNIX: {socket_path}")
        key = root / "etc" / "munge.key"
        key.write_bytes(secrets.token_bytes(1024))
        key.chmod(0o400)

        host = socket.gethostname().split(".")[0]
        ctld_port, slurmd_port = _free_port(), _free_port()
        while slurmd_port == ctld_port:
            slurmd_port = _free_port()
        gres = f"Gres=gpu:{self.gpus} " if self.gpus else ""
        conf = f"""\
# Generated by tests/slurm_cluster.py; throwaway single-node cluster.
ClusterName=transinv
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={socket_path}
StateSaveLocation={root / "state"}
SlurmdSpoolDir={root / "spool"}
SlurmctldPidFile={root / "run" / "slurmctld.pid"}
SlurmdPidFile={root / "run" / "slurmd.pid"}
SlurmctldLogFile={root / "log" / "slurmctld.log"}
SlurmdLogFile={root / "log" / "slurmd.log"}
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
MailProg=/bin/true
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
GresTypes=gpu
ReturnToService=2
MinJobAge={self.min_job_age}
KillWait=5
InactiveLimit=0
SlurmdTimeout=60
NodeName={self.node} NodeAddr=127.0.0.1 NodeHostname={host} CPUs={self.cpus} \
RealMemory={self.real_memory_mb} {gres}State=UNKNOWN
PartitionName={self.partition} Nodes={self.node} Default=YES MaxTime=INFINITE State=UP
"""
        self.conf = root / "etc" / "slurm.conf"
        self.conf.write_text(conf)
        gres_lines = "".join(
            f"NodeName={self.node} Name=gpu File=/dev/null\n" for _ in range(self.gpus)
        )
        (root / "etc" / "gres.conf").write_text(gres_lines)
        self.env = {"SLURM_CONF": str(self.conf)}
        self._socket_path = socket_path
        self._key = key

    def _link_system_conf(self) -> None:
        SYSTEM_CONF.parent.mkdir(parents=True, exist_ok=True)
        if SYSTEM_CONF.exists() or SYSTEM_CONF.is_symlink():
            os.replace(SYSTEM_CONF, BACKUP_CONF)
            self._backed_up = True
        assert self.conf is not None
        os.symlink(self.conf, SYSTEM_CONF)
        self._linked = True

    def _unlink_system_conf(self) -> None:
        if self._linked:
            if (
                SYSTEM_CONF.is_symlink()
                and self.conf is not None
                and os.readlink(SYSTEM_CONF) == str(self.conf)
            ):
                SYSTEM_CONF.unlink()
            self._linked = False
        if self._backed_up:
            if not (SYSTEM_CONF.exists() or SYSTEM_CONF.is_symlink()):
                os.replace(BACKUP_CONF, SYSTEM_CONF)
            self._backed_up = False

    def _spawn(self, name: str, argv: list[str]) -> None:
        assert self.root is not None
        out = open(self.root / "log" / f"{name}.out", "wb")  # noqa: SIM115 - child owns it
        env = self.environ()
        env[MARKER_VAR] = str(self.root)
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.root,
                start_new_session=True,
            )
        finally:
            out.close()
        self._procs[name] = proc
        self.pids[name] = proc.pid

    def _check_alive(self, stage: str) -> None:
        dead = {n: p.returncode for n, p in self._procs.items() if p.poll() is not None}
        if dead:
            raise SlurmClusterError(f"{stage}: daemon(s) exited early {dead}\n{self.logs()}")

    def _wait(self, stage: str, predicate, deadline: float) -> None:
        while True:
            self._check_alive(stage)
            if predicate():
                return
            if time.monotonic() > deadline:
                nodes = self._quiet("sinfo", "-N", "-o", "%N %T %E") or "(no answer)"
                raise SlurmClusterError(
                    f"{stage}: not ready after {self.startup_timeout:.0f} s\n"
                    f"sinfo: {nodes}\n{self.logs()}"
                )
            time.sleep(0.1)

    def _quiet(self, *args: str) -> str:
        try:
            proc = self.run(*args, timeout=10.0, check=False)
        except subprocess.TimeoutExpired:
            return ""
        return proc.stdout if proc.returncode == 0 else ""

    def _start_daemons(self) -> None:
        assert self.root is not None and self.conf is not None
        deadline = time.monotonic() + self.startup_timeout
        log = self.root / "log"
        self._spawn(
            "munged",
            [
                REQUIRED_BINARIES["munged"],
                "--foreground",
                "--force",
                f"--socket={self._socket_path}",
                f"--key-file={self._key}",
                f"--pid-file={self.root / 'run' / 'munged.pid'}",
                f"--log-file={log / 'munged.log'}",
                f"--seed-file={self.root / 'munge' / 'munged.seed'}",
                "--num-threads=2",
            ],
        )
        self._wait("munged", self._socket_path.exists, deadline)
        self._spawn("slurmctld", [REQUIRED_BINARIES["slurmctld"], "-D", "-c", "-f", str(self.conf)])
        self._wait("slurmctld", lambda: " is UP" in self._quiet("scontrol", "ping"), deadline)
        self._spawn(
            "slurmd", [REQUIRED_BINARIES["slurmd"], "-D", "-N", self.node, "-f", str(self.conf)]
        )

        def node_idle() -> bool:
            out = self._quiet("sinfo", "-h", "-N", "-n", self.node, "-o", "%T")
            return out.strip().rstrip("*") == "idle"

        self._wait("slurmd", node_idle, deadline)

    def _cancel_all_jobs(self) -> None:
        ids = self._quiet("squeue", "-h", "-t", "PD,R,CG,S,CF", "-o", "%i").split()
        if not ids:
            return
        self._quiet("scancel", *ids)
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            if not self._quiet("squeue", "-h", "-t", "PD,R,CG,S,CF", "-o", "%i").split():
                return
            time.sleep(0.2)

    def _stop_popen(self, procs: list[subprocess.Popen[bytes]]) -> None:
        running = [p for p in procs if p.poll() is None]
        for proc in running:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for proc in running:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        for proc in running:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=5.0)
        # slurmd/slurmctld helpers in the daemon's own session (never the job tasks, which
        # get a session of their own) must not outlive it.
        for proc in running:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)


@atexit.register
def _stop_active_cluster() -> None:
    """Safety net: an interpreter that exits without stop() still takes its daemons along."""
    if _ACTIVE is not None:
        with contextlib.suppress(Exception):
            _ACTIVE.stop()


# --------------------------------------------------------------------------- pytest glue

try:
    import pytest
except ImportError:  # pragma: no cover - the module is usable without pytest
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture(scope="module")
    def slurm_cluster() -> Iterator[SlurmCluster]:
        """One cluster per test module (bring-up is well under a second).

        Skips the test when SLURM cannot be installed on this machine.  Module scope (not
        session) so a test that manages its own :class:`SlurmCluster` in another module never
        meets a cluster still held by this fixture.
        """
        cluster = SlurmCluster()
        try:
            cluster.start()
        except SlurmUnavailable as exc:
            pytest.skip(f"no SLURM test cluster: {exc}")
        try:
            yield cluster
        finally:
            cluster.stop()
