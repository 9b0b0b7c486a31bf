package store

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
)

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestValidateID(t *testing.T) {
	for id, ok := range map[string]bool{
		"c1":                     true,
		"my.container-1_x":       true,
		"A9":                     true,
		strings.Repeat("a", 76):  true,
		strings.Repeat("a", 77):  false,
		strings.Repeat("a", 200): false,
		"":                       false,
		"../x":                   false,
		"a/b":                    false,
		"a..b":                   false,
		"a-_b":                   false,
		"-a":                     false,
		"a-":                     false,
		".a":                     false,
		"a b":                    false,
	} {
		err := ValidateID("container", id)
		if ok && err != nil {
			t.Errorf("ValidateID(%q): %v", id, err)
		}
		if !ok && !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("ValidateID(%q) = %v, want InvalidArgument", id, err)
		}
	}
}

func TestRecords(t *testing.T) {
	s := open(t)
	for _, step := range []struct {
		name string
		do   func() error
		want error
	}{
		{"update missing", func() error { return s.Put("ns", Containers, "c1", []byte("v0"), false) }, errdefs.ErrNotFound},
		{"create", func() error { return s.Put("ns", Containers, "c1", []byte("v1"), true) }, nil},
		{"create again", func() error { return s.Put("ns", Containers, "c1", []byte("v2"), true) }, errdefs.ErrAlreadyExists},
		{"update", func() error { return s.Put("ns", Containers, "c1", []byte("v3"), false) }, nil},
		{"create other", func() error { return s.Put("ns", Containers, "c0", []byte("v4"), true) }, nil},
		{"create task", func() error { return s.Put("ns", Tasks, "c1", []byte("t1"), true) }, nil},
		{"get missing", func() error { _, err := s.Get("ns", Containers, "nope"); return err }, errdefs.ErrNotFound},
		{"get missing kind", func() error { _, err := s.Get("ns", Leases, "c1"); return err }, errdefs.ErrNotFound},
		{"delete missing", func() error { return s.Delete("ns", Containers, "nope") }, errdefs.ErrNotFound},
		{"delete missing ns", func() error { return s.Delete("other", Containers, "c1") }, errdefs.ErrNotFound},
		{"edit missing", func() error {
			return s.Edit("ns", Containers, "nope", func(v []byte) ([]byte, error) { return v, nil })
		}, errdefs.ErrNotFound},
		{"edit fails", func() error {
			return s.Edit("ns", Containers, "c1", func([]byte) ([]byte, error) { return []byte("no"), errdefs.ErrConflict })
		}, errdefs.ErrConflict},
		{"edit unchanged", func() error { return s.Edit("ns", Containers, "c1", func([]byte) ([]byte, error) { return nil, nil }) }, nil},
		{"edit", func() error {
			return s.Edit("ns", Containers, "c1", func(v []byte) ([]byte, error) { return append(v, '!'), nil })
		}, nil},
	} {
		if err := step.do(); !errors.Is(err, step.want) || (step.want == nil && err != nil) {
			t.Fatalf("%s: got %v, want %v", step.name, err, step.want)
		}
	}
	if v, err := s.Get("ns", Containers, "c1"); err != nil || string(v) != "v3!" {
		t.Fatalf("Get = %q, %v; want v3!", v, err)
	}
	var ids, vals []string
	if err := s.List("ns", Containers, func(id string, v []byte) error {
		ids, vals = append(ids, id), append(vals, string(v))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ids, []string{"c0", "c1"}) || !reflect.DeepEqual(vals, []string{"v4", "v3!"}) {
		t.Fatalf("List = %q %q", ids, vals)
	}
	if err := s.Delete("ns", Containers, "c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("ns", Containers, "c1"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want NotFound", err)
	}
	if v, err := s.Get("ns", Tasks, "c1"); err != nil || string(v) != "t1" {
		t.Fatalf("task record = %q, %v; want t1 untouched", v, err)
	}
}

func TestNamespaceIsolation(t *testing.T) {
	s := open(t)
	if err := s.Put("a", Containers, "c1", []byte("in a"), true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("b", Containers, "c1"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("Get in b: %v, want NotFound", err)
	}
	n := 0
	if err := s.List("b", Containers, func(string, []byte) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("List in b saw %d records, %v", n, err)
	}
	// The same id may exist in both.
	if err := s.Put("b", Containers, "c1", []byte("in b"), true); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Get("a", Containers, "c1"); string(v) != "in a" {
		t.Fatalf("a's record became %q", v)
	}
}

func TestNamespaces(t *testing.T) {
	s := open(t)
	labels := map[string]string{"k": "v"}
	if err := s.CreateNamespace("ns", labels); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateNamespace("ns", nil); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Fatalf("second CreateNamespace: %v, want AlreadyExists", err)
	}
	if got, err := s.NamespaceLabels("ns"); err != nil || !reflect.DeepEqual(got, labels) {
		t.Fatalf("NamespaceLabels = %v, %v", got, err)
	}
	if got, err := s.NamespaceLabels("nope"); err != nil || len(got) != 0 {
		t.Fatalf("NamespaceLabels of a missing namespace = %v, %v; want none", got, err)
	}
	failed := errors.New("edit failed")
	if err := s.EditNamespaceLabels("ns", func(l map[string]string) error { l["k"] = "changed"; return failed }); err != failed {
		t.Fatalf("EditNamespaceLabels = %v, want the edit's error", err)
	}
	if err := s.EditNamespaceLabels("new", func(l map[string]string) error { l["a"] = "b"; return nil }); err != nil {
		t.Fatal(err)
	}
	for ns, want := range map[string]map[string]string{"ns": labels, "new": {"a": "b"}} {
		if got, err := s.NamespaceLabels(ns); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("NamespaceLabels(%s) = %v, %v; want %v", ns, got, err, want)
		}
	}
	if err := s.Put("ns", Leases, "l1", []byte("x"), true); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteNamespace("ns"); !errors.Is(err, errdefs.ErrFailedPrecondition) || !strings.Contains(err.Error(), Leases) {
		t.Fatalf("DeleteNamespace non-empty: %v, want FailedPrecondition naming leases", err)
	}
	if err := s.Delete("ns", Leases, "l1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteNamespace("ns"); err != nil {
		t.Fatalf("DeleteNamespace emptied: %v", err)
	}
	if err := s.DeleteNamespace("ns"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("DeleteNamespace missing: %v, want NotFound", err)
	}
	if nss, err := s.Namespaces(); err != nil || !reflect.DeepEqual(nss, []string{"new"}) {
		t.Fatalf("Namespaces = %v, %v; want [new]", nss, err)
	}
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s2, err := Open(path); !errors.Is(err, errdefs.ErrUnavailable) {
		if s2 != nil {
			s2.Close()
		}
		t.Fatalf("second Open: %v, want Unavailable", err)
	}
}
