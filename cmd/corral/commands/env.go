package commands

import (
	"fmt"
	"strings"
)

// DefaultPath is the PATH a process gets when neither its container's spec nor --env sets one.
const DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// MergeEnv returns base with the --env entries of set applied in order. An entry replaces an earlier
// one with the same key, keeping the first one's position; a new key is appended. Each entry of set
// must be KEY=VALUE; entries of base are taken as they are.
func MergeEnv(base, set []string) ([]string, error) {
	for _, kv := range set {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return nil, fmt.Errorf("invalid --env %q: want KEY=VALUE", kv)
		}
	}
	env := []string{}
	index := map[string]int{}
	for _, kv := range append(append([]string{}, base...), set...) {
		k, _, _ := strings.Cut(kv, "=")
		if i, seen := index[k]; seen {
			env[i] = kv
			continue
		}
		index[k] = len(env)
		env = append(env, kv)
	}
	return env, nil
}
