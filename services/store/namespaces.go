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

// EditNamespaceLabels lets edit change the labels of ns, creating ns if it does not exist, as
// containerd does when it sets a namespace label. Nothing is stored if edit fails.
func (s *Store) EditNamespaceLabels(ns string, edit func(labels map[string]string) error) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(ns))
		if err != nil {
			return err
		}
		labels, err := getLabels(b)
		if err != nil {
			return err
		}
		if err := edit(labels); err != nil {
			return err
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

func getLabels(b *bolt.Bucket) (map[string]string, error) {
	labels := map[string]string{}
	if v := b.Get([]byte(labelsKey)); v != nil {
		if err := json.Unmarshal(v, &labels); err != nil {
			return nil, fmt.Errorf("failed to read namespace labels: %w", err)
		}
	}
	return labels, nil
}

// NamespaceLabels returns the labels of ns: none if it does not exist, as in containerd.
func (s *Store) NamespaceLabels(ns string) (map[string]string, error) {
	labels := map[string]string{}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(ns))
		if b == nil {
			return nil
		}
		var err error
		labels, err = getLabels(b)
		return err
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
