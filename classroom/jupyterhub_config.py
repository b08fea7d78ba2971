# JupyterHub configuration of `make classroom` (issue 29); see INSTRUCTORS.md, "One server for the room".
# Every setting comes from the environment, so `make classroom VAR=value` changes it:
#   SEMSIM_CLASSROOM_DIR       where state, the store and learners' homes go (default: .classroom/ in the repository)
#   SEMSIM_CLASSROOM_IP        the address learners connect to (default 127.0.0.1: this machine only; 0.0.0.0: the room)
#   SEMSIM_CLASSROOM_PORT      its port (default 8000); the hub's internal API uses PORT+1, the proxy's API PORT+2
#   SEMSIM_CLASSROOM_PASSWORD  the class password (default: a random one, kept in .classroom/hub/class-password)
#   SEMSIM_CLASSROOM_MEM_MB    address-space cap of each learner's Python kernel in MiB (default 8192; 0: none)
#   SEMSIM_CLASSROOM_IDLE_MIN  stop a learner's server after this many idle minutes (default 60)
#   SEMSIM_CLASSROOM_MAX       at most this many learners' servers at once (default 40)
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from semsim.course import classroom  # noqa: E402

c = get_config()  # noqa: F821 (JupyterHub's config loader defines it)

base = classroom.classroom_dir()
state = classroom.hub_dir(base)
state.mkdir(parents=True, exist_ok=True)
store = classroom.store_dir(base)
learners = classroom.learners_dir(base)
ip = os.environ.get("SEMSIM_CLASSROOM_IP", "127.0.0.1")
port = int(os.environ.get("SEMSIM_CLASSROOM_PORT", "8000"))
mem_mb = int(os.environ.get("SEMSIM_CLASSROOM_MEM_MB", "8192"))
idle_min = int(os.environ.get("SEMSIM_CLASSROOM_IDLE_MIN", "60"))

# -- where and how it listens; its state ---------------------------------------------------------------------------
c.JupyterHub.bind_url = f"http://{ip}:{port}/"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = port + 1
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{port + 2}"
c.ConfigurableHTTPProxy.command = [str(ROOT / "classroom" / "node_modules" / ".bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.auth_token = classroom.secret(state / "proxy-token", 43)
c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")
c.ConfigurableHTTPProxy.debug = False
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True           # stopping the hub stops every learner's server
c.JupyterHub.active_server_limit = int(os.environ.get("SEMSIM_CLASSROOM_MAX", "40"))
c.JupyterHub.concurrent_spawn_limit = 20

# -- who may log in: one class password, accounts made on first login ----------------------------------------------
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = classroom.secret(
    state / "class-password", 12, os.environ.get("SEMSIM_CLASSROOM_PASSWORD", ""))
c.SharedPasswordAuthenticator.admin_password = classroom.secret(state / "admin-password", 40)
c.Authenticator.admin_users = {"instructor"}
c.Authenticator.allow_all = True
c.Authenticator.username_pattern = r"^[a-z0-9][a-z0-9_.-]{0,31}$"   # a learner's folder name: nothing odd in it

# -- each learner's server: their own folder, the shared store, a capped kernel -------------------------------------
c.JupyterHub.spawner_class = "simple"          # SimpleLocalProcessSpawner: one account, no root needed
c.SimpleLocalProcessSpawner.home_dir_template = str(learners / "{username}")
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
c.Spawner.default_url = "/lab/tree/notebooks"
c.Spawner.notebook_dir = str(learners / "{username}")
c.Spawner.args = ["--LabApp.news_url=None", "--LabApp.collaborative=False"] + (
    ["--allow-root"] if os.geteuid() == 0 else [])
c.Spawner.env_keep = ["PATH", "LANG", "LC_ALL", "VIRTUAL_ENV", "SEMSIM_OFFLINE", "HF_HUB_OFFLINE",
                      "SEMSIM_DATA_DIR", "SEMSIM_MODELS_DIR", "OMP_NUM_THREADS"]
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 90
c.Spawner.mem_limit = f"{mem_mb}M" if mem_mb else None   # shown to the learner's server; the kernel wrapper enforces it


def pre_spawn_hook(spawner):
    home = learners / spawner.user.name
    classroom.prepare_home(home, store if classroom.store_ready(store) else None, mem_mb=mem_mb)


c.Spawner.pre_spawn_hook = pre_spawn_hook
# per-learner variables, computed for each spawner (a callable gets the spawner)
c.Spawner.environment = {key: (lambda spawner, key=key: classroom.learner_env(learners / spawner.user.name)[key])
                         for key in classroom.learner_env(learners / "x")}

# -- the idle culler: a learner's server that has been idle for idle_min minutes is stopped (their files stay) -------
c.JupyterHub.load_roles = [{"name": "idle-culler", "services": ["idle-culler"],
                            "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]}]
c.JupyterHub.services = [{"name": "idle-culler",
                          "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={idle_min * 60}",
                                      f"--cull-every={max(30, min(300, idle_min * 15))}"]}]
