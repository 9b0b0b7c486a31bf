package cri

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/containerd/v2/contrib/apparmor"
	"github.com/containerd/containerd/v2/contrib/seccomp"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/cap"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// apparmorDefault is the profile a container with AppArmor "runtime/default" gets, where the host
// has AppArmor.
const apparmorDefault = "corral-default"

// securityOpts apply a container's security context: user, group and supplemental groups (the
// image's user when it names none; by the supplemental groups policy, with the groups the image's
// /etc/group gives the user or without), privileged or capabilities, read-only rootfs, no_new_privs,
// masked and read-only paths, seccomp where the host has it, AppArmor only where the host has it.
func securityOpts(sc *runtimeapi.LinuxContainerSecurityContext, imageUser string, hasSeccomp, hasAppArmor bool) ([]oci.SpecOpts, error) {
	if sc.GetRunAsGroup() != nil && sc.GetRunAsUser() == nil && sc.GetRunAsUsername() == "" {
		return nil, fmt.Errorf("run_as_group %d needs run_as_user or run_as_username: %w", sc.GetRunAsGroup().GetValue(), errdefs.ErrInvalidArgument)
	}
	var opts []oci.SpecOpts
	user := imageUser
	switch {
	case sc.GetRunAsUser() != nil:
		user = strconv.FormatInt(sc.GetRunAsUser().GetValue(), 10)
		opts = append(opts, oci.WithUserID(uint32(sc.GetRunAsUser().GetValue())))
	case sc.GetRunAsUsername() != "":
		user = sc.GetRunAsUsername()
		opts = append(opts, oci.WithUsername(user))
	case imageUser != "":
		opts = append(opts, oci.WithUser(imageUser))
	}
	if g := sc.GetRunAsGroup(); g != nil {
		opts = append(opts, withGID(uint32(g.GetValue())))
	}
	if user == "" {
		user = "0"
	}
	name, _, _ := strings.Cut(user, ":")
	switch p := sc.GetSupplementalGroupsPolicy(); p {
	case runtimeapi.SupplementalGroupsPolicy_Merge:
		opts = append(opts, oci.WithAdditionalGIDs(name))
	case runtimeapi.SupplementalGroupsPolicy_Strict:
		opts = append(opts, withPrimaryGroupOnly)
	default:
		return nil, fmt.Errorf("unknown supplemental_groups_policy %d: accepted are Merge (0) and Strict (1): %w", p, errdefs.ErrInvalidArgument)
	}
	opts = append(opts, withSupplementalGroups(sc.GetSupplementalGroups()))

	if sc.GetPrivileged() {
		opts = append(opts, oci.WithPrivileged, oci.WithAllDevicesAllowed, oci.WithHostDevices, oci.WithWriteableSysfs,
			oci.WithWriteableCgroupfs, oci.WithMaskedPaths(nil), oci.WithReadonlyPaths(nil))
	} else {
		caps, err := capabilityOpts(sc.GetCapabilities())
		if err != nil {
			return nil, err
		}
		opts = append(opts, caps...)
		if sc.GetMaskedPaths() != nil {
			opts = append(opts, oci.WithMaskedPaths(sc.GetMaskedPaths()))
		}
		if sc.GetReadonlyPaths() != nil {
			opts = append(opts, oci.WithReadonlyPaths(sc.GetReadonlyPaths()))
		}
	}
	if sc.GetReadonlyRootfs() {
		opts = append(opts, oci.WithRootFSReadonly())
	}
	if sc.GetNoNewPrivs() {
		opts = append(opts, oci.WithNoNewPrivileges)
	} else {
		opts = append(opts, oci.WithNewPrivileges) // containerd's default spec sets no_new_privs
	}
	sec, err := seccompOpt(sc, hasSeccomp)
	if err != nil {
		return nil, err
	}
	aa, err := apparmorOpt(sc, hasAppArmor)
	if err != nil {
		return nil, err
	}
	return append(append(opts, sec...), aa...), nil
}

// withGID sets the process's primary group.
func withGID(gid uint32) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *specs.Spec) error {
		s.Process.User.GID = gid
		return nil
	}
}

// withPrimaryGroupOnly makes the primary group the process's only additional one: the Strict
// policy, where the image's /etc/group adds none.
func withPrimaryGroupOnly(_ context.Context, _ oci.Client, _ *containers.Container, s *specs.Spec) error {
	s.Process.User.AdditionalGids = []uint32{s.Process.User.GID}
	return nil
}

// withSupplementalGroups adds groups to the process's additional ones, and sorts them without
// duplicates as containerd does: gVisor reports them in the spec's order, Linux sorted.
func withSupplementalGroups(gids []int64) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *specs.Spec) error {
		all := s.Process.User.AdditionalGids
		for _, g := range gids {
			all = append(all, uint32(g))
		}
		slices.Sort(all)
		s.Process.User.AdditionalGids = slices.Compact(all)
		return nil
	}
}

// capabilityOpts adds and drops capabilities; "ALL" adds every one corrald itself holds (root here
// may lack some, which runc could not grant) or drops all, before the named ones are added or dropped.
func capabilityOpts(c *runtimeapi.Capability) ([]oci.SpecOpts, error) {
	if c == nil {
		return nil, nil
	}
	add, addAll, err := capNames(c.GetAddCapabilities())
	if err != nil {
		return nil, err
	}
	drop, dropAll, err := capNames(c.GetDropCapabilities())
	if err != nil {
		return nil, err
	}
	var opts []oci.SpecOpts
	if addAll {
		opts = append(opts, oci.WithAllCurrentCapabilities)
	}
	if dropAll {
		opts = append(opts, oci.WithCapabilities(nil))
	}
	return append(opts, oci.WithAddedCapabilities(add), oci.WithDroppedCapabilities(drop)), nil
}

// capNames returns names as CAP_NAME, telling "ALL" apart; an unknown name is an error.
func capNames(names []string) (out []string, all bool, _ error) {
	known := map[string]bool{}
	for _, k := range cap.Known() {
		known[k] = true
	}
	for _, n := range names {
		n = strings.ToUpper(n)
		if n == "ALL" {
			all = true
			continue
		}
		if !strings.HasPrefix(n, "CAP_") {
			n = "CAP_" + n
		}
		if !known[n] {
			return nil, false, fmt.Errorf("unknown capability %q: %w", n, errdefs.ErrInvalidArgument)
		}
		out = append(out, n)
	}
	return out, all, nil
}

// seccompOpt is the seccomp profile the context asks for: none for unconfined, privileged or
// none named; containerd's default for runtime/default where the host has seccomp; a localhost
// profile file, which needs seccomp.
func seccompOpt(sc *runtimeapi.LinuxContainerSecurityContext, host bool) ([]oci.SpecOpts, error) {
	typ, ref := profile(sc.GetSeccomp(), sc.GetSeccompProfilePath())
	switch {
	case sc.GetPrivileged() || typ == runtimeapi.SecurityProfile_Unconfined:
		return nil, nil
	case typ == runtimeapi.SecurityProfile_RuntimeDefault:
		if !host {
			return nil, nil
		}
		return []oci.SpecOpts{seccomp.WithDefaultProfile()}, nil
	case !host:
		return nil, fmt.Errorf("seccomp profile %q: this host has no seccomp: %w", ref, errdefs.ErrNotImplemented)
	default:
		return []oci.SpecOpts{seccomp.WithProfile(ref)}, nil
	}
}

// apparmorOpt is the AppArmor profile the context asks for, only where the host has AppArmor; a
// localhost profile on a host without it is an error.
func apparmorOpt(sc *runtimeapi.LinuxContainerSecurityContext, host bool) ([]oci.SpecOpts, error) {
	typ, ref := profile(sc.GetApparmor(), sc.GetApparmorProfile())
	switch {
	case sc.GetPrivileged() || typ == runtimeapi.SecurityProfile_Unconfined:
		return nil, nil
	case typ == runtimeapi.SecurityProfile_RuntimeDefault:
		if !host {
			return nil, nil
		}
		return []oci.SpecOpts{apparmor.WithDefaultProfile(apparmorDefault)}, nil
	case !host:
		return nil, fmt.Errorf("AppArmor profile %q: this host has no AppArmor: %w", ref, errdefs.ErrNotImplemented)
	default:
		return []oci.SpecOpts{apparmor.WithProfile(ref)}, nil
	}
}

// profile reads a security profile from its message or, if none, from the deprecated path field:
// "" and "unconfined" are Unconfined, "runtime/default" and "docker/default" RuntimeDefault,
// "localhost/REF" Localhost.
func profile(p *runtimeapi.SecurityProfile, path string) (runtimeapi.SecurityProfile_ProfileType, string) {
	if p != nil {
		return p.GetProfileType(), p.GetLocalhostRef()
	}
	switch {
	case path == "" || path == "unconfined":
		return runtimeapi.SecurityProfile_Unconfined, ""
	case path == "runtime/default" || path == "docker/default":
		return runtimeapi.SecurityProfile_RuntimeDefault, ""
	default:
		return runtimeapi.SecurityProfile_Localhost, strings.TrimPrefix(path, "localhost/")
	}
}
