package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// riConfig is the config of the image TestRunImage* run: an entrypoint that prints what the image
// config sets, a cmd, an environment without PATH, a working directory, a user by name and a stop
// signal.
var riConfig = ocispec.ImageConfig{
	Entrypoint: []string{"/bin/sh", "-c", `echo "$IMG $MODE|$(pwd)|$(id -u):$(id -g)|$(id -G)|$PATH|$*"`, "entry"},
	Cmd:        []string{"a", "b"},
	Env:        []string{"IMG=busybox", "MODE=image"},
	WorkingDir: "/work",
	User:       "app",
	StopSignal: "SIGUSR1",
}

// riRuntimes are the families an image runs on.
var riRuntimes = []string{"lcr", "runc", "runsc", "io.containerd.runc.v2"}

// defaultPath is the PATH corrald gives a process whose image sets none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// importImage imports an image named ref with config into d.
func (d *daemon) importImage(t *testing.T, ref string, config ocispec.ImageConfig) {
	t.Helper()
	d.ctr("images", "import", imageTarConfig(t, t.TempDir(), ref, config)).must(t)
}

// assertNoSnapshot fails unless no snapshot, mount under d or lease is left of containers named ri-.
func (d *daemon) assertNoSnapshot(t *testing.T) {
	t.Helper()
	if out := d.ctr("snapshots", "ls").must(t); strings.Contains(out, "ri-") {
		t.Errorf("a container's snapshot is left:\n%s", out)
	}
	if n := countMounts(t, d.dir); n != 0 {
		t.Errorf("%d mounts left under %s", n, d.dir)
	}
	if out := d.ctr("leases", "ls", "-q").must(t); out != "" {
		t.Errorf("leases left: %q", out)
	}
}

// TestRunImageConfig: on every family, corral run of an image runs its entrypoint with its cmd, or
// with the CMD given in its place, with the image's environment (and the default PATH, which it
// lacks), working directory and user (a name from its /etc/passwd, with its groups); --env,
// --env-file, --cwd and --user override them. Each run --rm leaves no snapshot, mount or lease.
func TestRunImageConfig(t *testing.T) {
	d := startDaemon(t, "")
	ref := "localhost/ri/config:1"
	d.importImage(t, ref, riConfig)
	envFile := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(envFile, []byte("# set by the file\nMODE=file\nIMG=file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, rt := range riRuntimes {
		t.Run(rt, func(t *testing.T) {
			d.t = t
			id := "ri-cfg-" + short(rt)
			for _, tc := range []struct {
				name  string
				flags []string
				cmd   []string
				want  string
			}{
				{"image config", nil, nil, "busybox image|/work|2000:2001|2001 3000|" + defaultPath + "|a b\n"},
				{"CMD replaces cmd", nil, []string{"x", "y z"}, "busybox image|/work|2000:2001|2001 3000|" + defaultPath + "|x y z\n"},
				{"flags override", []string{"--env-file", envFile, "--env", "IMG=flag", "--cwd", "/tmp", "--user", "1000:1000"}, nil,
					"flag file|/tmp|1000:1000|1000|" + defaultPath + "|a b\n"},
				{"user and group by name", []string{"--user", "app:staff"}, nil, "busybox image|/work|2000:3000|3000|" + defaultPath + "|a b\n"},
			} {
				args := append(append(append([]string{"run", "--rm", "--runtime", rt}, tc.flags...), ref, id), tc.cmd...)
				if got := d.corral(args...).must(t); got != tc.want {
					t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
				}
				d.assertNoSnapshot(t)
			}
			d.assertGone(t, id)
		})
	}
}

// TestRunImageFlags: bind mounts rw and ro, --read-only, --memory, --cpus, --pids-limit and
// --hostname, seen inside an image's container (runsc's limits on the host: gVisor shows no cgroups
// inside); --user and --label; a bind source that does not exist and a bad value are refused before
// anything is created, and a create that fails once the snapshot is made leaves none.
func TestRunImageFlags(t *testing.T) {
	d := startDaemon(t, "")
	ref := "localhost/ri/flags:1"
	d.ctr("images", "import", imageTar(t, t.TempDir(), ref)).must(t)
	for _, rt := range riRuntimes {
		t.Run(rt, func(t *testing.T) {
			d.t = t
			id := "ri-flags-" + short(rt)
			rw, ro := t.TempDir(), t.TempDir()
			flags := []string{"-v", rw + ":/rw", "--mount", "type=bind,src=" + ro + ",dst=/ro,ro", "--read-only",
				"--memory", "64m", "--cpus", "0.5", "--pids-limit", "200", "--hostname", "ri-host"}
			script := `echo rw > /rw/f && echo rw-ok
				echo x 2>/dev/null > /ro/f && echo ro-written || echo ro-refused
				echo x 2>/dev/null > /f && echo root-written || echo root-refused
				hostname`
			want := "rw-ok\nro-refused\nroot-refused\nri-host\n"
			if rt != "runsc" {
				// runc shows the container's cgroups at /sys/fs/cgroup/<controller>, LXC under their path there.
				script += "\nfor f in memory/memory.limit_in_bytes cpu/cpu.cfs_quota_us pids/pids.max; do cat $(find /sys/fs/cgroup/${f%/*} -name ${f#*/} | head -1); done"
				want += "67108864\n50000\n200\n"
			}
			out := d.corral(append(append([]string{"run", "--rm", "--runtime", rt}, flags...), ref, id, "sh", "-c", script)...).must(t)
			if out != want {
				t.Errorf("got %q, want %q", out, want)
			}
			if b, err := os.ReadFile(filepath.Join(rw, "f")); err != nil || string(b) != "rw\n" {
				t.Errorf("file written in the rw bind mount: %q, %v", b, err)
			}
			if _, err := os.Stat(filepath.Join(ro, "f")); !os.IsNotExist(err) {
				t.Errorf("file written in the ro bind mount: %v", err)
			}
			if rt == "runsc" {
				d.removeOnFailure(t, id)
				d.corral(append(append([]string{"run", "-d", "--runtime", rt}, flags...), ref, id, "sleep", "1000")...).must(t)
				for file, want := range map[string]string{"memory/default/" + id + "/memory.limit_in_bytes": "67108864",
					"cpu/default/" + id + "/cpu.cfs_quota_us": "50000", "pids/default/" + id + "/pids.max": "200"} {
					if b, err := os.ReadFile("/sys/fs/cgroup/" + file); err != nil || strings.TrimSpace(string(b)) != want {
						t.Errorf("host's /sys/fs/cgroup/%s: %q, %v; want %s", file, b, err, want)
					}
				}
				d.corral("rm", "-f", id).must(t)
			}
			// Without --read-only the snapshot is writable, and a tmpfs mount too.
			out = d.corral("run", "--rm", "--runtime", rt, "--mount", "type=tmpfs,dst=/scratch,tmpfs-size=1m", ref, id,
				"sh", "-c", "echo x > /f && echo x > /scratch/f && grep -c ' /scratch tmpfs ' /proc/mounts").must(t)
			if out != "1\n" {
				t.Errorf("writable rootfs and tmpfs: got %q", out)
			}
			for user, want := range map[string]string{"1000:1000": "1000 1000\n", "app": "2000 2001\n"} {
				if out := d.corral("run", "--rm", "--runtime", rt, "--user", user, ref, id, "sh", "-c", "echo $(id -u) $(id -g)").must(t); out != want {
					t.Errorf("--user %s: got %q, want %q", user, out, want)
				}
			}
			d.removeOnFailure(t, id)
			d.corral("run", "-d", "--runtime", rt, "--label", "ri.k=v", "--label", "ri.e=", ref, id, "sleep", "1000").must(t)
			var info struct {
				Labels                          map[string]string
				Image, Snapshotter, SnapshotKey string
			}
			if err := json.Unmarshal([]byte(d.ctr("containers", "info", id).must(t)), &info); err != nil {
				t.Fatal(err)
			}
			if info.Labels["ri.k"] != "v" || info.Labels["io.containerd.image.config.stop-signal"] != "SIGTERM" {
				t.Errorf("labels %v: want ri.k=v and the image's stop signal", info.Labels)
			}
			if info.Image != ref || info.Snapshotter != "overlayfs" || info.SnapshotKey != id {
				t.Errorf("container record: image %q snapshotter %q key %q, want %q overlayfs %q", info.Image, info.Snapshotter, info.SnapshotKey, ref, id)
			}
			d.corral("rm", "-f", id).must(t)
			d.assertGone(t, id)
			d.assertNoSnapshot(t)

			for _, tc := range []struct {
				flags []string
				want  string
			}{
				{[]string{"-v", rw + "/nope:/x"}, "invalid -v"},
				{[]string{"--mount", "type=bind,src=" + rw + "/nope,dst=/x"}, "cannot be bind-mounted"},
				{[]string{"--memory", "lots"}, `invalid --memory "lots": want a size such as 64m`},
				{[]string{"--pids-limit", "-5"}, "invalid --pids-limit -5"},
				{[]string{"--user", "nobody"}, `invalid --user "nobody"`}, // after the snapshot was made
				{[]string{"--runtime", "ri-none"}, "ri-none"},             // refused by corrald's create
			} {
				r := d.corral(append(append([]string{"run", "--rm", "--runtime", rt}, tc.flags...), ref, id, "true")...)
				if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
					t.Errorf("run %v: exit %d stderr %q, want an error with %q", tc.flags, r.code, r.stderr, tc.want)
				}
				d.assertGone(t, id)
				d.assertNoSnapshot(t)
			}
		})
	}
}

// TestRunImageSnapshotRemoved: an image's container's snapshot goes with the container whichever
// way it is removed: run --rm, corrald's auto-remove of run -d --rm, containers rm, rm -f; and a
// create refused after the snapshot was made (the id is taken) leaves none.
func TestRunImageSnapshotRemoved(t *testing.T) {
	d := startDaemon(t, "")
	ref := "localhost/ri/rm:1"
	d.ctr("images", "import", imageTar(t, t.TempDir(), ref)).must(t)
	rt := "runc"

	d.corral("run", "-d", "--rm", "--runtime", rt, ref, "ri-auto", "true").must(t)
	for deadline := time.Now().Add(30 * time.Second); strings.Contains(d.corral("containers", "ls").must(t), "ri-auto"); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("corrald did not remove ri-auto")
		}
	}
	d.assertNoSnapshot(t)

	d.corral("run", "-d", "--runtime", rt, ref, "ri-stopped", "true").must(t)
	d.corral("tasks", "wait", "ri-stopped").must(t)
	if out := d.ctr("snapshots", "ls").must(t); !strings.Contains(out, "ri-stopped") {
		t.Fatalf("the snapshot of a container that exists is gone:\n%s", out)
	}
	d.corral("containers", "rm", "ri-stopped").must(t)
	d.assertNoSnapshot(t)

	d.corral("run", "-d", "--runtime", rt, ref, "ri-running", "sleep", "1000").must(t)
	d.removeOnFailure(t, "ri-running")
	d.corral("rm", "-f", "ri-running").must(t)
	d.assertNoSnapshot(t)

	d.corral("run", "-d", "--runtime", rt, "--rootfs", rootfs, "ri-taken", "sleep", "1000").must(t)
	d.removeOnFailure(t, "ri-taken")
	if r := d.corral("run", "--runtime", rt, ref, "ri-taken", "true"); r.code == 0 || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("run on a taken id: exit %d stderr %q", r.code, r.stderr)
	}
	d.assertNoSnapshot(t)
	d.corral("rm", "-f", "ri-taken").must(t)

	// An image not unpacked in the snapshotter asked for is unpacked there first.
	if out := d.corral("run", "--rm", "--snapshotter", "native", "--runtime", rt, ref, "ri-native", "sh", "-c", "echo $IMG").must(t); out != "busybox\n" {
		t.Errorf("run on native: got %q", out)
	}
	if out := d.ctr("snapshots", "--snapshotter", "native", "ls").must(t); strings.Contains(out, "ri-") || !strings.Contains(out, "Committed") {
		t.Errorf("native snapshots after run --rm: want the image's layer and no container's:\n%s", out)
	}
	if r := d.corral("run", "--snapshotter", "ri-bogus", ref, "ri-bogus"); r.code == 0 || !strings.Contains(r.stderr, "ri-bogus") {
		t.Errorf("run on an unknown snapshotter: exit %d stderr %q", r.code, r.stderr)
	}
	d.assertGone(t, "ri-bogus")

	r := d.corral("run", "localhost/ri/none:1", "ri-none")
	if r.code == 0 || !containsAll(r.stderr, []string{"image localhost/ri/none:1 not found", "corral images pull", "corral images import"}) {
		t.Errorf("run of a missing image: exit %d stderr %q", r.code, r.stderr)
	}
	d.assertGone(t, "ri-none")
}

// TestRunImageStopSignal: tasks stop sends an image's container the image's stop signal first, on
// every family.
func TestRunImageStopSignal(t *testing.T) {
	d := startDaemon(t, "")
	ref := "localhost/ri/stop:1"
	config := ocispec.ImageConfig{
		Entrypoint: []string{"/bin/sh", "-c", "trap 'exit 10' USR1; trap 'exit 15' TERM; touch /tmp/ready; while true; do sleep 0.1; done"},
		Env:        []string{"PATH=/bin"},
		StopSignal: "SIGUSR1",
	}
	d.importImage(t, ref, config)
	for _, rt := range riRuntimes {
		t.Run(rt, func(t *testing.T) {
			d.t = t
			id := "ri-stop-" + short(rt)
			d.removeOnFailure(t, id)
			d.corral("run", "-d", "--runtime", rt, ref, id).must(t)
			d.poll(t, id, "/tmp/ready", func(string) bool { return true })
			d.corral("tasks", "stop", "--timeout", "30s", id).must(t)
			if out := d.corral("tasks", "wait", id).must(t); out != "10\n" {
				t.Errorf("exit status after stop: %q, want 10 (SIGUSR1 trapped)", out)
			}
			d.corral("rm", id).must(t)
			d.assertGone(t, id)
			d.assertNoSnapshot(t)
		})
	}
}
