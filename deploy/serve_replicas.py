"""`make serve-replicas REPLICAS=N PORT=P`: N cnnviz replicas on free local ports behind HAProxy on
127.0.0.1:P, in the foreground; Ctrl-C or SIGTERM stops everything it started.

Streamlit keeps a session's state and uploads in one process's memory, so the balancer must keep a
browser on one replica (a cookie HAProxy inserts, `cnnviz_replica=r0`) and pass websocket upgrades
(HAProxy does in HTTP mode; `timeout tunnel` keeps an idle websocket open through a long training run).
It sends new browsers only to replicas whose `/_stcore/health` answers (a check every second, down
after two failures); a browser whose replica died is sent to a live one (`option redispatch`), where
a reloaded page is a fresh session that says so (cnnviz.ui.replica, which reads the `cnnviz_moved_from`
cookie HAProxy sets when a browser's websocket opens on another replica than its last one).

All replicas share one `server.cookieSecret` (made here for this run), so the XSRF cookie a browser
got from one replica is valid on another after a move. Each replica warms up at start (cnnviz.ui.warmup)
and names itself in its `/metrics` (CNNVIZ_REPLICA).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COOKIE = "cnnviz_replica"  # affinity: HAProxy's choice of replica for this browser
HOME_COOKIE = "cnnviz_home"  # the replica of this browser's last websocket
MOVED_COOKIE = "cnnviz_moved_from"  # set when a websocket opened elsewhere than home: the replica that failed
CHECK_INTERVAL_S = 1  # HAProxy's health check; a dead replica is marked down after FALL of them
FALL, RISE = 2, 2

CONFIG = """# written by deploy/serve_replicas.py for this run
global
    maxconn 4096
    stats socket {socket} mode 600 level admin

defaults
    mode http
    timeout connect 5s
    timeout client 1h
    timeout server 1h
    timeout tunnel 1h
    timeout http-request 30s
    timeout queue 30s
    retries 2
    option redispatch

frontend cnnviz
    bind {host}:{port}
    default_backend replicas

backend replicas
    balance leastconn
    cookie {cookie} insert nocache httponly attr "SameSite=Lax"
    # Moved sessions. cnnviz_home names the replica of this browser's last websocket; it changes only when
    # a websocket opens (status 101), not on the health polls of a reconnect (which move the affinity
    # cookie). A websocket opened on another replica than the home one means the home one failed: the
    # answer names the old one in {moved} (10 minutes), which the next session's page reads
    # (cnnviz.ui.replica) and whose own websocket then clears it.
    http-request set-var(txn.home) req.cook({home})
    http-request set-var(txn.moved) req.cook({moved})
    http-response set-var(txn.srv) srv_name
    http-response add-header Set-Cookie "{moved}=%[var(txn.home)]; path=/; Max-Age=600; HttpOnly; SameSite=Lax" if {{ status 101 }} {{ var(txn.home) -m str {names} }} !{{ var(txn.home),strcmp(txn.srv) eq 0 }}
    http-response add-header Set-Cookie "{moved}=; path=/; Max-Age=0" if {{ status 101 }} {{ var(txn.moved) -m found }} {{ var(txn.home),strcmp(txn.srv) eq 0 }}
    http-response add-header Set-Cookie "{home}=%[var(txn.srv)]; path=/; HttpOnly; SameSite=Lax" if {{ status 101 }} !{{ var(txn.home),strcmp(txn.srv) eq 0 }}
    option httpchk GET /_stcore/health
    http-check expect status 200
    timeout check 5s
    default-server inter {inter}s fall {fall} rise {rise} init-addr last,libc,none
{servers}
"""


def haproxy_config(port: int, replicas: list[tuple[str, str]], socket_path: str, host: str = "127.0.0.1") -> str:
    """The balancer's configuration: sticky cookie, websocket-friendly timeouts, health checks.
    `replicas`: (name, "address:port") each; compose.yaml's balancer uses this with its service names."""
    servers = "\n".join(f"    server {name} {address} cookie {name} check" for name, address in replicas)
    names = " ".join(name for name, _ in replicas)
    return CONFIG.format(socket=socket_path, host=host, port=port, cookie=COOKIE, home=HOME_COOKIE,
                         moved=MOVED_COOKIE, names=names, inter=CHECK_INTERVAL_S,
                         fall=FALL, rise=RISE, servers=servers)


COMPOSE_CONFIG = Path(__file__).with_name("haproxy-compose.cfg")


def compose_config() -> str:
    """deploy/haproxy-compose.cfg: the same balancer for compose.yaml's two replica services."""
    return haproxy_config(8501, [("r0", "r0:8501"), ("r1", "r1:8501")], "/tmp/haproxy.sock", host="0.0.0.0")


def server_states(socket_path, names) -> dict[str, str]:
    """HAProxy's view of each named replica ("UP", "DOWN", ...), from its stats socket."""
    return {name: row["status"].split()[0] for name, row in server_stats(socket_path, names).items()}


def server_stats(socket_path, names) -> dict[str, dict[str, str]]:
    """HAProxy's statistics row of each named replica (`show stat` on its stats socket): "status", "scur"
    (the connections it serves now), "stot" (all it has served), ..."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(str(socket_path))
        s.sendall(b"show stat\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    lines = data.decode().splitlines()
    header = lines[0].lstrip("# ").split(",")
    rows = [dict(zip(header, line.split(","))) for line in lines[1:] if line]
    return {r["svname"]: r for r in rows if r["svname"] in names}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(port: int, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=timeout) as r:
            return r.status == 200
    except OSError:
        return False


@dataclass
class Cluster:
    port: int
    workdir: Path
    replicas: dict[str, tuple[int, subprocess.Popen]] = field(default_factory=dict)
    balancer: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def socket(self) -> Path:
        return self.workdir / "haproxy.sock"

    def server_states(self) -> dict[str, str]:
        return server_states(self.socket, set(self.replicas))

    def kill(self, name: str) -> None:
        """Kill one replica at once (a crash, for the fault test)."""
        self.replicas[name][1].kill()
        self.replicas[name][1].wait(timeout=30)

    def stop(self) -> None:
        procs = [p for _, p in self.replicas.values()] + ([self.balancer] if self.balancer else [])
        for p in procs:
            if p.poll() is None:
                p.terminate()
        deadline = time.monotonic() + 20
        for p in procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def start(replicas: int, port: int, workdir: Path | None = None, host: str = "127.0.0.1",
          python: str = sys.executable, haproxy: str | None = None, quiet: bool = False) -> Cluster:
    """Start the replicas and the balancer; returns at once (the balancer checks the replicas' health)."""
    if replicas < 1:
        raise ValueError("REPLICAS must be at least 1")
    haproxy = haproxy or shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(haproxy).exists():
        raise FileNotFoundError("haproxy is not installed (Debian: apt-get install haproxy)")
    workdir = Path(workdir or tempfile.mkdtemp(prefix="cnnviz-replicas-"))
    workdir.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(port, workdir)
    cookie_secret = secrets.token_hex(32)  # one for all replicas: XSRF cookies stay valid after a move
    out = subprocess.DEVNULL if quiet else None
    try:
        for i in range(replicas):
            name, p = f"r{i}", free_port()
            env = dict(os.environ, CNNVIZ_REPLICA=name, STREAMLIT_SERVER_COOKIE_SECRET=cookie_secret)
            log = open(workdir / f"{name}.log", "wb")  # noqa: SIM115 - open for the replica's lifetime
            proc = subprocess.Popen(
                [python, "-m", "streamlit", "run", "app.py", "--server.port", str(p), "--server.address", "127.0.0.1",
                 "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            cluster.replicas[name] = (p, proc)
        config = workdir / "haproxy.cfg"
        config.write_text(haproxy_config(port, [(n, f"127.0.0.1:{p}") for n, (p, _) in cluster.replicas.items()],
                                         str(cluster.socket), host))
        check = subprocess.run([haproxy, "-c", "-q", "-f", str(config)], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"haproxy refused its configuration: {check.stderr.strip() or check.stdout.strip()}")
        cluster.balancer = subprocess.Popen([haproxy, "-db", "-f", str(config)], cwd=workdir, stdout=out, stderr=out)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def wait_until_up(cluster: Cluster, timeout: float = 240.0, all_replicas: bool = True) -> bool:
    """Wait until the replicas answer their health check and the balancer sees them UP."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cluster.balancer is not None and cluster.balancer.poll() is not None:
            return False
        up = [n for n, (p, _) in cluster.replicas.items() if healthy(p)]
        try:
            seen = cluster.server_states()
        except OSError:
            seen = {}
        balanced = [n for n in up if seen.get(n) == "UP"]
        if balanced and (len(balanced) == len(cluster.replicas) or not all_replicas):
            return True
        time.sleep(0.5)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--port", type=int, default=8501)
    parser.add_argument("--host", default="127.0.0.1", help="the balancer's address (0.0.0.0: the whole network)")
    parser.add_argument("--write-compose-config", action="store_true",
                        help=f"write {COMPOSE_CONFIG.name} (compose.yaml's balancer) and exit")
    args = parser.parse_args(argv)
    if args.write_compose_config:
        COMPOSE_CONFIG.write_text(compose_config())
        return 0
    stopping = []

    def stop(signum, _frame):
        stopping.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    cluster = start(args.replicas, args.port, host=args.host)
    for name, (p, proc) in cluster.replicas.items():
        print(f"cnnviz: replica {name} on 127.0.0.1:{p}, pid {proc.pid}", flush=True)
    print(f"cnnviz: balancer on {args.host}:{args.port}, logs and haproxy.cfg in {cluster.workdir}", flush=True)
    try:
        if wait_until_up(cluster, all_replicas=False):
            print(f"cnnviz: open http://{args.host}:{args.port} (Ctrl-C stops everything)", flush=True)
        while not stopping:
            if cluster.balancer.poll() is not None:
                print("cnnviz: the balancer stopped", file=sys.stderr, flush=True)
                return 1
            for name, (p, proc) in cluster.replicas.items():
                if proc.returncode is None and proc.poll() is not None:
                    print(f"cnnviz: replica {name} (:{p}) exited with {proc.returncode}; the others go on",
                          file=sys.stderr, flush=True)
            time.sleep(0.5)
    finally:
        cluster.stop()
        print("cnnviz: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
