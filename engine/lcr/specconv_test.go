package lcr_test

import (
	"errors"
	"io/fs"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/corral-dev/corral/engine/lcr"
)

// fakeFS stands in for the host: the paths that exist, true for a directory.
var fakeFS = map[string]bool{
	"/proc/acpi": true, "/sys/firmware": true, "/proc/kcore": false, "/rootfs/etc/secret": false,
	"/srv/data": true, "/srv/file": false, "/srv/with space": true,
}

// fakeDevs are the host's character devices: path → major:minor.
var fakeDevs = map[string][2]uint32{"/dev/null": {1, 3}, "/dev/fuse": {10, 229}}

func fakeStat(name string) (fs.FileInfo, error) {
	if d, ok := fakeDevs[name]; ok {
		return fakeDev{unix.Mkdev(d[0], d[1])}, nil
	}
	dir, ok := fakeFS[name]
	if !ok {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	}
	return fakeInfo{dir}, nil
}

type fakeInfo struct{ dir bool }

func (f fakeInfo) Name() string       { return "" }
func (f fakeInfo) Size() int64        { return 0 }
func (f fakeInfo) Mode() fs.FileMode  { return map[bool]fs.FileMode{true: fs.ModeDir}[f.dir] }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return f.dir }
func (f fakeInfo) Sys() any           { return nil }

type fakeDev struct{ rdev uint64 }

func (f fakeDev) Name() string { return "" }
func (f fakeDev) Size() int64  { return 0 }
func (f fakeDev) Mode() fs.FileMode {
	return fs.ModeDevice | fs.ModeCharDevice | 0o666
}
func (f fakeDev) ModTime() time.Time { return time.Time{} }
func (f fakeDev) IsDir() bool        { return false }
func (f fakeDev) Sys() any           { return &syscall.Stat_t{Rdev: f.rdev} }

var defaultCaps = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"}

// defaultSpec is the spec `corral run` builds (cmd/corral/commands/run/spec.go).
func defaultSpec() *specs.Spec {
	return &specs.Spec{
		Version:  specs.Version,
		Hostname: "c1",
		Root:     &specs.Root{Path: "/rootfs"},
		Process: &specs.Process{
			Args: []string{"sh", "-c", "exit 5"}, Env: []string{"PATH=/bin", "A= spaced \"quoted\" "}, Cwd: "/",
			Capabilities:    &specs.LinuxCapabilities{Bounding: defaultCaps, Effective: defaultCaps, Permitted: defaultCaps},
			Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}},
			NoNewPrivileges: true,
		},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
			{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		},
		Linux: &specs.Linux{
			CgroupsPath: "/default/c1",
			Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace}, {Type: specs.UTSNamespace},
				{Type: specs.MountNamespace}, {Type: specs.NetworkNamespace}},
			Resources:     &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}},
			MaskedPaths:   []string{"/proc/acpi", "/proc/kcore", "/proc/missing", "/etc/secret"},
			ReadonlyPaths: []string{"/proc/sys"},
		},
	}
}

func translate(t *testing.T, s *specs.Spec, v2 bool) (*lcr.Config, error) {
	t.Helper()
	return lcr.Translate(s, lcr.TranslateOpts{CgroupV2: v2, CgroupDir: "corral/default/c1", Stat: fakeStat, SeccompPath: "/run/c1/seccomp"})
}

func TestTranslateDefaultSpec(t *testing.T) {
	c, err := translate(t, defaultSpec(), false)
	if err != nil {
		t.Fatal(err)
	}
	want := `# Written by corral from the container's OCI spec.
lxc.namespace.clone = "pid ipc uts mnt net"
lxc.net.0.type = "empty"
lxc.rootfs.path = "dir:/rootfs"
lxc.uts.name = "c1"
lxc.console.path = "none"
lxc.tty.max = "0"
lxc.pty.max = "64"
lxc.cgroup.relative = "0"
lxc.cgroup.dir.container = "default/c1"
lxc.cgroup.dir.monitor = "default/c1.monitor"
lxc.environment = "PATH=/bin"
lxc.environment = "A= spaced "quoted" "
lxc.init.cwd = "/"
lxc.init.uid = "0"
lxc.init.gid = "0"
lxc.cap.keep = "chown dac_override fsetid fowner mknod net_raw setgid setuid setfcap setpcap net_bind_service sys_chroot kill audit_write"
lxc.prlimit.nofile = "1024:1024"
lxc.no_new_privs = "1"
lxc.apparmor.profile = "unconfined"
lxc.mount.entry = "proc proc proc nosuid,noexec,nodev,create=dir 0 0"
lxc.mount.entry = "tmpfs dev tmpfs nosuid,strictatime,mode=755,size=65536k,create=dir 0 0"
lxc.mount.entry = "shm dev/shm tmpfs nosuid,noexec,nodev,mode=1777,size=65536k,create=dir 0 0"
lxc.mount.entry = "sysfs sys sysfs nosuid,noexec,nodev,ro,create=dir 0 0"
lxc.autodev = "1"
lxc.pty.max = "1024"
lxc.mount.entry = "tmpfs proc/acpi tmpfs ro,optional 0 0"
lxc.mount.entry = "/dev/null proc/kcore none bind,optional 0 0"
lxc.mount.entry = "/dev/null etc/secret none bind,optional 0 0"
lxc.mount.entry = "proc/sys proc/sys none bind,ro,relative,optional 0 0"
lxc.cgroup.devices.deny = "a"
lxc.cgroup.devices.allow = "c *:* m"
lxc.cgroup.devices.allow = "b *:* m"
lxc.cgroup.devices.allow = "c 1:3 rwm"
lxc.cgroup.devices.allow = "c 1:8 rwm"
lxc.cgroup.devices.allow = "c 1:7 rwm"
lxc.cgroup.devices.allow = "c 5:0 rwm"
lxc.cgroup.devices.allow = "c 1:5 rwm"
lxc.cgroup.devices.allow = "c 1:9 rwm"
lxc.cgroup.devices.allow = "c 136:* rwm"
lxc.cgroup.devices.allow = "c 5:2 rwm"
lxc.cgroup.devices.allow = "c 10:200 rwm"
`
	if got := string(c.Marshal()); got != want {
		t.Errorf("config:\n%s\nwant:\n%s", got, want)
	}
	// Every line reads back, as LXC parses it, as the value the translation meant.
	assertParses(t, c)
}

// assertParses checks that every line of c's file is `key = value` with a known key, no control
// character, and reads back as the Line it was written from.
func assertParses(t *testing.T, c *lcr.Config) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(string(c.Marshal()), "\n"), "\n")
	if len(lines) != len(c.Lines)+1 {
		t.Fatalf("%d lines for %d items: a value spans lines", len(lines), len(c.Lines))
	}
	for i, line := range lines[1:] {
		k, v, ok, err := lcr.ParseLine(line)
		if err != nil || !ok {
			t.Fatalf("line %q: ok %v, %v", line, ok, err)
		}
		if !lcr.KnownKey(k) {
			t.Errorf("line %q: unknown key %q", line, k)
		}
		if strings.ContainsFunc(line, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Errorf("line %q has a control character", line)
		}
		if want := c.Lines[i]; k != want.Key || v != want.Value {
			t.Errorf("line %q reads back as %q = %q, want %q = %q", line, k, v, want.Key, want.Value)
		}
	}
}

func TestTranslateOptions(t *testing.T) {
	int64p := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		name string
		edit func(*specs.Spec)
		v2   bool
		want []string // lines the config must contain, in this order
	}{
		{"default cgroup dir", func(s *specs.Spec) { s.Linux.CgroupsPath = "" },
			false, []string{`lxc.cgroup.dir.container = "corral/default/c1"`, `lxc.cgroup.dir.monitor = "corral/default/c1.monitor"`}},
		{"read-only rootfs", func(s *specs.Spec) { s.Root.Readonly = true },
			false, []string{`lxc.rootfs.path = "dir:/rootfs"`, `lxc.hook.version = "1"`, `lxc.hook.mount = "/bin/mount -o remount,bind,ro $LXC_ROOTFS_MOUNT"`}},
		{"user and groups", func(s *specs.Spec) {
			s.Process.User = specs.User{UID: 1000, GID: 100, AdditionalGids: []uint32{10, 20}}
		},
			false, []string{`lxc.init.uid = "1000"`, `lxc.init.gid = "100"`, `lxc.init.groups = "10,20"`}},
		{"no capabilities", func(s *specs.Spec) { s.Process.Capabilities = &specs.LinuxCapabilities{} },
			false, []string{`lxc.cap.keep = "none"`}},
		{"unlimited rlimit", func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_CORE", Soft: 0, Hard: ^uint64(0)}}
		}, false, []string{`lxc.prlimit.core = "0:unlimited"`}},
		{"lsm and oom", func(s *specs.Spec) {
			adj := -500
			s.Process.ApparmorProfile, s.Process.SelinuxLabel, s.Process.OOMScoreAdj, s.Process.NoNewPrivileges = "p1", "system_u:r", &adj, false
		}, false, []string{`lxc.no_new_privs = "0"`, `lxc.apparmor.profile = "p1"`, `lxc.selinux.context = "system_u:r"`, `lxc.proc.oom_score_adj = "-500"`}},
		{"host network, shared ipc", func(s *specs.Spec) {
			s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.MountNamespace}, {Type: specs.IPCNamespace, Path: "/proc/7/ns/ipc"}}
			s.Hostname = ""
		}, false, []string{`lxc.namespace.share.ipc = "/proc/7/ns/ipc"`, `lxc.namespace.clone = "mnt"`, `lxc.net.0.type = "none"`}},
		{"user namespace", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 200000, Size: 1000}}
		}, false, []string{`lxc.namespace.clone = "pid ipc uts mnt net user"`, `lxc.idmap = "u 0 100000 65536"`, `lxc.idmap = "g 0 200000 1000"`}},
		{"bind mounts", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Source: "/srv/data", Options: []string{"rbind", "ro"}},
				specs.Mount{Destination: "/etc/file", Source: "/srv/file", Type: "bind", Options: []string{"bind"}},
				specs.Mount{Destination: "/my data", Source: `/srv/with space`, Options: []string{"bind"}})
		}, false, []string{`lxc.mount.entry = "/srv/data data none rbind,ro,create=dir 0 0"`,
			`lxc.mount.entry = "/srv/file etc/file none bind,create=file 0 0"`,
			`lxc.mount.entry = "/srv/with\040space my\040data none bind,create=dir 0 0"`}},
		{"cgroup mount", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"ro", "nosuid"}})
		}, false, []string{`lxc.mount.auto = "cgroup:ro:force"`}},
		{"host /dev", func(s *specs.Spec) {
			s.Mounts[1] = specs.Mount{Destination: "/dev", Source: "/srv/data", Options: []string{"rbind"}}
			s.Mounts = s.Mounts[:2]
		}, false, []string{`lxc.autodev = "0"`, `lxc.pty.max = "0"`}},
		{"sysctls", func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1", "kernel.msgmax": "8192"}
			s.Linux.ReadonlyPaths = nil
		}, false, []string{`lxc.sysctl.kernel.msgmax = "8192"`, `lxc.sysctl.net.ipv4.ip_forward = "1"`}},
		{"sysctls under read-only /proc/sys", func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"kernel.sem": "1 2 3 4", "fs.mqueue.msg_max": "it's"}
		}, false, []string{`lxc.mount.entry = "proc/sys proc/sys none bind,ro,relative,optional 0 0"`,
			`lxc.hook.mount = "printf %s 'it'\''s' >/proc/sys/fs/mqueue/msg_max #"`,
			`lxc.hook.mount = "printf %s '1 2 3 4' >/proc/sys/kernel/sem #"`}},
		{"seccomp", func(s *specs.Spec) {
			enosys := uint(38)
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{
				{Names: []string{"read", "write"}, Action: specs.ActAllow},
				{Names: []string{"clone3"}, Action: specs.ActErrno, ErrnoRet: &enosys},
				{Names: []string{"clone"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0x7e020000, ValueTwo: 0, Op: specs.OpMaskedEqual}}},
				{Names: []string{"personality"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0, Op: specs.OpEqualTo}, {Index: 0, Value: 8, Op: specs.OpEqualTo}}},
				{Names: []string{"mkdir"}, Action: specs.ActErrno}, // the default: skipped
			}}
		}, false, []string{`lxc.seccomp.profile = "/run/c1/seccomp"`}},
		{"host device", func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}, {Path: "/dev/ptmx", Type: "c", Major: 5, Minor: 2}}
		}, false, []string{`lxc.mount.entry = "/dev/fuse dev/fuse none bind,create=file 0 0"`, `lxc.cgroup.devices.deny = "a"`}},
		{"resources v1", func(s *specs.Spec) {
			s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: int64p(64 << 20)}
			s.Linux.Resources.Pids = &specs.LinuxPids{Limit: int64p(100)}
		}, false, []string{`lxc.cgroup.memory.limit_in_bytes = "67108864"`, `lxc.cgroup.pids.max = "100"`, `lxc.cgroup.devices.deny = "a"`}},
		{"resources v2", func(s *specs.Spec) {
			s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: int64p(64 << 20)}
		}, true, []string{`lxc.cgroup2.memory.max = "67108864"`, `lxc.cgroup2.devices.deny = "a"`, `lxc.cgroup2.devices.allow = "c 1:3 rwm"`}},
		{"time namespace", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: -3}, "boottime": {Secs: 1, Nanosecs: 5}}
		}, false, []string{`lxc.time.offset.boot = "1000000005ns"`, `lxc.time.offset.monotonic = "-3s"`}},
		{"personality", func(s *specs.Spec) { s.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32} },
			false, []string{`lxc.arch = "linux32"`}},
		{"default device nodes", func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/null", Type: "c", Major: 1, Minor: 3}}
		}, false, []string{`lxc.cgroup.devices.deny = "a"`}},
		{"device rules", func(s *specs.Spec) {
			maj, min := int64(10), int64(-1)
			s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: &maj, Minor: &min, Access: "rw"})
		}, false, []string{`lxc.cgroup.devices.deny = "a"`, `lxc.cgroup.devices.allow = "c 10:* rw"`, `lxc.cgroup.devices.allow = "c *:* m"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := defaultSpec()
			tc.edit(s)
			c, err := translate(t, s, tc.v2)
			if err != nil {
				t.Fatal(err)
			}
			assertParses(t, c)
			rest := string(c.Marshal())
			for _, w := range tc.want {
				i := strings.Index(rest, w+"\n")
				if i < 0 {
					t.Fatalf("config lacks %s (in this order):\n%s", w, c.Marshal())
				}
				rest = rest[i:]
			}
		})
	}
}

func TestTranslateSeccomp(t *testing.T) {
	enosys := uint(38)
	for _, tc := range []struct {
		name string
		sec  specs.LinuxSeccomp
		want string
	}{
		{"allowlist", specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: []specs.Arch{specs.ArchX86_64}, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read", "write"}, Action: specs.ActAllow},
			{Names: []string{"clone3"}, Action: specs.ActErrno, ErrnoRet: &enosys},
			{Names: []string{"clone"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0x7e020000, Op: specs.OpMaskedEqual}}},
			{Names: []string{"personality"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0, Op: specs.OpEqualTo}, {Index: 0, Value: 8, Op: specs.OpEqualTo}}},
			{Names: []string{"socket"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 40, Op: specs.OpNotEqual}, {Index: 1, Value: 2, Op: specs.OpLessThan}}},
			{Names: []string{"mkdir"}, Action: specs.ActErrno},
		}}, "2\nallowlist errno 1\nread allow\nwrite allow\nclone3 errno 38\nclone allow [0,0,SCMP_CMP_MASKED_EQ,2114060288]\n" +
			"personality allow [0,0,SCMP_CMP_EQ,0]\npersonality allow [0,8,SCMP_CMP_EQ,0]\nsocket allow [0,40,SCMP_CMP_NE,0] [1,2,SCMP_CMP_LT,0]\n"},
		{"denylist", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"sethostname", "setdomainname"}, Action: specs.ActErrno},
			{Names: []string{"reboot"}, Action: specs.ActKillThread},
			{Names: []string{"ptrace"}, Action: specs.ActTrap},
		}}, "2\ndenylist allow\nsethostname errno 1\nsetdomainname errno 1\nreboot kill\nptrace trap\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := defaultSpec()
			s.Linux.Seccomp = &tc.sec
			c, err := translate(t, s, false)
			if err != nil {
				t.Fatal(err)
			}
			if c.Seccomp != tc.want {
				t.Errorf("policy\n%s\nwant\n%s", c.Seccomp, tc.want)
			}
			if got := c.Value("lxc.seccomp.profile"); got != "/run/c1/seccomp" {
				t.Errorf("lxc.seccomp.profile = %q", got)
			}
		})
	}
	s := defaultSpec()
	s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}
	if _, err := lcr.Translate(s, lcr.TranslateOpts{Stat: fakeStat}); !errors.Is(err, errdefs.ErrNotImplemented) {
		t.Errorf("seccomp without a policy path: %v, want not implemented", err)
	}
}

func TestTranslateErrors(t *testing.T) {
	notImpl, inval := errdefs.ErrNotImplemented, errdefs.ErrInvalidArgument
	for _, tc := range []struct {
		name  string
		edit  func(*specs.Spec)
		field string // the error names it
		class error
	}{
		{"seccomp kill process", func(s *specs.Spec) { s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActKillProcess} }, "linux.seccomp.defaultAction", notImpl},
		{"seccomp flags", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog}}
		}, "linux.seccomp.flags", notImpl},
		{"seccomp bad name", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir\nkill"}, Action: specs.ActErrno}}}
		}, "linux.seccomp.syscalls[0].names[0]", inval},
		{"seccomp bad op", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Op: "LIKE"}}}}}
		}, "linux.seccomp.syscalls[0].args[0].op", inval},
		{"seccomp errnoRet on allow", func(s *specs.Spec) {
			e := uint(1)
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, DefaultErrnoRet: &e}
		}, "linux.seccomp.defaultAction", inval},
		{"device not on the host", func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/nope", Type: "c", Major: 1, Minor: 3}}
		}, "linux.devices[0]", notImpl},
		{"device number differs from the host's", func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/null", Type: "c", Major: 1, Minor: 4}}
		}, "linux.devices[0]", notImpl},
		{"hooks", func(s *specs.Spec) { s.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true"}}} }, "hooks.poststop", notImpl},
		{"ambient caps", func(s *specs.Spec) { s.Process.Capabilities.Ambient = []string{"CAP_KILL"} }, "process.capabilities.ambient", notImpl},
		{"unknown cap", func(s *specs.Spec) { s.Process.Capabilities.Bounding = []string{"CAP_FLY"} }, "process.capabilities.bounding[0]", inval},
		{"effective outside bounding", func(s *specs.Spec) { s.Process.Capabilities.Effective = []string{"CAP_SYS_ADMIN"} }, "process.capabilities.effective[0]", inval},
		{"umask", func(s *specs.Spec) { u := uint32(0o22); s.Process.User.Umask = &u }, "process.user.umask", notImpl},
		{"scheduler", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{} }, "process.scheduler", notImpl},
		{"env newline", func(s *specs.Spec) { s.Process.Env = append(s.Process.Env, "X=a\nlxc.hook.start = /x") }, "process.env[2]", inval},
		{"env without =", func(s *specs.Spec) { s.Process.Env = []string{"HOME"} }, "process.env[0]", inval},
		{"relative cwd", func(s *specs.Spec) { s.Process.Cwd = "tmp" }, "process.cwd", inval},
		{"no args", func(s *specs.Spec) { s.Process.Args = nil }, "process.args", inval},
		{"bad rlimit", func(s *specs.Spec) { s.Process.Rlimits[0].Type = "RLIMIT_FOO" }, "process.rlimits[0].type", inval},
		{"soft above hard", func(s *specs.Spec) { s.Process.Rlimits[0].Soft = 2048 }, "process.rlimits[0]", inval},
		{"no root", func(s *specs.Spec) { s.Root = nil }, "root.path", inval},
		{"hostname with tab", func(s *specs.Spec) { s.Hostname = "a\tb" }, "hostname", inval},
		{"hostname without uts", func(s *specs.Spec) { s.Linux.Namespaces = s.Linux.Namespaces[3:4] }, "hostname", inval},
		{"no mount namespace", func(s *specs.Spec) { s.Linux.Namespaces = s.Linux.Namespaces[:3] }, "linux.namespaces", notImpl},
		{"bad namespace", func(s *specs.Spec) { s.Linux.Namespaces[0].Type = "nope" }, "linux.namespaces[0].type", inval},
		{"userns without maps", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		}, "linux.uidMappings", inval},
		{"systemd cgroup", func(s *specs.Spec) { s.Linux.CgroupsPath = "system.slice:corral:c1" }, "linux.cgroupsPath", notImpl},
		{"cgroup escape", func(s *specs.Spec) { s.Linux.CgroupsPath = "/../x" }, "linux.cgroupsPath", inval},
		{"runc mount option", func(s *specs.Spec) { s.Mounts[0].Options = append(s.Mounts[0].Options, "rro") }, "mounts[0].options[3]", notImpl},
		{"lxc mount option", func(s *specs.Spec) { s.Mounts[0].Options = append(s.Mounts[0].Options, "optional") }, "mounts[0].options[3]", inval},
		{"comma in option", func(s *specs.Spec) { s.Mounts[0].Options = []string{"ro,lxc"} }, "mounts[0].options[0]", inval},
		{"devpts option", func(s *specs.Spec) { s.Mounts[2].Options = append(s.Mounts[2].Options, "max=10") }, "mounts[2].options[6]", notImpl},
		{"relative bind", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/x", Source: "srv", Options: []string{"bind"}})
		}, "mounts[5].source", inval},
		{"missing bind source", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/x", Source: "/nope", Options: []string{"bind"}})
		}, "mounts[5].source", inval},
		{"comment source", func(s *specs.Spec) { s.Mounts[0].Source = "#proc" }, "mounts[0].source", inval},
		{"mount over root", func(s *specs.Spec) { s.Mounts[0].Destination = "/" }, "mounts[0].destination", inval},
		{"idmapped mount", func(s *specs.Spec) { s.Mounts[0].UIDMappings = []specs.LinuxIDMapping{{Size: 1}} }, "mounts[0].uidMappings", notImpl},
		{"cgroup mount elsewhere", func(s *specs.Spec) { s.Mounts[0].Type = "cgroup" }, "mounts[0].destination", notImpl},
		{"host sysctl", func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"vm.swappiness": "1"} }, "linux.sysctl[vm.swappiness]", inval},
		{"device rule type", func(s *specs.Spec) { s.Linux.Resources.Devices[0].Type = "x" }, "linux.resources.devices[0].type", inval},
		{"kernel memory", func(s *specs.Spec) { k := int64(1); s.Linux.Resources.Memory = &specs.LinuxMemory{Kernel: &k} }, "linux.resources.memory.kernel", notImpl},
		{"rdma", func(s *specs.Spec) { s.Linux.Resources.Rdma = map[string]specs.LinuxRdma{"mlx": {}} }, "linux.resources.rdma", notImpl},
		{"unified on v1", func(s *specs.Spec) { s.Linux.Resources.Unified = map[string]string{"memory.high": "1"} }, "linux.resources.unified", notImpl},
		{"rootfs propagation", func(s *specs.Spec) { s.Linux.RootfsPropagation = "shared" }, "linux.rootfsPropagation", notImpl},
		{"domainname", func(s *specs.Spec) { s.Domainname = "example.org" }, "domainname", notImpl},
		{"windows", func(s *specs.Spec) { s.Windows = &specs.Windows{} }, "windows", notImpl},
		{"intel rdt", func(s *specs.Spec) { s.Linux.IntelRdt = &specs.LinuxIntelRdt{} }, "linux.intelRdt", notImpl},
		{"time offsets without namespace", func(s *specs.Spec) {
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Secs: 1}}
		}, "linux.timeOffsets", inval},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := defaultSpec()
			tc.edit(s)
			c, err := translate(t, s, false)
			if err == nil {
				t.Fatalf("no error; config:\n%s", c.Marshal())
			}
			if !errors.Is(err, tc.class) || !strings.HasPrefix(err.Error(), tc.field+" ") {
				t.Errorf("error %q (is %v), want one starting with %q that is %v", err, errors.Is(err, tc.class), tc.field, tc.class)
			}
		})
	}
}

func TestTranslateStatsHost(t *testing.T) {
	// Without Stat, the host's own files are looked up: /proc/self is a directory everywhere.
	s := defaultSpec()
	s.Linux.MaskedPaths = []string{"/proc/self"}
	s.Linux.ReadonlyPaths = nil
	c, err := lcr.Translate(s, lcr.TranslateOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(c.Marshal()), `lxc.mount.entry = "tmpfs proc/self tmpfs ro,optional 0 0"`) {
		t.Errorf("/proc/self not masked as a directory:\n%s", c.Marshal())
	}
}

func TestCheckExec(t *testing.T) {
	init := defaultSpec().Process
	for _, tc := range []struct {
		name  string
		edit  func(*specs.Process)
		field string // "" for no error
	}{
		{"the container's process", func(p *specs.Process) {}, ""},
		{"other args, env, cwd and user", func(p *specs.Process) {
			p.Args, p.Env, p.Cwd, p.User = []string{"ls"}, []string{"A=1"}, "/tmp", specs.User{UID: 5, GID: 6}
		}, ""},
		{"reordered capabilities", func(p *specs.Process) {
			c := *p.Capabilities
			c.Bounding = append([]string{defaultCaps[3]}, defaultCaps...)
			p.Capabilities = &c
		}, ""},
		{"fewer capabilities", func(p *specs.Process) {
			c := *p.Capabilities
			c.Bounding = defaultCaps[1:]
			p.Capabilities = &c
		}, "process.capabilities"},
		{"terminal", func(p *specs.Process) { p.Terminal = true }, ""},
		{"groups", func(p *specs.Process) { p.User.AdditionalGids = []uint32{10} }, "process.user.additionalGids"},
		{"its own gid as a group", func(p *specs.Process) { p.User.GID, p.User.AdditionalGids = 10, []uint32{10} }, ""},
		{"its own gid and another group", func(p *specs.Process) { p.User.GID, p.User.AdditionalGids = 10, []uint32{10, 11} }, "process.user.additionalGids"},
		{"no_new_privs", func(p *specs.Process) { p.NoNewPrivileges = false }, "process.noNewPrivileges"},
		{"apparmor", func(p *specs.Process) { p.ApparmorProfile = "x" }, "process.apparmorProfile"},
		{"relative cwd", func(p *specs.Process) { p.Cwd = "tmp" }, "process.cwd"},
		{"env", func(p *specs.Process) { p.Env = []string{"=x"} }, "process.env[0]"},
		{"no args", func(p *specs.Process) { p.Args = nil }, "process.args"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := *init
			tc.edit(&p)
			err := lcr.CheckExec(&p, init)
			if tc.field == "" && err != nil || tc.field != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.field+" ")) {
				t.Errorf("CheckExec: %v, want an error naming %q", err, tc.field)
			}
		})
	}
}
