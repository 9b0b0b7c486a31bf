package integration

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// crisPod is a pod config named cris-<name>, logging to a fresh directory.
func crisPod(t *testing.T, name string) *runtimeapi.PodSandboxConfig {
	cfg := cricPod(t, name)
	cfg.Metadata.Name, cfg.Hostname = "cris-"+name, "cris-"+name
	cfg.Metadata.Uid = "cris-uid-" + name
	return cfg
}

// crisRun runs a pod cris-<name> on the runc handler with one started container cfg, and returns
// the pod's and the container's ids.
func (d *criDaemon) crisRun(t *testing.T, name string, cfg *runtimeapi.ContainerConfig, podCfg *runtimeapi.PodSandboxConfig) (string, string) {
	t.Helper()
	return d.crisRunOn(t, "runc", name, cfg, podCfg)
}

// crisRunOn is crisRun on handler.
func (d *criDaemon) crisRunOn(t *testing.T, handler, name string, cfg *runtimeapi.ContainerConfig, podCfg *runtimeapi.PodSandboxConfig) (string, string) {
	t.Helper()
	pod := d.runp(t, handler, podCfg)
	cfg.Metadata.Name = "cris-" + name
	id := d.create(t, pod, cfg, podCfg)
	d.crictl("start", id).must(t)
	d.waitState(t, id, "CONTAINER_RUNNING")
	return pod, id
}

// crictlIn runs crictl with stdin; with pty, under script(1), which gives it a terminal.
func (d *criDaemon) crictlIn(t *testing.T, stdin string, pty bool, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	argv := append([]string{d.crictlBin}, d.crictlArgs(args)...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	if pty {
		cmd = exec.CommandContext(ctx, "script", "-q", "-e", "-c", "stty rows 40 cols 100; "+strings.Join(argv, " "), "/dev/null")
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("crictl %v: %v", args, err)
	}
	return r
}

// TestCRIStreamExec checks streaming exec with crictl over both transports: output, exit code,
// stdin to its end, a terminal with its size; and that Exec refuses what it must.
func TestCRIStreamExec(t *testing.T) {
	requireTool(t, "script")
	d := startCRIContainers(t, "[cri.runtimes.runsc]\nruntime = \"runsc\"\n")
	for _, handler := range []string{"lxc", "runsc"} {
		t.Run(handler, func(t *testing.T) {
			podCfg := crisPod(t, "exec-"+handler)
			pod, id := d.crisRunOn(t, handler, "exec-"+handler, cricContainer("exec-"+handler, "sleep", "1000"), podCfg)
			if out := d.crictl("exec", id, "sh", "-c", "echo out-$(hostname)").must(t); strings.TrimSpace(out) != "out-cris-exec-"+handler {
				t.Errorf("exec: %q", out)
			}
			if r := d.crictlIn(t, "line one\n", false, "exec", "-i", id, "sh", "-c", "cat; echo cat-done"); r.code != 0 || r.stdout != "line one\ncat-done\n" {
				t.Errorf("exec -i cat: %+v", r)
			}
			if r := d.crictlIn(t, "", true, "exec", "-i", "-t", id, "sh", "-c", "'[ -t 0 ] && echo isatty'"); r.code != 0 || !strings.Contains(r.stdout, "isatty") {
				t.Errorf("exec -it: %+v", r)
			}
			d.crictl("stopp", pod).must(t)
			d.crictl("rmp", pod).must(t)
		})
	}
	podCfg := crisPod(t, "exec")
	pod, id := d.crisRun(t, "exec", cricContainer("exec", "sleep", "1000"), podCfg)

	// Only SPDY: crictl's websocket transport asks for v5.channel.k8s.io, which cri-streaming's
	// server (up to v4) does not offer, as kubelet's never did.
	for _, transport := range []string{"spdy"} {
		t.Run(transport, func(t *testing.T) {
			r := d.crictl("exec", "-r", transport, id, "sh", "-c", "echo out-$(hostname); echo err >&2; exit 7")
			if r.code == 0 || !strings.Contains(r.stdout, "out-cris-exec") || !strings.Contains(r.stderr, "err") || !strings.Contains(r.stderr, "exit code 7") {
				t.Errorf("exec with exit status 7: %+v", r)
			}
			if out := d.crictl("exec", "-r", transport, id, "id", "-u").must(t); strings.TrimSpace(out) != "0" {
				t.Errorf("exec id -u: %q", out)
			}
			// cat ends only once the client's stdin ended and the exec's stdin was closed.
			if r := d.crictlIn(t, "line one\nline two\n", false, "exec", "-i", "-r", transport, id, "sh", "-c", "cat; echo cat-done"); r.code != 0 || r.stdout != "line one\nline two\ncat-done\n" {
				t.Errorf("exec -i cat: %+v", r)
			}
			// The size arrives on the resize stream once the exec runs: wait for it.
			r = d.crictlIn(t, "", true, "exec", "-i", "-t", "-r", transport, id, "sh", "-c",
				`'for i in 1 2 3 4 5 6 7 8 9 10; do s=$(stty size 2>/dev/null); [ "$s" = "40 100" ] && break; sleep 0.2; done; echo $(tty) size=$s'`)
			if r.code != 0 || !regexp.MustCompile(`/dev/pts/\d+ size=40 100`).MatchString(r.stdout) {
				t.Errorf("exec -it tty: %+v", r)
			}
		})
	}

	rs := runtimeapi.NewRuntimeServiceClient(d.grpcConn())
	ctx := context.Background()
	created := d.create(t, pod, cricContainer("exec-created", "sleep", "1000"), podCfg)
	for _, tc := range []struct {
		name string
		req  *runtimeapi.ExecRequest
		want codes.Code
	}{
		{"unknown container", &runtimeapi.ExecRequest{ContainerId: "cris-none", Cmd: []string{"true"}, Stdout: true}, codes.NotFound},
		{"container not running", &runtimeapi.ExecRequest{ContainerId: created, Cmd: []string{"true"}, Stdout: true}, codes.FailedPrecondition},
		{"no stream", &runtimeapi.ExecRequest{ContainerId: id, Cmd: []string{"true"}}, codes.InvalidArgument},
		{"no command", &runtimeapi.ExecRequest{ContainerId: id, Stdout: true}, codes.InvalidArgument},
		{"stderr with a terminal", &runtimeapi.ExecRequest{ContainerId: id, Cmd: []string{"true"}, Tty: true, Stdout: true, Stderr: true}, codes.InvalidArgument},
	} {
		if _, err := rs.Exec(ctx, tc.req); status.Code(err) != tc.want {
			t.Errorf("Exec, %s: %v, want %s", tc.name, err, tc.want)
		}
	}
	resp, err := rs.Exec(ctx, &runtimeapi.ExecRequest{ContainerId: id[:12], Cmd: []string{"true"}, Stdout: true})
	if err != nil || !strings.HasPrefix(resp.GetUrl(), "http://127.0.0.1:") {
		t.Errorf("Exec by id prefix: %v, %v; want a URL on 127.0.0.1", resp, err)
	}
	if _, err := rs.Attach(ctx, &runtimeapi.AttachRequest{ContainerId: "cris-none", Stdout: true}); status.Code(err) != codes.NotFound {
		t.Errorf("Attach to an unknown container: %v", err)
	}
	if _, err := rs.PortForward(ctx, &runtimeapi.PortForwardRequest{PodSandboxId: "cris-none", Port: []int32{80}}); status.Code(err) != codes.NotFound {
		t.Errorf("PortForward of an unknown pod: %v", err)
	}
	d.crictl("stopp", pod).must(t)
	d.crictl("rmp", pod).must(t)
}

// TestCRIStreamAttach attaches to a container's own stdio: output from the attach on (not what was
// written before), detaching leaves it running, stdin_once closes its stdin when the client's ends,
// and a terminal; the log is written all along, and removal leaves no FIFO.
func TestCRIStreamAttach(t *testing.T) {
	requireTool(t, "script")
	d := startCRIContainers(t, "[cri.runtimes.runsc]\nruntime = \"runsc\"\n")

	// corral-shim keeps the FIFOs of a runc, lxc or runsc container, and relays to them as the
	// binary:// logger of a shim v2 container.
	for _, tc := range []struct{ handler, tool string }{{"runc", ""}, {"v2", "containerd-shim-runc-v2"}, {"lxc", "lxc-execute"}, {"runsc", "runsc"}} {
		t.Run("output-"+tc.handler, func(t *testing.T) {
			if tc.tool != "" {
				requireTool(t, tc.tool)
			}
			crisAttachOutput(t, d, tc.handler)
		})
	}

	// Two clients attached at once both get every line, not a share of them.
	t.Run("two clients", func(t *testing.T) {
		podCfg := crisPod(t, "attach-two")
		pod, id := d.crisRun(t, "attach-two", cricContainer("attach-two", "sh", "-c", "i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.1; done"), podCfg)
		a, b := d.startAttach(t, id), d.startAttach(t, id)
		defer a.stop()
		defer b.stop()
		ticks := func(c *attachment) []int {
			var n []int
			for len(n) < 8 {
				v, err := strconv.Atoi(strings.TrimPrefix(c.line(t), "tick-"))
				if err != nil {
					t.Fatal(err)
				}
				n = append(n, v)
			}
			return n
		}
		for name, got := range map[string][]int{"first": ticks(a), "second": ticks(b)} {
			for i := 1; i < len(got); i++ {
				if got[i] != got[i-1]+1 {
					t.Errorf("%s client got ticks %v, want consecutive ones", name, got)
					break
				}
			}
		}
		d.crictl("stopp", pod).must(t)
		d.crictl("rmp", pod).must(t)
	})

	t.Run("stdin once", func(t *testing.T) {
		podCfg := crisPod(t, "attach-in")
		cfg := cricContainer("attach-in", "sh", "-c", "while read l; do echo got-$l; done; echo stdin-closed")
		cfg.Stdin, cfg.StdinOnce = true, true
		pod, id := d.crisRun(t, "attach-in", cfg, podCfg)
		r := d.crictlIn(t, "a\nb\n", false, "attach", "-i", id)
		if r.code != 0 || r.stdout != "got-a\ngot-b\nstdin-closed\n" {
			t.Errorf("attach -i: %+v", r)
		}
		if st := d.waitState(t, id, "CONTAINER_EXITED"); st.Status.ExitCode != 0 {
			t.Errorf("container after its stdin closed: %+v", st.Status)
		}
		if log := readFile(t, d.inspect(t, id).Status.LogPath); !strings.Contains(log, " stdout F got-b") {
			t.Errorf("log:\n%s", log)
		}
		d.crictl("stopp", pod).must(t)
		d.crictl("rmp", pod).must(t)
	})

	t.Run("terminal", func(t *testing.T) {
		podCfg := crisPod(t, "attach-tty")
		cfg := cricContainer("attach-tty", "sh", "-c", "read l; echo got-$l on $(tty); stty size")
		cfg.Stdin, cfg.StdinOnce, cfg.Tty = true, true, true
		pod, id := d.crisRun(t, "attach-tty", cfg, podCfg)
		r := d.crictlIn(t, "x\n", true, "attach", "-i", "-t", id)
		if !strings.Contains(r.stdout, "got-x on /dev/pts/") {
			t.Errorf("attach -it: %+v", r)
		}
		d.waitState(t, id, "CONTAINER_EXITED")
		d.crictl("stopp", pod).must(t)
		d.crictl("rmp", pod).must(t)
	})
}

// crisAttachOutput attaches twice to a ticking container on handler: each attach sees the output
// from then on only; the container keeps running and its log has every tick.
func crisAttachOutput(t *testing.T, d *criDaemon, handler string) {
	t.Helper()
	podCfg := crisPod(t, "attach-"+handler)
	pod, id := d.crisRunOn(t, handler, "attach-"+handler, cricContainer("attach", "sh", "-c", "i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.2; done"), podCfg)
	time.Sleep(2 * time.Second) // ticks buffer in the FIFO meanwhile
	for attempt := 0; attempt < 2; attempt++ {
		first := attachFirstLine(t, d, id)
		if n, err := strconv.Atoi(strings.TrimPrefix(first, "tick-")); err != nil || n < 5 {
			t.Errorf("attach %d: first line %q, want a tick from after the attach", attempt, first)
		}
	}
	if st := d.inspect(t, id); st.Status.State != "CONTAINER_RUNNING" {
		t.Errorf("container after detaching: %s", st.Status.State)
	}
	if log := readFile(t, d.inspect(t, id).Status.LogPath); !strings.Contains(log, " stdout F tick-0") {
		t.Errorf("log without the first tick:\n%.300s", log)
	}
	d.crictl("rm", "-f", id).must(t)
	if fifos := countFiles(t, d.State()+"/cri/containers/"+id); fifos != 0 {
		t.Errorf("%d files left under cri/containers/ID after rm", fifos)
	}
	d.crictl("stopp", pod).must(t)
	d.crictl("rmp", pod).must(t)
}

// attachFirstLine attaches to container id and returns the first line it prints, then detaches.
func attachFirstLine(t *testing.T, d *criDaemon, id string) string {
	t.Helper()
	a := d.startAttach(t, id)
	defer a.stop()
	return a.line(t)
}

// attachment is a running crictl attach.
type attachment struct {
	cmd    *exec.Cmd
	out    *bufio.Reader
	cancel context.CancelFunc
}

// startAttach starts crictl attach to container id, for at most 30 s.
func (d *criDaemon) startAttach(t *testing.T, id string) *attachment {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	cmd := exec.CommandContext(ctx, d.crictlBin, d.crictlArgs([]string{"attach", id})...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	return &attachment{cmd: cmd, out: bufio.NewReader(out), cancel: cancel}
}

// line returns the next line the attachment printed.
func (a *attachment) line(t *testing.T) string {
	t.Helper()
	line, err := a.out.ReadString('\n')
	if err != nil {
		t.Fatalf("attach: %v", err)
	}
	return strings.TrimSpace(line)
}

// stop detaches.
func (a *attachment) stop() {
	_ = a.cmd.Process.Kill()
	_ = a.cmd.Wait()
	a.cancel()
}

// TestCRIStreamPortForward forwards a local port to busybox httpd in a pod's own network namespace
// and in a host-network pod.
func TestCRIStreamPortForward(t *testing.T) {
	d := startCRIContainers(t, "[cri.runtimes.runsc]\nruntime = \"runsc\"\n")
	for _, tc := range []struct {
		name, handler string
		host          bool
	}{{"pod-network", "runc", false}, {"host-network", "runc", true}, {"pod-network-lxc", "lxc", false}, {"pod-network-runsc", "runsc", false}} {
		t.Run(tc.name, func(t *testing.T) {
			podCfg := crisPod(t, "pf-"+map[bool]string{false: "pod", true: "host"}[tc.host]+"-"+tc.handler)
			port := 8080
			if tc.host {
				podCfg.Linux.SecurityContext = &runtimeapi.LinuxSandboxSecurityContext{NamespaceOptions: &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_NODE}}
				port = freePort(t)
			}
			// httpd listens on loopback only: port-forward must dial inside the pod.
			cfg := cricContainer(podCfg.Metadata.Name, "sh", "-c", fmt.Sprintf("mkdir /tmp/www; echo hello-%s > /tmp/www/index.html; exec httpd -f -p 127.0.0.1:%d -h /tmp/www", tc.name, port))
			pod, _ := d.crisRunOn(t, tc.handler, strings.TrimPrefix(podCfg.Metadata.Name, "cris-"), cfg, podCfg)
			d.portForwardGet(t, pod, port, "hello-"+tc.name+"\n")
			d.crictl("stopp", pod).must(t)
			d.crictl("rmp", pod).must(t)
		})
	}
}

// portForwardGet runs crictl port-forward from a free local port to port of pod, and GETs / and
// /index.html through it, on two connections: both must answer want.
func (d *criDaemon) portForwardGet(t *testing.T, pod string, port int, want string) {
	t.Helper()
	local := freePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, d.crictlBin, d.crictlArgs([]string{"port-forward", pod, fmt.Sprintf("%d:%d", local, port)})...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	body := ""
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if body = httpGet(fmt.Sprintf("http://127.0.0.1:%d/", local)); body != "" {
			break
		}
	}
	if body != want {
		t.Fatalf("GET through port-forward: %q, want %q; crictl: %s", body, want, stderr.String())
	}
	if body := httpGet(fmt.Sprintf("http://127.0.0.1:%d/index.html", local)); body != want {
		t.Errorf("second GET through port-forward: %q, want %q", body, want)
	}
}

// httpGet returns the body of url, or "" on any error.
func httpGet(url string) string {
	c := http.Client{Timeout: 5 * time.Second}
	r, err := c.Get(url)
	if err != nil {
		return ""
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	if r.StatusCode != http.StatusOK {
		return ""
	}
	return string(b)
}

// freePort returns a TCP port free on 127.0.0.1 now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
