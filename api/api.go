// Package api names what corral adds on top of containerd's gRPC API, which it serves unchanged.
//
// Runtimes are listed through containerd's Introspection service: Plugins returns one plugin per
// runtime name with Type PluginType, ID the runtime name, the Export* keys below in Exports, and
// InitErr set when the runtime cannot run containers here. The list also holds containerd's own plugin
// types (runtime families, gRPC services), so select these with the filter type==PluginType.
package api

const (
	// PluginType is the introspection plugin type of a runtime entry.
	PluginType = "io.corral.runtime.v1"
	// ExportFamily is the runtime family: "lcr", "shim v2" or "shim v1".
	ExportFamily = "family"
	// ExportPath is the binary the family runs for this name, if any.
	ExportPath = "path"
	// ExportArgs is the runtime_args, space-separated.
	ExportArgs = "args"
	// ExportSource says where the name came from: "built-in", "config" or "built-in, config".
	ExportSource = "source"
	// ExportInstalled is "true" or "false".
	ExportInstalled = "installed"
	// ExportDefault is "true" on the runtime used when a request names none.
	ExportDefault = "default"

	// ExportConfig, ExportRoot, ExportState and ExportAddress are exported by the runtime plugin
	// io.containerd.runtime.v2/task: corrald's config file ("" for none), its root and state
	// directories, and its gRPC socket.
	ExportConfig  = "config"
	ExportRoot    = "root"
	ExportState   = "state"
	ExportAddress = "address"

	// NamespaceKey is the gRPC metadata key carrying the namespace, as containerd's clients send it.
	NamespaceKey = "containerd-namespace"
	// DefaultNamespace is used when a client names none.
	DefaultNamespace = "default"
	// LabelLog is the container label asking for a log of its task's output, in this format:
	// "json-file" or "cri". LabelLogMaxSize and LabelLogMaxFile override the config's rotation.
	LabelLog        = "io.corral.log"
	LabelLogMaxSize = "io.corral.log.max-size"
	LabelLogMaxFile = "io.corral.log.max-file"
	// LabelLogFile, an absolute path, asks for the log there instead of under corrald's log dir, as
	// the CRI's LogPath does; corrald does not remove it with the container.
	LabelLogFile = "io.corral.log.file"
	// LabelLogPath is the container label naming the log file its keeper writes.
	LabelLogPath = "io.corral.log.path"
	// LabelLogFormat is the container label naming that file's format: "json-file" or "cri".
	LabelLogFormat = "io.corral.log.format"
	// SpecTypeURL is the type URL of an OCI runtime spec carried in a protobuf Any (JSON-encoded).
	SpecTypeURL = "types.containerd.io/opencontainers/runtime-spec/1/Spec"
)
