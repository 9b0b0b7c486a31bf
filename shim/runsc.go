package shim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

	runc "github.com/containerd/go-runc"
	"github.com/containerd/log"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The CRI annotations by which runsc runs a pod's containers in its pause container's sandbox.
const (
	annContainerType = "io.kubernetes.cri.container-type" // "sandbox" (the pause) or "container"
	annSandboxID     = "io.kubernetes.cri.sandbox-id"
)

// podSandbox returns the id of the CRI pod sandbox whose gVisor sandbox the container of spec joins,
// or "" when it runs in a sandbox of its own.
func podSandbox(id string, spec *specs.Spec) string {
	sb := spec.Annotations[annSandboxID]
	if spec.Annotations[annContainerType] != "container" || sb == "" || sb == id || filepath.Base(sb) != sb || sb == ".." {
		return ""
	}
	return sb
}

// sandboxRoot is the runtime root of the pod sandbox sb's keeper, a sibling of the work dir dir: runsc
// finds a pod's sandbox, and its containers, by their state there.
func sandboxRoot(dir, sb string) string {
	return filepath.Join(filepath.Dir(dir), sb, RuntimeRoot)
}

// gvisorArgs returns runsc's global args for the container of spec: the configured args, after the
// flags that make gVisor give the container what its spec asks for, unless args set them.
//   - --network: "host" (the host's stack) in a network namespace the spec names by path (a CRI
//     pod's, set up by CNI) or in the host's one (no network namespace), and "none" (gVisor's own
//     loopback) in a new one. gVisor's own stack ("sandbox") is no choice: Debian's runsc refuses it
//     on kernels whose every network namespace has net.core sysctls, taking each for the root one.
//   - --oci-seccomp, without which runsc ignores the seccomp profiles of specs. It is a flag of the
//     sandbox, so a pod's pause, which has none, needs it for its containers' profiles.
func gvisorArgs(spec *specs.Spec, args []string) []string {
	var add []string
	if !setsFlag(args, "network") {
		add = append(add, "--network="+gvisorNetwork(spec))
	}
	if !setsFlag(args, "oci-seccomp") {
		add = append(add, "--oci-seccomp")
	}
	return append(add, args...)
}

// gvisorNetwork is the runsc network mode for the network namespace of spec (see gvisorArgs).
func gvisorNetwork(spec *specs.Spec) string {
	if spec.Linux == nil {
		return "host"
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace && ns.Path == "" {
			return "none"
		}
	}
	return "host"
}

// setsFlag reports whether runtime args set the runsc flag name, as -name, --name or --name=value.
func setsFlag(args []string, name string) bool {
	for _, a := range args {
		if f := strings.TrimLeft(a, "-"); f != a && (f == name || strings.HasPrefix(f, name+"=")) {
			return true
		}
	}
	return false
}

// runsc runs `runsc <args>` for the container, as go-runc would with d.rt, through the keeper's
// reaper, with cmd's stdio: it returns an error unless runsc exits with 0.
func (d *runcDriver) runsc(ctx context.Context, c *exec.Cmd, args ...string) error {
	path, err := exec.LookPath(d.rt.Command)
	if err != nil {
		return err
	}
	global := []string{"--root", d.rt.Root, "--log", d.rt.Log, "--log-format", string(runc.JSON)}
	c.Path, c.Args = path, append(append(append([]string{d.rt.Command}, global...), d.rt.ExtraArgs...), args...)
	ec, err := d.k.r.Start(c)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { _ = c.Process.Kill() })
	defer stop()
	status, err := d.k.r.Wait(c, ec)
	if err == nil && status != 0 {
		err = fmt.Errorf("runsc %s exited with %d", args[0], status)
	}
	return err
}

// startInSandbox runs `runsc start` with the init's stdio: runsc hands the stdio of its start, not of
// its create, to a container that joins a sandbox. It then reports the container's exit on initC.
func (d *runcDriver) startInSandbox(ctx context.Context) error {
	err := d.call(ctx, d.k.c.CallTimeout, "start", func(ctx context.Context) error {
		c := &exec.Cmd{}
		if d.k.init.io.rio != nil {
			d.k.init.io.rio.Set(c)
		}
		return d.runsc(ctx, c, "start", d.k.c.ID)
	})
	if err != nil {
		return err
	}
	d.k.init.io.releaseContainerEnds()
	go d.waitInSandbox(d.k.init.pid)
	return nil
}

// waitResult is what `runsc wait` prints.
type waitResult struct {
	ExitStatus int `json:"exitStatus"`
}

// waitInSandbox reports the exit of a started container that runs in its pod's sandbox on initC.
// Its init is a process of the sandbox, which is no descendant of this keeper: only `runsc wait`
// learns its status.
func (d *runcDriver) waitInSandbox(pid int) {
	var out bytes.Buffer
	status := 255
	err := d.runsc(context.Background(), &exec.Cmd{Stdout: &out}, "wait", d.k.c.ID)
	if err == nil {
		var r waitResult
		if err = json.Unmarshal(out.Bytes(), &r); err == nil {
			status = r.ExitStatus
		}
	}
	if err != nil {
		log.L.WithError(err).WithField("id", d.k.c.ID).Warn("failed to learn the exit status of the container in its pod's sandbox")
	}
	d.endInSandbox(runc.Exit{Pid: pid, Status: status})
}

// endInSandbox reports the init's exit, once.
func (d *runcDriver) endInSandbox(e runc.Exit) {
	d.ended.Do(func() { d.k.initC <- e })
}
