package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	imgspecs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestPullBusybox pulls an image built here from a local registry with corral, then runs it with
// ctr.
func TestPullBusybox(t *testing.T) {
	d := startDaemon(t, "")
	reg := startRegistry(t)
	ref := reg + "/img/busybox:1"
	pushImage(t, d, ref, imageTar(t, t.TempDir(), ref), "--plain-http")
	out := d.corral("images", "pull", "--plain-http", ref).must(t)
	if !strings.HasPrefix(out, ref+": sha256:") || strings.Count(out, "\n") != 1 {
		t.Fatalf("want one line %s: DIGEST when stdout is no terminal, got %q", ref, out)
	}
	if out := d.ctr("images", "ls", "-q").must(t); !strings.Contains(out, ref) {
		t.Fatalf("pulled image not listed: %s", out)
	}
	if out := d.ctr("run", "--rm", "--runtime", "runc", ref, "pull-busybox", "sh", "-c", "echo hi $IMG").must(t); out != "hi busybox\n" {
		t.Fatalf("got %q", out)
	}

	// On a terminal (script gives it one), a progress display, then the same line; with -q only it.
	script := requireTool(t, "script")
	pull := fmt.Sprintf("%s --address %s images pull --plain-http", filepath.Join(bins, "corral"), d.Address())
	d.ctr("images", "rm", "--sync", ref).must(t)
	out = strings.ReplaceAll(runCmd(t, script, "-qec", pull+" "+ref, "/dev/null").must(t), "\r\n", "\n")
	for _, want := range []string{"\r\x1b[J", "manifest sha256:", "config sha256:", "layer sha256:", "done", "elapsed: ", "\n" + ref + ": sha256:"} {
		if !strings.Contains(out, want) {
			t.Fatalf("want %q in the progress on a terminal, got %q", want, out)
		}
	}
	if last := out[strings.LastIndex(out, "\x1b[J"):]; strings.Contains(last, "waiting") || strings.Contains(last, "exists") {
		t.Fatalf("want each blob done in a fresh pull's last frame, got %q", last)
	}
	out = strings.ReplaceAll(runCmd(t, script, "-qec", pull+" -q "+ref, "/dev/null").must(t), "\r\n", "\n")
	if !strings.HasPrefix(out, ref+": sha256:") || strings.Count(out, "\n") != 1 {
		t.Fatalf("want only %s: DIGEST with -q on a terminal, got %q", ref, out)
	}
	d.corral("images", "pull", "--plain-http", "--snapshotter", "native", ref).must(t)
	if out := d.ctr("snapshots", "--snapshotter", "native", "ls").must(t); !strings.Contains(out, "Committed") {
		t.Fatalf("no layer unpacked into the native snapshotter: %q", out)
	}
}

// TestPullHosts pulls through hosts.toml configurations: a name mapped to a loopback server and to
// a mirror, a TLS registry with and without its CA, and a registry that wants credentials.
func TestPullHosts(t *testing.T) {
	d := startDaemon(t, "")
	const name = "registry.corral.test/img/busybox:1" // hosts.toml maps it to loopback: never looked up
	pull := func(t *testing.T, args ...string) result {
		t.Helper()
		r := d.corral(append(append([]string{"images", "pull"}, args...), name)...)
		if r.code == 0 {
			if out := d.ctr("run", "--rm", "--runtime", "runc", name, "pull-hosts", "sh", "-c", "echo $IMG").must(t); out != "busybox\n" {
				t.Fatalf("got %q", out)
			}
		}
		d.ctr("images", "rm", "--sync", name)
		return r
	}

	t.Run("server and mirror", func(t *testing.T) {
		port := startRegistryWith(t, registryOpts{})
		ref := fmt.Sprintf("127.0.0.1:%d/img/busybox:1", port)
		pushImage(t, d, ref, imageTar(t, t.TempDir(), ref), "--plain-http")
		closed := freePort(t)
		for _, hostsToml := range []string{
			fmt.Sprintf("server = \"http://127.0.0.1:%d\"\n", port),
			fmt.Sprintf("server = \"http://127.0.0.1:%d\"\n[host.\"http://127.0.0.1:%d\"]\n  capabilities = [\"pull\", \"resolve\"]\n", port, port),
			// The mirror first; the server is never asked.
			fmt.Sprintf("server = \"http://127.0.0.1:%d\"\n[host.\"http://127.0.0.1:%d\"]\n  capabilities = [\"pull\", \"resolve\"]\n", closed, port),
		} {
			dir := writeHostsToml(t, t.TempDir(), "registry.corral.test", hostsToml)
			pull(t, "--hosts-dir", dir).must(t)
		}
	})

	t.Run("tls", func(t *testing.T) {
		ca, cert, key := tlsFiles(t, t.TempDir())
		// ctr 1.6 pushes to a loopback registry over HTTP whatever it is told: it pushes to a
		// plain-HTTP registry on the same storage.
		storage := t.TempDir()
		ref := fmt.Sprintf("127.0.0.1:%d/img/busybox:1", startRegistryWith(t, registryOpts{storage: storage}))
		pushImage(t, d, ref, imageTar(t, t.TempDir(), ref), "--plain-http")
		port := startRegistryWith(t, registryOpts{storage: storage, cert: cert, key: key})
		server := fmt.Sprintf("server = \"https://127.0.0.1:%d\"\n", port)
		pull(t, "--hosts-dir", writeHostsToml(t, t.TempDir(), "registry.corral.test", server+fmt.Sprintf("ca = %q\n", ca))).must(t)
		pull(t, "--hosts-dir", writeHostsToml(t, t.TempDir(), "registry.corral.test", server+fmt.Sprintf("ca = %q\n", ca))).must(t)
		r := pull(t, "--hosts-dir", writeHostsToml(t, t.TempDir(), "registry.corral.test", server))
		if r.code == 0 || !strings.Contains(r.stderr, fmt.Sprintf("127.0.0.1:%d", port)) || !strings.Contains(r.stderr, "certificate signed by unknown authority") {
			t.Fatalf("without the CA: want an error naming the host and the unknown authority, got exit %d: %s", r.code, r.stderr)
		}
		t.Logf("without the CA: %s", r.stderr)
	})

	t.Run("credentials", func(t *testing.T) {
		dir := t.TempDir()
		port := startRegistryWith(t, registryOpts{htpasswd: htpasswdFile(t, dir, "alice", "s3cret")})
		host := fmt.Sprintf("127.0.0.1:%d", port)
		ref := host + "/img/busybox:1"
		pushImage(t, d, ref, imageTar(t, t.TempDir(), ref), "--plain-http", "--user", "alice:s3cret")
		hosts := writeHostsToml(t, t.TempDir(), "registry.corral.test", fmt.Sprintf("server = \"http://%s\"\n", host))
		none, good, bad := filepath.Join(dir, "none.json"), filepath.Join(dir, "good.json"), filepath.Join(dir, "bad.json")
		for path, content := range map[string]string{
			none: `{}`,
			good: `{"auths":{"` + host + `":{"auth":"YWxpY2U6czNjcmV0"}}}`, // alice:s3cret
			bad:  `{"auths":{"` + host + `":{"username":"alice","password":"wrong"}}}`,
		} {
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		pull(t, "--hosts-dir", hosts, "--registry-config", good).must(t)
		pull(t, "--hosts-dir", hosts, "--registry-config", none, "--user", "alice:s3cret").must(t)
		for _, args := range [][]string{{"--registry-config", none}, {"--registry-config", bad}, {"--registry-config", good, "--user", "alice:wrong"}} {
			r := pull(t, append([]string{"--hosts-dir", hosts}, args...)...)
			if r.code == 0 || !strings.Contains(r.stderr, name) || !strings.Contains(strings.ToLower(r.stderr), "unauthorized") && !strings.Contains(r.stderr, "authorization") {
				t.Fatalf("%v: want an error naming %s and the authorization, got exit %d: %s", args, name, r.code, r.stderr)
			}
			t.Logf("%v: %s", args, r.stderr)
		}
	})
}

// pushImage imports the image tarball as ref into d, pushes it to ref's registry with ctr's push
// flags, and removes it from d again.
func pushImage(t *testing.T, d *daemon, ref, tarball string, flags ...string) {
	t.Helper()
	d.ctr("images", "import", tarball).must(t)
	d.ctr(append(append([]string{"images", "push"}, flags...), ref)...).must(t)
	d.ctr("images", "rm", "--sync", ref).must(t)
}

// TestPullBadInput gives corral images pull what it must refuse, and checks that each error is clear
// and that nothing is left: no ingest, no lease, no image, the same content and snapshots as before.
func TestPullBadInput(t *testing.T) {
	d := startDaemon(t, "")
	reg := startRegistry(t)
	other := "arm64" // an architecture that is not this one
	if goruntime.GOARCH == other {
		other = "amd64"
	}
	pushImage(t, d, reg+"/img/busybox:1", imageTar(t, t.TempDir(), reg+"/img/busybox:1"), "--plain-http")
	d.ctr("images", "import", "--all-platforms", ociTar(t, reg+"/img/other:1", other, busyboxLayer(t))).must(t)
	d.ctr("images", "push", "--plain-http", reg+"/img/other:1").must(t)
	d.ctr("images", "rm", "--sync", reg+"/img/other:1").must(t)

	// A registry that serves a layer whose bytes are not its digest's, and an index for another
	// platform only.
	blobs := ociBlobs{}
	layer := busyboxLayer(t)
	corrupt := blobs.manifest(goruntime.GOARCH, layer)
	bad := append([]byte(nil), layer...)
	bad[len(bad)/2] ^= 0xff
	blobs[digest.FromBytes(layer)] = bad
	m := blobs.manifest(other, []byte("not even a tar"))
	m.Platform = &ocispec.Platform{OS: "linux", Architecture: other}
	here := blobs.manifest(goruntime.GOARCH, randomLayer(t, "here", 1024))
	here.Platform = &ocispec.Platform{OS: "linux", Architecture: goruntime.GOARCH}
	index := func(manifests ...ocispec.Descriptor) digest.Digest {
		b, _ := json.Marshal(ocispec.Index{Versioned: imgspecs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: manifests})
		return blobs.add(ocispec.MediaTypeImageIndex, b).Digest
	}
	fake := fakeRegistry(t, blobs, map[string]digest.Digest{"corrupt": corrupt.Digest, "index": index(m), "both": index(m, here)})

	badHosts := writeHostsToml(t, t.TempDir(), "registry.corral.test", "server = \"http://127.0.0.1:1\n")
	closed := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	wantPlatform := "no manifest for platform linux/" + goruntime.GOARCH + ", only for linux/" + other
	before := storeNow(t, d)
	for _, tc := range []struct {
		name string
		args []string
		want []string // in the error, all of them
	}{
		{"invalid reference", []string{"Bad/Ref:1"}, []string{`invalid image reference "Bad/Ref:1"`, "want [REGISTRY/]NAME[:TAG|@DIGEST]"}},
		{"missing tag", []string{"--plain-http", reg + "/img/busybox:nope"}, []string{reg + "/img/busybox:nope", "not found"}},
		{"closed port", []string{"--plain-http", closed + "/img/busybox:1"}, []string{"failed to pull image " + closed + "/img/busybox:1", closed, "connection refused"}},
		{"other platform", []string{"--plain-http", reg + "/img/other:1"}, []string{wantPlatform}},
		{"other platform index", []string{"--plain-http", fake + "/img:index"}, []string{wantPlatform}},
		{"digest mismatch", []string{"--plain-http", fake + "/img:corrupt"}, []string{"failed to pull image " + fake + "/img:corrupt", digest.FromBytes(layer).String(), digest.FromBytes(bad).String()}},
		{"bad platform", []string{"--platform", "linux/" + goruntime.GOARCH + "/v1/x", reg + "/img/busybox:1"}, []string{"invalid --platform", "want OS[/ARCH[/VARIANT]]"}},
		{"missing hosts dir", []string{"--hosts-dir", "/nonexistent", reg + "/img/busybox:1"}, []string{"invalid --hosts-dir", "/nonexistent"}},
		{"missing registry config", []string{"--registry-config", "/nonexistent.json", reg + "/img/busybox:1"}, []string{"invalid --registry-config", "/nonexistent.json"}},
		{"malformed hosts.toml", []string{"--hosts-dir", badHosts, "registry.corral.test/img/busybox:1"}, []string{"failed to parse registry configuration " + badHosts + "/registry.corral.test/hosts.toml"}},
		{"unknown snapshotter", []string{"--plain-http", "--snapshotter", "nosuch", reg + "/img/busybox:1"}, []string{`invalid --snapshotter "nosuch": corrald has `, "native"}},
		{"user without password", []string{"--user", "alice", reg + "/img/busybox:1"}, []string{"--user alice has no password", "USER:PASSWORD"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := d.corral(append([]string{"images", "pull"}, tc.args...)...)
			if r.code != 1 {
				t.Fatalf("want exit 1, got %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("want %q in the error, got %s", w, r.stderr)
				}
			}
			t.Logf("%s", r.stderr)
			waitNothingLeft(t, d, before)
		})
	}
	// An index with this platform's manifest among others: that one is pulled.
	d.corral("images", "pull", "--plain-http", fake+"/img:both").must(t)
	if out := d.ctr("images", "ls", "-q").must(t); !strings.Contains(out, fake+"/img:both") {
		t.Fatalf("the index's image is not listed: %q", out)
	}
}

// storeState is what ctr lists of corrald's store.
type storeState struct{ images, content, snapshots, leases string }

func storeNow(t *testing.T, d *daemon) storeState {
	t.Helper()
	return storeState{
		images:    d.ctr("images", "ls", "-q").must(t),
		content:   d.ctr("content", "ls", "-q").must(t),
		snapshots: d.ctr("snapshots", "ls").must(t),
		leases:    d.ctr("leases", "ls", "-q").must(t),
	}
}

// waitNothingLeft waits up to 5 s, as collection is asynchronous, for corrald's store to be as it
// was before a failed pull, with no ingest.
func waitNothingLeft(t *testing.T, d *daemon, before storeState) {
	t.Helper()
	ingest := filepath.Join(d.Root(), "images", "content", "ingest")
	now, n := storeNow(t, d), countFiles(t, ingest)
	for deadline := time.Now().Add(5 * time.Second); (now != before || n != 0) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		now, n = storeNow(t, d), countFiles(t, ingest)
	}
	if now != before || n != 0 {
		t.Fatalf("%d files left in %s; the store was\n%+v\nand is\n%+v", n, ingest, before, now)
	}
}

// TestPullKill interrupts pulls of a 100 MB layer in their middle: corral with SIGINT, which releases
// its lease before it exits, then corrald with SIGKILL, started again at once: the pull releases its
// lease once corrald is back. Each time everything the pull stored is collected, and a last pull
// succeeds and leaves only the image's own layer chain.
func TestPullKill(t *testing.T) {
	d := startDaemon(t, "")
	ref := startRegistry(t) + "/img/big:1"
	const size = 100 << 20
	pushImage(t, d, ref, ociTar(t, ref, goruntime.GOARCH, busyboxLayer(t), randomLayer(t, "big", size)), "--plain-http")
	before := storeNow(t, d)

	ingest := filepath.Join(d.Root(), "images", "content", "ingest")

	// ^C in the middle: corral releases its lease before it exits.
	p := startPull(t, d, ref)
	waitIngest(t, ingest, 1<<20, p.exited)
	_ = p.cmd.Process.Signal(os.Interrupt)
	if err := p.wait(t); err == nil || !strings.Contains(p.stderr.String(), "context canceled") {
		t.Fatalf("want the interrupted pull to fail as cancelled, got %v: %s", err, p.stderr.String())
	}
	waitNothingLeft(t, d, before)

	p = startPull(t, d, ref)
	n := waitIngest(t, ingest, 1<<20, p.exited)
	d.kill()
	if n >= size {
		t.Fatalf("the layer was fetched whole (%d bytes) before corrald could be killed", n)
	}
	t.Logf("killed corrald with %d bytes of %d in an ingest", n, size)
	// What a kill while a layer is applied leaves: a snapshot mounted in a temporary directory.
	left := filepath.Join(d.Root(), "images", "tmpmounts", "containerd-mount-pull-kill")
	if err := os.MkdirAll(left, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", left, "tmpfs", 0, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(left, syscall.MNT_DETACH) })
	d.start()
	if n := countMounts(t, d.dir); n != 0 {
		t.Fatalf("%d mounts left under %s after corrald's restart", n, d.dir)
	}
	if err := p.wait(t); err == nil {
		t.Fatal("the pull succeeded though corrald was killed in its middle")
	}
	t.Logf("the interrupted pull: %s", p.stderr.String())
	if strings.Contains(p.stderr.String(), "failed to delete lease") {
		t.Fatalf("the interrupted pull kept its lease: %s", p.stderr.String())
	}
	waitNothingLeft(t, d, before)

	d.corral("images", "pull", "--plain-http", ref).must(t)
	if out := d.ctr("run", "--rm", "--runtime", "runc", ref, "pull-kill", "sh", "-c", "wc -c < /big").must(t); strings.TrimSpace(out) != fmt.Sprint(size) {
		t.Fatalf("want the %d bytes of /big, got %q", size, out)
	}
	snapshots := strings.Split(strings.TrimSpace(d.ctr("snapshots", "ls").must(t)), "\n")[1:]
	if len(snapshots) != 2 || !strings.Contains(snapshots[0], "Committed") || !strings.Contains(snapshots[1], "Committed") {
		t.Fatalf("want the image's two committed layers as the only snapshots, got %q", snapshots)
	}
	if n := countFiles(t, filepath.Join(d.Root(), "images", "content", "ingest")); n != 0 {
		t.Fatalf("%d files left in the ingest directory", n)
	}
	if out := d.ctr("leases", "ls", "-q").must(t); out != "" {
		t.Fatalf("leases left: %q", out)
	}
}

// pulling is a corral images pull running in the background.
type pulling struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	exited chan error
}

// startPull starts corral images pull --plain-http ref against d.
func startPull(t *testing.T, d *daemon, ref string) *pulling {
	t.Helper()
	p := &pulling{cmd: exec.Command(filepath.Join(bins, "corral"), "--address", d.Address(), "images", "pull", "--plain-http", ref), exited: make(chan error, 1)}
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	go func() { p.exited <- p.cmd.Wait() }()
	return p
}

// wait waits up to a minute for the pull to end and returns how it did.
func (p *pulling) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-p.exited:
		return err
	case <-time.After(time.Minute):
		t.Fatal("the pull did not end within a minute")
		return nil
	}
}

// waitIngest waits until an ingest under dir holds at least min bytes, and returns its size. It fails
// the test if exited says the pull ended first.
func waitIngest(t *testing.T, dir string, min int64, exited chan error) int64 {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		select {
		case err := <-exited:
			t.Fatalf("the pull ended (%v) before an ingest reached %d bytes", err, min)
		default:
		}
		refs, _ := os.ReadDir(dir)
		for _, r := range refs {
			if fi, err := os.Stat(filepath.Join(dir, r.Name(), "data")); err == nil && fi.Size() >= min {
				return fi.Size()
			}
		}
	}
	t.Fatalf("no ingest reached %d bytes within a minute", min)
	return 0
}
