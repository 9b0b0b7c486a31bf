package runtime

import (
	"sort"

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

// Names returns every runtime name corrald knows, sorted, with its Source: the built-in names, the
// shim v2 binaries installed on $PATH or next to corrald, and the names under [runtimes].
func (r *Resolver) Names() (names []string, source map[string]string) {
	source = map[string]string{}
	for _, b := range builtins {
		source[b] = "built-in"
	}
	for _, n := range v2.InstalledShims() {
		source[n] = "installed shim"
	}
	for n := range r.cfg.Runtimes {
		if source[n] != "" && source[n] != "installed shim" {
			source[n] += ", config"
		} else {
			source[n] = "config"
		}
	}
	for n := range source {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, source
}

// Info describes runtime name, known from source: what Lookup finds for it.
func (r *Resolver) Info(name, source string) Info {
	def, _ := r.Resolve("")
	f, bin, err := r.Lookup(name)
	return Info{
		Name: name, Family: f.Name, Path: bin.Path, Args: bin.Args, Source: source,
		Installed: err == nil, Default: name == def, Err: err,
	}
}
