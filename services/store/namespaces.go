package store

import (
	"encoding/json"
	"fmt"

	"github.com/containerd/errdefs"
	bolt "go.etcd.io/bbolt"
)

// CreateNamespace creates ns with labels; AlreadyExists if it exists.
func (s *Store) CreateNamespace(ns string, labels map[string]string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte(ns)) != nil {
			return fmt.Errorf("namespace %q: %w", ns, errdefs.ErrAlreadyExists)
		}
		b, err := tx.CreateBucket([]byte(ns))
		if err != nil {
			return err
		}
		return putLabels(b, labels)
	})
}

// SetNamespaceLabels replaces the labels of ns; NotFound if it does not exist.
func (s *Store) SetNamespaceLabels(ns string, labels map[string]string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(ns))
		if b == nil {
			return fmt.Errorf("namespace %q: %w", ns, errdefs.ErrNotFound)
		}
		return putLabels(b, labels)
	})
}

func putLabels(b *bolt.Bucket, labels map[string]string) error {
	v, err := json.Marshal(labels)
	if err != nil {
		return err
	}
	return b.Put([]byte(labelsKey), v)
}

// NamespaceLabels returns the labels of ns; NotFound if it does not exist.
func (s *Store) NamespaceLabels(ns string) (map[string]string, error) {
	labels := map[string]string{}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(ns))
		if b == nil {
			return fmt.Errorf("namespace %q: %w", ns, errdefs.ErrNotFound)
		}
		if v := b.Get([]byte(labelsKey)); v != nil {
			return json.Unmarshal(v, &labels)
		}
		return nil
	})
	return labels, err
}

// Namespaces lists every namespace.
func (s *Store) Namespaces() ([]string, error) {
	var out []string
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			out = append(out, string(name))
			return nil
		})
	})
	return out, err
}

// DeleteNamespace removes an empty namespace: FailedPrecondition while it holds any record.
func (s *Store) DeleteNamespace(ns string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(ns))
		if b == nil {
			return fmt.Errorf("namespace %q: %w", ns, errdefs.ErrNotFound)
		}
		for _, kind := range []string{Containers, Leases, Tasks} {
			if kb := b.Bucket([]byte(kind)); kb != nil && firstKey(kb) != nil {
				return fmt.Errorf("namespace %q still has %s: %w", ns, kind, errdefs.ErrFailedPrecondition)
			}
		}
		return tx.DeleteBucket([]byte(ns))
	})
}

func firstKey(b *bolt.Bucket) []byte {
	k, _ := b.Cursor().First()
	return k
}
