package lcr

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// process translates the container's process: everything but its args, which lxc-execute takes.
func (t *translator) process() error {
	p := t.spec.Process
	if p == nil {
		return invalid("process", "is required")
	}
	if len(p.Args) == 0 {
		return invalid("process.args", "must name the command to run")
	}
	for i, a := range p.Args {
		if strings.ContainsRune(a, 0) {
			return invalid(fmt.Sprintf("process.args[%d]", i), "contains a NUL byte")
		}
	}
	switch {
	case p.CommandLine != "":
		return unsupported("process.commandLine", "it is a Windows field; use process.args")
	case p.Scheduler != nil:
		return unsupported("process.scheduler", "LXC has no scheduling policy key")
	case p.IOPriority != nil:
		return unsupported("process.ioPriority", "LXC has no I/O priority key")
	case p.ExecCPUAffinity != nil:
		return unsupported("process.execCPUAffinity", "LXC has no CPU affinity key")
	}
	for _, step := range []func(*specs.Process) error{t.env, t.cwd, t.user, t.capabilities, t.rlimits, t.security} {
		if err := step(p); err != nil {
			return err
		}
	}
	return nil
}

func (t *translator) env(p *specs.Process) error {
	for i, e := range p.Env {
		field := fmt.Sprintf("process.env[%d]", i)
		// Without '=', lxc.environment would copy the variable from the environment of lxc-execute.
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" {
			return invalid(field, fmt.Sprintf("%q must have the form NAME=VALUE", e))
		}
		if err := checkValue(field, e); err != nil {
			return err
		}
		t.c.add("lxc.environment", e)
	}
	return nil
}

func (t *translator) cwd(p *specs.Process) error {
	if p.Cwd == "" {
		return invalid("process.cwd", "must be an absolute path")
	}
	if err := checkAbs("process.cwd", p.Cwd); err != nil {
		return err
	}
	t.c.add("lxc.init.cwd", p.Cwd)
	return nil
}

func (t *translator) user(p *specs.Process) error {
	u := p.User
	switch {
	case u.Username != "":
		return unsupported("process.user.username", "it is a Windows field; use uid and gid")
	case u.Umask != nil:
		return unsupported("process.user.umask", "LXC has no umask key")
	}
	t.c.add("lxc.init.uid", strconv.FormatUint(uint64(u.UID), 10))
	t.c.add("lxc.init.gid", strconv.FormatUint(uint64(u.GID), 10))
	if len(u.AdditionalGids) > 0 {
		gids := make([]string, len(u.AdditionalGids))
		for i, g := range u.AdditionalGids {
			gids[i] = strconv.FormatUint(uint64(g), 10)
		}
		t.c.add("lxc.init.groups", strings.Join(gids, ","))
	}
	return nil
}

// capNames are the capabilities LXC 5 knows (src/lxc/conf.c: caps_opt), as OCI spells them.
var capNames = func() map[string]string {
	m := map[string]string{}
	for _, c := range strings.Fields(`chown dac_override dac_read_search fowner fsetid kill setgid setuid setpcap
		linux_immutable net_bind_service net_broadcast net_admin net_raw ipc_lock ipc_owner sys_module sys_rawio
		sys_chroot sys_ptrace sys_pacct sys_admin sys_boot sys_nice sys_resource sys_time sys_tty_config mknod
		lease audit_write audit_control setfcap mac_override mac_admin syslog wake_alarm block_suspend audit_read
		perfmon bpf checkpoint_restore`) {
		m["CAP_"+strings.ToUpper(c)] = c
	}
	return m
}()

// capabilities: lxc.cap.keep is the bounding set. LXC sets no other set, which gives what the kernel
// gives runc's process too: a root process gets its whole bounding set at exec, another user none.
// Inheritable and ambient capabilities, which would survive exec, cannot be expressed.
func (t *translator) capabilities(p *specs.Process) error {
	c := p.Capabilities
	if c == nil {
		return nil // every capability, as with runc
	}
	switch {
	case len(c.Ambient) > 0:
		return unsupported("process.capabilities.ambient", "LXC sets no ambient capabilities")
	case len(c.Inheritable) > 0:
		return unsupported("process.capabilities.inheritable", "LXC sets no inheritable capabilities")
	}
	bounding := map[string]bool{}
	var keep []string
	for i, name := range c.Bounding {
		lxc, ok := capNames[name]
		if !ok {
			return invalid(fmt.Sprintf("process.capabilities.bounding[%d]", i), fmt.Sprintf("%q is not a capability LXC knows (accepted: CAP_CHOWN … CAP_CHECKPOINT_RESTORE)", name))
		}
		if !bounding[name] {
			keep = append(keep, lxc)
		}
		bounding[name] = true
	}
	for _, set := range []struct {
		field string
		caps  []string
	}{{"process.capabilities.effective", c.Effective}, {"process.capabilities.permitted", c.Permitted}} {
		for i, name := range set.caps {
			if !bounding[name] {
				return invalid(fmt.Sprintf("%s[%d]", set.field, i), fmt.Sprintf("%q is not in the bounding set, which is all LXC can set", name))
			}
		}
	}
	if len(keep) == 0 {
		keep = []string{"none"}
	}
	t.c.add("lxc.cap.keep", strings.Join(keep, " "))
	return nil
}

// rlimitNames are the resource limits of lxc.prlimit.<name>.
var rlimitNames = map[string]string{
	"RLIMIT_AS": "as", "RLIMIT_CORE": "core", "RLIMIT_CPU": "cpu", "RLIMIT_DATA": "data", "RLIMIT_FSIZE": "fsize",
	"RLIMIT_LOCKS": "locks", "RLIMIT_MEMLOCK": "memlock", "RLIMIT_MSGQUEUE": "msgqueue", "RLIMIT_NICE": "nice",
	"RLIMIT_NOFILE": "nofile", "RLIMIT_NPROC": "nproc", "RLIMIT_RSS": "rss", "RLIMIT_RTPRIO": "rtprio",
	"RLIMIT_RTTIME": "rttime", "RLIMIT_SIGPENDING": "sigpending", "RLIMIT_STACK": "stack",
}

func (t *translator) rlimits(p *specs.Process) error {
	seen := map[string]bool{}
	for i, r := range p.Rlimits {
		field := fmt.Sprintf("process.rlimits[%d]", i)
		name, ok := rlimitNames[r.Type]
		if !ok {
			return invalid(field+".type", fmt.Sprintf("%q is not a resource limit (accepted: RLIMIT_AS … RLIMIT_STACK)", r.Type))
		}
		if seen[name] {
			return invalid(field+".type", fmt.Sprintf("repeats %s", r.Type))
		}
		seen[name] = true
		if r.Soft > r.Hard {
			return invalid(field, fmt.Sprintf("soft limit %d is above hard limit %d", r.Soft, r.Hard))
		}
		t.c.add("lxc.prlimit."+name, rlimitValue(r.Soft)+":"+rlimitValue(r.Hard))
	}
	return nil
}

func rlimitValue(v uint64) string {
	if v == math.MaxUint64 {
		return "unlimited"
	}
	return strconv.FormatUint(v, 10)
}

// security: no_new_privs, AppArmor (no profile means unconfined, as with runc), SELinux, OOM score.
func (t *translator) security(p *specs.Process) error {
	nnp := "0"
	if p.NoNewPrivileges {
		nnp = "1"
	}
	t.c.add("lxc.no_new_privs", nnp)
	profile := p.ApparmorProfile
	if profile == "" {
		profile = "unconfined"
	}
	if err := checkValue("process.apparmorProfile", profile); err != nil {
		return err
	}
	t.c.add("lxc.apparmor.profile", profile)
	if p.SelinuxLabel != "" {
		if err := checkValue("process.selinuxLabel", p.SelinuxLabel); err != nil {
			return err
		}
		t.c.add("lxc.selinux.context", p.SelinuxLabel)
	}
	if p.OOMScoreAdj != nil {
		if *p.OOMScoreAdj < -1000 || *p.OOMScoreAdj > 1000 {
			return invalid("process.oomScoreAdj", fmt.Sprintf("%d is outside -1000…1000", *p.OOMScoreAdj))
		}
		t.c.add("lxc.proc.oom_score_adj", strconv.Itoa(*p.OOMScoreAdj))
	}
	return nil
}
