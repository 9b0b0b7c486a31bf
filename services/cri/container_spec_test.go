package cri

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/cap"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/containerd/errdefs"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestProcessArgs(t *testing.T) {
	img := ocispec.ImageConfig{Entrypoint: []string{"/entry"}, Cmd: []string{"cmd"}}
	for _, tc := range []struct {
		name      string
		cmd, args []string
		img       ocispec.ImageConfig
		want      []string
	}{
		{"image only", nil, nil, img, []string{"/entry", "cmd"}},
		{"args replace the cmd", nil, []string{"a"}, img, []string{"/entry", "a"}},
		{"command replaces both", []string{"sh"}, nil, img, []string{"sh"}},
		{"command and args", []string{"sh"}, []string{"-c", "x"}, img, []string{"sh", "-c", "x"}},
		{"no entrypoint", nil, nil, ocispec.ImageConfig{Cmd: []string{"sh"}}, []string{"sh"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := processArgs(&runtimeapi.ContainerConfig{Command: tc.cmd, Args: tc.args}, tc.img)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCapNames(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want []string
		all  bool
		err  bool
	}{
		{[]string{"net_admin", "CAP_SYS_ADMIN"}, []string{"CAP_NET_ADMIN", "CAP_SYS_ADMIN"}, false, false},
		{[]string{"ALL", "chown"}, []string{"CAP_CHOWN"}, true, false},
		{[]string{"NOPE"}, nil, false, true},
	} {
		got, all, err := capNames(tc.in)
		if (err != nil) != tc.err || all != tc.all || !slices.Equal(got, tc.want) {
			t.Errorf("capNames(%q) = %q, %v, %v", tc.in, got, all, err)
		}
	}
}

func TestProfile(t *testing.T) {
	for _, tc := range []struct {
		p    *runtimeapi.SecurityProfile
		path string
		typ  runtimeapi.SecurityProfile_ProfileType
		ref  string
	}{
		{nil, "", runtimeapi.SecurityProfile_Unconfined, ""},
		{nil, "runtime/default", runtimeapi.SecurityProfile_RuntimeDefault, ""},
		{nil, "localhost/p.json", runtimeapi.SecurityProfile_Localhost, "p.json"},
		{&runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Localhost, LocalhostRef: "/x"}, "unconfined", runtimeapi.SecurityProfile_Localhost, "/x"},
	} {
		if typ, ref := profile(tc.p, tc.path); typ != tc.typ || ref != tc.ref {
			t.Errorf("profile(%v, %q) = %s %q", tc.p, tc.path, typ, ref)
		}
	}
}

func TestSeccompWithoutHost(t *testing.T) {
	def := &runtimeapi.LinuxContainerSecurityContext{Seccomp: &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault}}
	if opts, err := seccompOpt(def, false); err != nil || len(opts) != 0 {
		t.Errorf("runtime/default without seccomp: %d opts, %v", len(opts), err)
	}
	local := &runtimeapi.LinuxContainerSecurityContext{SeccompProfilePath: "localhost/p.json"}
	if _, err := seccompOpt(local, false); err == nil {
		t.Errorf("a localhost profile without seccomp is no error")
	}
	if _, err := apparmorOpt(&runtimeapi.LinuxContainerSecurityContext{ApparmorProfile: "localhost/p"}, false); err == nil {
		t.Errorf("a localhost AppArmor profile without AppArmor is no error")
	}
}

func TestSecurityOpts(t *testing.T) {
	current, err := cap.Current()
	if err != nil {
		t.Fatal(err)
	}
	uid := &runtimeapi.Int64Value{Value: 1000}
	for _, tc := range []struct {
		name  string
		sc    *runtimeapi.LinuxContainerSecurityContext
		err   string
		check func(*specs.Spec) bool
	}{
		{"add ALL is corrald's own", &runtimeapi.LinuxContainerSecurityContext{Capabilities: &runtimeapi.Capability{AddCapabilities: []string{"ALL"}}},
			"", func(s *specs.Spec) bool { return slices.Equal(s.Process.Capabilities.Bounding, current) }},
		{"privileged is corrald's own", &runtimeapi.LinuxContainerSecurityContext{Privileged: true},
			"", func(s *specs.Spec) bool { return slices.Equal(s.Process.Capabilities.Effective, current) }},
		{"no_new_privs false", &runtimeapi.LinuxContainerSecurityContext{RunAsUser: uid},
			"", func(s *specs.Spec) bool { return !s.Process.NoNewPrivileges }},
		{"no_new_privs true", &runtimeapi.LinuxContainerSecurityContext{RunAsUser: uid, NoNewPrivs: true},
			"", func(s *specs.Spec) bool { return s.Process.NoNewPrivileges }},
		{"group without user", &runtimeapi.LinuxContainerSecurityContext{RunAsGroup: &runtimeapi.Int64Value{Value: 5}},
			"run_as_group 5 needs run_as_user or run_as_username", nil},
		{"group with username", &runtimeapi.LinuxContainerSecurityContext{RunAsGroup: &runtimeapi.Int64Value{Value: 5}, RunAsUsername: "root"},
			"", func(s *specs.Spec) bool { return s.Process.User.GID == 5 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts, err := securityOpts(tc.sc, "", false, false)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errdefs.IsInvalidArgument(err) {
					t.Fatalf("err %v, want InvalidArgument %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			root := t.TempDir()
			_ = os.MkdirAll(filepath.Join(root, "etc"), 0o755)
			_ = os.WriteFile(filepath.Join(root, "etc", "passwd"), []byte("root:x:0:0::/:/bin/sh\n"), 0o644)
			_ = os.WriteFile(filepath.Join(root, "etc", "group"), []byte("root:x:0:\n"), 0o644)
			ctx := namespaces.WithNamespace(context.Background(), "t")
			s, err := oci.GenerateSpec(ctx, nil, &containers.Container{ID: "t"}, append([]oci.SpecOpts{oci.WithRootFSPath(root)}, opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(s) {
				t.Errorf("spec process: %+v", s.Process)
			}
		})
	}
}

func TestRootfsPropagation(t *testing.T) {
	m := func(p runtimeapi.MountPropagation) *runtimeapi.Mount { return &runtimeapi.Mount{Propagation: p} }
	for _, tc := range []struct {
		mounts []*runtimeapi.Mount
		want   string
	}{
		{nil, ""},
		{[]*runtimeapi.Mount{m(runtimeapi.MountPropagation_PROPAGATION_PRIVATE)}, ""},
		{[]*runtimeapi.Mount{m(runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER)}, "rslave"},
		{[]*runtimeapi.Mount{m(runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL), m(runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER)}, "rshared"},
	} {
		s := &specs.Spec{Linux: &specs.Linux{}}
		if err := withRootfsPropagation(tc.mounts)(context.Background(), nil, nil, s); err != nil {
			t.Fatal(err)
		}
		if got := s.Linux.RootfsPropagation; got != tc.want {
			t.Errorf("%v: rootfs propagation %q, want %q", tc.mounts, got, tc.want)
		}
	}
}

// TestSupplementalGroupsPolicy checks the groups a process gets, and that ContainerStatus reports
// them: Merge adds the groups the image's /etc/group gives the user, Strict only the primary
// group; both add supplemental_groups, and sort them without duplicates.
func TestSupplementalGroupsPolicy(t *testing.T) {
	root := t.TempDir()
	_ = os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	_ = os.WriteFile(filepath.Join(root, "etc", "passwd"), []byte("root:x:0:0::/:/bin/sh\nu:x:1000:1000::/:/bin/sh\n"), 0o644)
	_ = os.WriteFile(filepath.Join(root, "etc", "group"), []byte("root:x:0:\nu:x:1000:\nextra:x:50000:u\n"), 0o644)
	uid := &runtimeapi.Int64Value{Value: 1000}
	merge, strict := runtimeapi.SupplementalGroupsPolicy_Merge, runtimeapi.SupplementalGroupsPolicy_Strict
	for _, tc := range []struct {
		name      string
		sc        *runtimeapi.LinuxContainerSecurityContext
		imageUser string
		gid       int64
		groups    []int64
		err       string
	}{
		{"merge by default", &runtimeapi.LinuxContainerSecurityContext{RunAsUser: uid, SupplementalGroups: []int64{1234}}, "", 1000, []int64{1000, 1234, 50000}, ""},
		{"merge, image user by name", &runtimeapi.LinuxContainerSecurityContext{SupplementalGroupsPolicy: merge}, "u", 1000, []int64{1000, 50000}, ""},
		{"strict", &runtimeapi.LinuxContainerSecurityContext{RunAsUser: uid, SupplementalGroups: []int64{1234}, SupplementalGroupsPolicy: strict}, "", 1000, []int64{1000, 1234}, ""},
		{"strict, image user", &runtimeapi.LinuxContainerSecurityContext{SupplementalGroupsPolicy: strict}, "u", 1000, []int64{1000}, ""},
		{"strict with run_as_group", &runtimeapi.LinuxContainerSecurityContext{RunAsUser: uid, RunAsGroup: &runtimeapi.Int64Value{Value: 7},
			SupplementalGroupsPolicy: strict}, "", 7, []int64{7}, ""},
		{"duplicates and order", &runtimeapi.LinuxContainerSecurityContext{RunAsUser: uid, SupplementalGroups: []int64{50000, 1000, 5}}, "", 1000, []int64{5, 1000, 50000}, ""},
		{"unknown policy", &runtimeapi.LinuxContainerSecurityContext{RunAsUser: uid, SupplementalGroupsPolicy: 7}, "", 0, nil,
			"unknown supplemental_groups_policy 7: accepted are Merge (0) and Strict (1)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts, err := securityOpts(tc.sc, tc.imageUser, false, false)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errdefs.IsInvalidArgument(err) {
					t.Fatalf("err %v, want InvalidArgument %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ctx := namespaces.WithNamespace(context.Background(), "t")
			s, err := oci.GenerateSpec(ctx, nil, &containers.Container{ID: "t"}, append([]oci.SpecOpts{oci.WithRootFSPath(root)}, opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(s)
			u := containerUser(b).GetLinux()
			if u.GetUid() != 1000 || u.GetGid() != tc.gid || !slices.Equal(u.GetSupplementalGroups(), tc.groups) {
				t.Errorf("status user %v, want uid 1000 gid %d groups %v", u, tc.gid, tc.groups)
			}
		})
	}
	if u := containerUser([]byte("{")); u != nil {
		t.Errorf("user of a spec that does not parse: %v", u)
	}
}
