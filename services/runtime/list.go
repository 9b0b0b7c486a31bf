package runtime

import (
	"sort"
	"strings"

	v2 "github.com/corral-dev/corral/runtime/v2"
)

// Info describes one runtime name for `corral runtimes`.
type Info struct {
	Name   string
	Family string
	Path   string
	Args   []string
	// Source is "built-in", "config", "built-in, config" or "installed shim" (a shim v2 binary found
	// on $PATH or next to corrald).
	Source    string
	Installed bool
	Default   bool
	// Err says why the runtime cannot run containers here.
	Err error
}

// List describes the built-in and configured runtime names, sorted.
func (r *Resolver) List() []Info {
	names := map[string]string{}
	for _, b := range builtins {
		names[b] = "built-in"
	}
	for _, n := range v2.InstalledShims() {
		names[n] = "installed shim"
	}
	for n := range r.cfg.Runtimes {
		if names[n] != "" && names[n] != "installed shim" {
			names[n] += ", config"
		} else {
			names[n] = "config"
		}
	}
	def, _ := r.Resolve("")
	out := make([]Info, 0, len(names))
	for n, src := range names {
		f, bin, err := r.Lookup(n)
		out = append(out, Info{
			Name: n, Family: f.Name, Path: bin.Path, Args: bin.Args, Source: src,
			Installed: err == nil, Default: n == def, Err: err,
		})
	}
	sort.Slice(out, func(i, j int) bool { return strings.Compare(out[i].Name, out[j].Name) < 0 })
	return out
}
