package store

import (
	"fmt"

	"github.com/containerd/errdefs"
	bolt "go.etcd.io/bbolt"
)

// Put stores value under kind/id in namespace ns, creating the namespace. With create set it fails
// with AlreadyExists if the record exists; else with NotFound if it does not.
func (s *Store) Put(ns, kind, id string, value []byte, create bool) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		nb, err := tx.CreateBucketIfNotExists([]byte(ns))
		if err != nil {
			return err
		}
		b, err := nb.CreateBucketIfNotExists([]byte(kind))
		if err != nil {
			return err
		}
		exists := b.Get([]byte(id)) != nil
		if create && exists {
			return fmt.Errorf("%s %q: %w", singular(kind), id, errdefs.ErrAlreadyExists)
		}
		if !create && !exists {
			return fmt.Errorf("%s %q: %w", singular(kind), id, errdefs.ErrNotFound)
		}
		return b.Put([]byte(id), value)
	})
}

// Set stores value under kind/id in ns whether or not the record exists.
func (s *Store) Set(ns, kind, id string, value []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		nb, err := tx.CreateBucketIfNotExists([]byte(ns))
		if err != nil {
			return err
		}
		b, err := nb.CreateBucketIfNotExists([]byte(kind))
		if err != nil {
			return err
		}
		return b.Put([]byte(id), value)
	})
}

// Edit replaces the record kind/id in ns with what edit returns for its value, in one transaction,
// so that edits by different services never undo each other. It fails with NotFound if the record
// does not exist, and with edit's error; a nil value from edit leaves the record as it is.
func (s *Store) Edit(ns, kind, id string, edit func(value []byte) ([]byte, error)) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, ns, kind)
		var v []byte
		if b != nil {
			v = b.Get([]byte(id))
		}
		if v == nil {
			return fmt.Errorf("%s %q in namespace %q: %w", singular(kind), id, ns, errdefs.ErrNotFound)
		}
		nv, err := edit(append([]byte{}, v...))
		if err != nil || nv == nil {
			return err
		}
		return b.Put([]byte(id), nv)
	})
}

// Get returns the record kind/id in ns, or NotFound.
func (s *Store) Get(ns, kind, id string) ([]byte, error) {
	var v []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := bucket(tx, ns, kind); b != nil {
			if raw := b.Get([]byte(id)); raw != nil {
				v = append([]byte{}, raw...)
				return nil
			}
		}
		return fmt.Errorf("%s %q in namespace %q: %w", singular(kind), id, ns, errdefs.ErrNotFound)
	})
	return v, err
}

// Delete removes the record kind/id in ns, or fails with NotFound.
func (s *Store) Delete(ns, kind, id string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, ns, kind)
		if b == nil || b.Get([]byte(id)) == nil {
			return fmt.Errorf("%s %q in namespace %q: %w", singular(kind), id, ns, errdefs.ErrNotFound)
		}
		return b.Delete([]byte(id))
	})
}

// List calls f for every record of kind in ns, in id order.
func (s *Store) List(ns, kind string, f func(id string, value []byte) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		b := bucket(tx, ns, kind)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error { return f(string(k), v) })
	})
}

func bucket(tx *bolt.Tx, ns, kind string) *bolt.Bucket {
	nb := tx.Bucket([]byte(ns))
	if nb == nil {
		return nil
	}
	return nb.Bucket([]byte(kind))
}

func singular(kind string) string {
	switch kind {
	case Containers:
		return "container"
	case Leases:
		return "lease"
	case Tasks:
		return "task"
	}
	return kind
}
