package lcr_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-dev/corral/engine/lcr"
)

func TestParseLine(t *testing.T) {
	for _, tc := range []struct {
		line, key, value string
		ok, err          bool
	}{
		{`lxc.uts.name = "c1"`, "lxc.uts.name", "c1", true, false},
		{`  lxc.uts.name=c1  `, "lxc.uts.name", "c1", true, false},
		{`lxc.environment = " a "`, "lxc.environment", " a ", true, false},
		{`lxc.environment = 'x'`, "lxc.environment", "x", true, false},
		{`lxc.environment = ""quoted""`, "lxc.environment", `"quoted"`, true, false},
		{`lxc.environment = "A=b=c"`, "lxc.environment", "A=b=c", true, false},
		{`lxc.environment = "open`, "lxc.environment", `"open`, true, false},
		{`# comment = "x"`, "", "", false, false},
		{"\t", "", "", false, false},
		{`lxc.uts.name`, "", "", false, true},
	} {
		k, v, ok, err := lcr.ParseLine(tc.line)
		if k != tc.key || v != tc.value || ok != tc.ok || (err != nil) != tc.err {
			t.Errorf("ParseLine(%q) = %q, %q, %v, %v; want %q, %q, %v, error %v", tc.line, k, v, ok, err, tc.key, tc.value, tc.ok, tc.err)
		}
	}
}

func TestKnownKey(t *testing.T) {
	for key, want := range map[string]bool{
		"lxc.uts.name": true, "lxc.cgroup.memory.limit_in_bytes": true, "lxc.cgroup2.memory.max": true,
		"lxc.prlimit.nofile": true, "lxc.sysctl.net.ipv4.ip_forward": true, "lxc.namespace.share.net": true,
		"lxc.hook.start": false, "lxc.include": false, "lxc.cgroup.": false, "lxc.sysctl.a b": false,
		"lxc.sysctl.a\n": false, "lxc.execute.cmd": false, "lxc.uts.name.x": false,
	} {
		if got := lcr.KnownKey(key); got != want {
			t.Errorf("KnownKey(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestConfigValue(t *testing.T) {
	c, err := translate(t, defaultSpec(), false)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"lxc.cgroup.dir.container": "default/c1", "lxc.cgroup.devices.allow": "c 10:200 rwm", "lxc.hook.start": "",
	} {
		if got := c.Value(key); got != want {
			t.Errorf("Value(%q) = %q, want %q", key, got, want)
		}
	}
}

// FuzzTranslate feeds arbitrary specs to the translation: it must never panic, and a config it
// accepts must consist of `key = value` lines with known keys and no control characters, each
// reading back as the value meant, so no line can be built from unescaped input.
func FuzzTranslate(f *testing.F) {
	for _, seed := range []string{
		`{"root":{"path":"/r"},"process":{"args":["sh"],"cwd":"/"},"linux":{"namespaces":[{"type":"mount"}]}}`,
		`{"hostname":"h\n lxc.hook.start = /x","root":{"path":"/r"},"process":{"args":["sh"],"cwd":"/"},"linux":{"namespaces":[{"type":"mount"},{"type":"uts"}]}}`,
		`{"root":{"path":"/r"},"process":{"args":["sh"],"cwd":"/","env":["A=\"b\" ","B= c"]},"linux":{"namespaces":[{"type":"mount"}],"cgroupsPath":"/a b/c"}}`,
		`{"root":{"path":"/r"},"process":{"args":["sh"],"cwd":"/"},"mounts":[{"destination":"/x y","source":"/srv/with space","options":["bind","mode=1 2"]}],"linux":{"namespaces":[{"type":"mount"}]}}`,
		`{"root":{"path":"/r"},"process":{"args":["sh"],"cwd":"/"},"linux":{"namespaces":[{"type":"mount"},{"type":"network"}],"sysctl":{"net.a":"1\"","net.b c":"2"}}}`,
		`{"root":{"path":"/r"},"process":{"args":["sh"],"cwd":"/"},"linux":{"namespaces":[{"type":"mount"}],"resources":{"unified":{"memory.high":"max"},"cpu":{"cpus":"0-3"},"memory":{"limit":-1}}}}`,
		`{"root":{"path":"/r"},"process":{"args":["sh"],"cwd":"/"},"mounts":[{"destination":"/p","type":"proc","source":"#x\\y"}],"linux":{"namespaces":[{"type":"mount"}],"maskedPaths":["/proc/acpi","/srv/file"],"readonlyPaths":["/a\\b"]}}`,
		`{"root":{"path":"/r"},"process":{"args":["sh"],"cwd":"/"},"linux":{"namespaces":[{"type":"mount"}],"seccomp":{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","x y"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_MASKED_EQ"}]}]}}}`,
	} {
		f.Add([]byte(seed), false)
	}
	spec, _ := jsonSpec(defaultSpec())
	f.Add(spec, true)
	f.Fuzz(func(t *testing.T, data []byte, v2 bool) {
		s, err := specFromJSON(data)
		if err != nil {
			return
		}
		c, err := lcr.Translate(s, lcr.TranslateOpts{CgroupV2: v2, CgroupDir: "corral/d/c", Stat: fakeStat, SeccompPath: "/s"})
		if err != nil {
			return
		}
		assertParses(t, c)
		if c.Seccomp != "" {
			lines := strings.Split(strings.TrimSuffix(c.Seccomp, "\n"), "\n")
			if lines[0] != "2" || !seccompHead.MatchString(lines[1]) {
				t.Errorf("seccomp policy header %q", lines[:2])
			}
			for _, l := range lines[2:] {
				if !seccompRule.MatchString(l) {
					t.Errorf("seccomp rule %q is not `name action [index,value,op,mask]...`", l)
				}
			}
		}
		for _, l := range c.Lines {
			if l.Key == "lxc.mount.entry" && (len(strings.Fields(l.Value)) != 6 || strings.HasPrefix(l.Value, "#")) {
				t.Errorf("mount entry %q is not an fstab line of 6 fields", l.Value)
			}
		}
	})
}

var (
	seccompHead = regexp.MustCompile(`^(denylist allow|allowlist (kill|trap|errno [0-9]+))$`)
	seccompRule = regexp.MustCompile(`^[a-z0-9_]+ (allow|kill|trap|errno [0-9]+)( \[[0-5],[0-9]+,SCMP_CMP_[A-Z_]+,[0-9]+\])*$`)
)

func jsonSpec(s *specs.Spec) ([]byte, error) { return json.Marshal(s) }

func specFromJSON(b []byte) (*specs.Spec, error) {
	var s specs.Spec
	return &s, json.Unmarshal(b, &s)
}
