package integration

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/corral-dev/corral/api"
)

var (
	binsFlag = flag.String("test.bins", "", "directory holding corrald, corral and corral-shim (default: ../bin)")
	bins     string
	rootfs   string
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			fmt.Fprintln(os.Stderr, "integration: CI must run these tests as root")
			return 1
		}
		fmt.Println("integration: skipping, needs root (containers need namespaces and cgroups)")
		return 0
	}
	bins = *binsFlag
	if bins == "" {
		bins, _ = filepath.Abs("../bin")
	}
	for _, b := range []string{"corrald", "corral", "corral-shim"} {
		if _, err := os.Stat(filepath.Join(bins, b)); err != nil {
			fmt.Fprintf(os.Stderr, "integration: %v (run `make build` first)\n", err)
			return 1
		}
	}
	dir, err := os.MkdirTemp("", "corral-rootfs-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	rootfs = filepath.Join(dir, "rootfs")
	if out, err := exec.Command("../contrib/mkrootfs.sh", rootfs).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "integration: failed to build rootfs: %v: %s\n", err, out)
		return 1
	}
	return m.Run()
}

// daemon is a corrald started for one test.
type daemon struct {
	t      *testing.T
	dir    string
	config string
	cmd    *exec.Cmd
	log    *logBuffer
	// env, if set, replaces corrald's environment.
	env []string
}

// logBuffer is corrald's output, kept across restarts: the output of a killed corrald may still be
// copied while the next one writes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Address is the daemon's socket.
func (d *daemon) Address() string { return filepath.Join(d.dir, "corrald.sock") }

// State is the daemon's state directory.
func (d *daemon) State() string { return filepath.Join(d.dir, "state") }

// Root is the daemon's root directory.
func (d *daemon) Root() string { return filepath.Join(d.dir, "root") }

// baseConfig configures runsc for this host and the my-runc name of the issue.
const baseConfig = `
[runtimes.runsc]
runtime_args = ["--platform=ptrace"]
[runtimes.my-runc]
path = "/usr/sbin/runc"
`

// startDaemon starts corrald with baseConfig plus extra TOML, and stops it at the end of the test.
func startDaemon(t *testing.T, extra string) *daemon {
	t.Helper()
	dir, err := os.MkdirTemp("", "corral-it-")
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{t: t, dir: dir, config: filepath.Join(dir, "config.toml")}
	cfg := fmt.Sprintf("root = %q\nstate = %q\n%s\n[grpc]\naddress = %q\n%s",
		d.Root(), d.State(), extra, d.Address(), baseConfig)
	if err := os.WriteFile(d.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	d.start()
	t.Cleanup(func() {
		d.kill()
		d.cleanupContainers()
		if t.Failed() {
			t.Logf("corrald log:\n%s", d.log)
		}
		os.RemoveAll(dir)
	})
	return d
}

func (d *daemon) start() {
	d.t.Helper()
	if d.log == nil { // a restart appends to the log of the corrald before
		d.log = &logBuffer{}
	}
	d.cmd = exec.Command(filepath.Join(bins, "corrald"), "--config", d.config, "--log-level", "debug")
	d.cmd.Env = d.env
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- d.cmd.Wait() }()
	// Restore settles each create a crash interrupted before corrald serves, each within two
	// shim_connect and a shim_cleanup (5 s each by default).
	deadline := time.After(30 * time.Second)
	for {
		if conn, err := dialUnix(d.Address()); err == nil {
			conn.Close()
			go func() { <-exited }()
			return
		}
		select {
		case err := <-exited:
			d.t.Fatalf("corrald exited: %v\n%s", err, d.log)
		case <-deadline:
			d.t.Fatalf("corrald did not listen within 30s\n%s", d.log)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// kill stops corrald with SIGKILL, as a crash would, and waits up to 5 s for it to be gone, so that
// its locks are free.
func (d *daemon) kill() {
	if d.cmd != nil && d.cmd.Process != nil {
		_ = d.cmd.Process.Kill()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", d.cmd.Process.Pid)); err != nil {
				break
			}
		}
	}
}

// restart kills corrald with SIGKILL and starts it again on the same directories.
func (d *daemon) restart() {
	d.kill()
	d.start()
}

// Bundle is the bundle of task ns/id: its keeper's work dir too.
func (d *daemon) Bundle(ns, id string) string { return filepath.Join(d.Root(), "bundles", ns, id) }

// cleanupContainers kills whatever keepers and shims a failed test left behind.
func (d *daemon) cleanupContainers() {
	// Keepers and shims name corrald's socket; runsc's sandbox and gofer name their --root in it.
	out, _ := exec.Command("pgrep", "-f", "--", d.dir+"/").Output()
	for _, f := range strings.Fields(string(out)) {
		var pid int
		fmt.Sscan(f, &pid)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	_ = exec.Command("sh", "-c", "for r in "+d.Root()+"/bundles/*/*/runc; do [ -d \"$r\" ] && for c in $(ls \"$r\"); do runc --root \"$r\" delete -f \"$c\"; done; done").Run()
	// containerd-shim-runc-v2 keeps runc's state in /run/containerd/runc/<ns>.
	_ = exec.Command("sh", "-c", "for b in "+d.Root()+"/bundles/*/*; do [ -f \"$b/shim-binary-path\" ] && runc --root /run/containerd/runc/$(basename $(dirname \"$b\")) delete -f $(basename \"$b\"); done").Run()
	d.cleanupLXC()
}

// result is what a corral invocation printed and how it exited.
type result struct {
	stdout, stderr string
	code           int
}

// corral runs the corral CLI against d.
func (d *daemon) corral(args ...string) result {
	d.t.Helper()
	return runCmd(d.t, filepath.Join(bins, "corral"), append([]string{"--address", d.Address()}, args...)...)
}

// ctr runs the real ctr from Debian's containerd package against d.
func (d *daemon) ctr(args ...string) result {
	d.t.Helper()
	return runCmd(d.t, "ctr", append([]string{"--address", d.Address()}, args...)...)
}

func runCmd(t *testing.T, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return r
}

// must fails the test unless r exited 0, and returns its stdout.
func (r result) must(t *testing.T) string {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

func dialUnix(path string) (*grpc.ClientConn, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	conn, err := grpc.NewClient("unix:"+path, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn.Connect()
	for s := conn.GetState(); s.String() != "READY"; s = conn.GetState() {
		if !conn.WaitForStateChange(ctx, s) {
			conn.Close()
			return nil, ctx.Err()
		}
	}
	return conn, nil
}

// grpcConn returns a gRPC connection to d, closed at the end of the test.
func (d *daemon) grpcConn() *grpc.ClientConn {
	d.t.Helper()
	conn, err := dialUnix(d.Address())
	if err != nil {
		d.t.Fatal(err)
	}
	d.t.Cleanup(func() { conn.Close() })
	return conn
}

// nsCtx is a context carrying namespace ns, as containerd clients send it.
func nsCtx(ns string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), api.NamespaceKey, ns)
}

// background is a corral invocation running while the test goes on.
type background struct {
	cmd   *exec.Cmd
	lines chan string
	done  chan error
}

// startCorral starts corral against d without waiting for it.
func (d *daemon) startCorral(args ...string) *background {
	d.t.Helper()
	cmd := exec.Command(filepath.Join(bins, "corral"), append([]string{"--address", d.Address()}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		d.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	b := &background{cmd: cmd, lines: make(chan string, 100), done: make(chan error, 1)}
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			b.lines <- s.Text()
		}
		close(b.lines)
		b.done <- cmd.Wait()
	}()
	d.t.Cleanup(func() { _ = cmd.Process.Kill() })
	return b
}

// waitLine waits for the invocation to print want on a line of its own.
func (b *background) waitLine(t *testing.T, want string) {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case l, ok := <-b.lines:
			if !ok {
				t.Fatalf("output ended before %q", want)
			}
			if l == want {
				return
			}
		case <-timeout:
			t.Fatalf("no %q within a minute", want)
		}
	}
}

// exitCode waits for the invocation to end and returns its exit code.
func (b *background) exitCode(t *testing.T) int {
	t.Helper()
	for range b.lines {
	}
	select {
	case err := <-b.done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(time.Minute):
		t.Fatal("corral did not exit within a minute")
		return -1
	}
}

// corralIn is corral with stdin as its standard input.
func (d *daemon) corralIn(stdin string, args ...string) result {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(bins, "corral"), append([]string{"--address", d.Address()}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		d.t.Fatalf("corral %v: %v", args, err)
	}
	return r
}

// requireTool returns the path of a tool from contrib/debian-packages. Without it the test is
// skipped, naming the tool, except in CI, which must run every real-runtime test.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed, and CI must run this test (contrib/debian-packages has it): %v", name, err)
	}
	t.Skipf("%s is not installed (make setup installs contrib/debian-packages): %v", name, err)
	return ""
}
