package run

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/corral-dev/corral/api"
)

func TestParseFlagsErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		o       options
		wantErr string
	}{
		{"user with two colons", options{user: "1:2:3"}, `invalid --user "1:2:3": want UID[:GID] or NAME[:GROUP]`},
		{"user without name", options{user: ":1"}, `invalid --user ":1"`},
		{"user without group", options{user: "1:"}, `invalid --user "1:"`},
		{"hostname with a space", options{hostname: "my host"}, `invalid --hostname "my host": want up to 64 letters`},
		{"hostname too long", options{hostname: strings.Repeat("h", 65)}, "invalid --hostname"},
		{"hostname ending in a dash", options{hostname: "h-"}, "invalid --hostname"},
		{"label without =", options{labels: []string{"k"}}, `invalid --label "k": want KEY=VALUE`},
		{"label without key", options{labels: []string{"=v"}}, `invalid --label "=v"`},
		{"corral's label", options{labels: []string{api.LabelAutoRemove + "=true"}}, "io.corral.* labels are set by corral's own flags"},
		{"memory", options{memory: "lots"}, `invalid --memory "lots": want a size such as 64m`},
		{"zero memory", options{memory: "0"}, `invalid --memory "0"`},
		{"cpus", options{cpus: 0.001}, "invalid --cpus 0.001: want at least 0.01"},
		{"pids", options{pidsLimit: -1}, "invalid --pids-limit -1: want a number of processes above 0"},
		{"env", options{env: []string{"A"}}, `invalid --env "A"`},
		{"env file", options{envFiles: []string{filepath.Join(dir, "nope")}}, "failed to read --env-file"},
		{"cwd", options{cwd: "tmp"}, `invalid --cwd "tmp": must be an absolute path`},
		{"mount", options{mounts: []string{"src=" + dir + "/nope,dst=/d"}}, "invalid --mount"},
		{"volume", options{volumes: []string{dir}}, "invalid -v"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.logDriver = "json-file"
			if _, err := parseFlags(tc.o); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestParseFlagsEnvAndLabels(t *testing.T) {
	file := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(file, []byte("A=file\nB=file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := parseFlags(options{envFiles: []string{file}, env: []string{"B=flag", "C=flag"}, labels: []string{"k=v", "e=", "k=w"},
		rm: true, logDriver: "json-file"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"A=file", "B=flag", "C=flag"}; !reflect.DeepEqual(f.env, want) {
		t.Errorf("env = %q, want %q", f.env, want)
	}
	if want := map[string]string{"k": "w", "e": "", api.LabelAutoRemove: "true"}; !reflect.DeepEqual(f.labels, want) {
		t.Errorf("labels = %v, want %v", f.labels, want)
	}
}

// TestBuildSpecFlags applies the run flags to a --rootfs container's spec; a user name is looked up
// in the rootfs.
func TestBuildSpecFlags(t *testing.T) {
	rootfs := t.TempDir()
	if err := os.MkdirAll(filepath.Join(rootfs, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{
		"etc/passwd": "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n",
		"etc/group":  "root:x:0:\napp:x:1001:\nstaff:x:50:app\n",
	} {
		if err := os.WriteFile(filepath.Join(rootfs, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	host := t.TempDir()
	for _, tc := range []struct {
		name string
		o    options
		want string // a JSON fragment of the spec
	}{
		{"numeric user", options{user: "1000:1000"}, `"user":{"uid":1000,"gid":1000,"additionalGids":[1000,50]}`},
		{"uid alone takes its group from passwd", options{user: "1000"}, `"user":{"uid":1000,"gid":1001,"additionalGids":[1001,50]}`},
		{"user name", options{user: "app"}, `"user":{"uid":1000,"gid":1001,"additionalGids":[1001,50]}`},
		{"user and group names", options{user: "app:staff"}, `"user":{"uid":1000,"gid":50,"additionalGids":[50]}`},
		{"unknown uid", options{user: "1234"}, `"user":{"uid":1234,"gid":0,"additionalGids":[0]}`},
		{"hostname", options{hostname: "box.local"}, `"hostname":"box.local"`},
		{"read-only", options{readOnly: true}, `"readonly":true`},
		{"memory", options{memory: "64m"}, `"memory":{"limit":67108864}`},
		{"cpus", options{cpus: 0.5}, `"cpu":{"quota":50000,"period":100000}`},
		{"pids", options{pidsLimit: 20}, `"pids":{"limit":20}`},
		{"bind mounts", options{mounts: []string{"type=bind,src=" + host + ",dst=/h,ro"}, volumes: []string{host + ":/v"}},
			`{"destination":"/h","type":"bind","source":"` + host + `","options":["rbind","ro"]},{"destination":"/v","type":"bind","source":"` + host + `","options":["rbind"]}]`},
		{"cwd", options{cwd: "/tmp"}, `"cwd":"/tmp"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.id, tc.o.rootfs, tc.o.logDriver = "c1", rootfs, "json-file"
			f, err := parseFlags(tc.o)
			if err != nil {
				t.Fatal(err)
			}
			s, err := buildSpec(context.Background(), tc.o, f, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(s)
			if !strings.Contains(string(b), tc.want) {
				t.Errorf("spec has no %s:\n%s", tc.want, b)
			}
		})
	}
	o := options{id: "c1", rootfs: rootfs, user: "nobody", logDriver: "json-file"}
	f, err := parseFlags(o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := buildSpec(context.Background(), o, f, nil); err == nil || !strings.Contains(err.Error(), `invalid --user "nobody": no users found`) {
		t.Errorf("unknown user name: err = %v", err)
	}
}
