package lcr

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// seccompOps are the OCI argument operators as LXC's policy format spells them (src/lxc/seccomp.c:
// parse_v2_rule_op).
var seccompOps = map[specs.LinuxSeccompOperator]string{
	specs.OpNotEqual: "SCMP_CMP_NE", specs.OpLessThan: "SCMP_CMP_LT", specs.OpLessEqual: "SCMP_CMP_LE",
	specs.OpEqualTo: "SCMP_CMP_EQ", specs.OpGreaterEqual: "SCMP_CMP_GE", specs.OpGreaterThan: "SCMP_CMP_GT",
	specs.OpMaskedEqual: "SCMP_CMP_MASKED_EQ",
}

// seccomp writes the OCI seccomp filter as an LXC version 2 policy (Config.Seccomp, loaded from
// TranslateOpts.SeccompPath): "allowlist ACTION" when the default action denies, "denylist" when it
// allows, then one "name action [index,value,op,mask]..." line per syscall and condition set. LXC
// filters the native architecture and its compat ones (x86_64: also i386 and x32) whatever
// linux.seccomp.architectures lists, and skips names the host's libseccomp does not know, as runc does.
func (t *translator) seccomp() error {
	s := t.spec.Linux.Seccomp
	switch {
	case len(s.Flags) > 0:
		return unsupported("linux.seccomp.flags", "LXC sets no seccomp filter flags")
	case s.ListenerPath != "" || s.ListenerMetadata != "":
		return unsupported("linux.seccomp.listenerPath", "LXC forwards notifications only to its own lxc.seccomp.notify.proxy")
	case t.o.SeccompPath == "":
		return unsupported("linux.seccomp", "the runtime gave no path to write the LXC seccomp policy to")
	}
	if err := checkAbs("linux.seccomp", t.o.SeccompPath); err != nil {
		return err
	}
	def, err := seccompAction("linux.seccomp.defaultAction", s.DefaultAction, s.DefaultErrnoRet)
	if err != nil {
		return err
	}
	var b strings.Builder
	if def == "allow" {
		b.WriteString("2\ndenylist allow\n")
	} else {
		fmt.Fprintf(&b, "2\nallowlist %s\n", def)
	}
	for i, sc := range s.Syscalls {
		field := fmt.Sprintf("linux.seccomp.syscalls[%d]", i)
		action, err := seccompAction(field+".action", sc.Action, sc.ErrnoRet)
		if err != nil {
			return err
		}
		conds, err := seccompConds(field, sc.Args)
		if err != nil {
			return err
		}
		if len(sc.Names) == 0 {
			return invalid(field+".names", "must name at least one syscall")
		}
		if action == def {
			continue // libseccomp refuses a rule that does what the default does; runc skips it too
		}
		for j, name := range sc.Names {
			if name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" || name == "reject_force_umount" {
				return invalid(fmt.Sprintf("%s.names[%d]", field, j), fmt.Sprintf("%q is not a syscall name (lower-case letters, digits and _)", name))
			}
			for _, c := range conds {
				fmt.Fprintf(&b, "%s %s%s\n", name, action, c)
			}
		}
	}
	t.c.Seccomp = b.String()
	t.c.add("lxc.seccomp.profile", t.o.SeccompPath)
	return nil
}

// seccompAction is an OCI action as LXC's policy format spells it.
func seccompAction(field string, a specs.LinuxSeccompAction, errnoRet *uint) (string, error) {
	if errnoRet != nil && a != specs.ActErrno {
		return "", invalid(field, fmt.Sprintf("%s takes no errnoRet", a))
	}
	switch a {
	case specs.ActAllow:
		return "allow", nil
	case specs.ActKill, specs.ActKillThread:
		return "kill", nil
	case specs.ActTrap:
		return "trap", nil
	case specs.ActErrno:
		e := uint(1) // EPERM, as runc
		if errnoRet != nil {
			e = *errnoRet
		}
		if e > 4095 {
			return "", invalid(field, fmt.Sprintf("errnoRet %d is above 4095", e))
		}
		return fmt.Sprintf("errno %d", e), nil
	case specs.ActKillProcess, specs.ActTrace, specs.ActLog, specs.ActNotify:
		return "", unsupported(field, fmt.Sprintf("%s: LXC's policy actions are allow, kill (the thread), trap and errno", a))
	}
	return "", invalid(field, fmt.Sprintf("%q is not a seccomp action", a))
}

// seccompConds renders the argument conditions of one OCI rule as LXC rule suffixes. libseccomp takes
// one condition per argument in a rule, so conditions on the same argument become separate rules
// (either matches), as runc adds them.
func seccompConds(field string, args []specs.LinuxSeccompArg) ([]string, error) {
	if len(args) == 0 {
		return []string{""}, nil
	}
	perIndex := map[uint]int{}
	var conds []string
	for i, a := range args {
		f := fmt.Sprintf("%s.args[%d]", field, i)
		op, ok := seccompOps[a.Op]
		if !ok {
			return nil, invalid(f+".op", fmt.Sprintf("%q is not an operator (accepted: SCMP_CMP_NE … SCMP_CMP_MASKED_EQ)", a.Op))
		}
		if a.Index > 5 {
			return nil, invalid(f+".index", fmt.Sprintf("%d is not an argument index (0-5)", a.Index))
		}
		// LXC passes the mask after the value: SCMP_CMP(index, op, mask, value) for MASKED_EQ.
		c := fmt.Sprintf(" [%d,%d,%s,%d]", a.Index, a.Value, op, a.ValueTwo)
		if a.Op == specs.OpMaskedEqual {
			c = fmt.Sprintf(" [%d,%d,%s,%d]", a.Index, a.ValueTwo, op, a.Value)
		}
		perIndex[a.Index]++
		conds = append(conds, c)
	}
	for _, n := range perIndex {
		if n > 1 {
			return conds, nil // one rule per condition
		}
	}
	return []string{strings.Join(conds, "")}, nil
}
