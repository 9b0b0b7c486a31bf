package cri

import (
	"encoding/base64"
	"testing"

	"github.com/containerd/errdefs"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestCredentials(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		name       string
		auth       *runtimeapi.AuthConfig
		user, pass string
		invalid    bool
	}{
		{name: "none"},
		{name: "empty", auth: &runtimeapi.AuthConfig{}},
		{name: "username and password", auth: &runtimeapi.AuthConfig{Username: "u", Password: "p"}, user: "u", pass: "p"},
		{name: "auth", auth: &runtimeapi.AuthConfig{Auth: b64("u:p:q")}, user: "u", pass: "p:q"},
		{name: "username wins over auth", auth: &runtimeapi.AuthConfig{Username: "u", Password: "p", Auth: b64("x:y")}, user: "u", pass: "p"},
		{name: "auth without colon", auth: &runtimeapi.AuthConfig{Auth: b64("u")}, invalid: true},
		{name: "auth not base64", auth: &runtimeapi.AuthConfig{Auth: "!!"}, invalid: true},
		{name: "identity token", auth: &runtimeapi.AuthConfig{IdentityToken: "t"}, invalid: true},
		{name: "registry token", auth: &runtimeapi.AuthConfig{RegistryToken: "t"}, invalid: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user, pass, err := credentials(tc.auth)
			if tc.invalid {
				if !errdefs.IsInvalidArgument(err) {
					t.Fatalf("want InvalidArgument, got %v", err)
				}
				return
			}
			if err != nil || user != tc.user || pass != tc.pass {
				t.Fatalf("got %q, %q, %v; want %q, %q", user, pass, err, tc.user, tc.pass)
			}
		})
	}
}
