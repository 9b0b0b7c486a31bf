package cri

import (
	"context"
	"encoding/json"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/corral-dev/corral/services/version"
)

// criAPIVersion is the CRI version served.
const criAPIVersion = "v1"

// Version implements the CRI.
func (s *Service) Version(context.Context, *runtimeapi.VersionRequest) (*runtimeapi.VersionResponse, error) {
	return &runtimeapi.VersionResponse{Version: "0.1.0", RuntimeName: "corral", RuntimeVersion: version.Version, RuntimeApiVersion: criAPIVersion}, nil
}

// Status implements the CRI: the runtime is ready whenever corrald answers, the network when a CNI
// configuration loads; supplemental groups policies are implemented; each handler's features say
// whether it makes recursive read-only mounts and runs pods in user namespaces. Verbose adds
// "config": the effective [cri] table with every handler's runtime.
func (s *Service) Status(_ context.Context, r *runtimeapi.StatusRequest) (*runtimeapi.StatusResponse, error) {
	netReady := &runtimeapi.RuntimeCondition{Type: runtimeapi.NetworkReady, Status: true}
	if err := s.net.ready(); err != nil {
		netReady.Status, netReady.Reason, netReady.Message = false, "NetworkPluginNotReady", err.Error()
	}
	resp := &runtimeapi.StatusResponse{Status: &runtimeapi.RuntimeStatus{Conditions: []*runtimeapi.RuntimeCondition{
		{Type: runtimeapi.RuntimeReady, Status: true}, netReady,
	}}}
	resp.Features = &runtimeapi.RuntimeFeatures{SupplementalGroupsPolicy: true}
	for _, h := range append([]string{""}, s.cfg.Handlers()...) { // "" is the empty handler
		rt := s.runtimes[h]
		f := &runtimeapi.RuntimeHandlerFeatures{RecursiveReadOnlyMounts: s.features[rt].RecursiveReadOnly != "", UserNamespaces: s.features[rt].UserNamespaces}
		resp.RuntimeHandlers = append(resp.RuntimeHandlers, &runtimeapi.RuntimeHandler{Name: h, Features: f})
	}
	if r.GetVerbose() {
		b, err := json.Marshal(s.info())
		if err != nil {
			return nil, err
		}
		resp.Info = map[string]string{"config": string(b)}
	}
	return resp, nil
}

// info is the verbose status: what `crictl info` shows under "config".
type info struct {
	Namespace      string            `json:"namespace"`
	SandboxImage   string            `json:"sandboxImage"`
	Runtimes       map[string]string `json:"runtimes"`
	DefaultRuntime string            `json:"defaultRuntime"`
	CNIConfDir     string            `json:"cniConfDir"`
	CNIBinDir      string            `json:"cniBinDir"`
	CNINetwork     string            `json:"cniNetwork,omitempty"`
	RegistryConfig string            `json:"registryConfigPath"`
	CgroupDriver   string            `json:"cgroupDriver"`
	StateDir       string            `json:"stateDir"` // as containerd names it; critest checks idmapped mounts beside it
}

func (s *Service) info() info {
	rts := map[string]string{}
	for h, rt := range s.runtimes {
		if h != "" {
			rts[h] = rt
		}
	}
	return info{
		Namespace: s.cfg.Namespace, SandboxImage: s.cfg.SandboxImage, Runtimes: rts, DefaultRuntime: s.runtimes[""],
		CNIConfDir: s.cfg.CNI.ConfDir, CNIBinDir: s.cfg.CNI.BinDir, CNINetwork: s.net.name(),
		RegistryConfig: s.cfg.Registry.ConfigPath, CgroupDriver: "cgroupfs", StateDir: s.dir,
	}
}

// RuntimeConfig implements the CRI: corrald's runtimes place cgroups with cgroupfs.
func (s *Service) RuntimeConfig(context.Context, *runtimeapi.RuntimeConfigRequest) (*runtimeapi.RuntimeConfigResponse, error) {
	return &runtimeapi.RuntimeConfigResponse{Linux: &runtimeapi.LinuxRuntimeConfiguration{CgroupDriver: runtimeapi.CgroupDriver_CGROUPFS}}, nil
}
