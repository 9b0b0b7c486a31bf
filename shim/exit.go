package shim

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Exit is how a container's init ended, as the keeper records and reports it.
type Exit struct {
	Pid      uint32    `json:"pid"`
	Status   uint32    `json:"status"`
	ExitedAt time.Time `json:"exited_at"`
	// Error is set in a socket reply when the keeper could not serve the request.
	Error string `json:"error,omitempty"`
}

// WriteExit records e durably in the work dir dir: written to a temporary file, synced, renamed.
func WriteExit(dir string, e Exit) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+ExitFile)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, ExitFile)); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// ReadExit returns the exit recorded in the work dir dir; os.ErrNotExist if there is none yet.
func ReadExit(dir string) (Exit, error) {
	var e Exit
	b, err := os.ReadFile(filepath.Join(dir, ExitFile))
	if err != nil {
		return e, err
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("failed to parse exit file in %s: %w", dir, err)
	}
	return e, nil
}
