package config

// DefaultTOML is the documented default configuration printed by `corrald config default`.
// Loading it yields exactly Default().
const DefaultTOML = `# corrald configuration, read from /etc/corral/config.toml if it exists, or from --config.
# Every key is optional; the values shown are the defaults. "corrald config dump" prints the
# effective configuration.
version = 1

# Persistent data: the metadata db (meta.db) and bundles (bundles/<namespace>/<id>).
root = "/var/lib/corral"
# Volatile data: keeper work dirs (<namespace>/<id>), sockets.
state = "/run/corral"
# Runtime used when a request names none. Empty means the built-in "lcr".
# Accepted: lcr, runc, kata-runtime, runsc, io.containerd.<rt>.<ver>, or a name under [runtimes].
default_runtime = ""
# The corral-shim binary. Empty means next to corrald's executable, then $PATH.
shim_path = ""
# One of trace, debug, info, warn, error.
log_level = "info"

[grpc]
# Unix socket serving containerd's gRPC API, mode 0660. A missing directory is created with mode
# 0711; an existing one keeps its mode. corrald locks "<address>.lock" while it serves, and refuses to
# start while another corrald holds that lock or anything answers on the socket.
address = "/run/corral/corrald.sock"

[timeouts]
# Keeper start-up plus "<runtime> create".
runtime_create = "1m0s"
# Any other single runtime invocation or shim v2 call but Wait (start, kill, ps, pause, resume, update, state).
runtime_call = "30s"
# How long a keeper drains the container's stdio after it exits.
io_drain = "5s"
# corrald's graceful shutdown.
shutdown = "10s"
# Dialing a shim v2 and its Connect call when corrald restarts.
shim_connect = "5s"
# The "delete" subcommand run for a shim v2 that died or cannot be reached.
shim_cleanup = "5s"
# How long a container run with --rm (label io.corral.rm) is left after its task exited and no client
# waits for it, before corrald removes it. At start, the time a client riding out the restart has to
# wait again.
auto_remove = "2s"
# How long a CRI exec, attach or port-forward stream may stay idle before it is closed.
stream_idle = "4h0m0s"

[restart]
# Containers with a restart policy (label io.corral.restart: always, unless-stopped, on-failure[:N]).
# The delay before a restart; it doubles for every restart of a task that ran less than reset_after,
# up to max_backoff.
backoff = "100ms"
max_backoff = "1m0s"
reset_after = "10s"

[log]
# Log files of containers that run detached; a container may set its own.
# Size at which the file is rotated: a number of bytes, or with a k, m or g suffix (powers of 1024).
max_size = "10m"
# Files kept per container, the current one included; 1 truncates instead of rotating.
max_file = 3
# "json-file" (Docker's: one JSON object per line) or "cri" (Kubernetes': "<time> <stream> <P|F> <line>").
format = "json-file"

# Any number of runtimes. A path also applies to the built-in names (runc, runsc, kata-runtime);
# runtime_args (at most 50) go before the runtime's subcommand. Unless its runtime_args name a
# --network mode, runsc gets one from the spec: "host" (the host's stack) in a network namespace the
# spec names by path (a CRI pod's) or in the host's, "none" (gVisor's loopback) in a new one.
# [runtimes.my-runc]
# path = "/usr/sbin/runc"
# runtime_args = ["--debug"]

[cri]
# The Kubernetes CRI (runtime.v1 RuntimeService and ImageService), served on the gRPC socket beside
# containerd's API: crictl --runtime-endpoint unix://<grpc.address>.
# The containerd namespace of the CRI's pods, containers and images.
namespace = "k8s.io"
# The image of every pod's pause container (cri-harness builds registry.k8s.io/pause:3.9).
sandbox_image = "registry.k8s.io/pause:3.9"
# The streaming server's address: the URLs that Exec, Attach and PortForward return point there.
# An IP address; port "0" takes a free port. Anyone who can reach it and holds a fresh URL gets a
# shell in that container, so keep it on loopback unless kubelet runs elsewhere.
stream_server_address = "127.0.0.1"
stream_server_port = "0"

# RuntimeClass handlers: [cri.runtimes.HANDLER] runtime = NAME maps a handler to any runtime name
# corrald accepts (lcr, runc, runsc, io.containerd.runc.v2, a name under [runtimes]); corrald refuses to
# start with a name it does not accept. The empty handler uses default_runtime; any other is refused.
# [cri.runtimes.runc]
# runtime = "runc"
# [cri.runtimes.lxc]
# runtime = "lcr"

[cri.cni]
# The network configuration (the first .conf, .conflist or .json file in lexical order) and plugins.
conf_dir = "/etc/cni/net.d"
bin_dir = "/usr/lib/cni"

[cri.registry]
# A directory of hosts.toml files, one directory per registry host (containerd's format), for pulls.
config_path = "/etc/corral/certs.d"
`
