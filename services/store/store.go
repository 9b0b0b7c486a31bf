// Package store keeps corrald's metadata in one bbolt file: namespaces, containers, leases and the
// task records restore needs. Every record is keyed by namespace, so namespaces never see each other.
package store

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/containerd/errdefs"
	bolt "go.etcd.io/bbolt"
)

// Kinds of record, one bbolt bucket each under a namespace's bucket.
const (
	Containers = "containers"
	Leases     = "leases"
	Tasks      = "tasks"
	labelsKey  = "labels"
)

// Store is the metadata db.
type Store struct {
	db *bolt.DB
}

// Open opens (creating) the db at path. It fails fast if another corrald holds it.
func Open(path string) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("failed to open %s: another corrald is using it: %w", path, errdefs.ErrUnavailable)
		}
		return nil, fmt.Errorf("failed to open %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the db.
func (s *Store) Close() error { return s.db.Close() }

var identifier = regexp.MustCompile(`^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$`)

// maxIDLength is the longest id accepted, as in containerd.
const maxIDLength = 76

// ValidateID checks a container, lease or namespace name before anything touches disk.
func ValidateID(kind, id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%s id must not be empty: %w", kind, errdefs.ErrInvalidArgument)
	case len(id) > maxIDLength:
		return fmt.Errorf("%s id %.20q... is %d characters, at most %d are accepted: %w", kind, id, len(id), maxIDLength, errdefs.ErrInvalidArgument)
	case !identifier.MatchString(id):
		return fmt.Errorf("%s id %q is invalid: use letters and digits separated by single '.', '_' or '-': %w", kind, id, errdefs.ErrInvalidArgument)
	}
	return nil
}
